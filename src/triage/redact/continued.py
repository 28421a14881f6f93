"""A secret's value continued over lines after its name's `=` (`--hmac-key=\\`, `DB_PASSWORD=\\`
in a shell script, Java .properties' `db.password=first\\` then `    rest`; raw or inside a
JSON string): the name rules read the value on the name's line only, where the continuation's
backslash ends it, so each piece goes, the backslashes, breaks and indentation kept. So does
one a container runtime's log (CRI) cut between a partial record (`P`) and the next record.

And a secret's value an INI file continues on indented lines below it (configparser's
`password = first` then `\tsecond`): each line goes, after the pair rules took the first.

And a secret split into literals joined by `+` or SQL's `||` (`"ghp_…" + "…"`, `'gh' + 'p_…'`,
`'ghp_…' + sep + '…'`): the literals are read joined, by the token rules and under the name
before them, and each piece goes, the variables and calls between them kept.
"""

from __future__ import annotations

import re

from triage.redact.named_values import named_value_secret
from triage.redact.names import secret_named
from triage.redact.rule import _CHAIN_JOIN, _CHAIN_OPERAND, _NAME_ASSIGNED_BEFORE, _Rule, _rule

#: The name before the `=`: a word, an option's dashes aside (`--hmac-key`, `DB_PASSWORD`).
_NAME_BEFORE = re.compile(r"(?<![\w.$-])-{0,2}+(?P<name>[A-Za-z_][\w.-]{0,127}+)\Z")
#: A piece of a value on one line: no space, quote, backslash or a shell's operator.
_PIECE = r"[^\s\"'\\&;|]"
#: A continuation: the backslash glued to the piece before it (escaped inside a JSON string),
#: the line break (raw or escaped) and the next line's indentation.
_CONTINUATION = r"\\{1,2}(?:\r?\n|(?:\\r)?\\n)[ \t]{0,64}+"
_PIECES = re.compile(rf"(?P<piece>{_PIECE}{{0,512}}+)(?P<join>{_CONTINUATION}|\Z)")


def _continued_value(match: re.Match[str]) -> str:
    """Every piece of the value replaced, its continuations kept, if the name before the `=`
    says the value is a secret (`named_value_secret`, asked of the pieces joined); else the
    match unchanged."""
    start = match.start()
    name = _NAME_BEFORE.search(match.string, max(0, start - 132), start)
    value = match["value"]
    pieces = [(m["piece"], m["join"]) for m in _PIECES.finditer(value) if m[0]]
    joined = "".join(piece for piece, _ in pieces)
    if name is None or not named_value_secret(name["name"], joined):
        return match[0]
    replaced = "".join(("[REDACTED:password]" if piece else "") + join for piece, join in pieces)
    return f"={replaced}"


#: A CRI log record's head: its RFC 3339 time, its stream and its tag (`P`artial, `F`ull).
_CRI_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
#: One character of a record's line, in raw text or inside a JSON string (where `\\n` ends it).
_CRI_CHAR = r"(?:[^\r\n\\]|\\[^nr])"
_BREAK = r"(?:\r?\n|(?:\\r)?\\n)"


def _cri_continued(match: re.Match[str]) -> str:
    """The value at a partial record's end and its rest at the next record's start replaced, if
    the name before the `=` says the joined value is a secret; else the match unchanged."""
    if not named_value_secret(match["name"], match["head"] + match["tail"]):
        return match[0]
    head_end = match.start("head") - match.start()
    between = match[0][match.end("head") - match.start() : match.start("tail") - match.start()]
    return f"{match[0][:head_end]}[REDACTED:password]{between}[REDACTED:password]"


#: A run of lines joined by a backslash at each one's end (a shell command split over lines, a
#: Dockerfile's RUN, a `.properties` value continued below its name: `db.password = \\` then
#: the indented value): from a line's start, up to 16 continuations, each line 512
#: characters at most and holding no other backslash.
_CONTINUED_LINES = (
    r"(?m:^)[^\r\n\\]{1,512}+\\\r?\n(?:[^\r\n\\]{1,512}+\\\r?\n){0,15}+[^\r\n\\]{1,512}+"
)
#: A continuation: the spaces before the backslash, the backslash, the break and the next
#: line's indentation.
_LINE_JOIN = re.compile(r"(?P<space>[ \t]{0,64}+)\\\r?\n[ \t]{0,64}+")
_PLACEHOLDER = re.compile(r"\[REDACTED:[a-z0-9-]{1,32}\]")


def _joined_lines(match: re.Match[str]) -> str:
    """Lines continued by a backslash read as the one line they are (`_joined`): what the
    rules find in the joined line goes from the lines as written, their breaks kept, so that
    `mysql -u root \\` then `-pPW` and a `.properties` name with its value below are read as
    on one line. The match unchanged when the joined line holds nothing to redact."""
    # Imported here: the token rules hold this module's rules, so it loads before the rules.
    from triage.redact.scrub import _scrub

    text = match[0]
    joined, origin = _joined(text)
    redacted = _scrub(joined, ())
    if redacted == joined:
        return text
    spans = _replaced_spans(joined, redacted)
    if spans is None:
        return redacted  # not aligned: the joined line redacted, its breaks lost, leaks nothing
    pieces: list[str] = []
    at = 0
    for start, end, placeholder in spans:
        first, last = origin[start], origin[end - 1] + 1 if end > start else origin[start]
        kept_breaks = "".join(join[0] for join in _LINE_JOIN.finditer(text, first, last))
        pieces += (text[at:first], placeholder + kept_breaks)
        at = last
    pieces.append(text[at:])
    return "".join(pieces)


def _joined(text: str) -> tuple[str, list[int]]:
    """`text`'s lines joined where a backslash continues them (by a space where one stood
    before the backslash, as a shell reads it; glued where none did, as a `.properties`
    value's pieces are), and for each character of the joined line its place in `text` (a
    space a join wrote: the place of the continuation it stands for)."""
    pieces: list[str] = []
    origin: list[int] = []
    at = 0
    for join in _LINE_JOIN.finditer(text):
        pieces.append(text[at : join.start()])
        origin.extend(range(at, join.start()))
        if join["space"]:
            pieces.append(" ")
            origin.append(join.start())
        at = join.end()
    pieces.append(text[at:])
    origin.extend(range(at, len(text) + 1))  # … and the text's end, for a span ending there
    return "".join(pieces), origin


def _replaced_spans(joined: str, redacted: str) -> list[tuple[int, int, str]] | None:
    """Where in `joined` each placeholder of `redacted` stands (start, end, placeholder): the
    text between placeholders is `joined`'s as written, so each placeholder replaced what
    lies between the text before it and the text after it. The first such reading that
    accounts for all of `joined`; None when there is none (a rule changed more than a span)."""
    texts = _PLACEHOLDER.split(redacted)
    placeholders = _PLACEHOLDER.findall(redacted)
    if not joined.startswith(texts[0]):
        return None
    spans: list[tuple[int, int, str]] = []

    def walk(index: int, start: int) -> bool:
        """Whether the placeholders from `index` on, the first replacing from `start`, read
        the rest of `joined`; their spans appended to `spans`."""
        after = texts[index + 1]
        if index == len(placeholders) - 1:
            end = len(joined) - len(after)
            if end < start or not joined.endswith(after):
                return False
            spans.append((start, end, placeholders[index]))
            return True
        end = joined.find(after, start + 1) if after else start + 1
        tries = 0
        while end >= 0 and tries < 64:
            spans.append((start, end, placeholders[index]))
            if walk(index + 1, end + len(after)):
                return True
            spans.pop()
            end = joined.find(after, end + 1) if after else end + 1
            tries += 1
        return False

    return spans if walk(0, len(texts[0])) else None


CONTINUED_RULES: tuple[_Rule, ...] = (
    # From the `=` (which the engine jumps to): pieces, each but the last ending in a
    # continuation, at least one; the first piece may be empty (`NAME=\\`).
    _rule(
        rf"=(?!\[REDACTED)(?P<value>(?:{_PIECE}{{0,512}}+{_CONTINUATION}){{1,16}}+"
        rf"(?!\[REDACTED){_PIECE}{{1,512}}+)",
        _continued_value,
        # The backslash and the break, not the `=`: a needle's first character is a place the
        # search for needles stops at, and `=` is in most texts.
        *("\\\n", "\\\r", "\\\\n", "\\\\r"),
        fold_needles=True,
    ),
    # A CRI partial record (`<time> stdout P …`) whose last word is `name=value`, and the first
    # word of the record after it, which the runtime cut from that value: read joined.
    _rule(
        rf"(?:stdout|stderr) P {_CRI_CHAR}{{0,4096}}?(?<![\w.$-])-{{0,2}}(?P<name>[A-Za-z_][\w.-]{{0,127}}+)="
        rf"(?P<head>{_PIECE}{{1,512}}+){_BREAK}{_CRI_TIME} (?:stdout|stderr) [PF] (?P<tail>{_PIECE}{{1,512}}+)",
        _cri_continued,
        "stdout P ",
        "stderr P ",
    ),
    # Lines a backslash continues, read joined (`_joined_lines`): after the rule above, which
    # reads a value glued to its `=`.
    _rule(_CONTINUED_LINES, _joined_lines, "\\\n", "\\\r", fold_needles=True),
)


#: What a literal holds: no quote, backslash or line break (a token holds none).
_LITERAL = r"""[^"'\\\r\n]{1,512}+"""
#: Literals in double quotes (`\\"` inside a JSON string) or in single quotes joined by `+`
#: (most languages) or `||` (a space on either side at most), with variables or calls between
#: them or not (`_CHAIN_OPERAND`): two literals at least, the chain's first one not yet a
#: placeholder.
_DOUBLE_QUOTED = (
    rf"""(?P<dq>\\?")(?!\[REDACTED){_LITERAL}(?P=dq)"""
    rf"""(?:(?:{_CHAIN_JOIN}{_CHAIN_OPERAND}){{0,4}}+{_CHAIN_JOIN}(?P=dq){_LITERAL}(?P=dq)){{1,16}}+"""
)
_SINGLE_QUOTED = (
    rf"'(?!\[REDACTED){_LITERAL}'"
    rf"(?:(?:{_CHAIN_JOIN}{_CHAIN_OPERAND}){{0,4}}+{_CHAIN_JOIN}'{_LITERAL}'){{1,16}}+"
)
_LITERALS = re.compile(rf"""(?P<quote>\\?["'])(?P<text>{_LITERAL})(?P=quote)""")


def _joined_literals(match: re.Match[str]) -> str:
    """Each literal that holds a piece of a secret replaced, quotes and joins kept: those a
    token or a cloud key found in the joined text overlaps (its placeholder in each), or
    every literal when the name assigned before them says the joined value is a secret; else
    the match unchanged."""
    # Imported here: the token rules hold this module's rules, so it loads first.
    from triage.redact.cloud import CLOUD_RULES
    from triage.redact.tokens import _by_token_rules

    literals = list(_LITERALS.finditer(match[0]))
    joined = "".join(lit["text"] for lit in literals)
    # The cloud rules too: an AWS key id cut after its prefix (`'AKIA' + '…'`) is a token.
    redacted = _by_token_rules(joined, *CLOUD_RULES)
    start = match.start()
    name = _NAME_ASSIGNED_BEFORE.search(match.string, max(0, start - 140), start)
    if redacted != joined:
        placeholder = re.search(r"\[REDACTED:[a-z0-9-]{1,32}\]", redacted)
        shown = placeholder[0] if placeholder else "[REDACTED:token]"
        prefix = len(_common_prefix(joined, redacted))
        # The common end, not reaching into the common start (`abc` + `Xabc`).
        most = min(len(joined), len(redacted)) - prefix
        suffix = min(len(_common_prefix(joined[::-1], redacted[::-1])), most)
        changed = (prefix, len(joined) - suffix)
    elif name is not None and named_value_secret(name["name"], joined):
        shown = "[REDACTED:password]"
        changed = (0, len(joined))
    else:
        return match[0]
    pieces: list[str] = []
    last = 0
    offset = 0
    for lit in literals:
        end = offset + len(lit["text"])
        pieces.append(match[0][last : lit.start("text")])
        overlaps = offset < changed[1] and end > changed[0]
        pieces.append(shown if overlaps else lit["text"])
        last = lit.end("text")
        offset = end
    pieces.append(match[0][last:])
    return "".join(pieces)


def _common_prefix(first: str, second: str) -> str:
    """The longest start `first` and `second` share."""
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return first[:count]


CONCATENATED_RULES: tuple[_Rule, ...] = (
    # Two literals or more in the same quotes, joined by `+` or `||`: looked for by the join
    # after a double-quoted chain's first literal, before a single-quoted one's last (a needle
    # starting with `'` would stop the search for needles at every apostrophe).
    _rule(
        f"(?:{_DOUBLE_QUOTED}|{_SINGLE_QUOTED})",
        _joined_literals,
        *('" +', '"+', "+ '", "+'", "||"),
        fold_needles=True,
    ),
)


#: A line break, raw or escaped in a JSON string, and the indentation after it (tabs escaped
#: too): what starts a line an INI file continues its value on.
_INDENTED_BREAK = r"(?:\r?\n|(?:\\r)?\\n)(?:[ \t]|\\t){1,64}+"
#: One continuation line's word: a placeholder (already taken) or one run with no blank, no
#: backslash, quote or bracket (a line of prose, a stack frame, an indented pair has a blank
#: inside; code wrapped below an opening bracket, `os.environ["X"]`, has brackets) …
_CONTINUED_WORD = r"""(?:\[REDACTED:[\w-]{1,32}+\]|[^\s\\"'()\[\]{}<>]{1,512}+(?<!:))"""
#: … which ends its line: blanks at most, then a break, the JSON string's end or the text's.
_LINE_ENDS = r"(?:[ \t]|\\t){0,8}+(?=\r?\n|\\[rn]|\"|\Z)"
_CONTINUED_WORDS = re.compile(rf"(?P<break>{_INDENTED_BREAK}){_CONTINUED_WORD}")


def _ini_continued(match: re.Match[str]) -> str:
    """Each indented line below a secret's redacted value replaced, its break and indentation
    kept, when the name heading the pair says secret (`secret_named`); else the match as it
    is. configparser reads such a line as more of the value above, so the value's rest."""
    if not secret_named(match["name"]):
        return match[0]
    rest = _CONTINUED_WORDS.sub(lambda word: f"{word['break']}[REDACTED:password]", match["rest"])
    return f"{match['head']}{rest}"


INI_CONTINUED_RULES: tuple[_Rule, ...] = (
    # After the pair rules: a name heading its line (raw, or after an escaped break inside a
    # JSON string), its `=` or `:`, the value they replaced, then lines indented below it of
    # one word each; a line of words, an unindented line or a blank line ends the value.
    _rule(
        r"(?P<head>(?:(?m:^)|(?<=\\n))(?P<name>[A-Za-z_][\w.-]{0,127}+)[ \t]{0,8}+[=:][ \t]{0,8}+"
        r"\[REDACTED:password\])"
        rf"(?P<rest>(?:[ \t]{{0,8}}+{_INDENTED_BREAK}{_CONTINUED_WORD}{_LINE_ENDS}){{1,64}}+)",
        _ini_continued,
        "[REDACTED:password]",
    ),
)
