"""Disguises that hide a name or a secret from every rule, and undoing them. JSON's escapes that
change no meaning (`\\/`, `\\u0070`) are undone before the rules; HTML character references,
escaped punctuation, full-width and look-alike letters are undone in a second text, which
replaces the first only when the rules find something in it (`Redactor._redacted`). Invisible
characters are dropped before anything else.
"""

from __future__ import annotations

import html
import re
import unicodedata

from triage.unseen import (
    BRAILLE_BLANK,
    UNSEEN_RANGES,
    draws_nothing,
    has_unseen,
    without_unseen,
)

#: Invisible characters: format characters (zero-width spaces and joiners, soft hyphens,
#: bidi controls), private-use and unassigned code points. A secret split by one would not
#: match any rule, and a sink that drops them (GitHub's markdown does) would put it back
#: together after redaction; so the redactor drops them first, and no text it lets out has any.
_INVISIBLE = frozenset({"Cf", "Co", "Cn"})


# Invisible characters that `str.isprintable` lets through are the rest of what draws nothing
# (`triage.unseen`: Hangul fillers, the combining grapheme joiner, variation selectors, the
# blank Braille pattern outside a Braille drawing …), dropped by `unseen.without_unseen`. A
# sink shows none of them, so they glue a secret's halves as a zero-width space does.


def _escape_prefixes() -> tuple[str, str]:
    """What a JSON escape of a character that draws nothing starts with: the first two hex
    digits of one in the BMP, and the high surrogates of those beyond it, as regex
    alternatives (the blank Braille pattern aside: `_ESCAPED_BRAILLE_BLANK` reads its
    context)."""
    firsts: set[str] = set()
    highs: set[str] = set()
    for low, high in UNSEEN_RANGES:
        for code in range(low, high + 1):
            if chr(code) == BRAILLE_BLANK:
                continue
            if code <= 0xFFFF:
                firsts.add(f"{code >> 8:02x}")
            else:
                highs.add(f"{0xD800 + ((code - 0x10000) >> 10):04x}")
    return "|".join(sorted(firsts)), "|".join(sorted(highs))


_FIRSTS, _HIGHS = _escape_prefixes()
#: A JSON escape that may be of a character that draws nothing (`_unescaped_unseen` decides):
#: `\\u3164`, or a surrogate pair (`\\udb40\\udc20` for a tag character).
_ESCAPED_MAYBE_UNSEEN = re.compile(
    rf"(?<!\\)\\u(?:({_HIGHS})\\u(d[c-f][0-9a-f]{{2}})|((?:{_FIRSTS})[0-9a-f]{{2}}))",
    re.IGNORECASE,
)
#: A run of escaped blank Braille cells touching no escaped Braille pattern with dots (a
#: drawing's cells stay, as `unseen` keeps them raw).
_ESCAPED_BRAILLE_BLANK = re.compile(
    r"(?<!\\)(?<!\\u28[0-9a-fA-F]{2})(?:\\u2800)++(?!\\u28(?!00)[0-9a-fA-F]{2})"
)


def _unescaped_unseen(match: re.Match[str]) -> str:
    """Nothing for the escape of a character that draws nothing; any other escape (a
    control's, a letter's) as it is."""
    if match[3] is not None:
        code = int(match[3], 16)
    else:
        code = 0x10000 + ((int(match[1], 16) - 0xD800) << 10) + int(match[2], 16) - 0xDC00
    ch = chr(code)
    if unicodedata.category(ch) == "Cc" or not draws_nothing(ch):
        return match[0]
    if _SEQUENCE_GLUE_CHARACTER.match(ch) and _in_escaped_emoji(match):
        return match[0]  # a joiner, selector or tag of an emoji sequence, escaped (`_visible`)
    if ch in "\u200c\u200d" and _in_escaped_word(match):
        return match[0]  # a joining script's joiner, escaped (`_visible`)
    return ""


def _joining(escape: str | None, raw: str | None) -> bool:
    """Whether a character beside a joiner (an escape's hex digits or a raw one) is of a
    joining script (`_JOINING_SCRIPT`)."""
    ch = chr(int(escape, 16)) if escape else raw
    return ch is not None and _JOINING_CHARACTER.match(ch) is not None


def _in_escaped_word(match: re.Match[str]) -> bool:
    """Whether the escaped joiner `match` found stands between two characters of a joining
    script, each raw or escaped (JSON dumped with ASCII only writes every Persian letter as
    `\\u06cc`)."""
    text = match.string
    before = _ESCAPED_BEFORE.search(text, max(0, match.start() - 6), match.start())
    after = _ESCAPED_AFTER.match(text, match.end())
    return (
        before is not None
        and after is not None
        and _joining(before[1], before[2])
        and _joining(after[1], after[2])
    )


#: The character before an escape, escaped or raw; the one after it.
_ESCAPED_BEFORE = re.compile(r"(?:\\u([0-9a-fA-F]{4})|(.))\Z", re.DOTALL)
_ESCAPED_AFTER = re.compile(r"\\u([0-9a-fA-F]{4})|(.)", re.DOTALL)


#: What an emoji sequence's escapes are read from: the text this far on either side.
_EMOJI_WINDOW = 128
#: A JSON escape, another escape (one character), or a character.
_ESCAPE_OR_CHARACTER = re.compile(r"\\u([0-9a-fA-F]{4})|\\(.)|(.)", re.DOTALL)


def _in_escaped_emoji(match: re.Match[str]) -> bool:
    """Whether the escape `match` found (a joiner's, a selector's, a tag's) is part of an emoji
    sequence (`_EMOJI_SEQUENCE`) in the text around it with its escapes decoded: JSON dumped
    with ASCII only writes `👩‍💻` as `\\ud83d\\udc69\\u200d\\ud83d\\udcbb`, which `_visible`
    keeps raw, and a second redaction must keep escaped."""
    text, start = match.string, match.start()
    decoded: list[str] = []
    at = -1
    high = False
    window = (max(0, start - _EMOJI_WINDOW), min(len(text), match.end() + _EMOJI_WINDOW))
    for piece in _ESCAPE_OR_CHARACTER.finditer(text, *window):
        if piece.start() == start:
            at = len(decoded)
        if piece[1] is None:
            decoded.append(piece[2] or piece[3])
            high = False
            continue
        unit = int(piece[1], 16)
        if high and 0xDC00 <= unit <= 0xDFFF:
            pair = 0x10000 + ((ord(decoded[-1]) - 0xD800) << 10) + unit - 0xDC00
            decoded[-1] = chr(pair)
            high = False
        else:
            decoded.append(chr(unit))
            high = 0xD800 <= unit <= 0xDBFF
    if at < 0:
        return False
    joined = "".join(decoded)
    return any(found.start() <= at < found.end() for found in _EMOJI_SEQUENCE.finditer(joined))


_LAYOUT = str.maketrans("", "", "\n\r\t")


def _layout_free(text: str) -> str:
    return text.translate(_LAYOUT)


#: A character drawn as an emoji (the blocks Unicode's Extended_Pictographic characters lie
#: in: arrows, technical and miscellaneous symbols, dingbats, the emoji planes' blocks).
_PICTOGRAPH = (
    "[\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u21aa\u231a-\u23ff\u24c2"
    "\u25aa-\u27bf\u2934\u2935\u2b05-\u2b55\u3030\u303d\u3297\u3299"
    "\U0001f000-\U0001faff]"
)
#: One emoji of a sequence: a pictograph, its presentation selector, its skin tone.
_EMOJI_ELEMENT = f"{_PICTOGRAPH}[\ufe0e\ufe0f]?[\U0001f3fb-\U0001f3ff]?"
#: An emoji written with characters that draw nothing by themselves, which `_visible` keeps
#: whole: emoji joined by zero-width joiners (a family, a profession, the rainbow flag), an
#: emoji and its presentation selector (`❤️`), a keycap (`1️⃣`), and the only subdivision
#: flags Unicode recommends (England, Scotland, Wales: a black flag, tag letters, a cancel
#: tag). Nothing else: tags that spell other text after a flag, a joiner or a selector between
#: letters or digits still go, so none of them hides a secret or text for the model to read.
_EMOJI_SEQUENCE = re.compile(
    f"{_EMOJI_ELEMENT}(?:\u200d{_EMOJI_ELEMENT})+"
    f"|{_PICTOGRAPH}[\ufe0e\ufe0f]"
    "|[0-9#*]\ufe0f\u20e3"
    "|\U0001f3f4\U000e0067\U000e0062"
    "(?:\U000e0065\U000e006e\U000e0067|\U000e0073\U000e0063\U000e0074"
    "|\U000e0077\U000e006c\U000e0073)\U000e007f"
)
#: The scripts whose words hold a zero-width non-joiner or joiner as spelling (Persian's
#: `می‌خواهم`, Urdu, Syriac, N'Ko, the Indic scripts after a virama, Mongolian): their letters
#: and marks. Between two of them one hides nothing (no rule reads these letters), and dropped
#: it changed the word.
_JOINING_SCRIPT = (
    "\u0600-\u06ff\u0700-\u074f\u0750-\u077f\u07c0-\u07ff\u08a0-\u08ff\u0900-\u0dff"
    "\u1800-\u18af\ufb50-\ufdff\ufe70-\ufeff"
)
#: A non-joiner or joiner a word of a joining script spells with, which `_visible` keeps.
_SCRIPT_JOINER = f"(?<=[{_JOINING_SCRIPT}])[\u200c\u200d](?=[{_JOINING_SCRIPT}])"
_JOINING_CHARACTER = re.compile(f"[{_JOINING_SCRIPT}]")
#: What `_visible` keeps whole: an emoji sequence, a joining script's joiner.
_KEPT = re.compile(f"{_EMOJI_SEQUENCE.pattern}|{_SCRIPT_JOINER}")
#: What an emoji sequence or a joining script's word holds that `_visible` would otherwise
#: drop: a text without any of these has nothing to keep.
_SEQUENCE_GLUE = re.compile("[\u200c\u200d\ufe0e\ufe0f\U000e007f]")
#: A character that an emoji sequence holds and that draws nothing alone: a joiner, a
#: selector, a tag (`_unescaped_unseen` keeps its escape inside a sequence).
_SEQUENCE_GLUE_CHARACTER = re.compile("[\u200d\ufe0e\ufe0f\U000e0020-\U000e007f]")


def _hides(text: str) -> bool:
    """Whether `text` holds an invisible character (`_visible` would change it). ASCII text
    holds none, and most text is printable: both checked in C first. An emoji sequence's
    joiners, selectors and tags (`_EMOJI_SEQUENCE`) are no invisible characters."""
    if text.isascii():
        return False
    if not text.isprintable() and not _layout_free(text).isprintable():
        return _SEQUENCE_GLUE.search(text) is None or _visible(text) != text
    return has_unseen(text) and (_SEQUENCE_GLUE.search(text) is None or _visible(text) != text)


def dropped(ch: str) -> bool:
    """Whether the redactor drops `ch` from every text it lets out (an invisible character)."""
    return _visible(ch) != ch


def _visible(text: str) -> str:
    """`text` without invisible characters (controls and whitespace are kept), each emoji
    sequence (`_EMOJI_SEQUENCE`) kept whole, and a joining script's joiners (`_SCRIPT_JOINER`):
    dropped, its joiners, selectors and tags made a family three faces, Scotland's flag a
    black one and Persian's `می‌خواهم` another spelling."""
    if _SEQUENCE_GLUE.search(text) is None:
        return _without_invisible(text)
    pieces: list[str] = []
    last = 0
    for sequence in _KEPT.finditer(text):
        pieces += (_without_invisible(text[last : sequence.start()]), sequence[0])
        last = sequence.end()
    pieces.append(_without_invisible(text[last:]))
    return "".join(pieces)


def _without_invisible(text: str) -> str:
    """`text` without any invisible character (`_visible` without its emoji sequences)."""
    category = unicodedata.category
    shown = "".join(ch for ch in text if ch.isprintable() or category(ch) not in _INVISIBLE)
    return without_unseen(shown)


#: JSON's escapes of letters and digits (`\u0070assword`), which hide a name from every rule;
#: not after an escaped backslash (`C:\\\\u0041dmin` is a folder named `u0041dmin`: undone, the
#: text would mean another path and be JSON no more). Escaped a level further down, such an
#: escape is the level-down pass's (`escaped_twice`).
_ALNUM_ESCAPE = re.compile(r"(?<!\\)\\u00(3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|6[1-9A-Fa-f]|7[0-9Aa])")


#: JSON's long escapes of a tab and line breaks (`\\u000a`), which some encoders write for
#: `\\n`: written short, so a token after one starts a word as after `\\n` (`_START`).
_BREAK_ESCAPE = re.compile(r"(?<!\\)\\u000([9aAdD])")
_SHORT_ESCAPES = {"9": "\\t", "a": "\\n", "d": "\\r"}


#: A `/` escaped once or more (`\/`; `\\/` in JSON inside JSON), undone whole in one pass, so
#: that redacting the result again finds nothing more to undo.
_ESCAPED_SLASH = re.compile(r"\\{1,64}+/")


def _json_unescaped(text: str) -> str:
    """`text` with the JSON escapes that change no meaning undone: `\\/` (PHP's json_encode
    writes every URL so, and a webhook URL would pass its rule), at any depth of escaping,
    escaped letters and digits, and a tab or line break escaped long (`\\u000a` as `\\n`);
    escaped characters that draw nothing (`_unescaped_unseen`) are dropped, as `_visible`
    drops them raw. Escaped quotes and controls stay, so JSON text stays JSON."""
    if "\\/" in text:
        text = _ESCAPED_SLASH.sub("/", text)
    if "\\u" in text:
        text = _ESCAPED_MAYBE_UNSEEN.sub(_unescaped_unseen, text)
        if "\\u2800" in text:
            text = _ESCAPED_BRAILLE_BLANK.sub("", text)
    if "\\u00" in text:
        text = _ALNUM_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)
        text = _BREAK_ESCAPE.sub(lambda m: _SHORT_ESCAPES[m[1].lower()], text)
    return text


#: An HTML character reference: `&#61;`, `&#x3D;`, `&quot;`.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

#: Cyrillic and Greek letters drawn like Latin ones, and those Latin letters.
_LOOKALIKES = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0455\u0456\u0458\u0501\u051d\u04bb\u04cf"
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0405\u0406\u0408"
    "\u03bf\u03b1\u03c1\u03bd\u03c4\u03ba\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c"
    "\u039d\u039f\u03a1\u03a4\u03a5\u03a7",
    "aeopcyxsijdwhlABEKMHOPCTXSIJoapvtkABEZHIKMNOPTYX",
)
#: Latin small capitals (`password` written in them), which NFKC leaves as they are, and the capital letters
#: they are drawn as: Latin letters, so a word of them alone is a disguise too.
_SMALL_CAPITALS = str.maketrans(
    "\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a\u1d0a\u1d0b\u029f\u1d0d"
    "\u0274\u1d0f\u1d18\u0280\ua731\u1d1b\u1d1c\u1d20\u1d21\u028f\u1d22",
    "ABCDEFGHIJKLMNOPRSTUVWYZ",
)
#: Letters of other scripts drawn like Latin ones that `_LOOKALIKES` leaves out: Cyrillic
#: omega and Greek omega (`w`), Cyrillic qa (`q`), Armenian o, u, n, h, and the Latin script g.
_MORE_LOOKALIKES = str.maketrans(
    "\u0461\u0460\u03c9\u051b\u0585\u057d\u0578\u0570\u0261", "wWwqounhg"
)
_LETTERS = re.compile(r"[^\W\d_]{2,128}+")
#: Characters drawn as a colon that NFKC leaves as they are: the ratio sign, the modifier
#: letters' triangular and plain colons and the raised one, Armenian's full stop, the
#: two-dot punctuation, Mongolian's colon, the Lisu tone letter, Hebrew's sof pasuq; and one
#: drawn as `=`: the modifier letter short equals sign. Each hides a name's pair from every
#: rule as a full-width colon would (`password` and the ratio sign).
_SEPARATORS = str.maketrans(
    dict.fromkeys("\u2236\u02d0\ua789\u02f8\u0589\u205a\u1804\ua4fd\u05c3", ":") | {"\ua78a": "="}
)
#: Unicode's dashes and minus, which join a name's words as `-` does (`API\u2011KEY`).
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63", "-"))


def _latinised(match: re.Match[str]) -> str:
    """A word with its look-alike letters made Latin, if it mixes them with Latin ones (a
    disguised `password` with a Cyrillic a), and its Latin letters without their accents
    (`pässwörd`, `api_kéy`: `_unaccented`); a word in one script (Russian, Greek prose)
    stays."""
    word = match[0]
    if word.isascii():
        return word
    capitals = word.translate(_SMALL_CAPITALS)
    if not any("a" <= c.lower() <= "z" for c in capitals):
        return word
    return _unaccented(capitals.translate(_LOOKALIKES).translate(_MORE_LOOKALIKES))


#: Combining marks (the diacritics', the supplement's, those for symbols, the half marks).
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]++")
#: … a run of them after an ASCII letter, which NFKC composed no letter of (`s\u0336`: struck
#: through): they draw that letter as the reader reads it.
_MARKS_AFTER_LATIN = re.compile(rf"(?<=[A-Za-z]){_COMBINING.pattern}")


def _accents_table() -> dict[int, str]:
    """Each Latin letter with a diacritic (Latin-1 to Latin Extended-B, Latin Extended
    Additional) to the ASCII letter NFD splits it into; letters NFD makes no ASCII letter of
    (`ß`, `ø`) are left out."""
    table: dict[int, str] = {}
    for low, high in ((0x00C0, 0x024F), (0x1E00, 0x1EFF)):
        for code in range(low, high + 1):
            bare = _COMBINING.sub("", unicodedata.normalize("NFD", chr(code)))
            if len(bare) == 1 and bare.isascii() and bare.isalpha():
                table[code] = bare
    return table


_ACCENTS = _accents_table()
#: The stems of the English names of secrets, one of which an accented disguise of one holds.
_NAME_STEM = re.compile(
    r"pass|pw|token|secret|key|auth|cred|cookie|session|sig|priv|otp|pin|jwt|bearer|salt|seed",
    re.IGNORECASE,
)


def _unaccented(word: str) -> str:
    """`word` with each accented Latin letter written as its ASCII letter (`_ACCENTS`), when
    it then holds a stem of a secret's name: a name a disguise accented (`pässwörd`,
    `api_kéy`) reads bare. Any other word stays, so accented prose (French, German) leaves
    the text as it was and is not read by the rules twice; and this text replaces the first
    only when the rules find more in it."""
    bare = word.translate(_ACCENTS)
    return bare if bare != word and _NAME_STEM.search(bare) else word


#: An escaped printable ASCII character: JSON's `\u0022`, Go's `\u003c` `\u003e` `\u0026`,
#: `\u003d`; nginx's log escapes and C's, `\x22`. Quotes and separators so escaped hide a
#: name's pair from every rule.
_HEX_ESCAPE = re.compile(r"\\(?:u00|x)([2-6][0-9A-Fa-f]|7[0-9A-Ea-e])")


def _unescaped_char(match: re.Match[str]) -> str:
    """The character an escape stands for; a quote or a backslash stays escaped (`\\"`), so a
    JSON string stays one."""
    char = chr(int(match[1], 16))
    return f"\\{char}" if char in '"\\' else char


#: JSON's escape of a letter beyond ASCII (`\u043f` for `п`: `ensure_ascii` writes every
#: one so), which hides a name in another language (`пароль`, `密码`) from every rule.
_LETTER_ESCAPE = re.compile(r"\\u(?!00[0-7])([0-9A-Fa-f]{4})")


def _unescaped_letter(match: re.Match[str]) -> str:
    """The letter an escape stands for; any other character (a quote, a control, half of a
    surrogate pair) stays escaped."""
    char = chr(int(match[1], 16))
    return char if char.isalpha() else match[0]


#: A terminal's control sequence (CSI: colours and cursor moves, `ESC[01;31m`, grep's
#: `ESC[K`): raw, or its ESC escaped as JSON (`\\u001b`), C (`\\x1b`, `\\033`) writes it.
#: A coloured log or `grep --color=always` puts them inside a token, which no rule then
#: reads whole, while a terminal or a sink that drops them shows it whole.
_ANSI_ESCAPE = re.compile(r"(?:\x1b|\\u001[bB]|\\x1[bB]|\\033)\[[0-?]{0,32}+[ -/]{0,4}+[@-~]")


def _uncoloured(text: str) -> str:
    """`text` without a terminal's control sequences (`_ANSI_ESCAPE`)."""
    if "\x1b" not in text and "\\" not in text:
        return text
    return _ANSI_ESCAPE.sub("", text)


#: A quoted-printable soft line break (RFC 2045 6.7): `=` ending a line whose break is no part
#: of the text, where an e-mail's body wraps a long token; raw, or escaped inside a JSON string.
_SOFT_BREAK = r"=(?:\r?\n|(?:\\r)?\\n)"
_BREAKS = re.compile(_SOFT_BREAK)
#: A token that soft line breaks cut into pieces: its first piece, then each break and the
#: piece after it (a long key wraps over several lines).
SOFT_BROKEN = re.compile(
    r"(?<![A-Za-z0-9_+/.-])[A-Za-z0-9_+/.-]{1,512}+"
    rf"(?:{_SOFT_BREAK}[A-Za-z0-9_+/.][A-Za-z0-9_+/.-]{{0,511}}+){{1,16}}+"
)
#: The lengths of a line a quoted-printable encoder wrapped, its `=` included: it fills a line
#: to 76 characters (a few write shorter; a JSON string's first line has the text before its
#: quote too). A shorter line ending in `=` is an empty setting (`DB_PASSWORD=`, a line break,
#: the next setting).
_WRAPPED_LINE = range(40, 161)


def soft_broken(match: re.Match[str]) -> str | None:
    """A `SOFT_BROKEN` token read whole when each of its breaks ends a line of a wrapped
    length (`_WRAPPED_LINE`), else None."""
    text = match.string
    for brk in _BREAKS.finditer(text, match.start(), match.end()):
        at = brk.start()
        escaped = text.rfind("\\n", 0, at)
        line_start = max(text.rfind("\n", 0, at) + 1, escaped + 2 if escaped >= 0 else 0)
        if at + 1 - line_start not in _WRAPPED_LINE:
            return None
    return _BREAKS.sub("", match[0])


def has_soft_break(text: str) -> bool:
    """Whether `text` holds a soft line break (`SOFT_BROKEN` reads only such texts)."""
    return "=\n" in text or "=\r\n" in text or "=\\n" in text or "=\\r\\n" in text


def _unmasked(text: str) -> str:
    """`text` with the disguises undone that hide a name from every rule: a terminal's colour
    escapes, HTML character references, escaped punctuation (`\\u0022`, `\\x22`) and letters
    (`\\u043f`), compatibility forms (full-width, mathematical letters: NFKC), combining
    marks on a Latin letter and accents (`pa\\u0301ssword`, `pässwörd`), look-alike
    letters inside a Latin word (small capitals too), Unicode's dashes and look-alike colons
    (`_SEPARATORS`), and invisible characters any of these made."""
    text = _uncoloured(text)
    if "\\" in text:
        text = _HEX_ESCAPE.sub(_unescaped_char, text)
        if "\\u" in text:
            text = _LETTER_ESCAPE.sub(_unescaped_letter, text)
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m[0]), text)
    if not text.isascii():
        text = _MARKS_AFTER_LATIN.sub("", unicodedata.normalize("NFKC", text))
        text = _LETTERS.sub(_latinised, text)
        text = text.translate(_DASHES).translate(_SEPARATORS)
        if _hides(text):
            text = _visible(text)
    return text
