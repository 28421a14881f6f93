"""The gateway's own tokens spelled in base64, blanked in what it queues.

A sender presents its token as HTTP Basic: base64 of `user:token`. A body that repeats the
headers its sender was configured with (a tool's test payload, a proxy's error page quoting the
request, a config dump) then holds the token in that spelling, which `credentials.without_tokens`
does not read: the queue and its dead-letter queue held it, and the daemon's redactor blanks
base64 only after the word `Basic`, so a bare run reached every sink. Base64 hides nothing
from a reader: it is decoded at a glance, as a percent-encoded token is.

Each run of base64 characters long enough to hold a token is decoded at each of the four
offsets a base64 group may start at (a run may begin with text glued to it, `/path/<base64>`),
in both alphabets (standard, and URL-safe `-_`), with JSON's `\\/` read as `/` and a URL's
`%2B`, `%2F` and `%3D` as what they encode; a run whose
decoding holds a token is blanked whole (TOKEN_BLANK, which JSON text takes as it stands: a
run holds no quote or backslash but the `\\/` it is read with). A run of digits is a number,
never blanked.
"""

from __future__ import annotations

import binascii
import functools
import json
import re
from collections.abc import Callable, Sequence
from urllib.parse import unquote

from triage.decode import load_json
from triage.errors import DecodeError

#: What stands in for a token (the same mark `credentials.without_tokens` writes).
TOKEN_BLANK = "[REDACTED:credential]"

#: The URL-safe alphabet's two characters, as the standard alphabet writes them.
_STANDARD = str.maketrans("-_", "+/")
_URL_SAFE = str.maketrans("+/", "-_")
#: A run of base64 characters (either alphabet, JSON's `\\/` for a slash, `+`, `/` and `=`
#: percent-encoded as in a URL's query, padding after),
#: begun where no base64 character stands before it; each run is scanned once (possessive).
_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])(?:[A-Za-z0-9+/_-]++|\\/|%2[BbFf])++(?:=|%3[Dd]){0,2}")
#: How a base64 character may stand in a run: `+` and `/` percent-encoded in a URL, `/`
#: JSON-escaped.
_WRITTEN = {"+": r"(?:\+|%2[Bb])", "/": r"(?:\\?/|%2[Ff])"}
#: A number, which JSON text holds bare: its digits are never read as base64.
_NUMBER = re.compile(r"-?[0-9]+")


def without_base64_tokens(text: str, tokens: Sequence[str]) -> str | None:
    """`text` with every base64 run that decodes to hold one of `tokens` blanked whole; None
    when it holds none. JSON is blanked in each of its strings and written again (a run in
    JSON text may follow an escape's backslash, which must stay whole); other text as it
    stands."""
    held = tuple(dict.fromkeys(token.encode() for token in tokens if token))
    if not held:
        return None
    cores = _cores(held)
    if not cores.search(text):
        return None  # the usual case, at C speed: no run decoded
    blank = functools.partial(_blank_runs, held=held, cores=cores)
    try:
        value = load_json(text, "body")
    except (DecodeError, RecursionError):
        blanked = blank(text)
        return blanked if blanked != text else None
    blanked_value, changed = _blank_json(value, blank)
    return json.dumps(blanked_value, ensure_ascii=False) if changed else None


def _blank_json(value: object, blank: Callable[[str], str]) -> tuple[object, bool]:
    """`value` (parsed JSON) with `blank` applied to each string, keys included; and whether
    any changed."""
    if isinstance(value, str):
        blanked = blank(value)
        return blanked, blanked != value
    if isinstance(value, list):
        items = [_blank_json(item, blank) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, dict):
        pairs = [(_blank_json(k, blank), _blank_json(v, blank)) for k, v in value.items()]
        blanked_dict = {key: item for (key, _), (item, _) in pairs}
        return blanked_dict, any(k_changed or v_changed for (_, k_changed), (_, v_changed) in pairs)
    return value, False


def _blank_runs(text: str, *, held: tuple[bytes, ...], cores: re.Pattern[str]) -> str:
    """`text` with each base64 run holding a token blanked. A run right after a backslash
    keeps the escape's own characters (`\\n`, `\\u00e9`: JSON written inside a string)."""
    shortest = min(len(token) for token in held) * 4 // 3

    def blank(match: re.Match[str]) -> str:
        run, kept = match.group(), ""
        if match.start() and text[match.start() - 1] == "\\":
            escape = 5 if run.startswith("u") else 1
            kept, run = run[:escape], run[escape:]
        if len(run) < shortest or not cores.search(run) or not _holds_token(run, held):
            return match.group()
        return kept + TOKEN_BLANK

    return _RUN.sub(blank, text)


@functools.lru_cache(maxsize=8)
def _cores(held: tuple[bytes, ...]) -> re.Pattern[str]:
    """What base64 of each token must hold wherever it starts in its data: the characters its
    whole 3-byte groups make, for each of the three places the token may start in a group,
    in either alphabet, however `+` and `/` are written (`_WRITTEN`). Only a run holding one is
    decoded, so a body of base64 without a token costs one search."""
    cores: set[str] = set()
    for token in held:
        for skip in range(3):
            whole = token[skip:][: (len(token) - skip) // 3 * 3]
            core = binascii.b2a_base64(whole, newline=False).decode()
            cores |= {core, core.translate(_URL_SAFE)}
    ordered = sorted(cores, key=len, reverse=True)
    return re.compile("|".join(_written(core) for core in ordered))


def _written(core: str) -> str:
    """A pattern for `core` however its `+` and `/` are written (`_WRITTEN`)."""
    return "".join(_WRITTEN.get(ch) or re.escape(ch) for ch in core)


def _holds_token(run: str, held: tuple[bytes, ...]) -> bool:
    """Whether `run`, decoded from any of the four offsets, holds one of `held`."""
    if _NUMBER.fullmatch(run):
        return False
    plain = unquote(run.replace("\\/", "/")).rstrip("=").translate(_STANDARD)
    for offset in range(4):
        group = plain[offset:]
        group = group[: len(group) - (len(group) % 4 == 1)]  # a lone last character is no byte
        try:
            decoded = binascii.a2b_base64(group + "=" * (-len(group) % 4))
        except binascii.Error:
            continue
        if any(token in decoded for token in held):
            return True
    return False
