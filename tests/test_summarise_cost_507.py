"""The summariser's own work per new incident (issue 18): the checks of a model's answer skip
what cannot change their verdict, and read exactly as their straightforward forms do. The
language check reads the alert's words only for a description naming none of its facts; a
word of plain ASCII letters is read as Latin without a look at each letter. The OpenAI
client's HTTP client parses the one URL it posts to once, not on every request, and sends
what a plain client sends."""

from __future__ import annotations

import random
from collections.abc import Iterator

import httpx2
import pytest

from triage.settings import Settings
from triage.summarise import scripts
from triage.summarise.openai_chat import OpenAiChat, UrlOnceClient

#: Letters of several scripts, marks and CJK punctuation: what `_words` splits and reads.
_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCXYZ"
    "éüßçñ"
    "абвгдЖЩ"
    "αβγΔΩ"
    "误报解決クローズ오경보"
    "\uff41\uff42\uff43"  # fullwidth a, b, c
    "µ"
    " \t\n.,;:!?()\"'`*_-/@0123456789\u3000\u3001\uff01"
)


def _per_letter_words(text: str) -> Iterator[tuple[str | None, str]]:
    """`scripts._words` as first written: every letter's script looked up, ASCII or not."""
    for token in scripts._TOKEN_END.split(text):
        letters = token.strip(scripts._AROUND_WORD).lower()
        if not letters.isalpha():
            continue
        start = 0
        current = scripts.script_of(letters[0])
        for index, letter in enumerate(letters):
            script = scripts.script_of(letter)
            if script != current:
                yield current, letters[start:index]
                start, current = index, script
        yield current, letters[start:]


def _random_texts(seed: int, count: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, 80)))


def test_words_of_ascii_and_mixed_text_read_as_letter_by_letter() -> None:
    """`_words` yields what reading each letter's script yields, for ASCII, mixed and
    non-Latin text alike (the ASCII shortcut changes no word and no script)."""
    texts = [
        "Check the checkout-api pods on web-7 (error rate 12%).",
        "Serwer web-1 zwraca błędy, to fałszywy alarm",
        "Этот алерт ложный, ничего делать не нужно",
        "restart 服务器 now",
        *_random_texts(507, 3000),
    ]
    for text in texts:
        assert list(scripts._words(text)) == list(_per_letter_words(text)), text


def test_description_naming_a_fact_is_not_searched_for_the_alert_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A description naming the alert's host is kept without reading the alert's words:
    whatever its language, it names a fact, so the language check cannot refuse it."""
    read: list[str] = []
    real = scripts.alert_words
    monkeypatch.setattr(scripts, "alert_words", lambda quoted: read.append(quoted) or real(quoted))
    quoted = '{"title": "disk full on db-7", "description": "volume at 97%"}'
    assert not scripts.unread_and_unfounded("Dysk na db-7 jest pełny, sprawdź wolumen", quoted)
    assert read == []


def test_unfounded_description_in_an_unread_language_is_still_refused() -> None:
    """A dismissal in a language no check reads, naming nothing of the alert, is still found
    once the alert's words are read only when needed; one copying the alert's words is not."""
    quoted = '{"title": "disk full on db-7", "description": "volume at 97%"}'
    assert scripts.unread_and_unfounded(
        "To jest fałszywy alarm, nie trzeba nic robić, zamknij zgłoszenie", quoted
    )
    assert not scripts.unread_and_unfounded("Check the disk and the volume on the host", quoted)
    polish_alert = '{"title": "fałszywy alarm zgłoszenie zamknij", "description": "nic robić"}'
    assert not scripts.unread_and_unfounded(
        "fałszywy alarm, zamknij zgłoszenie, nic robić", polish_alert
    )


_ANSWER = {"choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}]}


def _sent(request: httpx2.Request) -> tuple[object, ...]:
    """What goes on the wire, less the idempotency key drawn at random per request."""
    headers = [(k, v) for k, v in request.headers.multi_items() if k != "idempotency-key"]
    return (
        request.method,
        str(request.url),
        headers,
        request.content,
        request.extensions.get("timeout"),
    )


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8080/v1",
        "https://gateway.example.com/v1?team=ops",
        "https://res.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21",
    ],
)
async def test_url_once_client_sends_what_a_plain_client_sends(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests through `UrlOnceClient` are byte for byte those of a plain httpx2 client, the
    second and third too, and its URL is parsed once for all of them."""
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=_ANSWER)

    settings = Settings(openai_api_key="sk-test-0123456789abcdef", openai_base_url=base_url)
    once = OpenAiChat(settings, http_client=UrlOnceClient(transport=httpx2.MockTransport(handler)))
    plain = OpenAiChat(
        settings, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    )
    body = once._body(("instructions", "the alert \u2028 caf\u00e9"))
    parsed: list[str] = []
    merge = httpx2.AsyncClient._merge_url
    monkeypatch.setattr(
        httpx2.AsyncClient,
        "_merge_url",
        lambda self, url: parsed.append(str(url)) or merge(self, url),
    )
    for timeout_s in (7.5, 3.0, 7.5):
        await once._post(body, timeout_s)
        await plain._post(body, timeout_s)
    await once.aclose()
    await plain.aclose()
    pairs = [(seen[i], seen[i + 1]) for i in range(0, len(seen), 2)]
    assert len(pairs) == 3
    for ours, reference in pairs:
        assert _sent(ours) == _sent(reference)
    assert len(parsed) == 3 + 1  # the plain client's three requests, and ours once


def test_url_once_client_keeps_few_urls() -> None:
    """A client asked for many URLs (an Azure deployment moved to a later api-version, a
    caller's own) keeps at most a handful parsed, so its memory stays bounded."""
    client = UrlOnceClient()
    for k in range(100):
        url = f"https://example.com/v1/chat/completions?api-version=2024-{k:03d}"
        assert str(client._merge_url(url)) == url
    assert len(client._parsed) <= UrlOnceClient.KEPT


def test_url_once_client_merges_again_with_a_new_base_url() -> None:
    """A relative URL kept parsed is merged with the client's base URL of the moment: one
    set later is not answered with the URL merged with the earlier one."""
    client = UrlOnceClient(base_url="https://one.example.com/v1")
    assert (
        str(client._merge_url("chat/completions")) == "https://one.example.com/v1/chat/completions"
    )
    client.base_url = "https://two.example.com/v1"
    assert (
        str(client._merge_url("chat/completions")) == "https://two.example.com/v1/chat/completions"
    )
