"""Every channel `motcua run` can start, and what each one needs, declared in one place.

Adding a platform is its adapter file plus one entry here: the service builds channels from
this table, the start-up check reads its secrets from it, the log formatter masks the same
secrets, and the command line lists its names. Forgetting a place is no longer possible, so a
new token cannot reach the logs unmasked. The table imports no adapter: each is loaded only
when it runs, so `motcua match` does not pay for python-telegram-bot.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from bot.config import ConfigError

if TYPE_CHECKING:
    import aiohttp

    from bot.channels.base import Channel
    from bot.config import Config
    from bot.messages import Handler
    from bot.storage import Store


@dataclass(frozen=True)
class RunOptions:
    """How `motcua run` was asked to run (command-line options, not configuration)."""

    host: str = "127.0.0.1"
    port: int = 8080
    telegram_webhook_url: str | None = None
    zalo_bot_webhook: bool = False
    public_url: str | None = None
    """Base URL the Zalo Bot platform should post to (setWebhook is called when given)."""


def _always(options: RunOptions) -> bool:
    return True


def _never(options: RunOptions) -> bool:
    return False


@dataclass(frozen=True)
class Secret:
    """An environment variable a channel reads; never in config.yaml, never in a log line."""

    name: str
    required: Callable[[RunOptions], bool] = _always
    masked: bool = True
    """False only for identifiers that are not secret (an app id), so logs stay readable."""


@dataclass(frozen=True)
class Parts:
    """What a factory may build its channel from; `secrets` holds the spec's variables that are set."""

    config: Config
    secrets: Mapping[str, str]
    options: RunOptions
    handle: Handler
    store: Store
    http: aiohttp.ClientSession


Factory = Callable[[Parts], "Channel"]


def adapter(module: str) -> Factory:
    """The `build(parts)` function of an adapter module, imported on first use."""

    def build(parts: Parts) -> Channel:
        return cast(Factory, importlib.import_module(module).build)(parts)

    return build


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    factory: Factory
    secrets: tuple[Secret, ...] = ()
    needs_web: Callable[[RunOptions], bool] = field(default=_never)

    def missing(self, env: Mapping[str, str], options: RunOptions) -> list[str]:
        return [s.name for s in self.secrets if s.required(options) and not env.get(s.name, "").strip()]

    def values(self, env: Mapping[str, str]) -> dict[str, str]:
        return {s.name: env[s.name].strip() for s in self.secrets if env.get(s.name, "").strip()}


def _specs(*specs: ChannelSpec) -> dict[str, ChannelSpec]:
    return {spec.name: spec for spec in specs}


REGISTRY: Mapping[str, ChannelSpec] = _specs(
    ChannelSpec("telegram", adapter("bot.channels.telegram"), (Secret("TELEGRAM_BOT_TOKEN"),),
                needs_web=lambda o: bool(o.telegram_webhook_url)),
    ChannelSpec("zalo-oa", adapter("bot.channels.zalo_oa"),
                (Secret("ZALO_APP_ID", masked=False), Secret("ZALO_APP_SECRET"), Secret("ZALO_OA_SECRET_KEY"),
                 Secret("ZALO_OA_ACCESS_TOKEN", _never), Secret("ZALO_OA_REFRESH_TOKEN", _never)),
                needs_web=_always),
    ChannelSpec("zalo-bot", adapter("bot.channels.zalo_bot"),
                (Secret("ZALO_BOT_TOKEN"), Secret("ZALO_BOT_WEBHOOK_SECRET", lambda o: o.zalo_bot_webhook)),
                needs_web=lambda o: o.zalo_bot_webhook),
)

def secret_names(registry: Mapping[str, ChannelSpec] = REGISTRY) -> list[str]:
    """Every variable whose value must never appear in a log line (every secret is a channel's today)."""
    return list(dict.fromkeys(s.name for spec in registry.values() for s in spec.secrets if s.masked))


def secret_values(env: Mapping[str, str], registry: Mapping[str, ChannelSpec] = REGISTRY) -> Iterable[str]:
    return [env[name] for name in secret_names(registry) if env.get(name)]


def check_secrets(channels: Sequence[str], env: Mapping[str, str], options: RunOptions,
                  registry: Mapping[str, ChannelSpec] = REGISTRY) -> None:
    """Fail before starting anything when a channel is unknown or its secret is missing; the
    message names the variables, never their values."""
    unknown = [c for c in channels if c not in registry]
    if unknown:
        raise ConfigError(f"unknown channel(s): {', '.join(unknown)}; available: {', '.join(registry)}")
    missing = list(dict.fromkeys(n for c in channels for n in registry[c].missing(env, options)))
    if missing:
        raise ConfigError(f"missing secret(s) in the environment: {', '.join(missing)} (never put them in config.yaml)")
