"""Configuration: the file for operators, the environment for secrets and overrides."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_loads_with_relative_paths_resolved():
    config = load_config(ROOT / "config.yaml", env={})
    assert config.office.hotline and config.procedures == ROOT / "procedures"
    assert config.database.is_absolute()
    assert config.telegram_base_url == "https://api.telegram.org/bot"


def test_environment_overrides_database_and_telegram_base_url(tmp_path):
    config = load_config(ROOT / "config.yaml", env={"MOTCUA_DB": str(tmp_path / "x.db"),
                                                    "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot"})
    assert config.database == tmp_path / "x.db"
    assert config.telegram_base_url == "http://127.0.0.1:9/bot"


def test_wrong_staff_list_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text((ROOT / "config.yaml").read_text(encoding="utf-8").replace("telegram: []", "telegram: 12"),
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="staff.telegram"):
        load_config(path, env={})
