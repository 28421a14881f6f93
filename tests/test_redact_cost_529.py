"""A secret's name read with fewer tests at each position (`names._SECRET_NAME`): the words
whose first letter is beyond ASCII behind one class of such letters, and a camel case's
upper-case letter tested before the letter behind it; every text matches as before."""

from __future__ import annotations

import random
import re
from typing import Any

from triage.redact.names import (
    _SECRET_NAME,
    _SECRET_WORDS,
    _WORD,
    _by_first_letter,
    _by_first_letter_ascii_first,
)
from triage.redact.pairs import _NEXT_PAIR, _WHOLE_SINGLE_CHAR, _WHOLE_STRING_CHAR
from triage.redact.words import FOREIGN_GROUPS

_parser: Any = re._parser  # type: ignore[attr-defined]

#: The words `_WORD` is built from, as `names` builds it.
WORDS = (*_SECRET_WORDS, *(f"{first}(?:{rest})" for first, rest in FOREIGN_GROUPS))
#: `_SECRET_NAME` as it was: every group in one alternation, the camel case's letter behind
#: tested first.
PLAIN_NAME = _SECRET_NAME.replace(_WORD, _by_first_letter(*WORDS)).replace(
    "(?-i:(?=[A-Z])(?<=[a-z0-9]))", "(?-i:(?<=[a-z0-9])(?=[A-Z]))"
)


def _random_texts(seed: int, count: int) -> list[str]:
    """Texts of secrets' words (in either case, some cut, some with a fold: long s, Kelvin
    sign, dotted and dotless i),
    words in other scripts, joiners, escapes and assignments."""
    rng = random.Random(seed)
    pieces = [
        *("password", "Passwort", "TOKEN", "secret", "api_key", "apiKey", "dbPassword"),
        *("secrets.db.value", "Credentials__Db", "пароль", "ПАРОЛЬ", "密码", "şifre", "Şifre"),
        *("토큰", "κωδικός πρόσβασης", "\u017fecret", "\u212aey_content", "İd_rsa", "\u0131d_rsa"),
        *("contraseña", "jelszó", "adgangskode", "SSHPASS", "smtpPass", "github_pat"),
        *("\\n", "\\t", "\n", " ", "=", ": ", "_", "-", ".", '"', "'", "0123456789ab:"),
    ]
    alphabet = "abcdefkpstxyzABKPSTZ0189_-.:é"
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 10)):
            if rng.random() < 0.6:
                piece = rng.choice(pieces)
                parts.append(piece[: rng.randint(1, len(piece))] if rng.random() < 0.2 else piece)
            else:
                parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))
        texts.append("".join(parts))
    return texts


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Where `pattern` matches in `text`, left to right."""
    return [match.span() for match in pattern.finditer(text)]


def test_words_beyond_ascii_sit_behind_one_class() -> None:
    """An ASCII word's start is tested against one class for every word beyond ASCII."""
    items = _parser.parse(_WORD, re.IGNORECASE)
    op, av = items[0]
    while op is _parser.SUBPATTERN:
        op, av = av[3][0]
    assert op is _parser.BRANCH
    branches = av[1]
    beyond_ascii = {first for first, _ in FOREIGN_GROUPS if not first.isascii()}
    ascii_letters = {word[0] for word in WORDS} - beyond_ascii
    assert len(branches) == len(ascii_letters) + 1
    assert branches[-1][0][0] is _parser.ASSERT


def test_every_group_sits_once() -> None:
    """Splitting the groups loses none and repeats none: every word's group is there once."""
    plain = _by_first_letter(*WORDS)[len("(?:") : -1]
    split = _by_first_letter_ascii_first(*WORDS)
    groups = re.split(r"\|(?=\(\?-i:\[)", plain)
    assert all(split.count(group) == 1 for group in groups)


def test_a_letter_whose_upper_case_is_ascii_stays_with_the_ascii_ones() -> None:
    """A group led by a dotless i (upper case I) is not put behind the class of letters beyond ASCII."""
    pattern = re.compile(_by_first_letter_ascii_first("\u0131d", "пароль"), re.IGNORECASE)
    assert pattern.fullmatch("Id")
    assert pattern.fullmatch("\u0131d")
    assert pattern.fullmatch("ПАРОЛЬ")


def test_name_matches_as_before_on_random_texts() -> None:
    """`_SECRET_NAME` finds the same names at the same places as the plain alternation did."""
    assert PLAIN_NAME != _SECRET_NAME
    new = re.compile(_SECRET_NAME, re.IGNORECASE)
    old = re.compile(PLAIN_NAME, re.IGNORECASE)
    texts = _random_texts(529, 3000)
    differ = [text for text in texts if _matches(new, text) != _matches(old, text)]
    assert differ == []
    assert sum(1 for text in texts if new.search(text)) > 1000


def test_camel_case_and_word_starts_still_read() -> None:
    """A camel case's word, a word after an escape and a word in another script still name."""
    pattern = re.compile(rf"{_SECRET_NAME}(?=\s*=)", re.IGNORECASE)
    assert [m.group() for m in pattern.finditer("dbPassword = x")] == ["Password"]
    assert [m.group() for m in pattern.finditer("\\npassword = x")] == ["password"]
    assert [m.group() for m in pattern.finditer("пароль = x")] == ["пароль"]
    assert [m.group() for m in pattern.finditer("\u017fecret = x")] == ["\u017fecret"]


#: The `=`-started value runs as they were: the next pair's look-ahead before every character.
PLAIN_STRING_CHAR = rf"""(?:(?!{_NEXT_PAIR})(?:[^"\r\n\\]|\\[^nr]))"""
PLAIN_SINGLE_CHAR = rf"(?:(?!{_NEXT_PAIR})[^'\r\n\\])"


def _pair_texts(seed: int, count: int) -> list[str]:
    """Texts of `NAME=value` pairs, spaces and tabs, quotes, escapes and line breaks."""
    rng = random.Random(seed)
    pieces = [" ", "\t", "  ", "=", "==", " b=", "\tDB_PASSWORD=", " x.y-z=", '"', "'", "\\"]
    pieces += ["\\n", "\\r", '\\"', "\n", "\r", "a", "pass word", "1", "_", "-", "."]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def test_value_char_tests_the_next_pair_only_at_a_space() -> None:
    """A value's character other than a space or a tab is read without the next pair's test."""
    for unit in (_WHOLE_STRING_CHAR, _WHOLE_SINGLE_CHAR):
        items = _parser.parse(unit)
        op, av = items[0]
        while op is _parser.SUBPATTERN:
            op, av = av[3][0]
        assert op is _parser.BRANCH
        assert av[1][0][0][0] is _parser.IN


def test_value_runs_match_as_before() -> None:
    """Every `=`-started run and every value of 1-512 characters ends where it ended."""
    for new_unit, old_unit in (
        (_WHOLE_STRING_CHAR, PLAIN_STRING_CHAR),
        (_WHOLE_SINGLE_CHAR, PLAIN_SINGLE_CHAR),
    ):
        for shape in ("={unit}{{0,1048576}}+", "(?:{unit}){{1,512}}+", "(?:{unit}){{1,4}}"):
            new = re.compile(shape.format(unit=new_unit), re.IGNORECASE)
            old = re.compile(shape.format(unit=old_unit), re.IGNORECASE)
            for text in _pair_texts(529, 1500):
                for start in range(len(text)):
                    found, expected = new.match(text, start), old.match(text, start)
                    assert (found and found.span()) == (expected and expected.span()), text
