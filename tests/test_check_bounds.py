"""`triage check` asks the model for one token under the same bounds as the daemon's calls:
an answer that never ends is one FAIL line at once, not memory filled until the timeout."""

from __future__ import annotations

import io
import json
from pathlib import Path

from hostile_server import answer, endless, hostile
from triage.ops.check import run_checks
from triage.settings import Settings
from triage.summarise.bedrock import MAX_ANSWER_BYTES


async def test_an_endless_bedrock_answer_is_one_fail_line(tmp_path: Path) -> None:
    """A Converse endpoint answering 200 with a body that never ends: check reads 1 MiB of it
    at most (no ticket is longer), and the llm line fails saying so (it read on until
    TRIAGE_LLM_TIMEOUT_S)."""
    async with hostile(endless()) as server:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("slack",),
            llm_provider="bedrock",
            aws_endpoint_url_bedrock_runtime=server.url,
            llm_timeout_s=3.0,
        )
        out = io.StringIO()
        code = await run_checks(settings, out)
    (line,) = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["llm"]]
    assert code == 1
    assert line.startswith("FAIL  llm      bedrock ") and f"{MAX_ANSWER_BYTES:,} bytes" in line


async def test_terminal_escapes_in_a_models_error_are_written_as_text(tmp_path: Path) -> None:
    """An OpenAI-compatible server whose 400 error message holds terminal escapes (an OSC 52
    clipboard write, a screen clear): the llm FAIL line shows them escaped, never raw."""
    error = {"error": {"message": "bad \x1b]52;c;ZXZpbA==\x07 \x1b[2J\x9b31m", "type": "x"}}
    body = json.dumps(error).encode()
    async with hostile(answer(400, {"Content-Type": "application/json"}, body)) as server:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("slack",),
            openai_base_url=f"{server.url}/v1",
            openai_api_key="sk-test-check-escapes",
            llm_timeout_s=3.0,
        )
        out = io.StringIO()
        code = await run_checks(settings, out)
    (line,) = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["llm"]]
    assert code == 1 and line.startswith("FAIL  llm ")
    assert "\\u001b]52;c;" in line
    assert not any(ch in line for ch in "\x1b\x07\x9b")


async def test_a_404_from_the_model_says_what_to_check(tmp_path: Path) -> None:
    """A base URL without /v1 (Ollama answering `404 page not found` in plain text): the llm
    FAIL line quotes the server and says what to check, as the daemon's line does."""
    not_found = answer(404, {"Content-Type": "text/plain"}, b"404 page not found")
    async with hostile(not_found) as server:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("slack",),
            openai_base_url=server.url,
            openai_api_key="sk-test-check-not-found",
            llm_timeout_s=3.0,
        )
        out = io.StringIO()
        code = await run_checks(settings, out)
    (line,) = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["llm"]]
    assert code == 1 and "HTTP 404: 404 page not found" in line
    assert "check OPENAI_MODEL" in line and "/v1" in line
