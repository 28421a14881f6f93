"""An escalation's Slack post is refused or rate-limited as the Slack sink's own posts are: a
form Slack refuses (`no_text`, `invalid_blocks` …) goes again as plain text with the tickets'
links, and a 429 naming no wait waits Slack's spacing of posts doubled with each in a row."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from hostile_server import answer, hostile
from test_escalate_route_429 import HOOK_PATH, PLAIN_NAME_IS_A_GROUP_KEY, T0, incident
from triage.errors import SinkRejectedError, SinkThrottledError
from triage.incidents.lifecycle import Incident, replace_incident
from triage.ops.escalate import Escalator
from triage.routes import load_router
from triage.settings import Settings

DUE = T0 + timedelta(minutes=31)


def _escalator(tmp_path: Path, url: str, clock: list[float] | None = None) -> Escalator:
    routes = tmp_path / "routes.toml"
    routes.write_text(PLAIN_NAME_IS_A_GROUP_KEY.format(hook=f"{url}{HOOK_PATH}"))
    settings = Settings(routes_file=routes)
    now = clock if clock is not None else [0.0]
    return Escalator(settings, load_router(settings), clock=lambda: now[0])


def _stored() -> Incident:
    """The route's open incident, its backend ticket linked."""
    return replace_incident(incident(), refs={"backend": "https://t.example/T-9"})


@pytest.mark.parametrize("code", ["no_text", "invalid_blocks", "msg_too_long"])
async def test_an_escalation_whose_form_slack_refuses_goes_again_as_plain_text(
    tmp_path: Path, code: str
) -> None:
    """Slack refusing the blocks (`code`): the escalation is posted again as plain text,
    "Escalated", the ticket's link and the title, no blocks, and is done."""
    async with hostile(answer(400, body=code.encode()), answer(200, body=b"ok")) as server:
        e = _escalator(tmp_path, server.url)
        try:
            await e.escalate(_stored(), DUE)
        finally:
            await e.aclose()
    first, second = (json.loads(r.body) for r in server.requests)
    assert "blocks" in first and "blocks" not in second
    assert second["text"].startswith("*Escalated*")
    assert "https://t.example/T-9" in second["text"] and "api-5xx is failing" in second["text"]
    assert second["unfurl_links"] is False and second["unfurl_media"] is False


async def test_an_escalation_refused_in_both_forms_fails_naming_both(tmp_path: Path) -> None:
    """Refused as blocks and again as plain text: the escalation fails for good, its error
    naming both refusals, after exactly two posts."""
    async with hostile(answer(400, body=b"invalid_blocks"), answer(400, body=b"no_text")) as server:
        e = _escalator(tmp_path, server.url)
        try:
            with pytest.raises(SinkRejectedError) as failed:
                await e.escalate(_stored(), DUE)
        finally:
            await e.aclose()
    assert len(server.requests) == 2
    assert "no_text" in str(failed.value) and "as blocks: invalid_blocks" in str(failed.value)


async def test_rate_limits_naming_no_wait_wait_longer_in_a_row(tmp_path: Path) -> None:
    """429s without Retry-After wait 1 s, then 2 s, then 4 s (Slack's spacing, doubled); a
    post that goes through starts again from 1 s; a Retry-After is the wait itself."""
    clock = [0.0]
    answers = [answer(429)] * 3 + [answer(200, body=b"ok"), answer(429)]
    answers += [answer(429, headers={"Retry-After": "7"})]
    async with hostile(*answers) as server:
        e = _escalator(tmp_path, server.url, clock)
        waits: list[float | None] = []
        try:
            for _ in range(6):
                try:
                    await e.escalate(_stored(), DUE)
                    waits.append(0.0)
                except SinkThrottledError as exc:
                    waits.append(exc.retry_after_s)
                clock[0] += 100.0  # past every wait: the webhook is not held
        finally:
            await e.aclose()
    assert waits == [1.0, 2.0, 4.0, 0.0, 1.0, 7.0]
