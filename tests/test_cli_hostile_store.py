"""`triage incidents list|show` against hostile stored data, in both `--output` modes: every
terminal escape an alert can hold (CSI, OSC 8 hyperlinks, OSC 52 clipboard writes, a C1 CSI, a
carriage return and backspaces that overwrite a line) and fields far longer than a screen; and
a stored row whose bytes are not UTF-8 (written by another program, or a disk's damage)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from factories import alert
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.settings import load_settings

HOSTILE = (
    "\x1b[2J\x1b]8;;https://evil.example\x1b\\runbook\x1b]8;;\x1b\\ "
    "\x1b]52;c;cm0gLXJmIH4=\x07 ok\rFAKE\x08\x08 \x9b31m"
)
#: A title far longer than any screen (the store's record limit still holds it).
LONG_TITLE = HOSTILE + "x" * 100_000
#: The longest line `incidents list --output text` may write for one incident.
LIST_LINE_MAX = 400


@pytest.fixture
async def fingerprints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """TRIAGE_STORE_URL's SQLite store with two open incidents: one whose title holds HOSTILE
    and is huge, one quiet."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    settings = load_settings()
    aws = Aws(settings)
    store = await open_configured_store(settings, aws)
    try:
        hostile = alert("hostile").model_copy(update={"title": LONG_TITLE})
        quiet = alert("quiet").model_copy(update={"title": "queue lag"})
        opened = [await store.begin(a, "m", datetime.now(UTC)) for a in (hostile, quiet)]
    finally:
        await store.aclose()
        await aws.aclose()
    return [o.after.fingerprint for o in opened if o.after is not None]


async def _triage(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    def run() -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return await asyncio.to_thread(run)


async def test_text_output_is_inert_and_a_list_line_stays_short(
    fingerprints: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--output text`: every line printable (each escape, CR and backspace a \\u escape), a
    list line at most LIST_LINE_MAX characters however long the title, and `show` keeps the
    whole title, escaped."""
    hostile, _ = fingerprints
    code, listed, err = await _triage(capsys, "incidents", "list", "--output", "text")
    assert code == 0, err
    lines = listed.splitlines()
    assert len(lines) == 2
    assert all(line.isprintable() and len(line) <= LIST_LINE_MAX for line in lines), lines
    assert "\\u001b]52;c;" in listed and "…" in listed
    code, shown, err = await _triage(capsys, "incidents", "show", hostile, "--output", "text")
    assert code == 0, err
    assert all(line.isprintable() for line in shown.splitlines())
    assert "ok\\u000dFAKE\\u0008\\u0008 \\u009b31m" + "x" * 100_000 in shown


async def test_json_output_is_valid_escaped_json_that_reads_back_as_stored(
    fingerprints: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--output json` (the default): one printable line per incident that parses back to the
    text as stored, the huge title whole."""
    hostile, _ = fingerprints
    for args in (("incidents", "list"), ("incidents", "show", hostile)):
        code, out, err = await _triage(capsys, *args)
        assert code == 0, err
        lines = out.splitlines()
        assert lines and all(line.isprintable() for line in lines)
        rows = {row["fingerprint"]: row for row in map(json.loads, lines)}
        assert rows[hostile]["title"] == LONG_TITLE


async def test_a_stored_row_that_is_not_utf8_hides_no_other_incident(
    fingerprints: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row whose body holds bytes that are not UTF-8 does not stop `incidents list` from
    listing the other incidents (exit 0)."""
    hostile, quiet = fingerprints
    with sqlite3.connect(tmp_path / "triage.db") as conn:
        (body,) = conn.execute("SELECT body FROM incidents WHERE fingerprint = ?", (hostile,))
        broken = body[0].replace("runbook", "run\udcffbook").encode("utf-8", "surrogateescape")
        conn.execute(
            "UPDATE incidents SET body = CAST(? AS TEXT) WHERE fingerprint = ?", (broken, hostile)
        )
    code, out, err = await _triage(capsys, "incidents", "list")
    assert code == 0, err
    assert quiet in {json.loads(line)["fingerprint"] for line in out.splitlines()}


async def test_a_stored_row_that_is_not_utf8_is_shown_with_its_bytes_replaced(
    fingerprints: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The incident whose own row holds bytes that are not UTF-8 is still read by its
    fingerprint (`incidents show`), each such byte shown as U+FFFD, not a store failure."""
    hostile, _quiet = fingerprints
    with sqlite3.connect(tmp_path / "triage.db") as conn:
        (body,) = conn.execute("SELECT body FROM incidents WHERE fingerprint = ?", (hostile,))
        broken = body[0].replace("runbook", "run\udcffbook").encode("utf-8", "surrogateescape")
        conn.execute(
            "UPDATE incidents SET body = CAST(? AS TEXT) WHERE fingerprint = ?", (broken, hostile)
        )
    code, out, err = await _triage(capsys, "incidents", "show", hostile, "--output", "json")
    assert code == 0, err
    assert "run\ufffdbook" in json.loads(out)["title"]
