"""The status page in a real headless browser (Debian's chromium): logged in through its form,
on a phone-sized screen, with a screenshot taken and the page's text checked, including an
alert title that tries to inject markup and carries a credential."""

from __future__ import annotations

import asyncio
import dataclasses
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from browser import Browser, chromium_or_skip
from daemon_harness import Queues
from factories import alert
from test_pipeline import FakeSink
from triage.aws import Aws
from triage.breaker import CircuitBreaker
from triage.health import Health
from triage.incidents.codec import view_to_json
from triage.incidents.lifecycle import Policy
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Hold, Routing
from triage.metrics import Metrics
from triage.models import Priority, Ticket
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.redact import Redactor
from triage.settings import Settings
from triage.sinks.guard import GuardedSink
from triage.sqs.depth import DepthPoller
from triage.view import RedactedAlert, redact_alert

TOKEN = "page-token-" + "z" * 24
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)> DB down'
SECRET = "postgres://app:s3cr3tPassw0rd@db:5432/app"
#: A word no phone screen holds (a stack trace's, a base64 blob's), a right-to-left override,
#: a zero-width space and an escape sequence, in a title and a silence's comment.
LONG_WORD = "Traceback" + "x" * 400
HIDDEN = "\u202eevil\u200b \x1b[2J"
PHONE_WIDTH = 390


@dataclass
class LlmSummariser:
    """Stands where the LLM summariser does: the page reads only its breaker."""

    breaker: CircuitBreaker

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        raise AssertionError("the page never summarises")

    async def aclose(self) -> None:
        return None


async def _seed(store: SQLiteStore, now: datetime) -> None:
    """A critical incident with a hostile title, a flapping one, one a silence holds, and the
    silence itself."""
    hostile = alert("hostile").model_copy(
        update={"title": f"{HOSTILE} {SECRET} {LONG_WORD} {HIDDEN}"}
    )
    for source, priority in ((hostile, Priority.CRITICAL), (alert("flappy"), Priority.HIGH)):
        t = await store.begin(source, "m", now - timedelta(minutes=42))
        assert t.after is not None
        ticket = Ticket(title="t", priority=priority, description="d")
        await store.save_ticket(t.after.fingerprint, "m", ticket, Routing("default", "ops", {}))
        await store.confirm(t.after.fingerprint, "m", "backend", "T-9", finish=True)
    flappy = await store.get(alert("flappy").fingerprint)
    assert flappy is not None
    await store._transact(
        flappy.fingerprint,
        lambda i: (
            (dataclasses.replace(i, flapping=True, version=i.version + 1), None)
            if i
            else (None, None)
        ),
    )
    silence = Silence.new(
        [Matcher.parse("team=payments")],
        now,
        now + timedelta(hours=2),
        f"db maintenance {LONG_WORD}",
        "al",
    )
    await store.add_silence(silence, now)
    quiet = alert("quiet")
    view = view_to_json(redact_alert(quiet, Redactor()))
    await store.begin(quiet, "m", now, hold=Hold(silence.id, silence.ends(), view))


def _png_width(png: bytes) -> int:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    (width,) = struct.unpack(">I", png[16:20])
    return int(width)


async def test_the_status_page_in_a_real_browser(
    tmp_path: Path, queues: Queues, moto_url: str
) -> None:
    """Chromium logs in through the form, gets an HttpOnly SameSite=Lax session, and shows
    open incidents by priority, the flapping one, the silence, the sinks' breakers, the LLM
    and the DLQ's depth on a phone-wide screen with nothing wider than it (a 400-character word
    in a title and a comment included); the hostile title is shown as text (no element, link or
    style injected, the credential redacted, no bidi override, zero-width or escape character
    left); a screenshot is taken."""
    executable = chromium_or_skip()
    store = SQLiteStore(str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1))
    await store.open()
    await _seed(store, datetime.now(UTC))  # now, not at import: the page shows ages
    queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody="{}")  # one dead letter
    settings = Settings(
        api_token=SecretStr(TOKEN),
        queue_url=queues.url,
        aws_endpoint_url=moto_url,
    )
    backend = GuardedSink(FakeSink("backend"), CircuitBreaker("sink:backend", 1, 60))
    backend.breaker.trip()  # open
    llm = LlmSummariser(CircuitBreaker("llm", 5, 30))
    aws = Aws(settings)
    depth = DepthPoller(await aws.client("sqs"), queues.url, Metrics(), 30)
    view = OperatorView(
        settings, store, SilenceCache(store), [backend], llm, Health(), aws, depth=depth
    )
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    shot = tmp_path / "status.png"
    try:
        seen = await asyncio.to_thread(_browse, executable, tmp_path, server.port, shot)
    finally:
        await server.aclose()
        await aws.aclose()
        await store.aclose()
    text, injected, width, cookies, png, title = seen
    assert _png_width(png) == PHONE_WIDTH and shot.stat().st_size > 5_000
    assert width <= PHONE_WIDTH, "something on the page is wider than a phone"
    assert injected == 0 and title == "triage status"
    assert "\u202e" not in text and "\u200b" not in text and "\x1b" not in text
    assert LONG_WORD in text.replace("\n", "")
    assert HOSTILE in text and "DB down" in text
    assert "s3cr3tPassw0rd" not in text and "[REDACTED" in text
    for expected in ("critical (1)", "high (1)", "Flapping", "flappy is failing", "T-9"):
        assert expected in text, expected
    assert "db maintenance" in text and "team=payments" in text and "silenced" in text
    for expected in ("backend\topen", "Breaker: closed", "open 42 min"):
        assert expected in text, (expected, text)
    assert "DLQ\t1" in text
    [session] = [c for c in cookies if c["name"] == "triage_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"


def _browse(
    executable: str, tmp_path: Path, port: int, shot: Path
) -> tuple[str, int, int, list[dict[str, object]], bytes, str]:
    browser = Browser(executable, tmp_path / "profile")
    try:
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True},
            page=True,
        )
        browser.call("Page.navigate", {"url": f"http://127.0.0.1:{port}/"}, page=True)
        browser.wait_for("document.querySelector('input[name=token]') !== null", "the login form")
        browser.navigate_by(
            f"document.querySelector('input[name=token]').value = {TOKEN!r};"
            "document.querySelector('form').submit(); true"
        )
        browser.wait_for(
            "document.body !== null && document.body.innerText.includes('Open incidents')",
            "the status page",
        )
        text = browser.evaluate("document.body.innerText")
        # The page's own links (each row's incident page) are the only links its seed has.
        injected = browser.evaluate(
            "document.querySelectorAll('script, img, iframe, object, embed, link, [style],"
            ' [onerror], [src], a:not([href^="/incidents/"]),'
            ' [href]:not(a[href^="/incidents/"])\').length'
        )
        width = browser.evaluate("document.documentElement.scrollWidth")
        title = browser.evaluate("document.title")
        cookies = browser.call("Network.getCookies", page=True)["cookies"]
        png = browser.screenshot(shot)
    finally:
        browser.close()
    return text, injected, width, cookies, png, title
