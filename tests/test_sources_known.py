"""Every source an alert can carry is one a routes file may name (`routes.KNOWN_SOURCES`)."""

from __future__ import annotations

from pathlib import Path

from triage.errors import TriageError
from triage.normalize import normalize_body
from triage.routes import KNOWN_SOURCES

PAYLOADS = Path(__file__).parent / "payloads"


def _sources_of_every_sample() -> dict[str, str]:
    """Each source the bundled sample payloads normalise to, with one sample that shows it."""
    found: dict[str, str] = {}
    for path in sorted(PAYLOADS.rglob("*.json")):
        try:
            alerts = normalize_body(path.read_bytes()).alerts
        except TriageError:
            continue  # a sample of a refusal
        for alert in alerts:
            found.setdefault(alert.source, str(path.relative_to(PAYLOADS)))
    return found


def test_every_source_a_sample_normalises_to_can_be_named_by_a_route() -> None:
    """A route's `source = "…"` accepts every source an alert can have: one missing from
    KNOWN_SOURCES made a routes file naming it fail to load ("unknown source")."""
    found = _sources_of_every_sample()
    assert len(found) > 20, found  # the samples were read
    unknown = {source: sample for source, sample in found.items() if source not in KNOWN_SOURCES}
    assert unknown == {}
