"""Credentials a text wrapper broke over lines (Python's textwrap, mail, a terminal's width):
a vendor's token cut inside its body or after one of its `-` (`WRAPPED_TOKEN_RULES`, read
joined and asked of the token rules), a secret's name cut before its `=` or `:`, also inside
each of its words (`DB_P` / `ASSWORD=`) or after a `-` or `.` (`x-Api-` / `KEY:`), its pieces
in different cases (`_joinable`; read joined and asked as a label's name is), and the rest of
a named secret's value on the line after the one whose piece a rule replaced
(`WRAPPED_VALUE_RULES`), and a name quoted-printable's soft line break cut (`passw=` /
`ord is …`). A line break inside a JSON string (`\\n`) is read as a raw one.
"""

from __future__ import annotations

import re

from triage.redact.named_values import named_value_secret
from triage.redact.names import _SECRET_NAME_NEEDLES, secret_named
from triage.redact.rule import _ID_WORD, _random_looking, _Rule, _rule, _token_like, holds_break

#: A line break, raw or escaped inside a JSON string.
_BREAK = r"(?:\r?\n|(?:\\r)?\\n)"
_BREAK_SPLIT = re.compile(rf"({_BREAK})")
#: A token's characters (base64's and base64url's, and `.` of a JWT's parts).
_CHARS = r"[A-Za-z0-9_./+=-]"
#: The prefixes of vendors' tokens whose length a rule knows, so a piece of one is no match:
#: GitHub's, GitLab's, Slack's, Stripe's, OpenAI's and Anthropic's, AWS's key ids, Google's API
#: keys, Hugging Face's, npm's and PyPI's. Without the `_` or `-` that ends most: a wrapper
#: breaks a long word anywhere (`xoxb` / `-1234…`).
_PREFIXES = (
    *("ghp", "gho", "ghu", "ghs", "ghr", "github_pat_", "glpat", "xox", "xapp"),
    *("sk_live_", "sk_test_", "rk_live_", "rk_test_", "sk-", "AKIA", "ASIA", "AIza"),
    *("hf_", "npm_", "pypi"),
)
_PLACEHOLDER_WHOLE = re.compile(r"\[REDACTED:[\w-]{1,32}\]")


def _token_placeholder(word: str) -> str | None:
    """The placeholder a token rule gives `word` when the rule takes all of it, else None. Not
    the rules for a token cut short: each piece of a wrapped token is one."""
    from triage.redact.tokens import CUT_TOKEN_RULES, TOKEN_RULES

    for rule in TOKEN_RULES:
        if rule in CUT_TOKEN_RULES:
            continue
        if rule.needles and not any(needle in word for needle in rule.needles):
            continue
        out = rule.pattern.sub(rule.replacement, word)
        if out != word:
            return out if _PLACEHOLDER_WHOLE.fullmatch(out) else None
    return None


def _joined_token(match: re.Match[str]) -> str:
    """A token's pieces over line breaks replaced by its placeholder, when joined they make a
    whole token (`_token_placeholder`); the most pieces that do. A first piece that is a whole
    token already, and does not end in a `-` a wrapper breaks after, is left to the token
    rules: the next line is another word."""
    pieces = _BREAK_SPLIT.split(match[0])
    words = pieces[0::2]
    if not words[0].endswith("-") and _token_placeholder(words[0]) is not None:
        return match[0]
    for count in range(len(words), 1, -1):
        # A lower-case word after a whole token is the sentence's next (`… while`), when a
        # token's last piece filled its line.
        last = words[count - 1]
        if last.isalpha() and last.islower() and _token_placeholder("".join(words[: count - 1])):
            continue
        placeholder = _token_placeholder("".join(words[:count]))
        if placeholder is not None:
            taken = len("".join(pieces[: 2 * count - 1]))
            return placeholder + match[0][taken:]
    return match[0]


#: The piece of a name before a line break, at the end of the text before it.
_NAME_HEAD = re.compile(r"(?<![\w.-])[A-Za-z_][\w.-]{0,63}+\Z")


def _joinable(head: str, tail: str, assign: str) -> bool:
    """Whether a line's last piece (`head`) and the next line's name (`tail`) are one name a
    wrapper broke. Before `=`: unless the head is a lower-case word of prose and the tail
    starts in capitals (`the` / `PASSWORD=`). Before `:`, where YAML's and a log's keys stand
    at a line's start below a line ending in a word: only a break at a separator (`x-Api-` /
    `KEY:`) or a name in capitals (`DB_PASS` / `WORD:`)."""
    if assign.startswith(":"):
        return head[-1:] in "-_." or (head + tail).isupper()
    return not (head.isalpha() and head.islower() and tail[:1].isupper())


def _broken_name_value(match: re.Match[str]) -> str:
    """A value after a name a wrapper broke over a line (`aws_secret_acc` / `ess_key=…`)
    replaced when the name, joined, says the value is a secret (`named_value_secret`) and its
    pieces join (`_joinable`); else the match unchanged."""
    start = match.start()
    before = match.string[start - 1 : start]
    if not (before.isascii() and (before.isalnum() or before in "_.-")):
        return match[0]  # most lines: the one before ends in a space or a stop
    head = _NAME_HEAD.search(match.string, max(0, start - 64), start)
    if head is None or not _joinable(head[0], match["tail"], match["assign"]):
        return match[0]
    if not named_value_secret(head[0] + match["tail"], match["value"]):
        return match[0]
    return f"{match[0][: match.start('value') - start]}[REDACTED:password]"


def _broken_word_value(match: re.Match[str]) -> str:
    """`_broken_name_value` for a name broken inside a word (`DB_P` / `ASSWORD=…`) or after a
    separator (`x-Api-` / `KEY: …`), neither piece a needle of a secret's name; its pieces in
    one case, or in different cases when they join (`_joinable`: `Db_Pas` / `SWORD=`)."""
    end = match.start()
    if match.string[end - 1 : end] == "\r":
        end -= 1  # the match starts at a CRLF's `\n`
    elif match.string[end - 2 : end] == "\\r":
        end -= 2  # … escaped inside a JSON string
    head = _NAME_HEAD.search(match.string, max(0, end - 64), end)
    if head is None or not _joinable(head[0], match["tail"], match["assign"]):
        return match[0]
    name = head[0] + match["tail"]
    if not named_value_secret(name, match["value"]):
        return match[0]
    return f"{match[0][: match.start('value') - match.start()]}[REDACTED:password]"


def _secret_piece(piece: str) -> bool:
    """A line's first word that goes on a value cut at the line before: random text
    (`_token_like`), or, shorter, 8 characters or more with upper and lower case and digits
    that split into a word for every 2 characters or fewer (`K2pL7mR4tZ`, not `DeployV2`)."""
    if _token_like(piece):
        return True
    return (
        8 <= len(piece) < 16
        and _random_looking(piece)
        and 2 * len(_ID_WORD.findall(piece)) >= len(piece)
    )


def _value_rest(match: re.Match[str]) -> str:
    """The lines after a placeholder that ends its line replaced while each is a piece of the
    value (`_secret_piece`), their line breaks kept; the rest unchanged."""
    pieces = _BREAK_SPLIT.split(match["rest"])
    out = [match["placeholder"]]
    for i in range(1, len(pieces), 2):
        if not _secret_piece(pieces[i + 1]):
            out.append("".join(pieces[i:]))
            break
        out += (pieces[i], "[REDACTED:password]")
    return "".join(out)


def _soft_broken_name(match: re.Match[str]) -> str:
    """A line cut by quoted-printable's soft break (`=` at a line's end) inside a secret's name
    (`passw=` / `ord is …`), redacted as the line it joins into (`_scrub`), the soft break
    kept; else the match unchanged. The break must be inside the name: neither piece is a
    secret's name, the two joined are (a name that ends before a `=` is a pair's)."""
    head, tail = match["head"], match["tail"]
    joined = head + tail
    if secret_named(head) or secret_named(tail) or not secret_named(joined):
        return match[0]
    from triage.redact.scrub import _scrub  # the rules hold this module's: import when used

    line = joined + match["rest"]
    out = _scrub(line, ())
    if out == line or not out.startswith(joined):
        return match[0]
    return f"{head}={match['brk']}{tail}{out[len(joined) :]}"


WRAPPED_TOKEN_RULES: tuple[_Rule, ...] = (
    # A token's first piece, from its prefix to its line's end, and the pieces after it, each
    # a whole line but the last.
    # The prefix first (what comes before it asked after), so the engine jumps to its letters.
    _rule(
        "(?:"
        + "|".join(rf"{re.escape(p)}(?<![A-Za-z0-9_-].{{{len(p)}}})" for p in _PREFIXES)
        + rf"){_CHARS}{{0,512}}+(?:{_BREAK}{_CHARS}{{1,512}}+){{1,6}}+",
        _joined_token,
        *_PREFIXES,
    ),
)

WRAPPED_VALUE_RULES: tuple[_Rule, ...] = (
    # A line that starts with the rest of a name and its `=`, after a line that ends in the
    # name's first piece (`_broken_name_value` reads it): after the pair rules, which took the
    # names that were whole. Only in a text that holds a needle of a secret's name, in either
    # piece (`aws_secret_acc` / `ess_key=`); a name broken inside each of its words
    # (`DB_P` / `ASSWORD=`) is the next rule's.
    _rule(
        r"(?:\r?\n|\\n)(?P<tail>[A-Za-z0-9_.-]{1,64}+)(?P<assign>=|:(?![:/])[ \t]{0,8}+)"
        r"(?!\[REDACTED)"
        r"(?P<value>[^\s\"'&;,\\]{1,512}+)",
        _broken_name_value,
        *_SECRET_NAME_NEEDLES,
        fold_needles=True,
    ),
    # The same, for a name broken inside each of its words (`DB_P` / `ASSWORD=…`), which
    # holds no needle in either piece: looked for only where a line ends in a letter, digit or
    # `_` and the next starts with such a run and an `=` (the engine jumps from one line
    # break to the next; the look-behind and the run fail at once on most lines).
    _rule(
        r"(?:\n(?:(?<=[A-Za-z0-9_.-]\n)|(?<=[A-Za-z0-9_.-]\r\n))"
        r"|\\n(?:(?<=[A-Za-z0-9_.-]\\n)|(?<=[A-Za-z0-9_.-]\\r\\n)))"
        r"(?P<tail>[A-Za-z0-9_]{1,64}+)(?P<assign>=|:(?![:/])[ \t]{0,8}+)(?!\[REDACTED)"
        r"(?P<value>[^\s\"'&;,\\]{1,512}+)",
        _broken_word_value,
        gate=holds_break,
    ),
    # A secret's name quoted-printable's soft line break cut (`passw=` / `ord is …`), read
    # joined (`_soft_broken_name`). Only in a text that says it is quoted-printable (a mail's
    # header): its needle is that word, which the match does not hold, so that elsewhere a
    # line ending in `=` (a shell's, a YAML's) is never read joined to the next.
    _rule(
        r"(?:(?<![A-Za-z0-9_.\\-])|(?<=\\[nrt]))(?P<head>[A-Za-z][A-Za-z0-9_.-]{0,63}+)=(?P<brk>\r?\n|(?:\\r)?\\n)"
        r"(?P<tail>[A-Za-z0-9_.-]{1,64}+)(?P<rest>(?:[^\r\n\\]|\\(?![rn])){0,512}+)",
        _soft_broken_name,
        # Its word after the first letter: `q` starts no other needle.
        "printable",
        fold_needles=True,
    ),
    # A placeholder that ends its line (a rule replaced a value cut there), and the lines
    # after it that start with a piece of the value.
    _rule(
        rf"(?P<placeholder>\[REDACTED:[\w-]{{1,32}}+\])(?P<rest>(?:{_BREAK}{_CHARS}{{8,512}}+){{1,6}}+)"
        r"(?![^\s\"',;)\]}\\])",
        _value_rest,
        "[REDACTED:",
    ),
)
