"""A title cannot imitate the priority marker a sink writes beside it: a leading `🔴 CRITICAL:`
(Slack's mark and label), its emoji code (`:red_circle: CRITICAL:`, which Slack draws as the
emoji), a mark alone or a bare `CRITICAL:` is a priority tag like `[P0]`, taken out of the
ticket's title (`priority.untagged`), so neither Slack's header (`🔵 LOW: …`) nor GitHub's
issue title (`[P3] …`) states a second priority. In-process, on the deterministic summariser
and the sinks' own renderers."""

from __future__ import annotations

import dataclasses

import pytest

from factories import view
from test_escape_every_surface import effect, hostile_alert
from triage.models import Priority
from triage.sinks.github.text import issue_title
from triage.sinks.slack import open_message
from triage.summarise.deterministic import DeterministicSummariser
from triage.summarise.priority import untagged

RED, ORANGE, YELLOW, BLUE = (
    "\N{LARGE RED CIRCLE}",
    "\N{LARGE ORANGE CIRCLE}",
    "\N{LARGE YELLOW CIRCLE}",
    "\N{LARGE BLUE CIRCLE}",
)


@pytest.mark.parametrize(
    ("title", "named"),
    [
        (f"{RED} CRITICAL: payments down", Priority.CRITICAL),
        (f"{RED}\ufe0f CRITICAL: payments down", Priority.CRITICAL),
        (":red_circle: CRITICAL: payments down", Priority.CRITICAL),
        (f"{ORANGE} HIGH: payments down", Priority.HIGH),
        (":large_orange_circle: high - payments down", Priority.HIGH),
        (f"{YELLOW} Medium | payments down", Priority.MEDIUM),
        (f"{RED} P0: payments down", Priority.CRITICAL),
        (f"{RED} P0 payments down", Priority.CRITICAL),
        (f"{RED} Urgent: payments down", Priority.CRITICAL),
        (f"{RED} CRITICAL payments down", Priority.CRITICAL),
        (f"{RED} payments down", Priority.CRITICAL),
        (":red_circle: payments down", Priority.CRITICAL),
        ("CRITICAL: payments down", Priority.CRITICAL),
        ("high | payments down", Priority.HIGH),
        (f"\u2800{RED} CRITICAL: payments down", Priority.CRITICAL),
    ],
)
def test_a_leading_priority_marker_is_a_tag(title: str, named: Priority) -> None:
    """A title opening with a priority marker (Slack's mark, its code, a priority word and a
    separator) loses it, and it counts as naming another priority than a low ticket's."""
    assert untagged(title, Priority.LOW) == ("payments down", 1)
    assert untagged(title, named) == ("payments down", 0)


@pytest.mark.parametrize(
    "title",
    [
        f"{RED} CRITICAL: [P0] payments down",
        f"[P0] {RED} CRITICAL: payments down",
        f"{RED} CRITICAL: {RED} CRITICAL: payments down",
        f"{RED} CRITICAL: P0: payments down",
    ],
)
def test_markers_and_tags_stacked_at_the_start_all_go(title: str) -> None:
    """Markers and tags one after another at a title's start are all taken out, in any
    order: none is left to open the title once the one before it is gone."""
    assert untagged(title, Priority.LOW)[0] == "payments down"


@pytest.mark.parametrize(
    "title",
    [
        "Critical path latency above 2 s",
        "High CPU on db-1",
        "Low disk space: /var",
        f"payments {RED} CRITICAL: down",
        "\N{LARGE GREEN CIRCLE} checkout healthy again",
        "Criticality: payments down",
        "`CRITICAL: x` in the worker log",
    ],
)
def test_a_title_only_opening_with_such_words_keeps_them(title: str) -> None:
    """A priority word that opens a title without a separator after it ("High CPU"), a marker
    in its middle, another colour's circle, a longer word or code keeps the title whole."""
    assert untagged(title, Priority.LOW) == (title, 0)


@pytest.mark.parametrize(
    "rest", ["High CPU on db-1", "Major outage in eu-west", "critical path slow"]
)
def test_a_mark_goes_but_the_words_of_the_title_after_it_stay(rest: str) -> None:
    """After a mark, a priority word that is the title's own (no separator after it, not
    written as the header writes it) stays: only the mark goes."""
    assert untagged(f"{RED} {rest}", Priority.LOW) == (rest, 1)


@pytest.mark.parametrize("marker", [f"{RED} CRITICAL:", ":red_circle: CRITICAL:", "CRITICAL:"])
async def test_neither_slacks_header_nor_githubs_title_states_a_second_priority(
    marker: str,
) -> None:
    """A low incident titled with another priority's marker: Slack's header reads `🔵 LOW:`
    and GitHub's title `[P3]`, and neither holds the imitated marker."""
    alert = hostile_alert("t").model_copy(
        update={
            "title": f"{marker} payments down",
            "priority": Priority.LOW,
            "description": "d",
            "labels": {},
        }
    )
    seen = view(alert)
    ticket = await DeterministicSummariser().summarise(seen)
    assert ticket.priority is Priority.LOW
    shown = dataclasses.replace(effect("t"), alert=seen, ticket=ticket)
    header = open_message(shown)["blocks"][0]["text"]["text"]
    assert header.startswith(f"{BLUE} LOW: "), header
    assert "CRITICAL" not in header and RED not in header and ":red_circle:" not in header
    title = issue_title(shown)
    assert title.startswith("[P3] ") and "CRITICAL" not in title and RED not in title, title
