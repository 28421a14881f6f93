"""What a rule is, and the pieces the rules' patterns and replacements are built from.

A rule is a pattern, its replacement, and its needles: literals of which every match holds
one, so that `scrub` can skip the rule for text holding none. The pattern is compiled when a
text first holds one of its needles: most rules embed a secret's name (thousands of
characters), and a process that never redacts such text (a command that exits, a test) need
not pay for them all at import. The pieces here say once how
a secret's edges (`_START`, `_END`), a name's separator (`_ASSIGN`) and the brackets that wrap a
value (`_wrapper_start`) are read, so that every rule reads them alike.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

_Replacement = str | Callable[[re.Match[str]], str]
#: `re.Pattern`'s default end of a search: the string's end, however long.
_ENDPOS = sys.maxsize


class _Rule:
    """A rule's pattern (its source and flags, compiled on first use: `pattern`), replacement
    and needles."""

    __slots__ = (
        "_compiled",
        "_shape",
        "flags",
        "folded",
        "gate",
        "needles",
        "replacement",
        "source",
    )

    def __init__(
        self,
        source: str,
        flags: int,
        replacement: _Replacement,
        needles: tuple[str, ...],
        folded: bool,
        gate: Callable[[str], bool] | None = None,
    ) -> None:
        self.source = source
        self.flags = flags
        self.replacement = replacement
        #: Literals of which every match contains one (empty: always run the pattern). Text
        #: with none of them is skipped: most strings of an alert hold none, and looking for a
        #: few literals costs far less than the scan of a pattern that does not start with
        #: them.
        self.needles = needles
        #: Its needles (lower case) are looked for in the folded text: the pattern ignores
        #: case, or its needles start with a letter that only folded needles start with
        #: (`fold_needles`).
        self.folded = folded
        #: For a rule no literal starts (no needles), a test a text must pass for the pattern
        #: to match, cheaper than the pattern's scan (`holds_run`, `holds_break`); None: none.
        self.gate = gate
        self._compiled: re.Pattern[str] | None = None
        self._shape: tuple[bool, int] | None = None

    @property
    def shape(self) -> tuple[bool, int]:
        """What the pattern says of every match, for `scrub` to skip a text that cannot hold
        one without calling the regex engine: whether it starts where a line does
        (`_starts_at_line`), and the fewest characters it holds (the engine's own bound, by
        which it gives up on a shorter text after the cost of a call). Read from the pattern
        when it is compiled (`pattern`)."""
        shape = self._shape
        if shape is None:
            shape = self._shape = _shape_of(self.source, self.flags)
        return shape

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled pattern, compiled the first time it is asked for (two threads asking
        at once compile it twice, and keep either); its `shape` read then too, so that a
        process compiling its rules ahead of its children (tests/fork_harness.py) reads both
        for them."""
        compiled = self._compiled
        if compiled is None:
            if self._shape is None:
                self._shape = _shape_of(self.source, self.flags)
            compiled = self._compiled = re.compile(self.source, self.flags)
        return compiled


#: The standard library's reader of a pattern, which `re.compile` itself uses: `_Rule.shape`
#: reads a pattern's start and its shortest match from it. Imported by name: the type stubs
#: leave the private module out.
_parser: Any = importlib.import_module("re._parser")
#: The anchors that hold only where a line starts: `^` (at the text's start, or after a `\n`
#: with MULTILINE) and `\A`.
_LINE_STARTS = frozenset(
    {_parser.AT_BEGINNING, _parser.AT_BEGINNING_LINE, _parser.AT_BEGINNING_STRING}
)


def _starts_at_line(items: Any) -> bool:
    """Whether every match of a parsed pattern (`re._parser`'s items, in order) starts at a
    line's start: its first item that reads text is one of `_LINE_STARTS`, in each branch
    and inside the groups around it (a look-around before it reads nothing). Such a rule
    cannot match a text with no `\n` anywhere but at its start, which one `match` tells:
    the regex engine would try it at every position (it skips ahead only for a `^` outside
    any group). Anything else (a repeat, an atomic group) answers no, as the rule is then
    run as before."""
    for op, av in items:
        if op is _parser.AT:
            return av in _LINE_STARTS
        if op is _parser.SUBPATTERN:
            return _starts_at_line(av[3])
        if op is _parser.BRANCH:
            return all(_starts_at_line(branch) for branch in av[1])
        if op not in (_parser.ASSERT, _parser.ASSERT_NOT):
            return False
    return False


def _shape_of(source: str, flags: int) -> tuple[bool, int]:
    """`_Rule.shape` of the pattern `source` with `flags`."""
    parsed = _parser.parse(source, flags)
    return _starts_at_line(parsed), parsed.getwidth()[0]


class _LazyPattern:
    """A module's pattern compiled the first time it is used, as a rule's is (`_Rule.pattern`):
    one that embeds a secret's name (`names._SECRET_NAME`, thousands of characters) costs
    10-20 ms to compile, which a process that never reads such text need not pay at import.
    It answers the calls of `re.Pattern` the redactor makes."""

    __slots__ = ("_compiled", "flags", "source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self.source = source
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (two threads asking at once compile it twice, and keep either)."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.source, self.flags)
        return compiled

    def search(self, string: str, pos: int = 0, endpos: int = _ENDPOS) -> re.Match[str] | None:
        return self.compiled.search(string, pos, endpos)

    def match(self, string: str, pos: int = 0, endpos: int = _ENDPOS) -> re.Match[str] | None:
        return self.compiled.match(string, pos, endpos)

    def fullmatch(self, string: str, pos: int = 0, endpos: int = _ENDPOS) -> re.Match[str] | None:
        return self.compiled.fullmatch(string, pos, endpos)

    def sub(self, repl: _Replacement, string: str, count: int = 0) -> str:
        return self.compiled.sub(repl, string, count)


#: Each rule's needles, one tuple for rules that look for the same ones the same way: `_scrub`
#: gives each such tuple one bit, found once for them all.
_SHARED_NEEDLES: dict[tuple[tuple[str, ...], bool], tuple[str, ...]] = {}


def _rule(
    source: str,
    replacement: _Replacement,
    *needles: str,
    flags: int = 0,
    fold_needles: bool = False,
    gate: Callable[[str], bool] | None = None,
) -> _Rule:
    """A rule. `fold_needles` looks for the needles of a case-sensitive pattern in the folded
    text, among the needles of the rules that ignore case: a match holds its needle lowered
    there too, and the search for needles skips the characters that no needle starts with, so
    a needle's first letter is best one the others' already start with. `gate`: a test every
    text holding a match passes (`_Rule.gate`), for a rule without needles."""
    folded = bool(flags & re.IGNORECASE) or fold_needles
    assert not folded or all(n == n.lower() for n in needles), "folded needles are lower case"
    needles = _SHARED_NEEDLES.setdefault((needles, folded), needles)
    return _Rule(source, flags, replacement, needles, folded, gate)


#: Each byte that is no base64 character (`[A-Za-z0-9/+]`) written as a space.
_NOT_BASE64_CHAR = bytes(
    byte if chr(byte).isascii() and (chr(byte).isalnum() or chr(byte) in "/+") else 32
    for byte in range(256)
)


def _longest_base64_run(text: str) -> int:
    """The longest run of `[A-Za-z0-9/+]` in `text`: read in C (bytes split at the others),
    not by the regex engine, which would try a pattern at every position."""
    runs = text.encode("ascii", "replace").translate(_NOT_BASE64_CHAR).split()
    return max(map(len, runs), default=0)


def holds_run(length: int) -> Callable[[str], bool]:
    """A rule's gate: whether a text holds a run of `length` characters of `[A-Za-z0-9/+]`,
    as every match of the rule does (AWS's secret key by its shape alone). A rule that
    starts with a set of characters (a WIF key's `[59KLc]`, a card's `[2-6]`) needs none:
    the engine skips between them about as fast as a gate reads the text."""

    def gate(text: str) -> bool:
        return len(text) >= length and _longest_base64_run(text) >= length

    return gate


def holds_break(text: str) -> bool:
    """A rule's gate: whether a text holds a line break, raw or escaped (`\\n`)."""
    return "\n" in text or "\\n" in text


def _spellings(*words: str) -> tuple[str, ...]:
    """`words` joined directly and by each of `_ . -`: the needles of `api[_.-]?key`."""
    return tuple(sep.join(words) for sep in ("", "_", "-", "."))


# `\b` is wrong at the edges of a secret: `_` is a word character, so `\bAKIA` misses
# `KEY_AKIA…` and `\bpassword` misses `DB_PASSWORD`. A secret starts where no letter or digit
# comes before it and ends before one. (After a percent-escape, `alarm%3DAKIA…`, a letter or
# digit does come before it: the decoded token is redacted instead, see `_scrub_escaped`.)
# An escaped line break or tab inside a JSON string (`"line\nghp_…"`) ends a word too: its
# `n`, `r` or `t` is no letter of the secret. One look-behind says both (a letter or digit
# before, unless it is an escape's), as cheap as the plain one at the many positions after
# neither.
_START = r"(?<![A-Za-z0-9](?<!\\[nrt]))"
_END = r"(?![A-Za-z0-9])"
_B64 = "[A-Za-z0-9/+]"  # one character of a base64 secret
_B64URL = "[A-Za-z0-9_-]"  # … of a URL-safe one
#: A line break inside a token: raw, or escaped inside a JSON string.
_BREAK = r"(?:\r?\n|\\n)"
#: How a rule that reads lines reads them in raw text, and inside a JSON string: a line break
#: (`\\r\\n` and `\\n` escaped), and one character (or escape) of a line, which ends at the
#: next break or, inside a JSON string, at the string's closing quote.
_LINES = ((r"\r?\n", r"[^\r\n]"), (r"(?:\\r)?\\n", r"""(?:[^\r\n\\"]|\\[^nr])"""))
#: Between a name and its value: `=` (not a comparison's `==`), `:` (not one of a path's `::`; LDIF's `:: ` before
#: base64), `=>` or `:=`, an arrow (`->` between spaces, R's
#: `<-` and `<<-`, `→`, `⇒`, `⟶`, `➜`), with a closing quote after a quoted name (`"key": `,
#: `\"key\":` inside a JSON string) and spaces around (up to 64 before it, as aligned
#: configuration has). Atomic and possessive: `=>` is never taken back to make `>` the value,
#: nor a space to make it the value's start. The value may start on the next line (YAML's
#: `password:` then the value indented below; the break escaped inside a JSON string too),
#: unless that line is a mapping's key, a list's item or a comment: the name then heads a
#: section (`sections.py`), and holds no value.
_ASSIGN = (
    r"""(?:\\?["'])?[ \t\u00a0\u202f]{0,64}"""
    r"(?>=>|:=|=(?!=)|::(?=[ \t])|(?<!:):(?!:)|<<-|<-|(?<=[ \t])->(?=[ \t])"
    r"|[\u2192\u21d2\u27f6\u27f9\u279c\u2794\u21a6])"
    r"(?>[ \t\u00a0]{0,3}(?:(?:\r?\n|(?:\\r)?\\n(?![ \t]{0,64}+\"))"
    r"(?![ \t]{0,64}+(?:-[ \t]|#|[^\s:#\\]{1,128}+[ \t]{0,8}:(?:\s|$|\\[nr]))))?"
    r"[ \t]{0,61})"
)
#: A value's opening quote: raw, escaped inside a JSON string, or a Python bytes literal's
#: (`b'…'`, as botocore's and httpx's debug logs print a header's value).
_OPEN_QUOTE = r"""(?:b?\\?["'])?+"""

#: A name and what gives it the value right after (`token = `, `"token": `, PHP's `$token = `,
#: Ruby's `'token' => `, Go's `token := `), read back from that value's start (`\Z`, a search
#: ending there): the rules for a secret split into joined literals ask it of the first.
_NAME_ASSIGNED_BEFORE = re.compile(
    r"""(?<![\w.$-])\$?(?P<name>[A-Za-z_][\w.-]{0,127}+)\\?["']?[ \t]{0,4}(?:=>|:=|[=:])[ \t]{0,4}\Z"""
)
#: What joins two operands of a chain of literals: `+` (most languages) or SQL's `||`, a space
#: on either side at most.
_CHAIN_JOIN = r"[ ]?(?:\+|\|\|)[ ]?"
#: An operand between two literals of such a chain that holds no literal: a variable, a dotted
#: name, a call or an index (`sep`, `cfg.sep`, `str(n)`, `parts[0]`). The literals around it
#: are still read joined: a secret cut in two around a separator loses both pieces.
_CHAIN_OPERAND = r"[A-Za-z_$][\w.$]{0,64}+(?:\([\w., ]{0,64}+\)|\[[\w.]{0,32}+\])?"


#: A character of a line inside a JSON string: not the raw quote that ends the string.
_LINE_CHAR_IN_STRING = r'(?:[^\r\n"]|"(?![ \t]{0,8}[,}\]]))'


def _quoted_char(group: str) -> str:
    """A character of a value quoted whole, after its opening quote (the group named `group`):
    anything on its line but that quote, so a literal holds the other kind (`"it's…"`,
    `'pa"ss…'`); and a backslash's escape, read as one, so an escaped quote is the value's as
    a shell, redis-cli and Python's repr read it: `\\"`, `\\'` and `\\\\` raw, `\\\\\\"` and
    `\\\\\\\\` inside a JSON string (`"p4ss\\"w0rd"`, `'it\\'s"x'`, `\\"p4ss\\\\\\"w0rd\\"`).
    Inside a JSON string `\\"` is the closing quote itself, which no escape starts. A value
    never closed ends where the JSON string holding it does: at a raw `"` with the `,`, `}` or
    `]` after a JSON value next."""
    return rf"""(?:(?!(?P={group}))(?:\\(?:\\\\[\\"]|[\\"'])|{_LINE_CHAR_IN_STRING}))"""


#: `_quoted_char` of the group `q`, which most rules name their value's opening quote.
_QUOTED_CHAR = _quoted_char("q")
#: A character of a value inside a JSON string's escaped double quotes (`\\"…\\"`), an escape
#: read as one: a shell's or a literal's escaped quote (`\\\\\\"`) or backslash (`\\\\\\\\`),
#: JSON's own escapes (`\\n`), anything but a quote or a backslash.
_ESCAPED_QUOTED_CHAR = r'(?:\\\\\\[\\"]|\\[^"\r\n]|[^"\\\r\n])'
#: A character of a single-quoted literal in code (Python's repr, JavaScript, PHP): a
#: backslash escapes the character after it, so `'it\\'s"x'` (the repr of a text holding both
#: kinds of quote) is one literal. (A shell's single quotes escape nothing: `commands` reads
#: them apart.)
_SINGLE_QUOTED_CHAR = r"(?:[^'\\\r\n]|\\[^\r\n])"
#: A double-quoted argument as a shell writes it, quotes and all: raw (`"…"`, a backslash
#: escaping the character after it), inside a JSON string (`\\"…\\"`, where a shell's
#: escaped quote is `\\\\\\"` and its escaped backslash `\\\\\\\\`), or inside JSON quoted in
#: a JSON string (`\\\\\\"…\\\\\\"`, read a level down first: here only taken whole). An
#: opening quote has no backslash before it: `\\\\\\"` inside a value is an escape.
_SHELL_DOUBLE_QUOTED = (
    r'(?<!\\)\\\\\\"(?:[^\\"\n]|\\(?!\\\\")){0,512}+\\\\\\"'
    rf'|(?<!\\)\\"{_ESCAPED_QUOTED_CHAR}{{0,512}}+\\"'
    r'|(?<!\\)"(?:\\[^\n]|[^"\\\n]){0,512}+"'
)
#: A quote inside a word (`it's`, `pa"ss`; escaped inside a JSON string, `pa\\"ss`): a
#: letter or digit on both sides. A value read to a space or a quote reads on through it; the
#: quote that closes a string has no letter or digit after it.
_INNER_QUOTE = (
    r"""(?:(?<=[A-Za-z0-9])\\?["'](?=[A-Za-z0-9])|(?<=[A-Za-z0-9]\\)["'](?=[A-Za-z0-9]))"""
)
#: A word of prose after an option, where its value would stand: the option is talked about,
#: not given ("the zip -P option is insecure", "sshpass -p is unsafe", "the --password flag
#: prompts"). Lower case only; a password that is one of these words is no password.
_PROSE_AFTER_OPTION = (
    r"(?-i:(?:options?|flags?|switch(?:es)?|arguments?|args?|parameters?|params?|is|are|was"
    r"|were|to|and|or|with|without|in|on|for|will|would|can|cannot|should|must|may|the|an?"
    r"|when|if|which|that|only|also|not|does|do|instead|because|as|by|from|of|at|here"
    r"|prompts?|asks?|reads?|shows?|sends?|leaks?|exposes?|puts?|takes?|works?)"
    r"(?![\w-]))"
)
#: A line continuation between an option and its value, and the next line's indentation: a
#: shell's `\`, PowerShell's `` ` `` or cmd.exe's `^` before the line's end, raw or inside a
#: JSON string (an escaped backslash, an escaped line break).
_CONTINUATION = r"(?:(?:\\{1,2}|[`^])(?:\r?\n|(?:\\r)?\\n)[ \t]{0,64}+)"


def _prefixed(*prefixes: str) -> str:
    """One of `prefixes`, not right after a letter or digit (`_START`, checked once the prefix
    is read). A pattern that starts with its literals lets the regex engine jump from one
    occurrence to the next, as fast as a needle test, instead of trying every position."""
    return _prefixed_each([(prefix, "") for prefix in prefixes])


def _prefixed_each(shapes: list[tuple[str, str]]) -> str:
    """One of `shapes`' prefixes, not right after a letter or digit (as `_prefixed`), then
    that prefix's body (a pattern). Written as a tree of the prefixes' letters
    (`_prefix_tree`) when no prefix starts another (case aside): the regex engine then reads
    a position's letter once, not once for each of 70 vendors' prefixes, and skips to the
    positions holding a first letter (every branch starts with a literal). As only one prefix
    can be at a position, the order of the branches changes no match. Otherwise the branches
    stay in `shapes`' order, where the first that matches wins."""
    folded = [prefix.lower() for prefix, _ in shapes]
    if any(a != b and b.startswith(a) for a in folded for b in folded) or len(set(folded)) < len(
        folded
    ):
        branches = (f"(?:{_prefix_alone(prefix)}){_grouped(body)}" for prefix, body in shapes)
        return f"(?:{'|'.join(branches)})"
    return f"(?:{_prefix_tree([(prefix, prefix, body) for prefix, body in shapes])})"


def _prefix_alone(prefix: str) -> str:
    """`prefix`, then the look-behind saying no letter or digit came before it (`_START`)."""
    return rf"{re.escape(prefix)}(?<![A-Za-z0-9](?<!\\[nrt]).{{{len(prefix)}}})"


def _grouped(body: str) -> str:
    """`body` as one item a pattern can follow (its own alternation kept inside)."""
    return f"(?:{body})" if body else ""


def _prefix_tree(shapes: list[tuple[str, str, str]]) -> str:
    """The alternation of `shapes` (the rest of a prefix to read, the whole prefix, its body),
    none of whose prefixes starts another, as a tree of their letters: `g(?:lsa_…|lc_…)`."""
    by_first: dict[str, list[tuple[str, str, str]]] = {}
    for rest, prefix, body in shapes:
        by_first.setdefault(rest[0], []).append((rest[1:], prefix, body))
    branches = []
    for first, tails in by_first.items():
        if len(tails) == 1 and not tails[0][0]:  # the prefix ends here, and no other goes on
            _, prefix, body = tails[0]
            after = rf"(?<![A-Za-z0-9](?<!\\[nrt]).{{{len(prefix)}}}){_grouped(body)}"
        else:
            after = _prefix_tree(tails)
        branches.append(re.escape(first) + after)
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"


#: Each closing bracket and the bracket that opens it.
_OPENERS = {")": "(", "]": "[", "}": "{", ">": "<"}
#: What a value's tail after an unmatched closing bracket may hold: more closers, a sentence's
#: punctuation (`(token=abc).`, `[x=y], z`).
_WRAPPER_TAIL = frozenset(")]}>.,;:!?")


def _wrapper_start(value: str) -> int:
    """Where the brackets that wrap a value begin: the first closing bracket the value did not
    open, if only closers and punctuation follow it (`abc)` in `(token=abc)`, `abc)).` in
    `f(g(token=abc)).`); else `len(value)`. A bracket opened inside the value (`fn(x)`), or one
    with more of the value after it (`ab)cd`), is the value's: a secret is never cut short."""
    tail = len(value)
    while tail and value[tail - 1] in _WRAPPER_TAIL:
        tail -= 1
    if tail == len(value):
        return tail
    opened = dict.fromkeys(_OPENERS.values(), 0)
    for i, char in enumerate(value):
        opener = _OPENERS.get(char)
        if opener is not None:
            if i >= tail and opened[opener] == 0:
                return i
            opened[opener] = max(0, opened[opener] - 1)
        elif char in opened:
            opened[char] += 1
    return len(value)


def _value_replaced(match: re.Match[str], placeholder: str) -> str:
    """`match` with `placeholder` where the text after its group 1 (a rule's name and
    separator) was, the brackets that wrap that value kept (`_wrapper_start`): `(token=abc)`
    keeps its `)`."""
    value = match.string[match.end(1) : match.end()]
    return f"{match[1]}{placeholder}{value[_wrapper_start(value) :]}"


def _replaced_value(placeholder: str) -> Callable[[re.Match[str]], str]:
    """A rule's replacement: `_value_replaced` with `placeholder` (a partial, whose text names
    the placeholder, as a template's would)."""
    return partial(_value_replaced, placeholder=placeholder)


#: The longest value a rule that reads a value once from an anchored start (a line's, a tag's)
#: takes: longer than any secret, so none is cut with its tail left in clear; reading it costs
#: no more than reading the text, as no two starts read the same characters.
_VALUE_MAX = 65_536


def _random_looking(value: str) -> bool:
    """Upper case, lower case and digits all in it: a key or a token, not a word or a path."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


#: When a listing says a secret was last changed (`gh secret list`'s column): a date or a
#: time, an `Updated` before it, or how long ago (`about 2 days ago`, `less than a minute
#: ago`). The value is the whole cell: a date with more after it is no such column.
LISTED_WHEN = re.compile(
    r"(?:Updated[ \t]{1,8})?(?:[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2})?"
    r"(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
    r"|(?:about |less than |almost |over )?(?:an?|[0-9]{1,4}) "
    r"(?:second|minute|hour|day|week|month|year)s? ago)",
    re.IGNORECASE,
)


_PLACEHOLDER_FOUND = re.compile(r"\[REDACTED:[a-z0-9-]{1,32}\]")
_PLACEHOLDER_SPLIT = re.compile(r"(\[REDACTED:[a-z0-9-]{1,32}\])")


#: The words of an identifier as a reader splits it: a capitalised or lower-case word, an
#: acronym (not the capital that starts the next word), a number.
_ID_WORD = re.compile(r"[A-Z]?[a-z]{1,2048}+|[A-Z]{1,2048}(?![a-z])|[0-9]{1,2048}+")
#: What separates the parts of a slug or of a URL-safe token.
_ID_SEPARATORS = re.compile(r"[^A-Za-z0-9]{1,2048}+")


def _token_like(value: str) -> bool:
    """Random text, not a name: 16 characters or more; the longest part between separators
    (`-`, `_`, `.`) 10 or more, with upper and lower case; and the parts holding lower case
    split into a word (`_ID_WORD`) for every 3 characters or fewer. Words, camel case and
    slugs make long words (`ResetYourPassword2024Guide`: 5 for 26, `Runbook-Checkout-P99`);
    random base62 makes one for every 1.3 characters, and falls under 1 in 3 about 1 time in
    100 at 20 characters. A CloudFormation name's random suffix has no lower case and is
    not counted (`AWSEBAlarmHigh-1X2Y3Z4W5V6U` stays)."""
    if len(value) < 16:
        return False
    parts = _ID_SEPARATORS.split(value)
    longest = max(parts, key=len)
    if len(longest) < 10 or longest.isupper() or longest.islower() or longest.isdigit():
        return False
    cased = [part for part in parts if any(c.islower() for c in part)]
    words = sum(len(_ID_WORD.findall(part)) for part in cased)
    return 3 * words >= sum(map(len, cased))


def _short_random(value: str) -> bool:
    """A value under 16 characters that is random by its shape: letters of both cases and
    digits, changing case or kind every 2 characters or sooner (`q7Wz2Lk9Xa`: 7 words for
    10 characters, `_ID_WORD`). A name's words run longer (`Report2024Q1`: 4 for 12)."""
    return _random_looking(value) and 2 * len(_ID_WORD.findall(value)) >= len(value)


#: A short key's characters: 8 to 15 letters and digits, no separator (a path's, a slug's).
_SHORT_KEY = re.compile(r"[A-Za-z0-9]{8,15}")


def _short_key(value: str) -> bool:
    """A key under 16 characters, as a vendor's short API key or a config's short secret is:
    8 to 15 letters and digits (`_SHORT_KEY`) random by their shape (`_short_random`). Under
    a name that says key or secret, where a longer value must be `_key_shaped`; a shorter
    one (`Ab1`) is too short to tell from a name's piece."""
    return _SHORT_KEY.fullmatch(value) is not None and _short_random(value)


#: 32 hex characters or more: a key in hex (Algolia's, Mapbox's, PagerDuty's), not a short id.
_KEY_HEX = re.compile(r"[0-9a-fA-F]{32,512}")


#: A license key's groups: four or more of one length (4 to 8 capitals or digits) between
#: dashes (`ABCD-EFGH-IJKL-MNOP`, `XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`).
_GROUPED_KEY = re.compile(r"[A-Z0-9]{4,8}(?:-[A-Z0-9]{4,8}){3,15}")
#: A run of letters in one case, 16 or more: a key without digits when no word is in it.
_LETTER_RUN = re.compile(r"[A-Z]{16,512}|[a-z]{16,512}")
#: Consonants in a row: six say no word (a compound's seam makes five, `paymentsprocessor`'s
#: `ntspr`; `y` counts as a vowel).
_CONSONANTS = re.compile(r"[b-df-hj-np-tv-xz]{6}", re.IGNORECASE)


def _letters_key(value: str) -> bool:
    """A key with no digit in it: a license key's groups of one length (`_GROUPED_KEY`), or a
    run of 16 letters or more in one case that holds no word: six consonants in a row, or
    fewer than one vowel in five (`QWERTYUIOPASDFGHJKLZ`; `notificationservice` is words)."""
    if _GROUPED_KEY.fullmatch(value) is not None:
        return len({len(group) for group in value.split("-")}) == 1
    if _LETTER_RUN.fullmatch(value) is None:
        return False
    vowels = sum(value.lower().count(v) for v in "aeiouy")
    return _CONSONANTS.search(value) is not None or 5 * vowels < len(value)


def _key_shaped(value: str) -> bool:
    """A value that looks like a key: a token (`_token_like`: random upper and lower case and
    digits, no words), 32 hex characters or more holding letters and digits, or a key with
    no digit (`_letters_key`: a license key's groups, a run of letters holding no word)."""
    if _KEY_HEX.fullmatch(value) is not None:
        return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    return _token_like(value) or _letters_key(value)


#: A file's path: absolute, from home, relative to here or a Windows drive's, then names
#: between `/` or `\` (at least one separator: `key.pem` alone is a word).
_FILE_PATH = re.compile(
    r"(?:~|\.{1,2}|[A-Za-z]:|\$HOME|%[A-Z]{1,16}%)?(?:[/\\]{1,2}[\w.@+-]{1,255}+){1,32}+"
)
#: A path's names: between its separators and its dots (`id_ed25519`, `key`, `pem`).
_PATH_PARTS = re.compile(r"[/\\.]")


def _file_path(value: str) -> bool:
    """Whether `value` is a file's path (`_FILE_PATH`) whose names are words, not a key's
    pieces: none random-looking over 7 characters (`_random_looking`; a base64 key holds `/`
    and `+`, a user's `Bob2024` is a name) and no `+`."""
    if _FILE_PATH.fullmatch(value) is None or "+" in value:
        return False
    return not any(len(part) > 7 and _random_looking(part) for part in _PATH_PARTS.split(value))
