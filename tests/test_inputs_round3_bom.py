"""An answer whose body starts with a byte order mark is read as the mark says, whatever charset
its Content-Type names or leaves out (WHATWG Encoding's "decode": the BOM wins and is not text):
UTF-16 labelled `charset=utf-16`, UTF-16 with no charset, UTF-8 with its mark. Proved on the
transport every sink and the model client use (a whole answer and one read as it comes), on
`readable_text` as `triage health` uses it, on Slack's refusal code and on the model client's
reading of a 400 it adapts to; each against a loopback server on 127.0.0.1."""

from __future__ import annotations

import codecs
import gzip
import json

import httpx2
import pytest

from hostile_server import answer, hostile
from test_slack_sink import SECRET_PATH, effect, open_sink
from triage.errors import SinkRejectedError
from triage.settings import Settings
from triage.sinks.aio import AiohttpTransport, readable_text
from triage.summarise.openai_chat import OpenAiChat
from triage.tls import client_context

TEXT = "refused: the runbook says é ✓"

#: (Content-Type, body) pairs whose byte order mark says how the text is written.
MARKED: dict[str, tuple[str, bytes]] = {
    "utf-16-le-labelled": (
        "text/plain; charset=utf-16",
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    ),
    "utf-16-be-labelled": (
        "text/plain; charset=utf-16",
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    ),
    "utf-16-le-unlabelled": ("text/plain", codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")),
    "utf-16-be-no-type": ("", codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be")),
    "utf-8-bom-labelled": ("text/plain; charset=utf-8", codecs.BOM_UTF8 + TEXT.encode()),
    "utf-8-bom-labelled-latin-1": (
        "text/plain; charset=iso-8859-1",
        codecs.BOM_UTF8 + TEXT.encode(),
    ),
    "utf-16-le-labelled-utf-16le": (
        "text/plain; charset=UTF-16LE",
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    ),
    "utf-16-le-labelled-utf-16be-quoted": (
        'text/plain; charset="utf-16be"',
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    ),
    "utf-16-labelled-utf-8": (
        "text/plain; charset=utf-8",
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    ),
}


def headers_of(content_type: str, **more: str) -> dict[str, str]:
    """The answer's headers: `content_type` when there is one, and `more`."""
    return {**({"Content-Type": content_type} if content_type else {}), **more}


async def fetched(status: int, headers: dict[str, str], body: bytes) -> httpx2.Response:
    """What the transport's client reads of an answer of `status`, `headers` and `body`."""
    async with hostile(answer(status, headers, body)) as server:
        transport = AiohttpTransport(client_context())
        async with httpx2.AsyncClient(transport=transport, timeout=30) as client:
            return await client.get(server.url)


@pytest.mark.parametrize("name", list(MARKED))
async def test_a_whole_answer_is_read_as_its_byte_order_mark_says(name: str) -> None:
    """An answer that came whole has its text decoded as its BOM says, the mark not part of it,
    and its status kept."""
    content_type, body = MARKED[name]
    got = await fetched(503, headers_of(content_type), body)
    assert (got.status_code, got.text) == (503, TEXT)


@pytest.mark.parametrize("name", list(MARKED))
async def test_an_answer_read_as_it_comes_is_read_as_its_byte_order_mark_says(name: str) -> None:
    """An answer decoded as it comes (gzip: the transport's streamed path) is read as its BOM
    says too."""
    content_type, body = MARKED[name]
    got = await fetched(
        400, headers_of(content_type, **{"Content-Encoding": "gzip"}), gzip.compress(body)
    )
    assert (got.status_code, got.text) == (400, TEXT)


def test_an_answer_another_client_read_is_made_readable_as_its_mark_says() -> None:
    """`readable_text` on an answer already read (as `triage health` reads its probe's) has
    its text read as the BOM says, not as UTF-8 for a charset no text is in."""
    for content_type, body in MARKED.values():
        response = httpx2.Response(200, headers=headers_of(content_type), content=body)
        readable_text(response)
        assert response.text == TEXT, content_type


async def test_without_a_mark_a_charset_no_text_is_in_still_reads_as_utf8() -> None:
    """UTF-16 named but no BOM: the text is read as UTF-8, as before (the mark decides only
    when there is one)."""
    got = await fetched(502, {"Content-Type": "text/plain; charset=utf-16"}, TEXT.encode())
    assert got.text == TEXT


async def test_slack_reads_its_refusal_code_in_utf16_with_a_mark() -> None:
    """Slack's 400 `invalid_payload` written in UTF-16 with its BOM is that refusal code, not
    "no error code" from UTF-16 read as UTF-8."""
    body = "invalid_payload".encode("utf-16")
    refused = answer(400, {"Content-Type": "text/plain; charset=utf-16"}, body)
    async with hostile(refused) as server, open_sink(server.url + SECRET_PATH) as sink:
        with pytest.raises(SinkRejectedError) as caught:
            await sink.apply(effect())
    assert "invalid_payload" in str(caught.value)


def completion_body() -> bytes:
    """A chat completion holding a ticket's JSON."""
    ticket = {"title": "api down", "priority": "high", "description": "d", "steps": ["look"]}
    message = {"role": "assistant", "content": json.dumps(ticket)}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return json.dumps({"id": "c1", "object": "chat.completion", "choices": [choice]}).encode()


async def test_the_model_client_adapts_to_a_refusal_written_in_utf16_with_a_mark() -> None:
    """A reasoning model's 400 refusing `max_tokens`, its JSON in UTF-16 with a BOM (the SDK
    reads an error's `.text`), is understood: the request is sent again with
    `max_completion_tokens` and the model's answer is used."""
    message = "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead."
    error = json.dumps({"error": {"message": message, "param": "max_tokens"}}).encode("utf-16")
    refusal = answer(400, {"Content-Type": "application/json; charset=utf-16"}, error)
    done = answer(200, {"Content-Type": "application/json"}, completion_body())
    async with hostile(refusal, done) as server:
        settings = Settings(
            openai_api_key="sk-test-" + "k" * 32,
            openai_base_url=server.url + "/v1",
            llm_timeout_s=30.0,
        )
        chat = OpenAiChat(settings)
        try:
            await chat.complete("system", "user", 30.0)
        finally:
            await chat.aclose()
    assert len(server.requests) == 2
    assert "max_completion_tokens" in json.loads(server.requests[1].body)
