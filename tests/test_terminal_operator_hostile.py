"""`triage incidents` and `triage silence` print hostile stored text inert: an incident's title
and a silence's comment holding terminal escape sequences (a screen clear, an OSC 8 hyperlink,
an OSC 52 clipboard write), a carriage return and backspaces reach the operator's terminal as
`\\uXXXX` escapes, in lines that read back to the text as stored (a bidi override the
redactor already removes)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from factories import alert
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.ops.operator import new_silence
from triage.settings import load_settings

NOW = datetime.now(UTC)
#: Clear the screen, a hyperlink whose text hides its target, a clipboard write, a carriage
#: return and backspaces that overwrite what was printed, a C1 CSI (which JSON does not escape),
#: a right-to-left override.
HOSTILE = (
    "\x1b[2J\x1b]8;;https://evil.example\x1b\\runbook\x1b]8;;\x1b\\ "
    "\x1b]52;c;cm0gLXJmIH4=\x07 ok\rFAKE\x08\x08 \x9b31m \u202egnp.exe"
)


async def _seed() -> str:
    """An open incident titled with HOSTILE and a silence whose comment is HOSTILE."""
    settings = load_settings()
    aws = Aws(settings)
    store = await open_configured_store(settings, aws)
    try:
        opened = await store.begin(alert().model_copy(update={"title": HOSTILE}), "m", NOW)
        assert opened.after is not None
        silence = new_silence(["team=payments"], "2h", "c", "al", store.now())
        fields = {name: getattr(silence, name) for name in type(silence).__slots__}
        hostile = type(silence)(**{**fields, "comment": f"why {HOSTILE}"})
        await store.add_silence(hostile, store.now())
        return opened.after.fingerprint
    finally:
        await store.aclose()
        await aws.aclose()


def test_operator_commands_print_hostile_text_inert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents list`, `incidents show` and `silence list` write only printable lines: every
    escape, control and bidi character is a `\\u` escape, and the line reads back as stored."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    fingerprint = asyncio.run(_seed())
    shown: list[str] = []
    for args in (["incidents", "list"], ["incidents", "show", fingerprint], ["silence", "list"]):
        assert main(args) == 0
        out, _ = capsys.readouterr()
        lines = out.splitlines()
        assert lines, args
        shown += lines
    for line in shown:
        assert line.isprintable(), line
    listed, detail, silence = (json.loads(line) for line in shown)
    assert "\x1b[2J" in listed["title"] and "\\u001b" in shown[0] and "\\u009b31m" in shown[0]
    assert "ok\rFAKE\x08\x08" in detail["title"]
    assert "\x1b]52;c;" in silence["comment"]
