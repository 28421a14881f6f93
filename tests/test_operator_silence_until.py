"""Silences that end at a time the operator names (`--until`, the API's `until`) rather than
after a duration: the time needs a UTC offset, is kept and shown in UTC whatever zone it was
written in, and a time past or more than a year ahead is refused. Through `triage silence add`
in process and the API, against a SQLite store on disk."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from test_operator_api import BEARER, serving
from test_operator_silence_warnings import _seeded
from test_operator_silence_warnings import store_url as store_url  # the seeded SQLite store
from triage.cli import main

INDIA = timezone(timedelta(hours=5, minutes=30))


def _later(hours: float, zone: timezone = UTC) -> datetime:
    """A whole minute `hours` from now, in `zone`."""
    return (
        (datetime.now(UTC) + timedelta(hours=hours))
        .astimezone(zone)
        .replace(second=0, microsecond=0)
    )


def _add(capsys: pytest.CaptureFixture[str], *length: str) -> tuple[int, list[object], str]:
    args = ["silence", "add", "--match", "team=payments", "--comment", "db work", *length]
    code = main(args)
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_until_with_an_offset_ends_then_and_is_shown_in_utc(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--until` in another zone's offset ends the silence at that instant, printed in UTC."""
    ends = _later(3, INDIA)
    code, [added], err = _add(capsys, "--until", ends.isoformat(timespec="minutes"))
    assert code == 0, err
    assert isinstance(added, dict) and added["active"]
    assert added["ends_at"] == ends.astimezone(UTC).isoformat(timespec="seconds")
    assert added["ends_at"].endswith("+00:00")


# The times relative to now are made inside the test: a parameter holding the time would give
# each xdist worker its own test ids when collection crosses a minute, and the run would stop.
@pytest.mark.parametrize(
    ("until", "said"),
    [
        ("2 hours ahead, no offset", "no UTC offset"),
        ("03:00", "expected a date and time"),  # which day?
        ("an hour ago", "is past"),
        ("400 days ahead", "at most 365d"),
        ("tomorrow morning", "expected a date and time"),
        ("9999-12-31T23:59-14:00", "out of the calendar's range"),  # UTC is past year 9999
        ("0001-01-01T00:00+14:00", "out of the calendar's range"),
    ],
)
def test_an_until_that_cannot_be_meant_is_a_usage_error(
    store_url: str, capsys: pytest.CaptureFixture[str], until: str, said: str
) -> None:
    """A time without an offset (read in whose zone?), a past one, one over a year ahead and
    one that is no time are exit 2 with one line saying which; no silence is made."""
    relative = {
        "2 hours ahead, no offset": _later(2).replace(tzinfo=None).isoformat(timespec="minutes"),
        "an hour ago": _later(-1).isoformat(),
        "400 days ahead": _later(24 * 400).isoformat(),
    }
    code, out, err = _add(capsys, "--until", relative.get(until, until))
    assert (code, out) == (2, [])
    assert err.count("\n") == 1 and said in err
    assert main(["silence", "list", "--all"]) == 0 and capsys.readouterr().out == ""


def test_for_and_until_together_are_refused(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--for` with `--until` is argparse's usage error (exit 2), and so is neither."""
    for length in (("--for", "2h", "--until", _later(1).isoformat()), ()):
        with pytest.raises(SystemExit) as exited:
            _add(capsys, *length)
        assert exited.value.code == 2


async def test_the_api_takes_until_instead_of_a_duration(tmp_path: Path) -> None:
    """POST /api/v1/silences with `until` ends then; with both or neither, or without an
    offset, it is a 400 and no silence is made."""
    store = await _seeded(tmp_path / "t.db")
    base = {"matchers": ["team=payments"], "comment": "db work"}
    ends = _later(2, INDIA)
    try:
        async with serving(store) as client:
            post = client.post
            made = await post(
                "/api/v1/silences", json={**base, "until": ends.isoformat()}, headers=BEARER
            )
            refused = [
                await post("/api/v1/silences", json={**base, **extra}, headers=BEARER)
                for extra in (
                    {"until": ends.isoformat(), "duration": "2h"},
                    {},
                    {"until": ends.replace(tzinfo=None).isoformat()},
                    {"until": 7200},
                    {"until": "9999-12-31T23:59-14:00"},
                )
            ]
            listed = (await client.get("/api/v1/silences", headers=BEARER)).json()["silences"]
    finally:
        await store.aclose()
    assert made.status_code == 201, made.text
    assert made.json()["ends_at"] == ends.astimezone(UTC).isoformat(timespec="seconds")
    assert [r.status_code for r in refused] == [400] * 5
    assert [s["id"] for s in listed] == [made.json()["id"]]
