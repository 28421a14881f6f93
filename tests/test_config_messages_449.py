"""Configuration errors that say what to write: sinks written apart by spaces, and a file://
URL given for any path setting (found by the README audit, helper 449)."""

from __future__ import annotations

import pytest

from triage.errors import ConfigError
from triage.settings import load_settings


def test_sinks_written_apart_by_spaces_are_told_to_take_commas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TRIAGE_SINKS="backend github" names known sinks apart by a space: the error says to
    separate them with commas and shows how, not "did you mean 'backend'"."""
    monkeypatch.setenv("TRIAGE_SINKS", "backend github")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "separate sinks with commas: 'backend,github'" in message, message
    assert "did you mean" not in message, message


def test_an_unknown_sink_still_gets_its_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    """A misspelt sink alone is still answered with the one meant."""
    monkeypatch.setenv("TRIAGE_SINKS", "backend,githb")
    with pytest.raises(ConfigError, match="did you mean 'github'"):
        load_settings()


@pytest.mark.parametrize("variable", ["TRIAGE_PATTERNS_FILE", "TRIAGE_ROUTES_FILE"])
def test_a_file_url_for_a_path_says_to_drop_the_scheme_for_any_path(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """A file:// URL for any path setting is told to drop `file://`, with an example that is
    no other setting's file (it named the routes file for the patterns file)."""
    monkeypatch.setenv(variable, "file:///etc/triage/x.toml")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(variable) or variable in message, message
    assert "without file://" in message and "routes.toml" not in message, message
