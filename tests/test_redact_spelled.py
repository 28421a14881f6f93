"""The process's own credentials spelled out (separators between their characters, capitals,
backwards, hex, fullwidth letters) are caught by the redactor itself, so every path that
redacts catches them: a log line through the real processors, a Slack post and a backend ticket
over loopback HTTP, the gateway's tokens (`known_secrets`). Only credentials of 16 letters and
digits or more are looked for; ordinary text (every sample payload) is left as it was."""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
import structlog

from factories import view
from ingest_harness import TOKENS, bearer
from test_backend_sink import ALERT as BACKEND_ALERT
from test_backend_sink import ROUTES, token_env
from test_backend_sink import open_sink as open_backend_sink
from test_slack_sink import ALERT as SLACK_ALERT
from test_slack_sink import TICKET as SLACK_TICKET
from test_slack_sink import Hook, all_text, hook
from test_slack_sink import open_sink as open_slack_sink
from triage.demo.ticketd import TicketServer
from triage.logs import configure_logging
from triage.models import EffectKind
from triage.redact import Redactor, hold, redact
from triage.sinks.base import Effect
from triage.view import redact_ticket

__all__ = ["hook", "token_env"]  # fixtures, used by name

#: A credential the process holds, of an API key's shape (made up).
OWN_KEY = "sk-own-" + "Q7vZ2mW9xK4pR8tL3nB6"
MARK = "[REDACTED:credential]"
PAYLOADS = Path(__file__).parent / "payloads"

SPELLINGS: list[tuple[str, Callable[[str], str]]] = [
    ("dashes", "-".join),
    ("spaces-upper", lambda key: " ".join(key.upper())),
    ("dots", ".".join),
    ("mixed", lambda key: "".join(c + ("_", " ", "/", "")[i % 4] for i, c in enumerate(key))),
    ("reversed", lambda key: " ".join(reversed(key))),
    ("hex", lambda key: " ".join(f"{byte:02x}" for byte in key.encode())),
    ("hex-glued", lambda key: key.encode().hex()),
    ("fullwidth", lambda key: "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in key)),
    ("invisible", lambda key: "\u200b".join(key)),
]
IDS = [name for name, _ in SPELLINGS]


def squeezed(text: str) -> str:
    """`text` folded to its ASCII letters and digits, lower-cased: every spelling of a key."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded.lower() if c.isascii() and c.isalnum())


def holds_key(text: str, key: str = OWN_KEY) -> bool:
    """Whether `text` spells `key` in any of the ways above."""
    found = squeezed(text)
    secret = squeezed(key)
    return secret in found or secret[::-1] in found or key.encode().hex() in found


@pytest.mark.parametrize(("name", "spell"), SPELLINGS, ids=IDS)
def test_every_redaction_catches_a_held_credential_however_spelled(
    name: str, spell: Callable[[str], str]
) -> None:
    """A held credential spelled out inside a sentence is replaced by the redactor, from its
    first character to its last, and the words around it stay."""
    hold(OWN_KEY)
    redacted = redact(f"Denied for key {spell(OWN_KEY)} on web-1.")
    assert not holds_key(redacted)
    assert redacted.startswith(f"Denied for key {MARK}") and redacted.endswith(" on web-1.")


def test_the_gateways_known_tokens_are_caught_spelled_out() -> None:
    """A redactor's own `known_secrets` (the ingest gateway's tokens, which its 422 detail is
    redacted with) are caught spelled out too, not only what `hold` was given."""
    token = "ingest-" + "Hk3Pq8Zr5Tw1Ym6Xc2Vb"
    redactor = Redactor(lambda: [token])
    redacted = redactor.text(f"title: {' '.join(token.upper())}")
    assert redacted == f"title: {MARK}"


def test_spelled_inside_json_and_base64_is_caught() -> None:
    """The spelling inside a JSON value's string and inside a base64 run's decoded text is
    caught where the redactor reads them."""
    import base64

    hold(OWN_KEY)
    spelled = "-".join(OWN_KEY)
    value = Redactor().value({"note": f"key {spelled}", "list": [spelled]})
    assert not holds_key(json.dumps(value))
    run = base64.b64encode(f"the key is {spelled} ok".encode()).decode()
    assert not holds_key(redact(f"blob {run} end").replace(run, ""))
    assert run not in redact(f"blob {run} end")


def test_a_short_held_value_is_not_looked_for_spelled_out() -> None:
    """A held value of fewer than 16 letters and digits is replaced only exactly: spelled out
    it would match ordinary words ("a b 1 2 …"); a text spelling no held credential stays."""
    hold("ab12-cd34-ef56")  # 12 letters and digits
    hold(OWN_KEY)
    for text in (
        "Check a b 1 2 c d 3 4 e f 5 6 on web-1.",
        "AB12 CD34 EF56 failed",
        "Run `kubectl get pods -n checkout`.",
    ):
        assert redact(text) == text


def _corpus() -> list[str]:
    """Every sample payload's text, and each string inside it."""
    texts: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                texts.append(str(key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted(PAYLOADS.rglob("*.json")):
        raw = path.read_text()
        texts.append(raw)
        walk(json.loads(raw))
    return texts


def _short_phrases(texts: list[str]) -> list[str]:
    """Held values made of the corpus's own phrases, of 10 to 15 letters and digits, written
    otherwise than the corpus writes them (capitals, other separators), so only a spelled
    match, were it made for values this short, could find them: none occurs exactly."""
    made: set[str] = set()
    for text in texts:
        if 10 <= len(squeezed(text)) < 16 and len(text) <= 40:
            made.add(text.upper().replace(" ", "_").replace("-", ".").replace("/", "_"))
    return sorted(value for value in made if not any(value in text for text in texts))


def test_the_sample_payloads_are_not_changed_by_the_spelled_check() -> None:
    """Every sample payload (and each string in it) redacts the same with held credentials of
    every realistic shape as with none: no ordinary text is taken for a spelled credential."""
    texts = _corpus()
    held = [
        OWN_KEY,
        "ghs_" + "ownTokenOfTheDaemon0123456789ABCDEFGH",
        "bk-live-Q8v2Lm7Rt4Xz9Kp1Wn6Yd3",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # AWS's documented example secret key
        "0123456789abcdef0123456789abcdef",
        "https://hooks.slack.com/services/T0001/B0002/s3cr3tXYZtoken",
    ]
    plain = Redactor()
    holding = Redactor(lambda: held)
    changed = [text[:80] for text in texts if holding.text(text) != plain.text(text)]
    assert changed == []


def test_a_held_value_under_16_letters_made_of_the_payloads_words_changes_nothing() -> None:
    """Held values spelling the payloads' own phrases of 10 to 15 letters and digits (the
    worst case for a false positive) change no payload: the spelled check leaves values this
    short to the exact match."""
    texts = _corpus()
    made = _short_phrases(texts)
    assert len(made) > 20, "the corpus has phrases of 10 to 15 letters and digits"
    holding = Redactor(lambda: made)
    plain = Redactor()
    changed = [text[:80] for text in texts if holding.text(text) != plain.text(text)]
    assert changed == []


def test_a_log_line_never_carries_a_held_credential_spelled_out() -> None:
    """A log event whose field holds the process's credential spelled with dashes, in
    capitals or backwards is written, through the real processors, without any spelling of it."""
    hold(OWN_KEY)
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    log = structlog.get_logger("triage.test")
    for _, spell in SPELLINGS:
        log.warning("test.spelled", detail=f"server said {spell(OWN_KEY)}", extra=[spell(OWN_KEY)])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == len(SPELLINGS)
    assert all(line["detail"].startswith(f"server said {MARK}") for line in lines)
    assert not holds_key(stream.getvalue())


async def test_a_slack_post_never_carries_a_held_credential_spelled_out(hook: Hook) -> None:
    """An alert and a ticket spelling the process's credential in every way (title,
    description, labels, steps): the Slack message posted to the loopback webhook holds none."""
    hold(OWN_KEY)
    spelled = [spell(OWN_KEY) for _, spell in SPELLINGS]
    alert = SLACK_ALERT.model_copy(
        update={
            "title": f"checkout {spelled[1]}",
            "description": " ".join(spelled),
            "labels": {**SLACK_ALERT.labels, "note": spelled[4]},
        }
    )
    ticket = SLACK_TICKET.model_copy(
        update={"description": " / ".join(spelled), "steps": (f"Rotate {spelled[0]}",)}
    )
    ticket = redact_ticket(ticket, Redactor())  # as the pipeline hands a ticket to the sinks
    effect = Effect(
        EffectKind.OPEN, alert.fingerprint, view(alert), ticket, None, 1, 1, False, "fp:1"
    )
    async with open_slack_sink(hook.url()) as sink:
        await sink.apply(effect)
    [message] = hook.bodies()
    assert MARK in all_text(message)
    assert not holds_key(json.dumps(message, ensure_ascii=False))


async def test_a_backend_ticket_never_carries_a_held_credential_spelled_out(
    backend: TicketServer,
) -> None:
    """An alert and a ticket spelling the process's credential in every way: the ticket the
    loopback backend stores holds none, in any field."""
    hold(OWN_KEY)
    spelled = [spell(OWN_KEY) for _, spell in SPELLINGS]
    alert = BACKEND_ALERT.model_copy(
        update={
            "title": f"backup {spelled[2]}",
            "description": "\n".join(spelled),
            "labels": {"note": spelled[5]},
        }
    )
    ticket = redact_ticket(
        SLACK_TICKET.model_copy(update={"title": f"Key {spelled[3]}"}), Redactor()
    )
    effect = Effect(
        EffectKind.OPEN, alert.fingerprint, view(alert), ticket, None, 1, 1, False, "fp:1"
    )
    async with open_backend_sink(backend.url, **ROUTES) as sink:
        await sink.apply(effect)
    [stored] = backend.tickets
    body = json.dumps(stored["body"], ensure_ascii=False)
    assert MARK in body
    assert not holds_key(body)


async def test_the_gateways_422_detail_never_carries_its_token_spelled_out(
    client: httpx2.AsyncClient,
) -> None:
    """A body the gateway cannot read, whose keys spell the generic source's own token (in
    spaced capitals, backwards with dashes): the 422's quoted reason holds neither spelling."""
    token = TOKENS["generic"]
    body = {" ".join(token.upper()): 1, "-".join(reversed(token)): 2}
    response = await client.post(
        "/v1/alerts/generic", content=json.dumps(body).encode(), headers=bearer("generic")
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert MARK in error
    assert not holds_key(error, token)
