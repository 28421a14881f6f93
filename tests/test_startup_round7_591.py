"""Start-up and configuration as a team adopting triage meets them (round 7, helper 591): the
AWS clients' connection pools keep up with TRIAGE_CONCURRENCY, and a refused setting's line
stays one line whatever the value holds."""

from __future__ import annotations

import pytest

from triage.errors import ConfigError
from triage.settings import load_settings


def test_a_sink_list_holding_a_newline_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Proves TRIAGE_SINKS with a newline inside (a YAML block scalar) is one refusal line."""
    monkeypatch.setenv("TRIAGE_SINKS", "backend\nslack")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("TRIAGE_SINKS: ")
