"""Percent-encoded tokens: decoding them (up to `_DECODE_ROUNDS` times) while keeping where each
decoded character came from, so that what redaction finds in the decoded text is replaced
where it stood in the encoded token and every other byte stays (`_spliced`). The pass that
redacts such tokens is `Redactor`'s (`_scrub_escaped`).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from triage.redact.rule import _PLACEHOLDER_SPLIT

_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_NOT_SPACE = re.compile(r"\S*")
_DECODE_ROUNDS = 3  # enough for a URL inside a URL inside a URL
#: What quote() leaves alone when a redacted token is put back: RFC 3986's delimiters, so a
#: URL keeps its structure and a placeholder stays readable.
_URL_SAFE = "!#$&'()*+,/:;=?@[]~"


def _unescape(text: str, rounds: int = _DECODE_ROUNDS) -> str:
    """`text` percent-decoded until nothing changes, at most `rounds` times. Bytes that are not
    UTF-8 become lone surrogates, so quote() gives them back as they were."""
    for _ in range(rounds):
        decoded = unquote(text, errors="surrogateescape")
        if decoded == text:
            break
        text = decoded
    return text


def _escaped_tokens(text: str) -> list[tuple[int, int]]:
    """Where each whitespace-delimited token of `text` that holds a percent-escape starts and
    ends. Found outwards from the escapes, which the regex engine jumps to: each such token is
    read once and the text between them not at all."""
    spans: list[tuple[int, int]] = []
    backwards = text[::-1]  # the run of non-space before an escape, read from the escape
    escape = _ESCAPE.search(text)
    while escape is not None:
        at = escape.start()
        before = _NOT_SPACE.match(backwards, len(text) - at)
        end = _NOT_SPACE.match(text, at)
        assert before is not None and end is not None  # `\S*` matches anywhere
        spans.append((at - (before.end() - before.start()), end.end()))
        escape = _ESCAPE.search(text, end.end())
    return spans


#: A run of percent-escapes, which unquote() decodes together (a character may take several).
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}){1,4096}")


def _percent_decoded(text: str) -> tuple[str, list[int]]:
    """`text` percent-decoded once, as unquote() does (bytes that are not UTF-8 as lone
    surrogates), and where in `text` each decoded character's source starts (one entry more:
    `len(text)`), so a span of the decoded text can be found again in `text`."""
    pieces: list[str] = []
    starts: list[int] = []
    last = 0
    for run in _ESCAPE_RUN.finditer(text):
        pieces.append(text[last : run.start()])
        starts += range(last, run.start())
        chars = bytes.fromhex(run[0].replace("%", "")).decode(errors="surrogateescape")
        at = run.start()
        for char in chars:
            starts.append(at)
            # A byte that is no UTF-8 is one surrogate; a character took its UTF-8 length.
            at += 3 * (1 if "\udc80" <= char <= "\udcff" else len(char.encode()))
        pieces.append(chars)
        last = run.end()
    pieces.append(text[last:])
    starts += range(last, len(text) + 1)
    return "".join(pieces), starts


def _unescaped_with_sources(text: str, rounds: int = _DECODE_ROUNDS) -> tuple[str, list[int]]:
    """`text` decoded as `_unescape` does (up to `rounds` times), and where in `text` each
    decoded character's source starts (`_percent_decoded`, through every round)."""
    starts = list(range(len(text) + 1))
    for _ in range(rounds):
        decoded, round_starts = _percent_decoded(text)
        if decoded == text:
            break
        starts = [starts[i] for i in round_starts]
        text = decoded
    return text, starts


def _spliced(token: str, decoded: str, starts: list[int], redacted: str) -> str | None:
    """`token` with each stretch that redaction replaced in its decoded form (`decoded`, each
    character's source in `token` at `starts`) replaced by that placeholder, and every other
    byte kept: what is kept decodes to the text the redactor kept, so the result decodes to
    `redacted`. None if the redacted text is not the decoded one with placeholders put in."""
    parts = _PLACEHOLDER_SPLIT.split(redacted)
    kept, placeholders = parts[::2], parts[1::2]
    if not placeholders or not decoded.startswith(kept[0]):
        return None
    pieces = [token[: starts[len(kept[0])]]]
    at = len(kept[0])  # where in `decoded` the text after the last placeholder starts
    for i, (placeholder, after) in enumerate(zip(placeholders, kept[1:], strict=True)):
        if i == len(placeholders) - 1:
            found = len(decoded) - len(after)
            if found < at or not decoded.endswith(after):
                return None
        else:
            found = decoded.find(after, at)
            if found < 0:
                return None
        end = found + len(after)
        pieces += (placeholder, token[starts[found] : starts[end]])
        at = end
    return "".join(pieces)
