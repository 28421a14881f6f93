"""The operator's own clients judge an answer by its status when its body cannot be read (in a
coding triage never asks for, gzip that is not gzip, a charset no text is in): the escalation
webhook's 403 is refused for good (it was a wait the sweep retried for ever), `triage check`
names the model's 401 (it said only that a coding was not decoded), and `triage health` says
what answered instead of failing with a traceback."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from hostile_server import answer, hostile
from test_escalate import slack_escalation
from triage.cli import main
from triage.errors import SinkRejectedError, SinkUnavailableError
from triage.ops.check import run_checks
from triage.settings import Settings

#: Bodies no client here can read, each with the header that makes it so.
UNREADABLE = [
    pytest.param({"Content-Encoding": "br"}, b"\x8b\x02\x80not-brotli", id="br"),
    pytest.param({"Content-Encoding": "gzip"}, b"not gzip at all", id="broken-gzip"),
]


@pytest.mark.parametrize(("headers", "body"), UNREADABLE)
async def test_an_escalation_webhooks_403_is_refused_whatever_its_body(
    tmp_path: Path, headers: dict[str, str], body: bytes
) -> None:
    """A 403 whose body cannot be read is a refusal (SinkRejectedError), not a wait."""
    _posts, error = await slack_escalation(tmp_path, answer(403, headers, body))
    assert isinstance(error, SinkRejectedError) and "403" in str(error), error


@pytest.mark.parametrize(("headers", "body"), UNREADABLE)
async def test_an_escalation_webhooks_503_is_still_a_wait_whatever_its_body(
    tmp_path: Path, headers: dict[str, str], body: bytes
) -> None:
    """A 503 whose body cannot be read stays a wait the sweep retries."""
    _posts, error = await slack_escalation(tmp_path, answer(503, headers, body))
    assert isinstance(error, SinkUnavailableError) and "503" in str(error), error


@pytest.mark.parametrize(("headers", "body"), UNREADABLE)
async def test_check_names_the_models_status_when_its_body_is_unread(
    tmp_path: Path, headers: dict[str, str], body: bytes
) -> None:
    """`triage check`'s llm line against a model answering 401 with an unreadable body says
    HTTP 401."""
    fields = {"Content-Type": "application/json", **headers}
    async with hostile(answer(401, fields, body)) as server:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("slack",),
            llm_provider="openai",
            openai_api_key="sk-proj-check0123456789abcdefghij",
            openai_base_url=server.url,
            llm_timeout_s=3.0,
        )
        out = io.StringIO()
        code = await run_checks(settings, out)
    (line,) = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["llm"]]
    assert code == 1 and line.startswith("FAIL  llm      openai "), line
    assert "HTTP 401" in line, line


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        pytest.param(200, {"Content-Type": "text/plain; charset=zlib"}, b"ok", id="charset-zlib"),
        pytest.param(503, {"Content-Encoding": "gzip"}, b"not gzip", id="503-broken-gzip"),
        pytest.param(200, {"Content-Encoding": "br"}, b"\x8b\x02\x80x", id="br"),
    ],
)
async def test_health_says_what_answered_when_its_body_is_unreadable(
    status: int,
    headers: dict[str, str],
    body: bytes,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage health` against another program whose answer cannot be read as text exits 1
    with one line naming the status, not a traceback nor zlib's error."""
    async with hostile(answer(status, headers, body)) as server:
        monkeypatch.setenv("TRIAGE_HTTP_PORT", server.url.rsplit(":", 1)[1].strip("/"))
        code = await asyncio.to_thread(main, ["health"])
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert code == 1 and line.startswith("triage: health: http://127.0.0.1:"), line
    assert f": {status}, not triage's answer" in line, line
    assert captured.out == ""
