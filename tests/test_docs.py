"""The README tells the truth about configuration and the quick start."""

from __future__ import annotations

from pathlib import Path

from triage.settings import Settings, env_name

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    """Each environment variable Settings reads appears in the README's configuration table."""
    missing = [env_name(f) for f in Settings.model_fields if f"`{env_name(f)}`" not in README]
    assert missing == []


def test_quick_start_has_the_two_commands_ci_runs() -> None:
    """The quick start's test command is the one .ci/run executes."""
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 dev.py demo" in README
    assert "python3 dev.py test" in README
    assert "python3 dev.py test" in ci


def test_env_example_lists_every_setting() -> None:
    """.env.example names every environment variable Settings reads, so `cp .env.example .env`
    shows the whole configuration."""
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text(encoding="utf-8")
    names = {
        line.split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    }
    missing = [env_name(f) for f in Settings.model_fields if env_name(f) not in names]
    assert missing == []
