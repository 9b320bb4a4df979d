"""Configuration: config.yaml for what an operator sets, the environment for secrets.

Validated at start-up so a typo in the file stops the bot with the name of the key, instead of
surfacing weeks later as a wrong hotline in a citizen's reply.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot import codes

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.yaml"


class ConfigError(Exception):
    """A wrong or missing setting, named by its key."""


@dataclass(frozen=True)
class Office:
    name: str
    address: str
    hours: str
    hotline: str


@dataclass(frozen=True)
class ZaloOASettings:
    """Where the OA and OAuth APIs are and the choices Zalo's documentation leaves open."""

    base_url: str = "https://openapi.zalo.me"
    oauth_url: str = "https://oauth.zaloapp.com"
    buttons: str = "template"
    notify_template: str | None = None
    signature_max_age: float = 300.0


@dataclass(frozen=True)
class Config:
    office: Office
    database: Path
    procedures: Path
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_staff_chat: int | None = None
    telegram_rate: float = 30.0
    staff: dict[str, frozenset[str]] = field(default_factory=dict)
    case_code_pattern: str = codes.DEFAULT_PATTERN
    days_off: tuple[dt.date, ...] = ()
    working_days: tuple[dt.date, ...] = ()
    notifier_interval: float = 2.0
    rating_scale: int = 5
    rating_questions: tuple[str, ...] = ("visits", "attitude", "extra_fee")
    lookups_per_minute: int = 300
    zalo_oa: ZaloOASettings = ZaloOASettings()
    zalo_bot_base_url: str = "https://bot-api.zaloplatforms.com"

    def is_staff(self, channel: str, user: str) -> bool:
        return user in self.staff.get(channel, frozenset())


def _section(data: dict, key: str) -> dict:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"config: {key} must be a mapping")
    return value


def _text(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, (str, int)) or not str(value).strip():
        raise ConfigError(f"config: {where}.{key} must be set to a text")
    return str(value).strip()


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read and check the config file; environment variables override what they name."""
    env = dict(os.environ if env is None else env)
    if path is None:
        local = Path("config.yaml")
        path = Path(env["MOTCUA_CONFIG"]) if env.get("MOTCUA_CONFIG") else local if local.is_file() else DEFAULT_CONFIG
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config: file {path} not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config: {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config: {path} must hold a mapping")
    base = path.resolve().parent
    office = _section(raw, "office")
    telegram = _section(raw, "telegram")
    staff_raw = _section(raw, "staff")
    staff: dict[str, frozenset[str]] = {}
    for channel, ids in staff_raw.items():
        if not isinstance(ids, list):
            raise ConfigError(f"config: staff.{channel} must be a list of user ids")
        staff[str(channel)] = frozenset(str(i) for i in ids)
    rate = telegram.get("max_messages_per_second", 30)
    if not isinstance(rate, (int, float)) or rate <= 0:
        raise ConfigError("config: telegram.max_messages_per_second must be a positive number")
    staff_chat = telegram.get("staff_chat_id")
    if staff_chat is not None and not isinstance(staff_chat, int):
        raise ConfigError("config: telegram.staff_chat_id must be a number")
    calendar = _section(raw, "calendar")
    dates: dict[str, tuple[dt.date, ...]] = {}
    for key in ("days_off", "working_days"):
        values = calendar.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, dt.date) for v in values):
            raise ConfigError(f"config: calendar.{key} must be a list of dates like 2026-08-22")
        dates[key] = tuple(values)
    interval = _section(raw, "notifier").get("interval_seconds", 2.0)
    if not isinstance(interval, (int, float)) or interval <= 0:
        raise ConfigError("config: notifier.interval_seconds must be a positive number")
    ratings = _section(raw, "ratings")
    scale = ratings.get("scale", 5)
    if scale not in (3, 5):
        raise ConfigError("config: ratings.scale must be 3 or 5")
    questions = ratings.get("questions", ["visits", "attitude", "extra_fee"])
    known = {"visits", "info", "attitude", "extra_fee"}
    if not isinstance(questions, list) or len(questions) > 3 or not set(questions) <= known:
        raise ConfigError(f"config: ratings.questions must list up to three of {', '.join(sorted(known))}")
    lookups_per_minute = _section(raw, "lookup").get("max_per_minute", 300)
    if not isinstance(lookups_per_minute, int) or lookups_per_minute <= 0:
        raise ConfigError("config: lookup.max_per_minute must be a positive whole number")
    zalo = _section(raw, "zalo")
    buttons = zalo.get("oa_buttons", "template")
    notify_template = zalo.get("oa_notify_template")
    if buttons not in ("template", "numbered"):
        raise ConfigError("config: zalo.oa_buttons must be template or numbered")
    if notify_template not in (None, "transaction"):
        raise ConfigError("config: zalo.oa_notify_template must be empty or transaction")
    max_age = zalo.get("signature_max_age_seconds", 300)
    if not isinstance(max_age, (int, float)) or max_age <= 0:
        raise ConfigError("config: zalo.signature_max_age_seconds must be a positive number")
    zalo_oa = ZaloOASettings(
        base_url=(env.get("ZALO_OA_BASE_URL") or zalo.get("oa_base_url") or ZaloOASettings.base_url).rstrip("/"),
        oauth_url=(env.get("ZALO_OAUTH_BASE_URL") or zalo.get("oauth_base_url") or ZaloOASettings.oauth_url).rstrip("/"),
        buttons=buttons, notify_template=notify_template, signature_max_age=float(max_age),
    )
    zalo_bot_base_url = (env.get("ZALO_BOT_BASE_URL") or zalo.get("bot_base_url") or Config.zalo_bot_base_url).rstrip("/")
    database = Path(env.get("MOTCUA_DB") or raw.get("database") or "data/motcua.sqlite3")
    procedures = Path(raw.get("procedures") or "procedures")
    return Config(
        office=Office(*(_text(office, k, "office") for k in ("name", "address", "hours", "hotline"))),
        database=database if database.is_absolute() else base / database,
        procedures=procedures if procedures.is_absolute() else base / procedures,
        telegram_base_url=env.get("TELEGRAM_BASE_URL") or telegram.get("base_url") or "https://api.telegram.org/bot",
        telegram_staff_chat=staff_chat,
        telegram_rate=float(rate),
        staff=staff,
        case_code_pattern=str(raw.get("case_code_pattern") or codes.DEFAULT_PATTERN),
        days_off=dates["days_off"],
        working_days=dates["working_days"],
        notifier_interval=float(interval),
        rating_scale=scale,
        rating_questions=tuple(questions),
        lookups_per_minute=lookups_per_minute,
        zalo_oa=zalo_oa,
        zalo_bot_base_url=zalo_bot_base_url,
    )
