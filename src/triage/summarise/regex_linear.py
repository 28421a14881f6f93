"""A pattern of the patterns file searched in time linear in the alert's text, finding exactly
what Python's `re` finds: RE2 (which never backtracks) runs the pattern over one byte per
character.

Python's `re.search` retries a pattern at every place in the text, so even `\\w+@` costs the
square of a long run of letters without an @. RE2 reads the text once, but its `\\w`, `\\b` and case folding are not `re`'s. So each character is first
replaced by the byte of its *atom*: the characters every class of the pattern (literals under
its flags, sets, `.`, and `\\w` where `\\b` stands) holds or leaves alike, as `re` itself
decides (`regex_chars`). A class becomes the set of its atoms' bytes, word atoms get RE2's
word bytes (so RE2's `\\b` is `re`'s) and a newline is 0x0A (so `(?m:^)` is). What RE2 cannot
run, a lookaround, a back-reference, a possessive repeat, an atomic group, a group switching
between ASCII and Unicode mode, `$` beside multi-line anchors, raises `Untranslatable` with
the reason.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from triage.summarise.regex_chars import CharClass, freeze, scoped
from triage.summarise.regex_nfa import ONE_CHARACTER

if TYPE_CHECKING:  # typeshed describes re's parser under its old, deprecated names
    import sre_constants as _constants
    import sre_parse as _parser
else:
    from re import _constants, _parser

#: RE2's word characters: the bytes its `\\b` and `\\B` read as word, in Latin-1 mode.
_WORD_BYTES = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_NEWLINE = 0x0A
_OTHER_BYTES = bytes(b for b in range(256) if b not in _WORD_BYTES and b != _NEWLINE)
_CODE_POINTS = 0x110000
#: RE2 refuses a counted repeat past this.
_MAX_COUNT = 1000
#: The characters remembered with their bytes beyond ASCII, per pattern (a text of many
#: distinct ones would otherwise grow the table towards every code point).
_REMEMBERED = 4096
#: RE2's memory for one pattern (its program and the DFA states it caches): a search that
#: would need more reads on with RE2's NFA, still in linear time. RE2's own default is 8 MiB,
#: which every pattern of a file could fill.
_MAX_MEM = 1 << 20

_UNICODE = int(_constants.SRE_FLAG_UNICODE)
_ASCII = int(_constants.SRE_FLAG_ASCII)
_MULTILINE = int(_constants.SRE_FLAG_MULTILINE)
_TYPES = _ASCII | _UNICODE
_WORD = ((_constants.CATEGORY, _constants.CATEGORY_WORD),)
_UNICODE_WORD = CharClass(_constants.IN, _WORD, _UNICODE)
#: A newline: its own atom, byte 0x0A, where RE2's multi-line `^` and `$` find it.
_LINE_END = CharClass(_constants.LITERAL, _NEWLINE, 0)
#: Which newlines a pattern's anchors stand beside: every one (`(?m)^`, `(?m)$`), or only a
#: text's last character (`$`: the end, or before a newline ending the text).
EVERY_NEWLINE, LAST_NEWLINE = "every newline", "last newline"


class Untranslatable(Exception):
    """Raised when RE2 cannot run a pattern as `re` reads it; the message says what."""


#: A piece of a translated pattern: RE2 syntax, or a class to render as its atoms' bytes.
Part = str | CharClass


@dataclass(frozen=True, slots=True)
class Translation:
    """A pattern in RE2 syntax, its classes still to be rendered as bytes of an alphabet."""

    parts: tuple[Part, ...]
    classes: frozenset[CharClass]
    #: The word class its `\\b` and `\\B` read, when it has any.
    word: CharClass | None
    #: EVERY_NEWLINE or LAST_NEWLINE, when it has anchors that read newlines.
    newlines: str | None


def translate(pattern: str, flags: int) -> Translation:
    """`pattern` (which `re` compiles under `flags`) as RE2 reads it; Untranslatable when RE2
    cannot run it."""
    tree = _parser.parse(pattern, flags)
    reader = _Reader()
    parts = reader.sequence(tree.data, tree.state.flags)
    return Translation(tuple(parts), frozenset(reader.classes), reader.word, reader.newlines)


def alphabets(translations: Sequence[Translation]) -> list[Alphabet | None]:
    """An alphabet for each translation, one shared by as many in turn as fit in it (a text
    is then encoded once for all of them); None for one too varied to fit in any."""
    whole = _Group.of_all(translations)
    if whole is not None:  # the usual case: one alphabet, built once
        return [whole.alphabet] * len(translations)
    groups: list[_Group | None] = []
    for translation in translations:
        last = groups[-1] if groups else None
        if last is None or not last.joined(translation):
            groups.append(_Group.of(translation))
        else:
            groups.append(last)
    return [group.alphabet if group else None for group in groups]


class _Group:
    """Translations sharing one alphabet: the union of their classes, one word class and
    one reading of newlines."""

    def __init__(
        self, classes: frozenset[CharClass], word: CharClass | None, newlines: str | None
    ) -> None:
        self.classes, self.word, self.newlines = classes, word, newlines
        self.alphabet = Alphabet(classes, word, newlines)

    @classmethod
    def of(cls, translation: Translation) -> _Group | None:
        try:
            return cls(translation.classes, translation.word, translation.newlines)
        except Untranslatable:
            return None

    @classmethod
    def of_all(cls, translations: Sequence[Translation]) -> _Group | None:
        """One group of all `translations`, when they read `\\b` and newlines alike and fit."""
        words = {t.word for t in translations} - {None}
        newlines = {t.newlines for t in translations} - {None}
        if not translations or len(words) > 1 or len(newlines) > 1:
            return None
        classes = frozenset[CharClass]().union(*(t.classes for t in translations))
        try:
            return cls(classes, next(iter(words), None), next(iter(newlines), None))
        except Untranslatable:
            return None

    def joined(self, translation: Translation) -> bool:
        """Whether `translation` fits in the group (its alphabet grows to hold it)."""
        word = _agreed(self.word, translation.word)
        newlines = _agreed(self.newlines, translation.newlines)
        if word is _DISAGREE or newlines is _DISAGREE:
            return False
        try:
            wider = _Group(self.classes | translation.classes, word, newlines)
        except Untranslatable:
            return False
        self.classes, self.word, self.newlines = wider.classes, wider.word, wider.newlines
        self.alphabet = wider.alphabet
        return True


#: What `_agreed` answers for two settings that differ.
_DISAGREE: Any = object()


def _agreed(mine: Any, theirs: Any) -> Any:
    """The one of two settings that is set (None is any), or `_DISAGREE`."""
    if None not in (mine, theirs) and mine != theirs:
        return _DISAGREE
    return mine if mine is not None else theirs


class LinearRegex:
    """One translated pattern as an RE2 program over the bytes of `alphabet`."""

    def __init__(self, translation: Translation, alphabet: Alphabet) -> None:
        self.alphabet = alphabet
        #: The RE2 program's text, also searched in a set of its alphabet's (`LinearSet`).
        self.source = "".join(alphabet.render(part) for part in translation.parts)
        self.program = _compile(self.source)

    def search(self, encoded: bytes) -> bool:
        """Whether the pattern matches somewhere in a text `alphabet` encoded (no loaded
        pattern matches empty text, where `re`'s `\\B` and RE2's differ)."""
        return bool(encoded) and self.program.search(encoded) is not None


class LinearSet:
    """Programs of one alphabet searched together: one pass of RE2's set over an encoded
    text says which of them match, where each searched alone costs a pass and a call of its
    own (twenty of them were a tenth of a new incident's summary). A set's DFA cannot hand a
    search over to the NFA as one program's does when its memory runs out, but in the mode
    a set searches in it empties its cache and reads on instead of giving up, so the answer
    is each program's, in time linear in the text.

    Raises Untranslatable when RE2 cannot build the set (then each is searched alone)."""

    def __init__(self, regexes: Sequence[LinearRegex]) -> None:
        re2 = _re2()
        # Each program alone may take `_MAX_MEM`: the set holds them all.
        self._set = re2.Set.SearchSet(_options(re2, _MAX_MEM * max(len(regexes), 1)))
        try:
            for regex in regexes:
                self._set.Add(regex.source.encode("ascii"))
            self._set.Compile()
        except re2.error as exc:
            raise Untranslatable(f"RE2 cannot build the set ({exc})") from None

    def search(self, encoded: bytes) -> frozenset[int]:
        """The places (in the order given) of the programs matching somewhere in `encoded`;
        none in empty text, as `LinearRegex.search`."""
        if not encoded:
            return frozenset()
        return frozenset(self._set.Match(encoded) or ())


def _options(re2: Any, max_mem: int) -> Any:
    """RE2's options for a translated pattern: Latin-1 (one byte, one atom), no captures."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.never_capture = True  # a yes or no is all a search needs: RE2's DFA alone
    options.log_errors = False  # its lines are not JSON; the error raised says the same
    options.max_mem = max_mem
    return options


def _compile(program: str) -> Any:
    """The RE2 program of a translated pattern (every character in it is ASCII)."""
    re2 = _re2()
    options = _options(re2, _MAX_MEM)
    try:
        return re2.compile(program.encode("ascii"), options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise Untranslatable(f"RE2 cannot compile it ({reason})") from None


def _re2() -> Any:
    """google-re2 (also the silences' engine), imported with the first pattern."""
    import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

    return re2


class _Reader:
    """Reads a parsed pattern into RE2 syntax, collecting its classes."""

    def __init__(self) -> None:
        self.classes: set[CharClass] = set()
        self.word: CharClass | None = None
        self.newlines: str | None = None

    def sequence(self, data: Iterable[Any], flags: int) -> list[Part]:
        return [part for op, av in data for part in self.node(op, av, flags)]

    def node(self, op: Any, av: Any, flags: int) -> list[Part]:
        if op in ONE_CHARACTER:
            cls = CharClass(op, freeze(av), flags)
            self.classes.add(cls)
            return [cls]
        if op == _constants.SUBPATTERN:
            _, add, remove, data = av
            if add & _TYPES and add & _TYPES != flags & _TYPES:
                # re reads the class a pattern starts with in the outer mode where it
                # looks for a place to start, and in the group's where it matches.
                raise Untranslatable("a group switching between ASCII and Unicode mode")
            return ["(?:", *self.sequence(data, scoped(flags, add, remove)), ")"]
        if op == _constants.BRANCH:
            branches = [self.sequence(branch, flags) for branch in av[1]]
            return ["(?:", *_joined(branches), ")"]
        if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT):
            return self.repeat(av, flags)
        if op == _constants.AT:
            return [self.anchor(av, flags)]
        raise Untranslatable(_UNSUPPORTED.get(op, f"{str(op).lower()} is not supported"))

    def repeat(self, av: Any, flags: int) -> list[Part]:
        """A greedy or lazy repeat (which finds a match where the other does) as greedy."""
        lo, hi, body = av
        if lo > _MAX_COUNT or (hi != _constants.MAXREPEAT and hi > _MAX_COUNT):
            raise Untranslatable(f"a repeat count over {_MAX_COUNT}")
        count = f"{{{lo},}}" if hi == _constants.MAXREPEAT else f"{{{lo},{hi}}}"
        return ["(?:", *self.sequence(body, flags), ")", count]

    def anchor(self, at: Any, flags: int) -> str:
        if at == _constants.AT_BEGINNING and flags & _MULTILINE:
            return self.line_anchor("(?m:^)", EVERY_NEWLINE)
        if at in (_constants.AT_BEGINNING, _constants.AT_BEGINNING_STRING):
            return r"\A"
        if at == _constants.AT_END_STRING:
            return r"\z"
        if at == _constants.AT_END:
            # `$` is the end, or before a newline ending the text: RE2's multi-line `$` where
            # a text's last newline alone is 0x0A (`Alphabet`).
            return self.line_anchor("(?m:$)", EVERY_NEWLINE if flags & _MULTILINE else LAST_NEWLINE)
        self.word_of(flags)
        return r"\b" if at == _constants.AT_BOUNDARY else r"\B"

    def line_anchor(self, anchor: str, newlines: str) -> str:
        """`anchor`, noting which newlines it reads: one reading per pattern, as its text
        has one encoding."""
        if self.newlines not in (None, newlines):
            raise Untranslatable("$ beside multi-line ^ or $")
        self.newlines = newlines
        return anchor

    def word_of(self, flags: int) -> None:
        """Notes the word class `\\b` reads under `flags`: one per pattern, as RE2 has one."""
        word = CharClass(_constants.IN, _WORD, _ASCII if flags & _ASCII else _UNICODE)
        if self.word not in (None, word):
            raise Untranslatable(r"\b both in ASCII and in Unicode mode")
        self.word = word


_UNSUPPORTED = {
    _constants.ASSERT: "a lookaround",
    _constants.ASSERT_NOT: "a lookaround",
    _constants.GROUPREF: "a back-reference",
    _constants.GROUPREF_EXISTS: "a conditional group",
    _constants.POSSESSIVE_REPEAT: "a possessive repeat",
    _constants.ATOMIC_GROUP: "an atomic group",
}


def _joined(branches: list[list[Part]]) -> list[Part]:
    joined: list[Part] = []
    for number, branch in enumerate(branches):
        joined += ["|", *branch] if number else branch
    return joined


class Alphabet:
    """The atoms of a set of classes: code point segments grouped by which classes hold
    them, each group one byte. A newline is 0x0A, or under LAST_NEWLINE another byte but
    for a newline ending the text."""

    def __init__(
        self, classes: Iterable[CharClass], word: CharClass | None, newlines: str | None = None
    ) -> None:
        word = word or _UNICODE_WORD
        self._classes = {cls: index for index, cls in enumerate({*classes, word, _LINE_END})}
        self._starts, signatures = _segments(list(self._classes))
        word_bit = 1 << self._classes[word]
        newline = 1 << self._classes[_LINE_END]
        self._bytes_of: dict[int, int] = {}
        words, others = iter(_WORD_BYTES), iter(_OTHER_BYTES)
        self._last_newline = newlines == LAST_NEWLINE
        self._newline = next(others) if self._last_newline else _NEWLINE
        for signature in signatures:
            if signature in self._bytes_of:
                continue
            pool = words if signature & word_bit else others
            byte = self._newline if signature & newline else next(pool, None)
            if byte is None:
                raise Untranslatable("too many kinds of characters to tell apart (over 255)")
            self._bytes_of[signature] = byte
        self._segment_bytes = bytes(self._bytes_of[s] for s in signatures)
        self._table = _Table(self._byte_of)

    def _byte_of(self, code: int) -> int:
        return self._segment_bytes[bisect.bisect_right(self._starts, code) - 1]

    def render(self, part: Part) -> str:
        """`part` in RE2 syntax: a class as the bytes of the atoms it holds."""
        if isinstance(part, str):
            return part
        bit = 1 << self._classes[part]
        held = {byte for sig, byte in self._bytes_of.items() if sig & bit}
        if self._newline in held:
            held.add(_NEWLINE)
        return _byte_class(sorted(held))

    def encode(self, text: str) -> bytes:
        """Each character of `text` as its atom's byte."""
        encoded = text.translate(self._table).encode("latin-1")
        if self._last_newline and text.endswith("\n"):
            return encoded[:-1] + b"\n"
        return encoded


class _Table(dict[int, str]):
    """A `str.translate` table filled as characters are met: ASCII at once, the rest up to
    `_REMEMBERED` of them, then forgotten together (`clear` and `update` are single steps,
    never an iteration another thread's translation could change under it)."""

    def __init__(self, byte_of: Callable[[int], int]) -> None:
        self._ascii = {code: chr(byte_of(code)) for code in range(128)}
        super().__init__(self._ascii)
        self._byte_of = byte_of

    def __missing__(self, code: int) -> str:
        if len(self) > 128 + _REMEMBERED:
            self.clear()
            self.update(self._ascii)
        found = self[code] = chr(self._byte_of(code))
        return found


def _segments(classes: list[CharClass]) -> tuple[list[int], list[int]]:
    """The code points cut where any class starts or stops holding them: each segment's
    first code point, and its signature (bit i set when class i holds it)."""
    ranges = [_ranges(cls) for cls in classes]
    cuts = sorted({0, *(b for r in ranges for lo, hi in r for b in (lo, hi + 1))} - {_CODE_POINTS})
    signatures = [0] * len(cuts)
    for index, held in enumerate(ranges):
        bit = 1 << index
        for lo, hi in held:
            for segment in range(bisect.bisect_left(cuts, lo), bisect.bisect_left(cuts, hi + 1)):
                signatures[segment] |= bit
    return cuts, signatures


def _ranges(cls: CharClass) -> tuple[tuple[int, int], ...]:
    """The code points `cls` holds, as inclusive ranges."""
    few = cls.few()
    if few is None:
        return cls.intervals()
    return tuple((ord(ch), ord(ch)) for ch in few)


def _byte_class(held: list[int]) -> str:
    """An RE2 class of `held` bytes (sorted), ranges joined; one holding none matches none."""
    if not held:
        return r"[^\x00-\xff]"
    runs: list[list[int]] = []
    for byte in held:
        if runs and runs[-1][1] == byte - 1:
            runs[-1][1] = byte
        else:
            runs.append([byte, byte])
    body = "".join(f"\\x{lo:02x}" if lo == hi else f"\\x{lo:02x}-\\x{hi:02x}" for lo, hi in runs)
    return f"[{body}]"
