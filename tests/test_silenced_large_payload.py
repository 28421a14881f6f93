"""A silenced alert's held view, like a ticket's, redacts a large payload off the event loop."""

from __future__ import annotations

from factories import alert
from test_signals_round7_526 import OnLoopRedactor
from test_silences import Rig
from triage.incidents import Action
from triage.logs import MAX_LINE_BYTES
from triage.models import Status


async def test_a_silenced_alert_with_a_huge_payload_is_held_without_redacting_it_on_the_loop() -> (
    None
):
    """An alert a silence holds, whose payload holds 200 KB of text, is held (its view kept for
    the sweep, with the payload's excerpt) without the whole payload read on the event loop:
    seconds of hostile text there would stall every message and /healthz."""
    rig = Rig()
    redactor = OnLoopRedactor()
    rig.pipeline.redactor = redactor
    rig.pipeline.payload_excerpt_chars = 6000
    await rig.silence("source=generic")
    huge = alert("api-5xx", Status.FIRING).model_copy(update={"raw": {"log": "k=v " * 50_000}})
    assert await rig.pipeline.handle(huge, "m0") is Action.SILENCED
    assert redactor.most_on_loop <= 4 * MAX_LINE_BYTES
    stored = await rig.store.get(huge.fingerprint)
    assert stored is not None and stored.held is not None
