"""Silences on labels whose value redaction hides by its shape (`session`, `pass`, `jwt`, a
key's or a community's name …), not only by its name: a regular expression on such a label is
refused as one on a secret's label is (alerts show, and silences match, `[REDACTED:password]`
for every secret-shaped value, so a pattern could only silently miss or hit the placeholder),
and an `=`/`!=` value is matched as alerts show it, never by the value redaction hid. Through
the operator API (loopback HTTP, in-memory store), the command line and `new_silence`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from factories import alert
from memory_store import MemoryStore
from test_operator_api import BEARER, NOW, serving
from test_operator_silence_warnings import store_url as store_url  # the seeded SQLite store
from triage.cli import main
from triage.incidents import Store
from triage.incidents.silences import first_match
from triage.incidents.store import Routing
from triage.models import Priority, Ticket
from triage.ops.operator import new_silence
from triage.redact import secret_named
from triage.redact.named_values import named_value_secret

#: Session ids of the shape redaction hides under a `session` label (a UUID, a mixed token).
SESSION_A = "0f8e2c1a-9b7d-4e3f-a6c5-1d2e3f4a5b6c"
SESSION_B = "s3ss10nT0k3nQx7Lm2Np9Rz"
#: Values a shape-judging name hides (some of them), none of them the refusal's own witnesses.
HIDDEN_SHAPES = (
    SESSION_A,
    SESSION_B,
    "Hunt3rTw0Pw",
    "deadbeef00112233445566778899aabbccddeeff",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.Qm9vX2sig9Ab",
    "ops:Pa55w0rdX",
    "pr1vC0mm",
)
#: Label names under which redaction hides some value by its shape alone, and ones it never
#: judges by name (their patterns stay allowed).
SHAPE_JUDGED = (
    "session",
    "user_session",
    "userSession",
    "x-session",
    "pass",
    "PASS",
    "jwt",
    "bearer",
    "kubeconfig",
    "ssh_key",
    "cache_key",
    "partition_key",
    "snmp_community",
    "cred",
)
NOT_JUDGED = ("env", "host", "sessions", "passes", "pass_rate", "region", "service")


def _body(*matchers: str) -> dict[str, Any]:
    return {"matchers": ["team=payments", *matchers], "duration": "1h", "comment": "c"}


async def _open(store: Store, name: str, **labels: str) -> None:
    """An open incident of team payments with a ticket and `labels` (stored as they came,
    where the pipeline stores them redacted: the answers prove their own redaction)."""
    began = await store.begin(alert(name), f"m-{name}", NOW)
    assert began.after is not None
    fp = began.after.fingerprint
    ticket = Ticket(title=name, priority=Priority.HIGH, description="d")
    await store.save_ticket(fp, f"m-{name}", ticket, Routing("default", "payments", labels))
    await store.confirm(fp, f"m-{name}", "backend", f"T-{name}", finish=True)


@pytest.fixture
async def api() -> AsyncIterator[httpx2.AsyncClient]:
    """The operator API over loopback HTTP on an in-memory store with three open incidents:
    two whose session is hidden (different ids), one whose session is shown (`morning`)."""
    store = MemoryStore()
    await _open(store, "checkout-a", session=SESSION_A)
    await _open(store, "checkout-b", session=SESSION_B)
    await _open(store, "batch", session="morning")
    async with serving(store) as client:
        yield client


@pytest.mark.parametrize(
    "matcher",
    ["session=~abc.*", "session!~abc.*", "session=~.*", "pass=~Hun.*", "jwt!~ey.*",
     "snmp_community=~c0m.*", "user_session=~0f8e.*"],
)  # fmt: skip
async def test_the_api_refuses_a_pattern_on_a_label_hidden_by_shape(
    api: httpx2.AsyncClient, matcher: str
) -> None:
    """A pattern on a label whose secret-shaped values alerts show as `[REDACTED:password]`
    is a 400 naming what to write (`=` a value as shown, `!=`/`=` empty), and nothing is
    stored: it would silently match none of the hidden values, or all of them by the
    placeholder, whatever the operator meant."""
    name = matcher.split("=")[0].split("!")[0]
    refused = await api.post("/api/v1/silences", json=_body(matcher), headers=BEARER)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert "[REDACTED:password]" in error and f"{name}!= for alerts with one" in error
    assert (await api.get("/api/v1/silences", headers=BEARER)).json()["silences"] == []


async def test_a_refused_pattern_is_not_echoed(api: httpx2.AsyncClient) -> None:
    """The refusal names the label and operator, not the pattern: one holding the secret an
    operator pasted (`session=~<id>`) is not sent back in the error."""
    for matcher in (f"session=~{SESSION_A}", f"db_password=~{SESSION_B}.*"):
        refused = await api.post("/api/v1/silences", json=_body(matcher), headers=BEARER)
        assert refused.status_code == 400, refused.text
        assert SESSION_A not in refused.text and SESSION_B not in refused.text


async def test_an_equal_secret_matches_as_shown_never_by_the_hidden_value(
    api: httpx2.AsyncClient,
) -> None:
    """`session=<a hidden id>` is kept and matched as alerts show it: the preview lists both
    incidents whose session is hidden, whichever id (or guess, or the placeholder the
    operator sees) was typed, so match and no match say nothing about the hidden value, and
    no id is stored or answered; `session=morning` (shown as it is) matches its incident."""
    answers = []
    for typed in (SESSION_A, SESSION_B, "Gu3ssW0rkXy7Qz1Lm4Np8", "[REDACTED:password]"):
        body = _body(f"session={typed}")
        answer = await api.post("/api/v1/silences?dry_run=1", json=body, headers=BEARER)
        assert answer.status_code == 200, answer.text
        assert SESSION_A not in answer.text and SESSION_B not in answer.text
        shown = answer.json()
        assert shown["matchers"] == ["team=payments", "session=[REDACTED:password]"]
        answers.append(sorted(i["title"] for i in shown["matching"]["incidents"]))
    assert answers == [["checkout-a is failing", "checkout-b is failing"]] * 4
    shown_as_is = await api.post(
        "/api/v1/silences?dry_run=1", json=_body("session=morning"), headers=BEARER
    )
    assert shown_as_is.json()["matching"]["open"] == 1


async def test_a_not_equal_secret_excludes_by_what_alerts_show(api: httpx2.AsyncClient) -> None:
    """`session!=<a hidden id>` is made and stored without the id, excluding every incident
    whose session is hidden (as `[REDACTED:password]` is excluded), not only the one whose id
    it was: the hidden value decides nothing."""
    made = await api.post("/api/v1/silences", json=_body(f"session!={SESSION_A}"), headers=BEARER)
    assert made.status_code == 201, made.text
    assert SESSION_A not in made.text
    [listed] = (await api.get("/api/v1/silences", headers=BEARER)).json()["silences"]
    assert listed["matchers"] == ["team=payments", "session!=[REDACTED:password]"]
    assert [i["title"] for i in listed["matching"]["incidents"]] == ["batch is failing"]


def test_the_command_line_refuses_a_pattern_on_a_label_hidden_by_shape(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage silence add --match session=~abc.*` exits 2 with one line saying why, and the
    store keeps no silence."""
    code = main(
        ["silence", "add", "--match", "team=payments", "--match", "session=~abc.*", "--for",
         "1h", "--comment", "db work"]
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert "session" in err and "[REDACTED:password]" in err
    assert main(["silence", "list"]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("name", SHAPE_JUDGED + NOT_JUDGED)
def test_a_pattern_is_refused_exactly_where_redaction_judges_the_name(name: str) -> None:
    """For each label name, a pattern (`=~` and `!~`) is refused when redaction hides some
    value under it by that value's shape (`named_value_secret`), and made when it hides
    none of them: the refusal agrees with what alerts show, label by label."""
    hides = any(named_value_secret(name, value) for value in HIDDEN_SHAPES)
    assert hides is (name in SHAPE_JUDGED), "the table of names is out of date"
    assert not secret_named(name)  # the refusal by name alone missed every one of them
    for op in ("=~", "!~"):
        typed = f"{name}{op}abc.*"
        if hides:
            with pytest.raises(ValueError, match=rf"{re.escape(name)}!= for alerts with one"):
                new_silence(["team=payments", typed], "1h", "why", "al", NOW)
        else:
            made = new_silence(["team=payments", typed], "1h", "why", "al", NOW)
            assert made.to_json()["matchers"] == ["team=payments", typed]


def test_an_equal_value_redaction_shows_is_kept_under_a_judged_name() -> None:
    """Under a name judged by shape, a value redaction leaves alone is stored as typed
    (`jwt=RS256`, `pass=142`, `session=morning`) and holds for the alert showing it, not for
    one whose value is hidden."""
    for name, shown, hidden in (
        ("jwt", "RS256", "Zq8Xw2Lp5Vn3Rt7Y"),
        ("pass", "142", "Hunt3rTw0Pw"),
        ("session", "morning", SESSION_A),
    ):
        made = new_silence(["team=payments", f"{name}={shown}"], "1h", "why", "al", NOW)
        assert str(made.matchers[1]) == f"{name}={shown}"
        held = alert().model_copy(update={"labels": {name: shown}})
        other = alert().model_copy(update={"labels": {name: hidden}})
        assert made.matches(held) and not made.matches(other)


def test_the_pipeline_matches_a_raw_alert_as_its_stored_incident_is_matched() -> None:
    """The daemon matches the raw alert it holds as the sweep matches the stored one:
    `session=[REDACTED:password]` (typed as the API shows it) holds for an alert with either
    hidden id and not for `session=morning`; a refused pattern never gets this far."""
    made = new_silence(["team=payments", "session=[REDACTED:password]"], "1h", "why", "al", NOW)
    for session, held in ((SESSION_A, True), (SESSION_B, True), ("morning", False)):
        raw = alert().model_copy(update={"labels": {"session": session}})
        assert first_match([made], raw, NOW) is (made if held else None), session
