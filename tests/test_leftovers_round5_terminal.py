"""Round 5 leftovers: the CLI lines that may quote text triage did not write (stored alert text
in a silence's warnings, `triage health`'s answer, `triage check`'s service answers) write a
backslash that could start an escape doubled, so a literal `\\u001b` in that text never reads
as a character triage escaped (`view.terminal_text`)."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from factories import alert
from hostile_server import answer, hostile
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.ops.check import run_checks
from triage.settings import Settings, load_settings

#: Text that spells the escape triage writes for ESC (U+001B), as six plain characters.
SPELT = "Pay\\u001bMents"
#: How a terminal line shows it: its backslash doubled.
SHOWN = "Pay\\\\u001bMents"


async def _seed_title(name: str) -> None:
    """TRIAGE_STORE_URL's store with one open incident titled "`name` is failing"."""
    settings = load_settings()
    aws = Aws(settings)
    store = await open_configured_store(settings, aws)
    try:
        await store.begin(alert(name), "m", datetime.now(UTC))
    finally:
        await store.aclose()
        await aws.aclose()


def test_a_silence_warning_quoting_a_stored_title_doubles_its_backslash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A silence's warning naming the title an open incident has (stored alert text) shows a
    `\\u001b` the alert spelt as `\\\\u001b`, unlike the escape of a real ESC."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    asyncio.run(_seed_title(SPELT))
    matcher = f"title={SPELT.lower()} is failing"
    args = ["silence", "add", "--match", matcher, "--for", "1h", "--comment", "c", "--dry-run"]
    assert main(args) == 0
    err = capsys.readouterr().err
    (hint,) = [line for line in err.splitlines() if "case-sensitive" in line] or [err]
    assert f"have title={SHOWN} is failing" in hint, hint


async def test_health_shows_a_bodys_escape_spelling_with_its_backslash_doubled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage health` quoting what answered writes a `\\u001b` the body spelt (JSON's own
    escape) as `\\\\u001b`, and a real ESC as `\\u001b`: the two read apart."""
    body = b'{"status": "Pay\\u001bMents \x1b"}'  # JSON's escape of ESC, then a real ESC
    async with hostile(answer(200, {"Content-Type": "application/json"}, body)) as server:
        monkeypatch.setenv("TRIAGE_HTTP_PORT", server.url.rsplit(":", 1)[1].strip("/"))
        await asyncio.to_thread(main, ["health"])
    (line,) = capsys.readouterr().err.splitlines()
    assert f"{SHOWN} \\u001b" in line, line


async def test_checks_line_shows_a_services_escape_spelling_with_its_backslash_doubled(
    tmp_path: Path,
) -> None:
    """`triage check`'s line quoting a model server's error writes a `\\u001b` it spelt as
    `\\\\u001b`, so it cannot pass for the escape of a real ESC."""
    error = {"error": {"message": f"bad key {SPELT}", "type": "invalid_request_error"}}
    body = json.dumps(error).encode()
    async with hostile(answer(401, {"Content-Type": "application/json"}, body)) as server:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("slack",),
            llm_provider="openai",
            openai_api_key="sk-proj-check0123456789abcdefghij",
            openai_base_url=server.url,
            llm_timeout_s=3.0,
        )
        out = io.StringIO()
        await run_checks(settings, out)
    (line,) = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["llm"]]
    assert SHOWN in line, line
