"""Sources, round 23 (helper 564): dead letters of EventBridge Pipes and of an event bus read
as the failed delivery they are (not as the event they carry, nor refused), and a year from
2100 on read as a year by grounding."""

from __future__ import annotations

import pytest

from triage.summarise import grounding

# --- grounding: a year of any century this product may meet -----------------------------------


@pytest.mark.parametrize("year", ["1999", "2026", "2100", "2101", "2999"])
def test_a_year_after_its_opening_word_is_grounded_by_the_alert_s_date(year: str) -> None:
    """ "Seen since 2101" is a date's piece, grounded by an alert of 2101 as "since 2026" is
    by one of 2026; a count of the same digits stays marked."""
    shown = grounding.evidence(
        {"title": "Checkout API 5xx", "occurred_at": f"{year}-11-23T09:00:00+00:00"}
    )
    assert grounding.check(f"Seen since {year}", shown) == grounding.Checked(f"Seen since {year}")
    assert grounding.check(f"{year} requests failed", shown).rejected == ("number",)
