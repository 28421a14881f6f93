"""`Redactor`: the passes over a text, in order: invisible characters dropped, JSON's needless
escapes undone, each percent-encoded token decoded and redacted (`_scrub_escaped`), the rules
(`_scrub`), the rules again on the undisguised text, each base64 run decoded and redacted
(`_scrub_base64`); and over a JSON value, whose keys can name a secret. `redact` is
`DEFAULT.text`: a redactor with no credentials of its own (those `hold` was given still count).

A zero-width character between two words of prose (`its\u200bown`) is written as a space, not
dropped (`_spaced_separators`): dropped, it glued the words for every check and search. One
inside a word (`pass\u200bword`, a key, a URL) is still dropped, so the word reads whole; and
wherever spacing would change what the rules find, every one is dropped as before.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from triage.redact import exact
from triage.redact.base64_runs import (
    _BASE64_RUN,
    _DISCORD_TOKEN,
    _NOT_BASE64,
    _discord_token,
    _redacted_base64,
    text_or_login,
)
from triage.redact.disguises import (
    SOFT_BROKEN,
    _hides,
    _json_unescaped,
    _unmasked,
    _visible,
    has_soft_break,
    soft_broken,
)
from triage.redact.escaped_twice import escaped_twice, unescaped_once
from triage.redact.fragments import scrub_cut_fragment
from triage.redact.held import held
from triage.redact.named_values import blanked_by_name, blanked_placeholder
from triage.redact.percent import (
    _DECODE_ROUNDS,
    _ESCAPE,
    _URL_SAFE,
    _escaped_tokens,
    _spliced,
    _unescape,
    _unescaped_with_sources,
)
from triage.redact.scrub import _scrub
from triage.redact.sections import SECRET_SECTIONS, _kept_child, section_named
from triage.redact.spelled import unspelled


def _scrub_escaped(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each token that holds percent-escapes redacted in its decoded form, when
    decoding revealed something to redact: what was found is replaced where it stood in the
    encoded token, and every other byte of the token stays (`_spliced`)."""
    spans = _escaped_tokens(text)
    tokens = [text[start:end] for start, end in spans]
    # All the tokens decoded and redacted at once first: one call instead of one per token, and
    # it changes whenever a token would (the same characters, between whitespace again).
    if not any(_finds(decoded, secrets) for decoded in _depths(" ".join(tokens))):
        return text
    done: dict[str, str] = {}  # a token repeated is redacted once
    pieces: list[str] = []
    last = 0
    for (start, end), token in zip(spans, tokens, strict=True):
        if token not in done:
            done[token] = _redacted_token(token, secrets)
        pieces += (text[last:start], done[token])
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _depths(text: str) -> list[str]:
    """`text` percent-decoded as far as it goes (`_unescape`), then less far, each depth once:
    decoded too far, a value's own escapes are undone too (a password's `%2F` inside a URL
    inside a query becomes a `/` that ends the password), so a shallower depth may show what
    the deepest hides."""
    depths: list[str] = []
    for rounds in range(_DECODE_ROUNDS, 0, -1):
        decoded = _unescape(text, rounds)
        if decoded not in depths:
            depths.append(decoded)
    return depths


def _finds(decoded: str, secrets: tuple[str, ...]) -> bool:
    """Whether redaction changes `decoded` (its base64 too: `+` and `/` percent-encoded split a
    run into pieces that decode apart)."""
    return _scrub_base64(_scrub(decoded, secrets), secrets) != decoded


def _redacted_token(token: str, secrets: tuple[str, ...]) -> str:
    """A token holding percent-escapes, decoded (as far as it goes, or else the first depth
    that shows something, `_depths`), redacted and put back: in place (`_spliced`), or, when
    the redacted text does not line up with the decoded one (a rule wrote more than a
    placeholder), re-encoded whole with URL delimiters left as they are."""
    tried = ""
    for rounds in range(_DECODE_ROUNDS, 0, -1):
        decoded, starts = _unescaped_with_sources(token, rounds)
        if decoded == tried:
            continue  # decoding stopped before this depth: the same text, already read
        tried = decoded
        redacted = _scrub_base64(_scrub(decoded, secrets), secrets)
        if redacted == decoded:
            continue
        spliced = _spliced(token, decoded, starts, redacted)
        if spliced is not None:
            return spliced
        return quote(redacted, safe=_URL_SAFE, errors="surrogateescape")
    return token


def _soft_break_joined(match: re.Match[str], secrets: tuple[str, ...]) -> str:
    """A token cut by quoted-printable soft line breaks (`SOFT_BROKEN`) read whole, when its
    breaks end wrapped lines and the whole is something to redact; else kept as it is."""
    token = soft_broken(match)
    return token if token is not None and _scrub(token, secrets) != token else match[0]


_ESCAPED_BREAK = re.compile(r"\\[nrt]")


def _scrub_base64(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each base64 run replaced whole by a placeholder when its decoded text holds
    something to redact, or is a `user:password` pair (`_redacted_base64`). The decoded text is
    redacted by the rules (`_scrub`) only: base64 inside base64 is not decoded again."""

    def scrub(decoded: str) -> str:
        return _scrub(decoded, secrets)

    # Most text holds no run that decodes to text: found without the regex engine (which would
    # try every position), by the runs between the bytes base64 has not.
    if len(text) < 16:
        return text
    # An escaped line break or tab inside a JSON string ends a run (`_BASE64_START`): its
    # letter is no part of the run after it.
    probe = _ESCAPED_BREAK.sub("  ", text) if "\\" in text else text
    runs = probe.encode("ascii", "replace").translate(_NOT_BASE64).split()
    if max(map(len, runs), default=0) < 16:
        return text
    for run in runs:
        if 16 <= len(run) <= 8192 and text_or_login(run.decode()):
            break
    else:
        return text
    if "." in text:
        text = _DISCORD_TOKEN.sub(_discord_token, text)
    return _BASE64_RUN.sub(lambda m: _redacted_base64(m[0], scrub), text)


#: A JSON string, quotes and all (bounded: a longer one is read by the rules alone).
#: Not from an escaped quote: a quote never closed is tried once, not from each of its escapes.
_JSON_STRING = re.compile(r'(?<!\\)"(?:[^"\\]|\\.){0,1048576}+"')
#: The inside of a JSON string whose text is an object or an array: `{\"`, `[{\"`, `[\"`.
_ESCAPED_JSON_START = re.compile(r'[ \t]{0,64}+(?:\[[ \t]{0,8}+)?[{\[][ \t]{0,8}+\\"')
#: How many levels down `_nested_strings` and `_level_down` read JSON escaped in JSON.
_NESTING_MAX = 4

#: Texts up to this many characters are remembered with their redaction, at most this many of
#: them (then forgotten all at once): about 9 MB at most, for ~40 calls an alert saved.
_MEMO_CHARS = 512
_MEMO_ENTRIES = 8192
#: The last few longer texts too, up to this many characters each: a long description is
#: read as a field of the alert's payload and again as the view's description (~0.2-0.5 ms
#: for 1,500 characters). Oldest forgotten first; at most ~1 MB with their redactions.
_LONG_MEMO_CHARS = 65_536
_LONG_MEMO_ENTRIES = 4
#: Passes of the rules over one text at most (`Redactor._settled`): two settle every text the
#: suite knows; the third is a margin.
_SETTLE_PASSES = 3


#: Zero-width characters a writer puts between words: the zero-width space, the word joiner,
#: the zero-width no-break space (a BOM inside text), the Mongolian vowel separator, and the
#: zero-width non-joiner and joiner (between letters of a script that joins none, below).
_ZERO_WIDTH = "\u200b\u2060\ufeff\u180e\u200c\u200d"
#: A run of them between two letters: the candidates `_spaced_separators` weighs.
_BETWEEN_LETTERS = re.compile(f"(?<=[^\\W\\d_])[{_ZERO_WIDTH}]++(?=[^\\W\\d_])")
#: Where a piece of text beside a candidate ends: whitespace or another zero-width character.
_PIECE_END = re.compile(f"[\\s{_ZERO_WIDTH}]")
#: Punctuation a word of prose may have outside it ("(its", "own."), stripped before the
#: piece is read as a word.
_PROSE_PUNCTUATION = "\"'\u2018\u2019\u201c\u201d([{)]}.,;:!?"


def _spaced_letter(ch: str) -> bool:
    """Whether `ch` is a letter of a script written with spaces between words and no joiner
    inside them (Latin, Greek, Cyrillic, Armenian and their extensions): there a zero-width
    character between two letters stands for a gap. In Persian or Devanagari a non-joiner or
    joiner is part of the word, and Thai or Japanese write no space between words at all."""
    code = ord(ch)
    return code < 0x0590 or 0x1D00 <= code <= 0x1FFF or 0x2C60 <= code <= 0x2C7F


def _prose_word(piece: str) -> bool:
    """Whether `piece` (text beside a zero-width character, up to whitespace) is a word of
    prose: letters of a spaced script only, an apostrophe inside allowed, punctuation around
    it stripped. Digits, `=`, `/`, `.` inside or `_` make it a name, a key or a URL, which a
    zero-width character splits to hide (`pass\u200bword=`, `AKIA\u200b…`, `exa\u200bmple.com`)."""
    if len(piece) > _PIECE_CHARS:
        return False
    word = piece.strip(_PROSE_PUNCTUATION).replace("'", "").replace("\u2019", "")
    return bool(word) and word.isalpha() and all(map(_spaced_letter, word))


def _spaced_separators(text: str) -> str:
    """`text` with each run of zero-width characters between two words of prose
    (`_prose_word` on both sides) written as a space; `text` itself when it holds none. The
    caller keeps this only where the rules find the same in it as in the text with every
    zero-width character dropped (`Redactor._settled`). Text with no whitespace is one name
    (a team, a label's value, a key), not prose: a zero-width character in it is inside the
    name, and `team=pay\u200bments` still matches the team `payments` shown."""
    if text.isascii() or len(text.split(maxsplit=1)) < 2:
        return text
    pieces: list[str] = []
    last = 0
    for match in _BETWEEN_LETTERS.finditer(text):
        start, end = match.span()
        # One character past the longest word read: a piece that fills the window is longer.
        before = _PIECE_END.split(text[max(last, start - _PIECE_CHARS - 1) : start])[-1]
        after = _PIECE_END.split(text[end : end + _PIECE_CHARS + 1], maxsplit=1)[0]
        if _prose_word(before) and _prose_word(after):
            pieces += (text[last:start], " ")
            last = end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


#: The longest piece beside a zero-width character read as a word (`_prose_word`): no word of
#: prose is longer, and a hostile run of letters is not read again at each one.
_PIECE_CHARS = 64


def _same_but_spaces(spaced: str, joined: str) -> bool:
    """Whether two redactions of a text differ only in spaces: spacing its zero-width
    characters changed nothing the rules found, so every character of either is the other's."""
    return spaced == joined or spaced.replace(" ", "") == joined.replace(" ", "")


class Redactor:
    """Applies the rules (`rules._RULES`), plus the exact credentials the process holds.

    `known_secrets` is asked on every call, so a token read from Secrets Manager after startup
    (or rotated) is covered as soon as the process knows it; so are the values passed to `hold`.
    """

    def __init__(self, known_secrets: Callable[[], Iterable[str]] = tuple) -> None:
        self._known_secrets = known_secrets
        #: The last answer of `_secrets`, with what it was made from: (held, known, answer).
        #: One tuple, swapped whole, so threads sharing the redactor need no lock.
        self._last: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())
        #: Short texts already redacted, for the credentials they were redacted with: an
        #: alert's keys, labels and names repeat from alert to alert. Swapped whole (a new dict)
        #: when the credentials change, so a thread never files an answer under the wrong ones.
        self._memo: tuple[tuple[str, ...], dict[str, str]] = ((), {})
        #: The last `_LONG_MEMO_ENTRIES` longer texts, kept as `_memo` is.
        self._long: tuple[tuple[str, ...], dict[str, str]] = ((), {})

    def text(self, text: str) -> str:
        secrets = self._secrets()
        memo_secrets, memo = self._memo
        if memo_secrets is not secrets:
            memo = {}
            self._memo = (secrets, memo)
        if len(text) > _MEMO_CHARS:
            return self._long_text(text, secrets)
        done = memo.get(text)
        if done is None:
            done = self._settled(text, secrets)
            if len(memo) >= _MEMO_ENTRIES:
                memo.clear()
            memo[text] = done
        return done

    def _long_text(self, text: str, secrets: tuple[str, ...]) -> str:
        """A text over `_MEMO_CHARS` redacted, from the last few such when it is one of them."""
        if len(text) > _LONG_MEMO_CHARS:
            return self._settled(text, secrets)
        long_secrets, recent = self._long
        if long_secrets is not secrets:
            recent = {}
            self._long = (secrets, recent)
        done = recent.get(text)
        if done is None:
            done = self._settled(text, secrets)
            if len(recent) >= _LONG_MEMO_ENTRIES:
                # All but the oldest, in a new dict swapped in whole (one read of the items:
                # no thread sees the dict change while it looks through it).
                recent = dict(list(recent.items())[1 - _LONG_MEMO_ENTRIES :])
                self._long = (secrets, recent)
            recent[text] = done
        return done

    def text_with(self, text: str, also: tuple[str, ...]) -> str:
        """`text` redacted (`text`), and without `also` (`without`): values one alert held
        under a secret's name, taken out of a text written from that alert (its ticket)."""
        return self.without(self.text(text), also)

    def without(self, redacted: str, also: tuple[str, ...]) -> str:
        """`redacted` (a text this redactor redacted already) with `also` taken out as the
        held credentials are: values one alert held under a secret's name, wherever that alert
        repeats them. As they are and spelled out (`unspelled`: in capitals, reversed, as hex)
        always; in a form only the passes read (behind an escape, an entity, a
        percent-encoding, invisible or look-alike characters, base64) by every pass again,
        when the text holds such a form (`_disguises`: few do, and a pass costs as much as the
        first). For this text only: never held nor remembered, so hostile input cannot grow
        what every text is redacted with, nor fill the memo. `also` longest first, so one
        holding another goes whole."""
        if not also:
            return redacted
        # Placeholders stay as they are: a value the alert gave as a password may be a piece
        # of one (`credential`), which, replaced, would grow at every pass.
        pieces = _PLACEHOLDER.split(redacted)
        # Every value looked for in one pass over each piece (`exact`): a loop over them for
        # each piece cost values times pieces, quadratic in a text of many `password=` pairs.
        texts = exact.replaced(pieces[::2], also)
        pieces[::2] = [unspelled(text, also) for text in texts]
        redacted = _without_cut_head("".join(pieces), also)
        if not _disguises(redacted):
            return redacted
        secrets = tuple(sorted({*self._secrets(), *also}, key=len, reverse=True))
        return self._settled(redacted, secrets)

    def _settled(self, text: str, secrets: tuple[str, ...]) -> str:
        """`text` redacted until it settles (`_settled_joined`), a zero-width character
        between two words of prose written as a space (`_spaced_separators`) when the rules
        then find what they find with it dropped: "its\u200bown" is "its own" for every check
        and search, while a secret or its name split by one (`pass\u200bword hunter2`) is
        redacted whole, as dropping it lets the rules read it."""
        spaced = _spaced_separators(text)
        joined = self._settled_joined(text, secrets)
        if spaced is text:
            return joined
        apart = self._settled_joined(spaced, secrets)
        return apart if _same_but_spaces(apart, joined) else joined

    def _settled_joined(self, text: str, secrets: tuple[str, ...]) -> str:
        """`text` redacted until a pass changes nothing (at most `_SETTLE_PASSES` passes): what
        one pass writes can show a later step a secret that step read before it was written
        (an undisguised `&#61;` inside a percent-encoded token), and a text redacted again
        downstream (a log line of a stored title) must come out as it went in. Text that
        holds nothing to redact takes one pass, as before."""
        done = self._redacted(text, secrets)
        for _ in range(_SETTLE_PASSES - 1):
            if done == text:
                break
            text, done = done, self._redacted(done, secrets)
        return done

    def _redacted(self, text: str, secrets: tuple[str, ...], depth: int = 0) -> str:
        if _hides(text):
            text = _visible(text)
        if "\\" in text:
            text = _json_unescaped(text)
            # Escapes escaped again (YAML quoted into a JSON string twice, `\\\\n`): read a
            # level down first, where the rules see one level of escapes, as they expect.
            if depth < _NESTING_MAX and escaped_twice(text):
                text = self._escaped_twice(text, secrets, depth)
            # JSON quoting JSON that quotes text, handed over without its outer quotes: read a
            # level down first, where the rules read each level's escapes as they should.
            if "\\\\" in text and _ESCAPED_JSON_START.match(text):
                text = self._escaped_json(text, secrets)
        # A percent-encoded token is read decoded first: the rules would otherwise see only the
        # part of it after an escape's hex digits (`ref%3DeyJ…` has a `D` before the JWT) and
        # cut the rest into pieces that the decoded token no longer holds whole.
        if "%" in text and _ESCAPE.search(text):
            text = _scrub_escaped(text, secrets)
        # Both reads below look for a backslash escaped (`\\`), which few texts hold.
        if "\\\\" in text:
            # A quote escaped twice (`\\\"`: JSON quoting text inside a JSON string) is read
            # a level down before the rules read this level: they take its backslashes for a
            # value and would cut the quoted value short, and the JSON with it.
            if '\\\\\\"' in text:
                text = self._nested_strings(text, secrets, 0)
            # … and a JSON string holding a single quote escaped by a backslash (`\\'`: a
            # repr's `'it\'s"x'` quoted in JSON), whose backslashes read as the raw text's
            # would end the literal at its escaped quote.
            text = self._reprs(text, secrets)
        # An e-mail's quoted-printable soft line breaks inside a token, undone where the token
        # whole is something to redact: wrapped, it is cut in pieces no rule knows, and once
        # a rule took the first piece the rest is no longer glued to it.
        if has_soft_break(text):
            text = SOFT_BROKEN.sub(lambda m: _soft_break_joined(m, secrets), text)
        # A cut's fragment first: the undisguised text below writes its "…" as "...".
        text = scrub_cut_fragment(_scrub(text, secrets))
        # A disguised name is redacted in the undisguised text, which then replaces the text;
        # text that hides nothing keeps its entities, full-width forms and scripts.
        unmasked = _unmasked(text)
        if unmasked != text:
            redacted = _scrub(unmasked, secrets)
            if redacted != unmasked:
                text = redacted
        if "\\\\" in text and '\\"' in text:
            text = self._nested_strings(text, secrets, 0)
        return scrub_cut_fragment(_scrub_base64(text, secrets))

    def _escaped_twice(self, text: str, secrets: tuple[str, ...], depth: int) -> str:
        """`text`, which holds escapes escaped again (`escaped_twice`), with each JSON string
        holding such escapes read a level down (`_level_down`), or, when no JSON string holds
        them (text handed over without its quotes), the whole text."""
        strings = [m for m in _JSON_STRING.finditer(text) if escaped_twice(m[0][1:-1])]
        if not strings:
            return self._level_down(text, secrets, depth)
        pieces: list[str] = []
        last = 0
        for string in strings:
            # The inside of the string alone: its escapes are its own, the text around keeps
            # its quotes as they are.
            pieces += (
                text[last : string.start() + 1],
                self._level_down(string[0][1:-1], secrets, depth),
            )
            last = string.end() - 1
        pieces.append(text[last:])
        return "".join(pieces)

    def _level_down(self, text: str, secrets: tuple[str, ...], depth: int) -> str:
        """`text` with what redaction finds a level down (`unescaped_once`, then every pass
        there: further down while escapes stay doubled, `_NESTING_MAX` levels at most) put back
        where it stood; every other byte as it was. When the redacted text is more than the
        decoded one with placeholders in, `text` as it is: the rules still read it at its own
        level."""
        decoded, starts = unescaped_once(text)
        redacted = self._redacted(decoded, secrets, depth + 1)
        if redacted == decoded:
            return text
        spliced = _spliced(text, decoded, starts, redacted)
        return text if spliced is None else spliced

    def _escaped_json(self, text: str, secrets: tuple[str, ...]) -> str:
        """`text`, the inside of a JSON string whose text is JSON (`{\\"msg\\": …}`, a log
        line's field handed over without its quotes), read a level down as `_nested_strings`
        reads a whole JSON string: its strings quoting JSON further down are read there."""
        try:
            decoded = json.loads(f'"{text}"', strict=False)
        except ValueError:
            return text
        redacted = scrub_cut_fragment(_scrub(decoded, secrets))
        if '\\"' in redacted:
            redacted = self._nested_strings(redacted, secrets, 1)
        if redacted == decoded:
            return text
        return json.dumps(redacted, ensure_ascii=False)[1:-1]

    def _reprs(self, text: str, secrets: tuple[str, ...]) -> str:
        """`text` with each JSON string holding a backslash before a single quote (`\\\\'`)
        read a level down (`_repr_string`); text without one as it is."""
        if "\\\\'" not in text:
            return text
        return _JSON_STRING.sub(lambda m: self._repr_string(m[0], secrets), text)

    def _repr_string(self, string: str, secrets: tuple[str, ...]) -> str:
        """A JSON string (quotes and all) holding a backslash before a single quote, decoded,
        redacted as text (its own such strings read so first) and written back when that found
        something; any other string as it is."""
        if "\\\\'" not in string:
            return string
        try:
            decoded = json.loads(string)
        except ValueError:
            return string
        redacted = scrub_cut_fragment(_scrub(self._reprs(decoded, secrets), secrets))
        if redacted == decoded:
            return string
        return json.dumps(redacted, ensure_ascii=False)

    def _nested_strings(self, text: str, secrets: tuple[str, ...], depth: int) -> str:
        """`text` with each JSON string whose text is JSON quoting text escaped twice (`\\"`
        and `\\\\`: JSON text, a tab or a line break inside a JSON string inside a JSON
        string) read a level down: decoded, redacted as text (its own strings quoting text are read a level
        further, `_NESTING_MAX` levels at most), and written back as a JSON string when that
        found something. The rules read one level of escapes themselves."""

        def one(match: re.Match[str]) -> str:
            # A string quoting text (`\\"`) and escaping its escapes (`\\\\`) at the first
            # level; below it, every string quoting text is read a level further.
            quoting = '\\"' in match[0] and (depth > 0 or "\\\\" in match[0])
            if not quoting or depth >= _NESTING_MAX:
                return match[0]
            try:
                decoded = json.loads(match[0])
            except ValueError:
                return match[0]
            if decoded.lstrip()[:1] not in ("{", "[", '"'):
                # Text that quotes, not JSON (nor JSON encoded as a string again, `"{\"…`):
                # the rules read its escapes.
                return match[0]
            redacted = scrub_cut_fragment(_scrub(self._reprs(decoded, secrets), secrets))
            if '\\"' in redacted:
                redacted = self._nested_strings(redacted, secrets, depth + 1)
            if redacted == decoded:
                return match[0]
            return json.dumps(redacted, ensure_ascii=False)

        return _JSON_STRING.sub(one, text)

    def _secrets(self) -> tuple[str, ...]:
        """The exact values to redact, longest first, so that one containing another goes whole.
        Sorted again only when the held or known credentials changed: an alert's fields make
        dozens of calls in a row with the same ones."""
        holding = held()
        # Compared as given (a tuple is taken as it is), filtered only when it changed.
        known = tuple(self._known_secrets())
        last_holding, last_known, answer = self._last
        if holding is last_holding and known == last_known:
            return answer
        values = {*holding, *(s for s in known if len(s) >= 6)}
        answer = tuple(sorted(values, key=len, reverse=True)) if values else ()
        self._last = (holding, known, answer)
        return answer

    def value(self, value: Any, *, depth: int = 0, found: Blanked | None = None) -> Any:
        """A JSON value with every string redacted and secret-named keys blanked; what was
        taken out noted in `found` when given (`Blanked`)."""
        if depth > 64:  # normalisers reject deeper JSON; this only guards direct callers
            return "[REDACTED:too-deep]"
        if isinstance(value, str):
            done = self.text(value)
            if found is not None and done != value:
                found.texts.append((value, done))
            return done
        if isinstance(value, dict):
            return self._object(value, depth, found=found)
        if isinstance(value, list | tuple):
            if _secret_pair(value):  # ["Cookie", "…"], ["X-Api-Key", ["…"]], ["PIN", 1234]
                if found is not None:
                    found.by_name.append(value[1])
                return [self.text(value[0]), "[REDACTED:password]"]
            items = [self.value(v, depth=depth + 1, found=found) for v in value]
            if _command_line(value):
                return self._arguments([str(v) for v in value], items)
            return items
        return value

    def _object(
        self,
        obj: dict[Any, Any],
        depth: int,
        sections: frozenset[str] = frozenset(),
        *,
        found: Blanked | None = None,
    ) -> dict[str, Any]:
        """A JSON object with its keys redacted (a payload can use a secret as a key) and each
        value: a section's below a key whose children are all secrets (`_section`: a secret's
        name, one of `sections`, or of the object's own `_secret_sections`: a Kubernetes
        Secret's data); blanked when its name says it is a secret (`blanked_placeholder`: the key's
        name, or a {"name": "DB_PASSWORD", "value": …} object's, as Kubernetes' env and
        Sentry's tags write them); else redacted as any value is."""
        sections |= _secret_sections(obj)
        shown: dict[str, Any] = {}
        for k, v in obj.items():
            key = str(k)
            if _mapping(v) and (key in sections or section_named(key)):
                shown[self.text(key)] = self._section(key, v, depth + 1, found)
            elif (placeholder := blanked_placeholder(key, v, obj)) is not None:
                if found is not None:
                    found.by_name.append(v)
                shown[self.text(key)] = placeholder
            elif key == "data" and isinstance(v, dict) and _vault_read(obj):
                # A Vault KV v2 read: the secret's own fields are its `data`'s `data`.
                shown[self.text(key)] = self._object(v, depth + 1, _VAULT_KV2_DATA, found=found)
            else:
                shown[self.text(key)] = self.value(v, depth=depth + 1, found=found)
        return shown

    def _section(self, key: str, value: Any, depth: int, found: Blanked | None = None) -> Any:
        """A value below a section's key (`section_named`: `secrets`, `password`): every
        leaf replaced but what `_kept_child` keeps (a count, a path, a provider, a literal),
        which is redacted as any value is; its structure and keys stay."""
        if depth > 64:
            return "[REDACTED:too-deep]"
        if isinstance(value, dict):
            return {
                self.text(str(k)): self._section(str(k), v, depth + 1, found)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._section(key, v, depth + 1, found) for v in value]
        if value is None or isinstance(value, bool) or _kept_child(key, str(value)):
            return self.value(value, depth=depth, found=found)
        if found is not None:
            found.by_name.append(value)
        return "[REDACTED:password]"

    def _arguments(self, args: list[str], each: list[Any]) -> list[Any]:
        """A command's arguments (`each`: redacted one by one) with what only the command
        line shows redacted too: an option's value in the argument after it (`--db-password
        X`, `redis-cli -a X`). The arguments are joined as a shell would (`_shell_word`),
        redacted, and split again; an argument that changed there is taken. When the
        redacted line no longer splits into as many arguments, it stands whole, as one."""
        line = " ".join(map(_shell_word, args))
        redacted = self.text(line)
        if redacted == line:
            return each
        try:
            split = shlex.split(redacted)
        except ValueError:
            split = []
        if len(split) != len(args):
            return [redacted]
        return [
            mine if mine != arg or seen == arg else seen
            for arg, mine, seen in zip(args, each, split, strict=True)
        ]


#: The fewest characters of a held value's start a cut may leave that are taken out with it:
#: fewer would blank ordinary words that happen to begin one (the view holds no value shorter).
_CUT_HEAD_MIN_CHARS = 6


def _without_cut_head(text: str, also: tuple[str, ...]) -> str:
    """`text` without the start of a value in `also` that a cut left before its closing `…`
    (a normaliser cuts a title or a description before the view knows what the alert holds,
    and the head it keeps no longer matches the whole value). `also` longest first."""
    if not text.endswith("…"):
        return text
    kept = text[:-1]
    for value in filter(None, also):
        start = max(0, len(kept) - len(value) + 1)
        while (at := kept.find(value[0], start)) != -1 and len(kept) - at >= _CUT_HEAD_MIN_CHARS:
            if value.startswith(kept[at:]):
                return kept[:at] + exact.MARK + "…"
            start = at + 1
    return text


class Blanked:
    """What `Redactor.value` took out of one JSON value, for its caller to take out wherever
    else the same alert repeats it (`view.redact_alert`): each value blanked whole for the name
    it stands under (any JSON type, as given), and each string the rules changed, as given and
    as redacted (a `password=…` inside it)."""

    __slots__ = ("by_name", "texts")

    def __init__(self) -> None:
        self.by_name: list[Any] = []
        self.texts: list[tuple[str, str]] = []


#: A placeholder the redactor writes, kept whole when values are taken out (`without`).
_PLACEHOLDER = re.compile(r"(\[REDACTED(?::[\w-]{1,40})?\])")


def _disguises(text: str) -> bool:
    """Whether `text` holds a form only the passes read (`Redactor._redacted`): an invisible
    character, a percent-escape, a needless JSON escape, a disguise `_unmasked` undoes (an
    entity, a full-width letter), a base64 run that decodes to text or a login."""
    if _hides(text) or _ESCAPE.search(text) or _unmasked(text) != text:
        return True
    if "\\" in text and _json_unescaped(text) != text:
        return True
    runs = text.encode("ascii", "replace").translate(_NOT_BASE64).split()
    return any(16 <= len(run) <= 8192 and text_or_login(run.decode()) for run in runs)


def _mapping(value: Any) -> bool:
    """An object, or a list holding one: a section's children, each read by its own name
    (a list of strings or pairs under a secret's name goes whole)."""
    if isinstance(value, dict):
        return True
    return isinstance(value, list | tuple) and any(isinstance(v, dict) for v in value)


def _secret_pair(value: list[Any] | tuple[Any, ...]) -> bool:
    """A [name, value] pair (Sentry's request headers, cookies, tags) whose value, of any type
    (a string, a header's list of values, a number), its name blanks (`blanked_by_name`)."""
    return len(value) == 2 and isinstance(value[0], str) and blanked_by_name(value[0], value[1])


#: Keys whose children are all secrets, whatever their own keys say (`sections.SECRET_SECTIONS`:
#: Grafana's secureJsonData and secureSettings, a Kubernetes Secret's stringData) …
_SECRET_SECTIONS = SECRET_SECTIONS
#: … a Kubernetes Secret's `data` too (a ConfigMap's `data` is no secret) …
_KUBERNETES_SECRET_SECTIONS = frozenset({"data", *_SECRET_SECTIONS})
#: … and a Vault KV v2 read's `data` inside its `data`.
_VAULT_KV2_DATA = frozenset({"data"})


def _secret_sections(obj: dict[Any, Any]) -> frozenset[str]:
    """The keys of `obj` whose children are all secrets (`_SECRET_SECTIONS`; a Kubernetes
    Secret's `data` when `obj` is one, `kind: Secret`)."""
    return _KUBERNETES_SECRET_SECTIONS if obj.get("kind") == "Secret" else _SECRET_SECTIONS


def _vault_read(obj: dict[Any, Any]) -> bool:
    """Vault's answer to a read (`vault kv get -format=json`, the HTTP API): its request and
    lease ids beside its `data`, which holds a KV v2 secret's own fields in a `data`."""
    data = obj.get("data")
    return (
        "request_id" in obj
        and "lease_id" in obj
        and isinstance(data, dict)
        and isinstance(data.get("data"), dict)
    )


#: What a shell word needs quotes for; and what a double-quoted one cannot hold as it is.
_UNQUOTED_UNSAFE = re.compile(r"[^\w@%+=:,./-]")
_DOUBLE_QUOTED_UNSAFE = re.compile(r'["\\$`]')


def _shell_word(arg: str) -> str:
    """`arg` as one shell word, in double quotes when it needs quotes and they hold it as it
    is: the rules read a value in double quotes whole (`--password "it's x"`), where
    `shlex.quote`'s `'it'"'"'s x'` shows them only its first piece."""
    if arg and _UNQUOTED_UNSAFE.search(arg) is None:
        return arg
    if _DOUBLE_QUOTED_UNSAFE.search(arg) is None:
        return f'"{arg}"'
    return shlex.quote(arg)


#: A command's option (`-a`, `--db-password`, `--password=…`), up to its `=`: not a list
#: item's `- text`, nor a source line.
_OPTION = re.compile(r"--?[A-Za-z][\w.-]{0,64}")


#: Commands that take a password by its place, with no option before it (`sqlplus u/pw@db`,
#: `net user u pw`, `vault login <token>`; `positional.py`).
_POSITIONAL_COMMAND = re.compile(
    r"(?:.{0,256}[/\\])?(?:sqlplus|sqlldr|expdp|impdp|exp|imp|rman|dgmgrl|net|vault)(?:\.exe)?",
    re.IGNORECASE,
)


def _command_line(value: list[Any] | tuple[Any, ...]) -> bool:
    """A command's arguments (a container's `Cmd`, a process's argv): strings only, an option
    (`_OPTION`) before the last, or a command taking a password by its place first."""
    return (
        len(value) >= 2
        and all(isinstance(v, str) for v in value)
        and (
            any(_OPTION.fullmatch(v.split("=", 1)[0]) for v in value[:-1])
            or _POSITIONAL_COMMAND.fullmatch(value[0]) is not None
        )
    )


#: A redactor that knows no process credentials; for text that needs only the patterns.
DEFAULT = Redactor()


def redact(text: str) -> str:
    return DEFAULT.text(text)
