"""The channel registry: the one table the service, the start-up check, log masking and the
command line all read."""

from __future__ import annotations

import importlib
import io
import logging

import pytest

from bot.channels.registry import REGISTRY, ChannelSpec, RunOptions, Secret, check_secrets, secret_names, secret_values
from bot.cli import build_parser
from bot.config import ConfigError
from bot.logs import setup_logging


def test_every_channel_names_an_adapter_with_a_build_function() -> None:
    for name, spec in REGISTRY.items():
        assert spec.name == name
        module = importlib.import_module(f"bot.channels.{name.replace('-', '_')}")
        assert callable(module.build) and name == module.NAME


def test_a_secret_declared_in_a_new_channel_spec_is_masked_in_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "viber-secret-token-0042"
    spec = ChannelSpec("viber", lambda parts: pytest.fail("not built"), (Secret("VIBER_AUTH_TOKEN"),))
    monkeypatch.setitem(REGISTRY, "viber", spec)   # type: ignore[index]
    out = io.StringIO()
    handler = setup_logging(secret_values({"VIBER_AUTH_TOKEN": token}), stream=out)  # as `motcua run` does
    try:
        logging.getLogger("viber").error("POST https://chatapi.viber.com/%s failed", token)
    finally:
        logging.getLogger().removeHandler(handler)
    assert token not in out.getvalue() and "/*** failed" in out.getvalue()


def test_secrets_are_masked_but_the_app_id_is_not() -> None:
    names = secret_names()
    assert set(names) == {"TELEGRAM_BOT_TOKEN", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_OA_ACCESS_TOKEN",
                          "ZALO_OA_REFRESH_TOKEN", "ZALO_BOT_TOKEN", "ZALO_BOT_WEBHOOK_SECRET"}


def test_the_check_names_every_missing_variable_and_never_a_value() -> None:
    env = {"ZALO_APP_ID": "app-1", "ZALO_APP_SECRET": "s3cr3t-value", "ZALO_BOT_TOKEN": " "}
    with pytest.raises(ConfigError) as info:
        check_secrets(["zalo-oa", "zalo-bot"], env, RunOptions(zalo_bot_webhook=True))
    message = str(info.value)
    assert "ZALO_OA_SECRET_KEY" in message and "ZALO_BOT_TOKEN" in message and "ZALO_BOT_WEBHOOK_SECRET" in message
    assert "ZALO_APP_SECRET" not in message and "s3cr3t" not in message and "ZALO_OA_ACCESS_TOKEN" not in message


def test_an_unknown_channel_lists_the_registry() -> None:
    with pytest.raises(ConfigError, match=r"unknown channel.*viber.*available: telegram, zalo-oa, zalo-bot"):
        check_secrets(["viber"], {}, RunOptions())


def test_which_channels_need_the_web_server_depends_on_the_options() -> None:
    polling, webhooks = RunOptions(), RunOptions(telegram_webhook_url="https://x/tg", zalo_bot_webhook=True)
    assert [n for n, s in REGISTRY.items() if s.needs_web(polling)] == ["zalo-oa"]
    assert [n for n, s in REGISTRY.items() if s.needs_web(webhooks)] == list(REGISTRY)


def test_only_the_specs_own_set_variables_reach_its_factory() -> None:
    env = {"TELEGRAM_BOT_TOKEN": " t-1 ", "ZALO_BOT_TOKEN": "z", "ZALO_OA_ACCESS_TOKEN": ""}
    assert REGISTRY["telegram"].values(env) == {"TELEGRAM_BOT_TOKEN": "t-1"}
    assert REGISTRY["zalo-oa"].values(env) == {}


def test_the_run_command_lists_the_registered_channels(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    assert "telegram, zalo-oa, zalo-bot" in capsys.readouterr().out
