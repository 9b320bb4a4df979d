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
    with pytest.raises(ConfigError, match=r"staff.telegram"):
        load_config(path, env={})


def test_every_problem_is_reported_at_once_with_its_key_path_and_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("office: {name: X, hotline: 19000000, hours: ' '}\n"
                    "telegram: {max_messages_per_second: '30'}\n"
                    "calendar: {days_off: [2026-01-01, tomorrow]}\n"
                    "ratings: {scale: 4}\n"
                    "zalo: {oa_butons: numbered, signature_max_age_seconds: 0}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert str(path) in message and "7 problem(s)" in message
    for line in ("office.address: missing", "office.hours: must be set to a text",
                 "telegram.max_messages_per_second:", "calendar.days_off[1]:", "ratings.scale: Input should be 3 or 5",
                 "zalo.oa_butons: unknown key", "zalo.signature_max_age_seconds:"):
        assert line in message


def test_an_unquoted_number_is_text_where_text_is_expected(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("office: {name: X, address: Y, hours: Z, hotline: 19000000}\nstaff: {telegram: [12345]}\n"
                    "lookup:\n", encoding="utf-8")
    config = load_config(path, env={})
    assert config.office.hotline == "19000000" and config.is_staff("telegram", "12345")
    assert config.lookups_per_minute == 300


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("office:\n  name: X\n  address: [oops\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml, line 4 is not valid YAML"):
        load_config(path, env={})


def test_config_is_found_named_then_in_the_environment_then_here_then_shipped(tmp_path, monkeypatch):
    here, named, env_file = tmp_path / "here", tmp_path / "named.yaml", tmp_path / "env.yaml"
    here.mkdir()
    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8")
    for path, hotline in ((here / "config.yaml", "111"), (named, "222"), (env_file, "333")):
        path.write_text(shipped.replace('"1900 0000"', f'"{hotline}"'), encoding="utf-8")
    monkeypatch.chdir(here)
    env = {"MOTCUA_CONFIG": str(env_file)}
    assert load_config(named, env=env).office.hotline == "222"
    assert load_config(env=env).office.hotline == "333"
    assert load_config(env={}).office.hotline == "111"
    assert load_config(env={}).procedures == here / "procedures"   # ./procedures beside ./config.yaml


def test_without_a_local_config_the_shipped_one_and_its_guides_are_used(tmp_path, monkeypatch):
    from bot.catalog import load_catalog

    monkeypatch.chdir(tmp_path)
    config = load_config(env={})
    assert config.office.hotline == "1900 0000"
    assert "dang-ky-khai-sinh" in load_catalog(config.procedures)


def test_the_config_inside_an_installed_package_uses_its_guides_and_a_database_here(tmp_path, monkeypatch):
    """An installed wheel holds bot/defaults/config.yaml and bot/procedures/; the database must not
    land in site-packages."""
    from bot import config as config_module

    package = tmp_path / "site-packages" / "bot"
    (package / "defaults").mkdir(parents=True)
    (package / "procedures").mkdir()
    (package / "defaults" / "config.yaml").write_text((ROOT / "config.yaml").read_text(encoding="utf-8"),
                                                      encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setattr(config_module, "PACKAGE", package)
    monkeypatch.chdir(work)
    config = load_config(env={})
    assert config.procedures == package / "procedures"
    assert config.database == work / "data" / "motcua.sqlite3"


def test_the_deployment_s_province_is_optional_and_read_when_set(tmp_path):
    assert load_config(ROOT / "config.yaml", env={}).office.province is None
    path = tmp_path / "c.yaml"
    path.write_text((ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "  # province: Điện Biên", "  province: Điện Biên"), encoding="utf-8")
    assert load_config(path, env={}).office.province == "Điện Biên"


def test_an_offices_file_lists_the_communes_with_their_desks_prefixes_and_staff(tmp_path):
    config_file = tmp_path / "config.yaml"
    config_file.write_text((ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "# offices: offices.yaml", f"offices: {ROOT / 'offices.example.yaml'}"), encoding="utf-8")
    config = load_config(config_file, env={})
    assert config.several_offices and [o.code for o in config.offices] == ["03127", "03256"]
    assert config.office.name == "Bộ phận Một cửa UBND phường Mẫu"     # who the bot speaks for stays
    assert config.office_for_code("000.02.11.H15-251120-0012").name == "Xã Mường Ảng"
    assert config.office_for_code("000.09.11.H15-251120-0012") is None
    assert config.office_by_name("xa muong ang").code == "03256"
    assert config.office_by_name("Phường Điện Biên Phủ").hotline == "0215 000 0001"
    assert config.office_by_code("03127").prefix == "000.01.11.H15"
    assert config.staff_office("telegram", "100002").code == "03256" and config.is_staff("telegram", "100001")
    assert not config.is_staff("telegram", "999")
    assert [o.staff_chat for o in config.offices] == [-1001000000001, None]   # the second uses the deployment's


def test_the_longest_prefix_that_fits_tells_a_case_code_office(tmp_path):
    from bot.config import Office, office_for_code
    wide, narrow = Office("A", "a", "h", "1", "1", "000.01"), Office("B", "b", "h", "2", "2", "000.01.11")
    assert office_for_code((wide, narrow), "000.01.11.H15-251120-0001") is narrow
    assert office_for_code((wide, narrow), "000.01.12.H15-251120-0001") is wide


def _offices_config(tmp_path, offices: str) -> Path:
    (tmp_path / "offices.yaml").write_text(offices, encoding="utf-8")
    path = tmp_path / "c.yaml"
    path.write_text("office: {name: Tỉnh, address: Y, hours: Z, hotline: '1'}\noffices: offices.yaml\n",
                    encoding="utf-8")
    return path


def test_a_bad_offices_file_names_the_file_and_every_field(tmp_path):
    path = _offices_config(tmp_path, "offices:\n"
                           "  - {code: '1', name: A, address: a, hours: h, hotline: '1', prefix: P1}\n"
                           "  - {code: '2', name: B, address: b, hours: h, prefix: P2, staf: {}}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert str(tmp_path / "offices.yaml") in message and "2 problem(s)" in message
    assert "offices[1].hotline: missing" in message and "offices[1].staf: unknown key" in message


def test_one_code_prefix_or_officer_at_two_offices_is_refused(tmp_path):
    path = _offices_config(tmp_path, "offices:\n"
                           "  - {code: '1', name: A, address: a, hours: h, hotline: '1', prefix: P1,"
                           " staff: {telegram: [7]}}\n"
                           "  - {code: '1', name: B, address: b, hours: h, hotline: '2', prefix: P1,"
                           " staff: {telegram: [7]}}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert str(tmp_path / "offices.yaml") in message
    for line in ("offices[1].code: 1 is already in offices[0]", "offices[1].prefix: P1 is already in offices[0]",
                 "offices[1].staff.telegram: 7 is already in offices[0]"):
        assert line in message


def test_a_missing_offices_file_or_staff_outside_it_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("office: {name: Tỉnh, address: Y, hours: Z, hotline: '1'}\noffices: nowhere.yaml\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"nowhere\.yaml not found"):
        load_config(path, env={})
    path = _offices_config(tmp_path, "offices:\n  - {code: '1', name: A, address: a, hours: h, hotline: '1',"
                                     " prefix: P1}\n")
    path.write_text(path.read_text(encoding="utf-8") + "staff: {telegram: [7]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="staff: with an offices file, officers are listed under their office"):
        load_config(path, env={})


def test_without_an_offices_file_the_office_section_is_the_one_office_with_the_staff_section(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("office: {name: X, address: Y, hours: Z, hotline: '1'}\nstaff: {telegram: [12345]}\n",
                    encoding="utf-8")
    config = load_config(path, env={})
    (office,) = config.offices
    assert (office.name, office.address, office.hours, office.hotline, office.code) == ("X", "Y", "Z", "1", "")
    assert not config.several_offices and config.staff_office("telegram", "12345") == office
    assert config.office_for_code("HS-ANY-CODE") == office      # one office keeps every case, as before
