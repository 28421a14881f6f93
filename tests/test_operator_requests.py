"""Requests to the operator's API that say more, or other, than it understands, over a loopback
port against a SQLite store: each is a 400 naming the mistake, never an answer that looks like
what was asked (an unfiltered list, a silence without the author or end that was written)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from factories import alert
from test_operator_api import BEARER, NOW, serving
from test_store import LEASE, POLICY
from triage.cli import main
from triage.incidents.sqlite import SQLiteStore

SILENCE = {"matchers": ["team=payments"], "duration": "2h", "comment": "db work"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """A SQLite store holding one open incident, which does not flap."""
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await s.open()
    await s.begin(alert("open-one"), "m1", NOW)
    yield s
    await s.aclose()


@pytest.mark.parametrize(
    "query",
    [
        "sate=closed",  # a misspelt filter
        "severity=high",  # a filter this API does not have (priority is)
        "State=open",  # names are case-sensitive
        "state=closed&state=open",  # one of two would be dropped
        "flapping=on",  # not a spelling of yes or no
        "flapping=1&flapping=0",
    ],
)
async def test_a_listing_query_it_does_not_understand_is_a_400(
    store: SQLiteStore, query: str
) -> None:
    """An unknown, repeated or unreadable query parameter of a listing is a 400 naming it."""
    async with serving(store) as client:
        answer = await client.get(f"/api/v1/incidents?{query}", headers=BEARER)
    assert answer.status_code == 400, answer.text
    assert query.partition("=")[0] in answer.json()["error"]


async def test_every_path_refuses_query_parameters_it_does_not_take(store: SQLiteStore) -> None:
    """Silences, one incident, a new silence and an expiry refuse a parameter they do not take."""
    async with serving(store) as client:
        answers = [
            await client.get("/api/v1/silences?every=1", headers=BEARER),
            await client.get("/api/v1/silences?all=maybe", headers=BEARER),
            await client.get("/api/v1/incidents/abc?history=1", headers=BEARER),
            await client.post("/api/v1/silences?duration=2h", json=SILENCE, headers=BEARER),
            await client.delete("/api/v1/silences/abc?force=1", headers=BEARER),
        ]
        listed = (await client.get("/api/v1/silences?all=1", headers=BEARER)).json()
    assert [a.status_code for a in answers] == [400] * 5
    assert all(a.json()["error"] for a in answers)
    assert listed == {"silences": [], "unreadable": 0}  # the refused POST made nothing


async def test_the_yes_and_no_parameters_take_their_spellings(store: SQLiteStore) -> None:
    """`?flapping` bare, =1, =true, =yes filter; =0, =false, =no do not; `?all` likewise."""
    async with serving(store) as client:
        for yes in ("flapping", "flapping=1", "flapping=TRUE", "flapping=yes"):
            answer = await client.get(f"/api/v1/incidents?{yes}", headers=BEARER)
            assert answer.json()["total"] == 0, yes  # no incident flaps
        for no in ("flapping=0", "flapping=false", "flapping=No"):
            answer = await client.get(f"/api/v1/incidents?{no}", headers=BEARER)
            assert answer.json()["total"] == 1, no
        assert (await client.get("/api/v1/silences?all", headers=BEARER)).status_code == 200


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({**SILENCE, "autor": "bob"}, "autor"),  # a misspelt author was replaced by "api"
        ({**SILENCE, "ends_at": "2030-01-01T00:00:00Z"}, "ends_at"),  # an end never used
        ({**SILENCE, "startsAt": "2030-01-01T00:00:00Z"}, "startsAt"),
        ({**SILENCE, "author": 5}, "author"),  # a number was replaced by "api"
        ({"matchers": ["team=payments"], "duration": "2h"}, "comment"),
        ({"matchers": ["team=payments"], "comment": "c"}, "duration"),
    ],
)
async def test_a_silence_with_a_field_it_does_not_take_is_a_400(
    store: SQLiteStore, body: dict[str, object], named: str
) -> None:
    """An unknown, mistyped or missing field of a new silence is a 400 naming it; none is made."""
    async with serving(store) as client:
        answer = await client.post("/api/v1/silences", json=body, headers=BEARER)
        listed = (await client.get("/api/v1/silences?all=1", headers=BEARER)).json()
    assert answer.status_code == 400, answer.text
    assert named in answer.json()["error"]
    assert listed == {"silences": [], "unreadable": 0}


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"matchers": ["team=payments"], "duration": "2h", "comment": "a", "comment": "b"}',
         "'comment' twice"),
        (b'{"matchers": ["team=payments"], "duration": NaN, "comment": "a"}', "NaN"),
        (b'{"matchers": ["team=payments"], "duration": ' + b"9" * 5000 + b', "comment": "a"}',
         "5000 digits"),
        (b'\xff{"matchers": []}', "not UTF-8"),
        (b'{"matchers": ["team=payments"', "not JSON"),
    ],
)  # fmt: skip
async def test_a_body_json_does_not_allow_is_a_400_saying_why(
    store: SQLiteStore, body: bytes, said: str
) -> None:
    """Duplicate keys, NaN, a number of thousands of digits, bytes that are not UTF-8 and cut
    JSON are each a 400 in an operator's words (not Python's), and make no silence."""
    async with serving(store) as client:
        answer = await client.post("/api/v1/silences", content=body, headers=BEARER)
        listed = (await client.get("/api/v1/silences?all=1", headers=BEARER)).json()
    assert answer.status_code == 400, answer.text
    assert said in answer.json()["error"]
    assert "sys." not in answer.json()["error"]
    assert listed == {"silences": [], "unreadable": 0}


async def test_the_servers_own_refusals_on_the_api_are_json(store: SQLiteStore) -> None:
    """A wrong method (with Allow), an unknown path and a body past 64 KiB answer the API's
    JSON `{"error": …}` too, not a line of text a script reading `.error` cannot parse."""
    async with serving(store) as client:
        wrong_method = await client.put("/api/v1/silences", json=SILENCE, headers=BEARER)
        unknown_path = await client.get("/api/v1/silence", headers=BEARER)
        too_large = await client.post(
            "/api/v1/silences", content=b"[" + b" " * 70_000 + b"]", headers=BEARER
        )
    assert [wrong_method.status_code, unknown_path.status_code, too_large.status_code] == [
        405,
        404,
        413,
    ]
    assert wrong_method.headers["allow"] == "GET, HEAD, POST"
    for answer, said in ((wrong_method, "method not allowed"), (unknown_path, "not found")):
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {"error": said}
    assert too_large.json() == {"error": "request entity too large"}


async def test_a_blank_team_is_refused_not_read_as_every_team(store: SQLiteStore) -> None:
    """`?team=` (a script's unset variable) is a 400, not every team's incidents."""
    async with serving(store) as client:
        for query in ("team=", "team=%20"):
            answer = await client.get(f"/api/v1/incidents?{query}", headers=BEARER)
            assert answer.status_code == 400 and "team" in answer.json()["error"], query
        assert (await client.get("/api/v1/incidents?team=x", headers=BEARER)).status_code == 200


@pytest.mark.parametrize("team", ["", " "])
def test_a_blank_team_on_the_command_line_is_a_usage_error(
    team: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage incidents list --team ""` is argparse's usage error (exit 2), naming --team."""
    with pytest.raises(SystemExit) as exited:
        main(["incidents", "list", "--team", team])
    assert exited.value.code == 2 and "--team" in capsys.readouterr().err
