"""Configuration: config.yaml for what an operator sets, the environment for secrets and overrides.

Validated at start-up so a typo in the file stops the bot with the name of the key, instead of
surfacing weeks later as a wrong hotline in a citizen's reply. The file's shape is a pydantic
schema: every problem is reported at once with its key path, and an unknown key (a misspelt
one) is an error rather than silently ignored. The rest of the bot reads the frozen dataclasses
below, never the schema. Secrets are not here: each channel declares its own in
`bot.channels.registry`.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from bot import codes, text

CONFIG_FILE = "config.yaml"
SOURCE_ROOT = Path(__file__).resolve().parent.parent
"""The checkout's top level, where config.yaml and procedures/ live when running from source."""
PACKAGE = Path(str(resources.files("bot")))
"""In an installed wheel the shipped config.yaml is bot/defaults/config.yaml and the guides bot/procedures/."""

ENV_CONFIG = "MOTCUA_CONFIG"
ENV_DATABASE = "MOTCUA_DB"
ENV_TELEGRAM_URL = "TELEGRAM_BASE_URL"
ENV_ZALO_OA_URL = "ZALO_OA_BASE_URL"
ENV_ZALO_OAUTH_URL = "ZALO_OAUTH_BASE_URL"
ENV_ZALO_BOT_URL = "ZALO_BOT_BASE_URL"


class ConfigError(Exception):
    """A wrong or missing setting, named by its key."""


@dataclass(frozen=True)
class Office:
    """A desk whose cases the bot keeps: in a province's deployment, one commune's."""

    name: str
    address: str
    hours: str
    hotline: str
    code: str = ""
    """The commune's code in the 2025 list of units; empty for the one office of a deployment
    without an offices file, which is also what cases filed before offices existed carry."""
    prefix: str = ""
    """The agency part that starts this office's case codes (000.00.27.H15): how a new case is
    known to be this office's."""
    staff: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, hash=False)
    """User ids per channel of the officers who work on this office's cases."""
    province: str | None = None
    """The deployment's province by its 2025 name ("Điện Biên"): a citizen whose address lies
    in another province is pointed to that province's services instead of this desk."""
    staff_chat: int | None = None
    """This office's Telegram staff group: its citizens' requests for a person go there rather
    than to the deployment's (`telegram.staff_chat_id`), which other communes' officers read."""


TemplateField = Literal["code", "status", "procedure", "note", "date"]
TEMPLATE_FIELDS: tuple[str, ...] = get_args(TemplateField)
"""What a notification can fill into a Zalo template's parameters (`zalo.oa_template.params`)."""


@dataclass(frozen=True)
class ZaloOASettings:
    """Where the OA and OAuth APIs are and the choices Zalo's documentation leaves open."""

    base_url: str = "https://openapi.zalo.me"
    oauth_url: str = "https://oauth.zaloapp.com"
    buttons: str = "template"
    template_id: str | None = None
    """An approved ZBS template for notifications outside the reply window; None: they wait."""
    template_params: tuple[tuple[str, str], ...] = ()
    """(the template's parameter, our field from TEMPLATE_FIELDS), in the template's order."""
    billable_replies: bool = False
    """Whether to send notifications 48 h to 7 days after the citizen's last message (billed)."""
    signature_max_age: float = 3 * 3600.0
    """Zalo re-sends an event with its first timestamp for about 1 h 51 min (30 s, 5, 15, 30
    min, 1 h); three hours accept the last retry with room for clock drift."""
    verifier_file: Path | None = None
    """Zalo's domain verification file, served at the site's root."""
    max_rate: float = 10.0
    """Messages per second the notifier sends through the OA."""


@dataclass(frozen=True)
class Config:
    office: Office
    database: Path | str
    """A SQLite file, or a `postgresql://` URL (str) for a database several processes share."""
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
    lookup_factor: str = "phone"
    """What proves a case is one's own besides its code: the last four digits of the phone
    registered with it ("phone"), or of the applicant's căn cước number ("id"), which an office
    that records it may prefer: a phone tail is easier to learn."""
    zalo_oa: ZaloOASettings = ZaloOASettings()
    zalo_bot_base_url: str = "https://bot-api.zaloplatforms.com"
    zalo_bot_rate: float = 5.0
    """Messages per second the notifier sends through the Zalo Bot."""
    listed_offices: tuple[Office, ...] = ()
    """The offices file's communes; empty when the deployment is the one `office`."""

    @cached_property
    def offices(self) -> tuple[Office, ...]:
        """Every office whose cases this deployment keeps: the offices file's, or `office` with
        the `staff` section as its staff."""
        return self.listed_offices or (replace(self.office, staff=self.staff),)

    @property
    def several_offices(self) -> bool:
        return len(self.offices) > 1

    def office_by_code(self, code: str) -> Office | None:
        return next((o for o in self.offices if o.code == code.strip()), None)

    def office_by_name(self, name: str) -> Office | None:
        """The office a person names ("xa ang to", "Xã Ẳng Tở"), with or without accents."""
        wanted = text.normalize(name, telex=False)
        return next((o for o in self.offices if text.normalize(o.name, telex=False) == wanted), None)

    def office_for_code(self, case_code: str) -> Office | None:
        """The office a case code belongs to, by its agency prefix (the longest that fits); a
        deployment of one office owns every code."""
        return office_for_code(self.offices, case_code)

    def staff_office(self, channel: str, user: str) -> Office | None:
        """The office this user works for on this channel, or None for a citizen."""
        return next((o for o in self.offices if user in o.staff.get(channel, frozenset())), None)

    def is_staff(self, channel: str, user: str) -> bool:
        return self.staff_office(channel, user) is not None


def office_for_code(offices: tuple[Office, ...], case_code: str) -> Office | None:
    if len(offices) == 1:
        return offices[0]
    fitting = [o for o in offices if o.prefix and case_code.startswith(o.prefix)]
    return max(fitting, key=lambda o: len(o.prefix), default=None)


def _number_as_text(value: Any) -> Any:
    """YAML reads an unquoted hotline or user id as a number; it is text all the same."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _set(value: str) -> str:
    if not value.strip():
        raise ValueError("must be set to a text")
    return value.strip()


Text = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_set)]
Id = Annotated[str, BeforeValidator(_number_as_text)]
Positive = Annotated[float, Field(gt=0)]


class _Section(BaseModel):
    # strict: "30" is not a number and 2026-08-22 must be a date, as YAML reads them
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Office(_Section):
    name: Text
    address: Text
    hours: Text
    hotline: Text
    province: Text | None = None


class _Commune(_Office):
    code: Text
    prefix: Text
    staff: dict[str, list[Id]] = {}
    telegram_staff_chat_id: int | None = None


class _OfficesFile(_Section):
    offices: Annotated[list[_Commune], Field(min_length=1)]


class _Telegram(_Section):
    base_url: str | None = None
    staff_chat_id: int | None = None
    max_messages_per_second: Positive = 30.0


class _Lookup(_Section):
    max_per_minute: Annotated[int, Field(gt=0)] = 300
    second_factor: Literal["phone", "id"] = "phone"


class _Calendar(_Section):
    days_off: list[dt.date] | None = None
    working_days: list[dt.date] | None = None


class _Notifier(_Section):
    interval_seconds: Positive = 2.0


class _Ratings(_Section):
    scale: Literal[3, 5] = 5
    questions: Annotated[list[Literal["visits", "info", "attitude", "extra_fee"]], Field(max_length=3)] = [
        "visits", "attitude", "extra_fee"]


class _ZaloTemplate(_Section):
    id: Id | None = None
    params: dict[str, TemplateField] = {}


class _Zalo(_Section):
    oa_base_url: str | None = None
    oauth_base_url: str | None = None
    bot_base_url: str | None = None
    oa_buttons: Literal["template", "numbered"] = "template"
    oa_billable_replies: bool = False
    oa_template: _ZaloTemplate = _ZaloTemplate()
    oa_verifier_file: str | None = None
    oa_max_messages_per_second: Positive = 10.0
    bot_max_messages_per_second: Positive = 5.0
    signature_max_age_seconds: Positive = 3 * 3600.0


class _File(_Section):
    office: _Office
    offices: str | None = None
    database: str | None = None
    procedures: str | None = None
    telegram: _Telegram = _Telegram()
    staff: dict[str, list[Id]] = {}
    case_code_pattern: str | None = None
    lookup: _Lookup = _Lookup()
    calendar: _Calendar = _Calendar()
    notifier: _Notifier = _Notifier()
    ratings: _Ratings = _Ratings()
    zalo: _Zalo = _Zalo()

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        """A key left empty (`staff:`) takes its default, as if it were not written."""
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


_M = TypeVar("_M", bound=BaseModel)


def _key(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _problems(error: ValidationError) -> list[str]:
    wording = {"extra_forbidden": "unknown key", "missing": "missing"}
    return [f"{_key(e['loc'])}: {wording.get(e['type']) or e.get('ctx', {}).get('error') or e['msg']}"
            for e in error.errors()]


def find_config(env: dict[str, str]) -> Path:
    """The config file to read when none is named: the environment's, then the current
    directory's, then the one shipped with the package (or the checkout's, running from source)."""
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    local = Path(CONFIG_FILE)
    if local.is_file():
        return local
    packaged = PACKAGE / "defaults" / CONFIG_FILE
    return packaged if packaged.is_file() else SOURCE_ROOT / CONFIG_FILE


def _read(path: Path, model: type[_M]) -> _M:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config: file {path} not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config: {path}{where} is not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config: {path} must hold a mapping")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = _problems(exc)
        raise ConfigError(f"config: {len(problems)} problem(s) in {path}:\n" + "\n".join(
            f"  {p}" for p in problems)) from None


def database_location(value: str) -> Path | str:
    """A `postgresql://` URL stays as given (a str); anything else names a SQLite file."""
    return value if value.startswith(("postgresql://", "postgres://")) else Path(value)


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read and check the config file; environment variables override what they name.

    Relative paths are relative to the config file, except in the config shipped inside an
    installed package: its guides are the shipped ones and its database is in the current
    directory, never inside site-packages."""
    env = dict(os.environ if env is None else env)
    path = path or find_config(env)
    data = _read(path, _File)
    packaged = path.resolve().parent == (PACKAGE / "defaults").resolve()
    guides_base = PACKAGE if packaged else path.resolve().parent
    data_base = Path.cwd() if packaged else path.resolve().parent
    database = database_location(env.get(ENV_DATABASE) or data.database or "data/motcua.sqlite3")
    procedures = Path(data.procedures or "procedures")
    zalo, telegram, ratings = data.zalo, data.telegram, data.ratings
    zalo_oa = ZaloOASettings(
        base_url=(env.get(ENV_ZALO_OA_URL) or zalo.oa_base_url or ZaloOASettings.base_url).rstrip("/"),
        oauth_url=(env.get(ENV_ZALO_OAUTH_URL) or zalo.oauth_base_url or ZaloOASettings.oauth_url).rstrip("/"),
        buttons=zalo.oa_buttons, template_id=(zalo.oa_template.id or "").strip() or None,
        template_params=tuple(zalo.oa_template.params.items()), billable_replies=zalo.oa_billable_replies,
        signature_max_age=zalo.signature_max_age_seconds, verifier_file=_verifier(zalo.oa_verifier_file, path),
        max_rate=float(zalo.oa_max_messages_per_second),
    )
    listed = _offices(path.resolve().parent / data.offices) if data.offices else ()
    if listed and any(data.staff.values()):
        raise ConfigError(f"config: {path}: staff: with an offices file, officers are listed under their office "
                          f"in {data.offices}")
    return Config(
        office=Office(data.office.name, data.office.address, data.office.hours, data.office.hotline,
                      province=data.office.province),
        listed_offices=listed,
        database=database if isinstance(database, str) or database.is_absolute() else data_base / database,
        procedures=procedures if procedures.is_absolute() else guides_base / procedures,
        telegram_base_url=env.get(ENV_TELEGRAM_URL) or telegram.base_url or Config.telegram_base_url,
        telegram_staff_chat=telegram.staff_chat_id,
        telegram_rate=float(telegram.max_messages_per_second),
        staff={channel: frozenset(ids) for channel, ids in data.staff.items()},
        case_code_pattern=data.case_code_pattern or codes.DEFAULT_PATTERN,
        days_off=tuple(data.calendar.days_off or ()),
        working_days=tuple(data.calendar.working_days or ()),
        notifier_interval=float(data.notifier.interval_seconds),
        rating_scale=ratings.scale,
        rating_questions=tuple(ratings.questions),
        lookups_per_minute=data.lookup.max_per_minute,
        lookup_factor=data.lookup.second_factor,
        zalo_oa=zalo_oa,
        zalo_bot_base_url=(env.get(ENV_ZALO_BOT_URL) or zalo.bot_base_url or Config.zalo_bot_base_url).rstrip("/"),
        zalo_bot_rate=float(zalo.bot_max_messages_per_second),
    )


def _offices(path: Path) -> tuple[Office, ...]:
    """The offices file: every commune once, by code and by prefix, and each officer at one
    desk, or it would be ambiguous whose case a code is and whose cases an officer sees."""
    data = _read(path, _OfficesFile)
    problems, seen = [], dict[tuple[str, str], int]()
    for i, office in enumerate(data.offices):
        keys = [("code", office.code), ("prefix", office.prefix)]
        keys += [(f"staff.{channel}", user) for channel, users in office.staff.items() for user in users]
        for key, value in keys:
            if (key, value) in seen:
                problems.append(f"offices[{i}].{key}: {value} is already in offices[{seen[key, value]}]")
            seen.setdefault((key, value), i)
    if problems:
        raise ConfigError(f"config: {len(problems)} problem(s) in {path}:\n" + "\n".join(f"  {p}" for p in problems))
    return tuple(Office(o.name, o.address, o.hours, o.hotline, o.code, o.prefix,
                        {channel: frozenset(users) for channel, users in o.staff.items()},
                        staff_chat=o.telegram_staff_chat_id) for o in data.offices)


def _verifier(name: str | None, config_file: Path) -> Path | None:
    """Zalo's domain verification file, relative to the config file; it must exist, or Zalo
    would find nothing at the domain's root and refuse the webhook."""
    if not name:
        return None
    file = Path(name)
    file = file if file.is_absolute() else config_file.resolve().parent / file
    if not file.is_file():
        raise ConfigError(f"config: zalo.oa_verifier_file: file {file} not found")
    return file
