"""The README is how a lecturer or an operator picks the playground up: it must stay true."""

from __future__ import annotations

from pathlib import Path

from app.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_settings_tables_list_every_setting_with_its_default():
    section = README[README.index("## Settings"):README.index("## Serving a lecture hall")]
    missing = [name for name in Settings.model_fields if f"`NP_{name.upper()}" not in section]
    assert missing == [], f"README's Settings section lacks {missing}"
    defaults = Settings()
    for name in ("max_sessions", "capacity", "max_browsers_per_address", "client_quota_per_second"):
        row = next(line for line in section.splitlines() if line.startswith(f"| `NP_{name.upper()}`"))
        assert f"| {getattr(defaults, name):g} |" in row, f"{name}: the README says {row!r}"


def test_the_readme_gives_both_commands_and_every_lab():
    from app.labs import LABS

    assert "make run" in README and "make test" in README
    for lab in LABS:
        assert f"`/labs/{lab.slug}`" in README, f"the labs table lacks {lab.slug}"
