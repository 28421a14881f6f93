"""`triage check` against a model answering 200 with JSON of another shape than its API's: a
wrong type at any level of a Converse answer (`output.message.content`, usage, the answer
itself) or of a chat completion (choices, message, content, usage). The llm line fails saying
the answer is not one (never what Python said as botocore walked it, "'str' object has no
attribute 'copy'"), and an answer the summariser would refuse is never told as one that
answers, nor one it reads (an event stream, a streamed completion) as one it refuses."""

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
    it, saying the stream broke off before its end (a cut connection, which the summariser
    asks again, not an answer of the wrong shape)."""
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
    assert "broke off before its end" in failed and "ending with an error" not in failed, failed


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


# --- an OpenAI-compatible server ------------------------------------------------------------------

#: 200 answers that are no chat completion the summariser can read, one wrong type at each level.
NOT_A_COMPLETION = [
    pytest.param('{"choices": []}', "no choices", id="no-choices"),
    pytest.param('{"choices": [5]}', "a field of another type", id="choice-a-number"),
    pytest.param(
        '{"choices": [{"message": "x"}]}', "a field of another type", id="message-a-string"
    ),
    pytest.param(
        '{"choices": [{"message": {"content": 5}}]}',
        "a field of another type",
        id="content-a-number",
    ),
    pytest.param(
        '{"choices": [{"message": {"content": "o"}}], "usage": {"prompt_tokens": "x"}}',
        "a field of another type",
        id="tokens-a-word",
    ),
    pytest.param('{"choices": "x"}', "a field of another type", id="choices-a-string"),
]


async def _openai_line(tmp_path: Path, body: str, content_type: str) -> tuple[int, str]:
    """`triage check`'s exit code and llm line against an OpenAI-compatible server answering
    `body`."""
    async with hostile(answer(200, {"Content-Type": content_type}, body.encode())) as server:
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
    return code, line


@pytest.mark.parametrize(("body", "why"), NOT_A_COMPLETION)
async def test_a_chat_answer_the_summariser_refuses_fails_the_check(
    tmp_path: Path, body: str, why: str
) -> None:
    """A 200 chat answer the summariser could not read (no choices, a wrong type at some
    level) fails the llm line saying it is not a chat completion and why."""
    code, line = await _openai_line(tmp_path, body, "application/json")
    assert code == 1 and line.startswith("FAIL  llm      openai "), line
    assert f"the answer is not a chat completion ({why}" in line, line


async def test_a_streamed_chat_answer_passes_as_the_summariser_reads_it(tmp_path: Path) -> None:
    """A gateway streaming its answer though none was asked for (the summariser assembles
    it: `openai_chat._assembled`) passes the check."""
    chunk = '{"choices": [{"index": 0, "delta": {"content": "o"}, "finish_reason": "length"}]}'
    body = f"data: {chunk}\n\ndata: [DONE]\n\n"
    _, line = await _openai_line(tmp_path, body, "text/event-stream")
    assert line.startswith("ok    llm      openai ") and line.endswith(" answers"), line


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param("<html>sign in</html>", "text/html", id="a-page"),
        pytest.param('{"data": []}', "application/json", id="another-api"),
    ],
)
async def test_a_chat_answer_of_no_completion_at_all_says_so(
    tmp_path: Path, body: str, content_type: str
) -> None:
    """A page and another API's JSON fail saying the answer is not a chat completion, with no
    reason borrowed from a completion's fields."""
    code, line = await _openai_line(tmp_path, body, content_type)
    assert code == 1 and line.endswith(": the answer is not a chat completion"), line
