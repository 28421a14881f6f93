"""Heartbeat monitors' ping URLs carry their credential in the path: anyone holding one can
mark the check up (hiding an outage) or down. They are redacted like a Slack webhook's path;
so is a Healthchecks.io check's page, whose UUID is the same key."""

from __future__ import annotations

import pytest

from triage.redact import redact

UUID = "5d2f7a3e-9b1c-4e8f-a6d0-3c7b9e1f2a4d"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"curl -fsS https://hc-ping.com/{UUID}", UUID),
        (f"ping https://hc-ping.com/{UUID}/fail failed", UUID),
        ("https://hc-ping.com/Vx3k_9LmQp2RtY7wZa1bCd/nightly-backup", "Vx3k_9LmQp2RtY7wZa1bCd"),
        (f"https://healthchecks.example.com/ping/{UUID}/start", UUID),
        ("https://cronitor.link/p/83a7f2b6c1d94e0f8a5b7c3d2e1f0a9b/nightly", "83a7f2b6c1d94e0f"),
        ("snitch: https://nosnch.in/c2354d53d2", "c2354d53d2"),
        (f"see https://healthchecks.io/checks/{UUID}/details/", UUID),
    ],
    ids=["hc-uuid", "hc-uuid-fail", "hc-ping-key", "self-hosted", "cronitor", "snitch", "hc-page"],
)
def test_a_heartbeat_ping_urls_key_is_redacted(text: str, secret: str) -> None:
    """The key in a Healthchecks.io, Cronitor or Dead Man's Snitch ping URL is gone; the host
    stays so a reader still sees which service it was."""
    redacted = redact(text)
    assert secret not in redacted
    assert "[REDACTED:token]" in redacted
    assert text.split("://")[1].split("/")[0] in redacted


@pytest.mark.parametrize(
    "text",
    [
        f"request id {UUID} failed",
        "https://example.com/ping/health returned 503",
    ],
)
def test_an_id_that_is_no_ping_key_stays(text: str) -> None:
    """A UUID elsewhere (a request id) and a /ping/ path with no UUID are not credentials: they
    stay as they are."""
    assert redact(text) == text
