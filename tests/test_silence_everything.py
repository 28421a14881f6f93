"""A silence whose matchers hold for every alert (`title!=`, `title=~.+`, `source=~.+` and
`team=~.*` beside one of those) is made, as Alertmanager makes it, with a warning saying it
quiets every alert: on the API's answer, `silence add`'s stderr and its `--dry-run`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from test_operator_api import BEARER, NOW, serving
from test_operator_silence_warnings import _add, _seeded, store_url
from triage.cli import main
from triage.incidents.silences import Matcher, Silence

__all__ = ["store_url"]  # the fixture, imported to be used here

#: What the warning says.
EVERY_ALERT = "it matches every alert"


def silence_of(*matchers: str) -> Silence:
    return Silence.new(
        [Matcher.parse(m) for m in matchers], NOW, NOW + timedelta(hours=1), "db work", "op"
    )


@pytest.mark.parametrize(
    "matchers",
    [
        ("title!=",),
        ("title=~.+",),
        ("source=~.+",),
        ("title!~",),
        ("source=~(?s).*", "title=~.+"),
        ("team=~.*", "title=~.+"),
        ("title=~[\\s\\S]+", "env=~.*"),
    ],
)
def test_matchers_that_hold_for_every_alert_are_told(matchers: tuple[str, ...]) -> None:
    """Every matcher holds for any value its name can have (a source and a title are never
    empty; a team or a label may be): the silence matches every alert."""
    assert silence_of(*matchers).matches_every_alert()


@pytest.mark.parametrize(
    "matchers",
    [
        ("team!=",),  # an alert without a team is ""
        ("env!=",),
        ("title!=disk full", "source=~.+"),
        ("team=~.+",),
        ("title=~.+x",),
        ("title=~[^#]*", "source=~.+"),  # a title with a '#' is not matched
        ("title=~\\S.*",),  # nor one that starts with a space
        ("title=~.{0,40}", "source=~.+"),  # nor a long one
        ("title=~.+", "team=payments"),
        ("title=disk full",),
    ],
)
def test_matchers_that_leave_some_alert_out_are_not_told(matchers: tuple[str, ...]) -> None:
    """A silence with a matcher some alert fails (an empty team, a long title, a title with
    a character the pattern leaves out) does not match every alert."""
    assert not silence_of(*matchers).matches_every_alert()


def test_silence_add_warns_that_it_matches_every_alert(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silence add --match title=~.+` is made (exit 0, the silence on stdout) with one stderr
    warning that it matches every alert."""
    code, added, err = _add(capsys, "title=~.+")
    assert code == 0 and added["matchers"] == ["title=~.+"]
    [line] = [x for x in err.splitlines() if EVERY_ALERT in x]
    assert line.startswith("triage: silence: warning: it matches every alert"), line


def test_silence_add_dry_run_warns_that_it_matches_every_alert(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silence add --dry-run` with `source=~.+` and `team=~.*` says the same warning."""
    args = ["silence", "add", "--for", "1h", "--comment", "db work", "--author", "op", "--dry-run"]
    assert main([*args, "--match", "source=~.+", "--match", "team=~.*"]) == 0
    err = capsys.readouterr().err
    assert any(
        x.startswith("triage: silence: warning: it matches every alert") for x in err.splitlines()
    ), err


def test_a_narrow_silence_is_not_told_it_matches_every_alert(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A silence on the open incident's team has no such warning."""
    code, _, err = _add(capsys, "team=payments", "title=~.+")
    assert code == 0 and EVERY_ALERT not in err


async def test_the_api_warns_that_a_silence_matches_every_alert(tmp_path: Path) -> None:
    """POST /api/v1/silences with `title!=` answers 201 with the warning; so does its dry run
    (200, nothing stored)."""
    store = await _seeded(tmp_path / "t.db")
    body = {"matchers": ["title!="], "duration": "1h", "comment": "db work"}
    try:
        async with serving(store) as client:
            preview = await client.post("/api/v1/silences?dry_run=1", json=body, headers=BEARER)
            added = await client.post("/api/v1/silences", json=body, headers=BEARER)
    finally:
        await store.aclose()
    assert preview.status_code == 200 and added.status_code == 201
    for answer in (preview, added):
        assert any(w.startswith(EVERY_ALERT) for w in answer.json()["warnings"]), answer.text
