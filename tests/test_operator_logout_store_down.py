"""Logout and sessions while the store fails (DynamoDB behind a fault proxy in front of moto):
a logout the store cannot record says so and keeps the session, so the operator can try
again; a session the store cannot check reads on (fail-open), one warning per outage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiobotocore.config import AioConfig
from structlog.testing import capture_logs

from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from test_operator_api import serving
from test_operator_logout_page import LOGIN_FORM, events, holding, login, other_browser
from test_store import LEASE, POLICY
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.ops.api import SESSION_COOKIE
from triage.ops.operator_sessions import EndedSessions, SessionSigner

GET, PUT = "DynamoDB_20120810.GetItem", "DynamoDB_20120810.PutItem"
#: One attempt per call: a refused call is the store's answer, not retried into a timeout.
ONCE = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=10)


@pytest.fixture
async def proxied(moto_url: str) -> AsyncIterator[tuple[FaultProxy, DynamoDBStore]]:
    """A DynamoDB store whose every call goes through a fault proxy in front of moto."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as plain:
        await create_table(plain, "incidents")
    with FaultProxy(moto_url) as proxy:
        async with loopback_aws_client("dynamodb", endpoint_url=proxy.url, config=ONCE) as client:
            yield proxy, DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


@pytest.mark.parametrize("target", [GET, PUT])
async def test_a_logout_the_store_cannot_record_says_so_and_can_be_tried_again(
    proxied: tuple[FaultProxy, DynamoDBStore], target: str
) -> None:
    """The store refusing the logout's read or write: a 503 page saying the session was not
    ended, the session cookie kept (no Set-Cookie drops it) and a Log out button to try again,
    one `status_page.logout_failed` warning and no traceback; once the store is back, the
    same logout ends the session and a copy of its cookie stops reading."""
    proxy, store = proxied
    async with serving(store) as client, other_browser(client) as thief:
        value = await login(client)
        proxy.refuse(target, 500, "InternalServerError")
        with capture_logs() as logs:
            failed = await client.post("/logout")
        proxy.heal(target)
        ended = await client.post("/logout")
        api = await thief.get("/api/v1/incidents", headers=holding(value))
    assert failed.status_code == 503 and "Not logged out" in failed.text
    assert "action=/logout" in failed.text
    assert SESSION_COOKIE not in failed.headers.get("set-cookie", "")
    [warning] = events(logs, "status_page.logout_failed")
    assert warning["reason"] == "store_unavailable" and "exc_info" not in warning
    assert not events(logs, "status_page.logout")
    assert ended.status_code == 303
    assert api.status_code == 401


async def test_a_session_the_store_cannot_check_still_reads(
    proxied: tuple[FaultProxy, DynamoDBStore],
) -> None:
    """Fail-open: while the store cannot say whether a logout ended the session (its reads of
    one record refused; the listing, a scan, still answers), the session reads the API, and
    the page answers as the store lets it rather than with the login form, with one
    `status_page.session_unchecked` warning."""
    proxy, store = proxied
    async with serving(store) as client:
        value = await login(client)
        proxy.refuse(GET, 500, "InternalServerError")
        with capture_logs() as logs:
            api = await client.get("/api/v1/incidents", headers=holding(value))
            page = await client.get("/", headers=holding(value))
    assert api.status_code == 200
    # The page reads silences with the same refused call: its own "store unavailable" page,
    # never the login form (a store outage is no logout).
    assert page.status_code == 503 and LOGIN_FORM not in page.text
    [warning] = events(logs, "status_page.session_unchecked")
    assert warning["reason"] == "store_unavailable"


async def test_an_outage_is_one_warning_and_its_end_one_line(
    proxied: tuple[FaultProxy, DynamoDBStore],
) -> None:
    """Checks of many sessions through an outage log one warning, not one per check; the
    first check that reads the store again says so once, and a logout recorded before the
    outage is still honoured after it."""
    proxy, store = proxied
    now = [0.0]
    ended = EndedSessions(store, clock=lambda: now[0])
    signer = SessionSigner(b"k" * 32)
    sessions = [signer.issue()[1] for _ in range(4)]
    assert await ended.end(sessions[0]) is True
    fresh = EndedSessions(store, clock=lambda: now[0])  # another replica: nothing remembered
    proxy.refuse(GET, 500, "InternalServerError")
    with capture_logs() as logs:
        during = [await fresh.ended(s) for s in sessions]
        now[0] += fresh.recheck_s
        again = [await fresh.ended(s) for s in sessions]
        proxy.heal(GET)
        now[0] += fresh.recheck_s
        after = [await fresh.ended(s) for s in sessions]
    assert during == again == [False] * 4  # fail-open
    assert after == [True, False, False, False]
    assert len(events(logs, "status_page.session_unchecked")) == 1
    assert len(events(logs, "status_page.session_checked_again")) == 1
