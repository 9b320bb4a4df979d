"""What a built wheel carries: every package under bot/ and the data mapped from the top level
(the guides and the default config), so `pip install .` works outside a checkout."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_under_bot_is_shipped() -> None:
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bot").rglob("__init__.py")}
    missing = found - set(SETUPTOOLS["packages"])
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


def test_files_under_bot_that_are_not_python_are_package_data() -> None:
    """A migrations/*.sql folder, say, is shipped only if its package lists the pattern."""
    globs = [str(Path(*package.split("."), pattern)) for package, patterns in SETUPTOOLS["package-data"].items()
             for pattern in patterns]
    for path in (ROOT / "bot").rglob("*"):
        if path.is_file() and path.suffix not in (".py", ".pyc"):
            relative = path.relative_to(ROOT)
            assert any(relative.match(g) for g in globs), f"{relative} is not package data in pyproject.toml"


def test_the_guides_and_the_default_config_are_mapped_into_the_package() -> None:
    mapping = SETUPTOOLS["package-dir"]
    assert (ROOT / mapping["bot.procedures"]).resolve() == ROOT / "procedures"
    assert (ROOT / mapping["bot.defaults"] / "config.yaml").is_file()
    assert SETUPTOOLS["package-data"]["bot.procedures"] == ["*.yaml"]
    assert "config.yaml" in SETUPTOOLS["package-data"]["bot.defaults"]
