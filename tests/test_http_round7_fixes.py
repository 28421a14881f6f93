"""Fixes of round 7's HTTP red team (tests/test_redteam_round7_http.py), checked further:
`triage health` holds one deadline over its whole probe and reads a bounded answer, and the
escalator's webhook and GitHub comment treat a throttle, a proxy's page and a lost answer as
the Slack and GitHub sinks do. Each runs the real code over real HTTP to a loopback server on
127.0.0.1 (`hostile_server`)."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest

from hostile_server import Answer, answer, endless, hostile
from triage.cli import HEALTH_ANSWER_MAX, main

# --- triage health ------------------------------------------------------------------------------


def silent(answered: asyncio.Event) -> Answer:
    """Takes the request and never answers (not even a status line) until `answered` is set."""

    async def write(writer: asyncio.StreamWriter) -> None:
        await answered.wait()

    return write


async def health(
    server_answer: Answer,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    release: asyncio.Event | None = None,
) -> tuple[int, str, str]:
    """`triage health ARGS` against a server answering `server_answer`: its exit code, stdout
    and stderr (`release` is set once it has returned, to let a silent server go)."""
    async with hostile(server_answer) as server:
        monkeypatch.setenv("TRIAGE_HTTP_PORT", server.url.rsplit(":", 1)[1])
        try:
            code = await asyncio.to_thread(main, ["health", *args])
        finally:
            if release is not None:
                release.set()
    said = capsys.readouterr()
    return code, said.out, said.err


async def test_health_that_gets_no_answer_in_time_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A program on the port that takes the request and never answers fails the probe with
    exit 1 and one line naming the deadline, not a traceback or a hang."""
    release = asyncio.Event()
    code, out, err = await health(
        silent(release), ["--timeout", "0.2"], monkeypatch, capsys, release
    )
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("triage: health: http://127.0.0.1:") and "within 0.2 s" in line


async def test_health_names_an_answer_past_its_bound(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An answer without end is exit 1 and one line saying it was too large to be triage's,
    without its bytes."""
    code, out, err = await health(endless(), ["--timeout", "30"], monkeypatch, capsys)
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert "not triage's answer" in line and f"over {HEALTH_ANSWER_MAX // 1024} KiB" in line
    assert "xxxx" not in line


async def test_health_takes_triages_answer_even_when_it_is_compressed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A gzip answer (a proxy that compresses though asked not to) is decoded once: triage's
    `{"alive": true}` behind it is exit 0, its text shown as said."""
    body = gzip.compress(json.dumps({"alive": True}).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    code, out, err = await health(answer(200, headers, body), [], monkeypatch, capsys)
    assert code == 0, err
    assert out.endswith(': 200 {"alive": true}\n')


async def test_health_reads_an_answer_up_to_its_bound(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A triage answer right at the bound (a long `failing` map) is still read whole."""
    said = {"ready": True, "failing": {}, "pad": ""}
    said["pad"] = "p" * (HEALTH_ANSWER_MAX - len(json.dumps(said)))
    body = json.dumps(said).encode()
    assert len(body) == HEALTH_ANSWER_MAX
    headers = {"Content-Type": "application/json"}
    code, out, err = await health(answer(200, headers, body), ["--ready"], monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith("http://127.0.0.1:") and ': 200 {"ready": true' in out
