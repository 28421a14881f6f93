"""The operator's API and the status page's login on the daemon's endpoint server, in process,
against both stores (SQLite and DynamoDB on moto): the token, the session cookie, the CSRF
guards, redacted answers, and silences made and expired over HTTP."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from pydantic import SecretStr

from factories import alert
from test_pipeline import CountingSummariser
from test_store import store as store  # the suite's SQLite and DynamoDB stores
from triage.aws import Aws
from triage.errors import ConfigError
from triage.health import Health
from triage.incidents import Store
from triage.incidents.codec import view_to_json
from triage.incidents.silences import SilenceCache
from triage.incidents.store import Hold, Routing
from triage.metrics import Metrics
from triage.models import Priority, Status, Ticket
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.redact import Redactor
from triage.settings import Settings, load_settings
from triage.view import redact_alert

TOKEN = "op-token-" + "x" * 24
BEARER = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime.now(UTC)
#: A title that is hostile twice: markup, and a credential that must not leave the process.
HOSTILE = "<img src=x onerror=alert(1)> disk full password=hunter2hunter2"


async def _seed(store: Store) -> str:
    """One open incident with a backend ticket, and one closed. The title is stored as it
    came (the pipeline would have redacted it), so the answers prove their own redaction."""
    hostile = alert("hostile").model_copy(update={"title": HOSTILE})
    t = await store.begin(hostile, "m1", NOW)
    assert t.after is not None
    fp = t.after.fingerprint
    ticket = Ticket(title="disk full", priority=Priority.CRITICAL, description="d")
    await store.save_ticket(fp, "m1", ticket, Routing("default", "payments", {"env": "prod"}))
    await store.confirm(fp, "m1", "backend", "T-1", finish=True)
    await store.begin(alert("gone", Status.RESOLVED), "m2", NOW)
    return fp


@contextlib.asynccontextmanager
async def serving(store: Store, token: str | None = TOKEN) -> AsyncIterator[httpx2.AsyncClient]:
    settings = Settings(api_token=SecretStr(token) if token else None)
    aws = Aws(settings)
    view = OperatorView(
        settings, store, SilenceCache(store), [], CountingSummariser(), Health(), aws
    )
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield client
    finally:
        await server.aclose()
        await aws.aclose()


async def test_without_a_token_the_api_is_off_and_health_stays_open(store: Store) -> None:
    """TRIAGE_API_TOKEN unset: /api/v1/… and / are not served; /healthz is."""
    async with serving(store, token=None) as client:
        assert (await client.get("/api/v1/incidents", headers=BEARER)).status_code == 404
        assert (await client.get("/")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200


async def test_a_listing_answers_at_most_its_limit_most_urgent_first(store: Store) -> None:
    """`limit` bounds one answer (the most urgent first) and `total` says how many matched;
    a limit that is no positive number is a 400, and one past 5,000 is capped, not refused."""
    fp = await _seed(store)
    for i in range(4):
        await store.begin(alert(f"other-{i}"), f"o{i}", NOW)
    async with serving(store) as client:
        two = (await client.get("/api/v1/incidents?limit=2", headers=BEARER)).json()
        assert two["total"] == 5 and len(two["incidents"]) == 2
        assert two["incidents"][0]["fingerprint"] == fp  # the critical one comes first
        every = (await client.get("/api/v1/incidents", headers=BEARER)).json()
        assert every["total"] == len(every["incidents"]) == 5
        for bad in ("0", "-1", "x", "٣", "1e3"):
            answer = await client.get(f"/api/v1/incidents?limit={bad}", headers=BEARER)
            assert answer.status_code == 400, bad
        for big in ("9999", "99999", "1" * 10):  # past the most one answer holds: capped
            answer = await client.get(f"/api/v1/incidents?limit={big}", headers=BEARER)
            assert answer.status_code == 200 and answer.json()["total"] == 5, big


async def test_incidents_need_the_token_and_come_back_redacted(store: Store) -> None:
    """No token or a wrong one is 401; with it the open incidents are listed, filtered, and
    shown one by one with history, every text redacted (the credential in the title is gone)."""
    fp = await _seed(store)
    async with serving(store) as client:
        assert (await client.get("/api/v1/incidents")).status_code == 401
        wrong = {"Authorization": "Bearer " + "y" * len(TOKEN)}
        assert (await client.get("/api/v1/incidents", headers=wrong)).status_code == 401
        listed = (await client.get("/api/v1/incidents", headers=BEARER)).json()["incidents"]
        assert [i["fingerprint"] for i in listed] == [fp]
        [shown] = listed
        assert shown["priority"] == "critical" and shown["team"] == "payments"
        assert shown["tickets"] == {"backend": "T-1"} and shown["state"] == "open"
        assert "hunter2" not in str(listed) and "[REDACTED" in shown["title"]
        closed = await client.get("/api/v1/incidents?state=closed", headers=BEARER)
        assert [i["state"] for i in closed.json()["incidents"]] == ["closed"]
        none = await client.get("/api/v1/incidents?team=search", headers=BEARER)
        assert none.json()["incidents"] == []
        assert (await client.get("/api/v1/incidents?state=x", headers=BEARER)).status_code == 400
        one = (await client.get(f"/api/v1/incidents/{fp}", headers=BEARER)).json()
        assert [e["action"] for e in one["history"]] == ["open", "open"]  # and the sink's answer
        assert one["labels"] == {"env": "prod"}
        missing = await client.get("/api/v1/incidents/" + "0" * 32, headers=BEARER)
        assert missing.status_code == 404


async def test_silences_are_made_listed_and_expired_over_http(store: Store) -> None:
    """POST makes a silence (201), GET lists it, DELETE expires it; a bad matcher is a 400;
    an alert then matching it is held by the store."""
    async with serving(store) as client:
        body = {
            "matchers": ["team=payments"],
            "duration": "2h",
            "comment": "deploy",
            "author": "al",
        }
        made = await client.post("/api/v1/silences", json=body, headers=BEARER)
        assert made.status_code == 201, made.text
        silence = made.json()
        assert silence["active"] and silence["matchers"] == ["team=payments"]
        listed = (await client.get("/api/v1/silences", headers=BEARER)).json()["silences"]
        assert [s["id"] for s in listed] == [silence["id"]]
        bad = await client.post(
            "/api/v1/silences", json={**body, "matchers": ["title=~("]}, headers=BEARER
        )
        assert bad.status_code == 400 and "regular expression" in bad.json()["error"]
        for wrong in (
            {**body, "duration": "99999999999h"},  # would overflow a timedelta
            {**body, "matchers": ["env!=prod"]},  # would silence every alert
        ):
            refused = await client.post("/api/v1/silences", json=wrong, headers=BEARER)
            assert refused.status_code == 400, refused.text
        nested = await client.post(
            "/api/v1/silences", content=b"[" * 30_000 + b"]" * 30_000, headers=BEARER
        )
        assert nested.status_code == 400 and "nested" in nested.json()["error"]
        gone = await client.delete(f"/api/v1/silences/{silence['id']}", headers=BEARER)
        assert gone.status_code == 200 and not gone.json()["active"]
        assert (await client.get("/api/v1/silences", headers=BEARER)).json()["silences"] == []
        assert (await client.delete("/api/v1/silences/nope", headers=BEARER)).status_code == 404


async def test_the_login_form_sets_a_session_that_only_reads(store: Store) -> None:
    """GET / unauthenticated is the login form; posting the token with the form's CSRF value
    sets an HttpOnly, SameSite=Lax session cookie (a link from Slack opens the page logged in;
    the form's CSRF cookie stays Strict); with it the page and the API read, but
    nothing changes state; a cross-site post, a missing CSRF value or a wrong token is refused."""
    await _seed(store)
    async with serving(store) as client:
        form = await client.get("/")
        assert form.status_code == 200 and 'name="token"' not in form.text  # unquoted attrs
        assert "type=password name=token" in form.text
        csrf = re.search(r'name=csrf value="([^"]+)"', form.text)
        assert csrf is not None and client.cookies.get("triage_csrf") == csrf.group(1)
        assert "SameSite=Strict" in form.headers["set-cookie"]
        assert "script-src" not in form.headers["content-security-policy"]
        assert "default-src 'none'" in form.headers["content-security-policy"]

        cross = await client.post(
            "/login",
            data={"token": TOKEN, "csrf": csrf.group(1)},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert cross.status_code == 403
        no_csrf = await client.post("/login", data={"token": TOKEN, "csrf": "forged"})
        assert no_csrf.status_code == 401
        csrf_again = re.search(r'name=csrf value="([^"]+)"', no_csrf.text)
        assert csrf_again is not None
        wrong = await client.post("/login", data={"token": "nope", "csrf": csrf_again.group(1)})
        assert wrong.status_code == 401
        csrf_last = re.search(r'name=csrf value="([^"]+)"', wrong.text)
        assert csrf_last is not None
        ok = await client.post(
            "/login",
            data={"token": TOKEN, "csrf": csrf_last.group(1)},
            headers={"Origin": str(client.base_url).rstrip("/")},
        )
        assert ok.status_code == 303 and ok.headers["location"] == "/"
        set_cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
        assert TOKEN not in set_cookie

        page = await client.get("/")
        assert page.status_code == 200 and "Open incidents" in page.text
        assert "&lt;img src=x" in page.text and "<img" not in page.text
        assert "hunter2" not in page.text
        assert (await client.get("/api/v1/incidents")).status_code == 200
        body = {"matchers": ["team=x"], "duration": "1h", "comment": "c"}
        assert (await client.post("/api/v1/silences", json=body)).status_code == 401


async def test_a_held_incident_shows_as_silenced(store: Store) -> None:
    """An incident whose ticket a silence holds is listed as silenced, with its team from the
    held alert."""
    a = alert("quiet")
    hold = Hold("s1", NOW + timedelta(hours=1), view_to_json(redact_alert(a, Redactor())))
    await store.begin(a, "m1", NOW, hold=hold)
    async with serving(store) as client:
        [shown] = (await client.get("/api/v1/incidents", headers=BEARER)).json()["incidents"]
    assert shown["silenced"] and shown["held"] == {"effect": "open", "silence": "s1"}
    assert shown["team"] == "payments" and shown["tickets"] == {}


def test_a_guessable_api_token_stops_start_up_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """TRIAGE_API_TOKEN shorter than 16 characters is refused at start-up, in one line that
    never shows it; an empty one turns the API off as unset does."""
    monkeypatch.setenv("TRIAGE_API_TOKEN", "hunter2")
    with pytest.raises(ConfigError, match="at least 16 characters") as refused:
        load_settings()
    assert "hunter2" not in str(refused.value)
    monkeypatch.setenv("TRIAGE_API_TOKEN", "")
    assert not load_settings().api_token
    monkeypatch.setenv("TRIAGE_API_TOKEN", "x" * 16)
    assert load_settings().api_token is not None
