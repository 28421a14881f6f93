"""`triage check` against a Bedrock endpoint answering 200 with JSON that is no Converse answer:
a wrong type at any level of `output.message.content`, usage or the answer itself. The llm
line fails saying the answer is not a Converse answer (never what Python said as botocore
walked it, "'str' object has no attribute 'copy'"), and an answer the summariser would refuse
is not told as one that answers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hostile_server import answer, hostile
from test_bedrock_eventstream import START, STOP, USAGE, _exception, _stream, _text
from triage.ops.check import run_checks
from triage.settings import Settings

#: 200 answers of JSON whose shape is not Converse's, one wrong type at each level.
NOT_CONVERSE = [
    pytest.param('{"output": "str"}', id="output-a-string"),
    pytest.param('{"output": 5}', id="output-a-number"),
    pytest.param('{"output": []}', id="output-a-list"),
    pytest.param('{"output": {"message": "str"}}', id="message-a-string"),
    pytest.param('{"output": {"message": []}}', id="message-a-list"),
    pytest.param('{"output": {"message": {"content": "str"}}}', id="content-a-string"),
    pytest.param('{"output": {"message": {"content": ["str"]}}}', id="block-a-string"),
    pytest.param('{"output": {"message": {"content": [{"text": 5}]}}}', id="text-a-number"),
    pytest.param(
        '{"output": {"message": {"content": [{"text": "x"}]}}, "usage": "x"}',
        id="usage-a-string",
    ),
    pytest.param(
        '{"output": {"message": {"content": [{"text": "x"}]}}, "usage": {"inputTokens": "x"}}',
        id="tokens-a-word",
    ),
    pytest.param("[]", id="a-list"),
    pytest.param('"str"', id="a-string"),
    pytest.param("5", id="a-number"),
    pytest.param("null", id="null"),
]


async def _llm_line(tmp_path: Path, body: str) -> tuple[int, str]:
    """`triage check`'s exit code and llm line against a Bedrock endpoint answering `body`."""
    headers = {"Content-Type": "application/json"}
    async with hostile(answer(200, headers, body.encode())) as server:
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
    return code, line


@pytest.mark.parametrize("body", NOT_CONVERSE)
async def test_a_bedrock_answer_of_another_shape_fails_with_a_clear_reason(
    tmp_path: Path, body: str
) -> None:
    """Each 200 answer with a wrong type somewhere in it fails the llm line saying it is not a
    Converse answer, and nothing of what Python said as it read the answer."""
    code, line = await _llm_line(tmp_path, body)
    assert code == 1 and line.startswith("FAIL  llm      bedrock "), line
    assert "the answer is not a Converse answer" in line, line
    assert "object" not in line and "attribute" not in line and "argument" not in line, line


async def test_a_bedrock_answer_of_converses_shape_passes(tmp_path: Path) -> None:
    """A Converse answer of one text block (cut at its one token) passes: the reading above
    refuses shapes, not answers."""
    body = (
        '{"output": {"message": {"role": "assistant", "content": [{"text": "o"}]}},'
        ' "stopReason": "max_tokens", "usage": {"inputTokens": 9, "outputTokens": 1}}'
    )
    _, line = await _llm_line(tmp_path, body)
    assert line.startswith("ok    llm      bedrock ") and line.endswith(" answers"), line


async def test_a_bedrock_answer_as_an_event_stream_is_read_as_the_summariser_reads_it(
    tmp_path: Path,
) -> None:
    """An endpoint answering Converse with ConverseStream's framing holding a whole answer
    (the summariser reads it: `eventstream.py`) passes the check; one that never ends fails
    it, saying the event stream holds no whole answer."""
    whole = START + _text(0, "o") + STOP + USAGE
    async with hostile(_stream(whole), _stream(START + _text(0, "o"))) as server:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("slack",),
            llm_provider="bedrock",
            aws_endpoint_url_bedrock_runtime=server.url,
            llm_timeout_s=3.0,
        )
        lines = []
        for _ in range(2):
            out = io.StringIO()
            await run_checks(settings, out)
            lines += [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["llm"]]
    passed, failed = lines
    assert passed.startswith("ok    llm      bedrock ") and passed.endswith(" answers"), passed
    assert failed.startswith("FAIL  llm      bedrock "), failed
    assert "an event stream holding no whole Converse answer" in failed, failed


async def test_an_event_stream_ending_with_a_busy_model_names_its_fallback(
    tmp_path: Path,
) -> None:
    """An event stream ending with Bedrock's throttling exception fails the check naming the
    fallback reason the summariser counts it as, not the server's message."""
    ended = START + _exception("throttlingException", "slow down sk-live-secret")
    async with hostile(_stream(ended)) as server:
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
    assert code == 1 and line.endswith("an event stream ending with an error (rate_limited)")
