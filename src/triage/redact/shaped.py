"""A value under a name that says a secret only when the value has one's shape (`pass`,
`session`, `jwt`, `bearer`, `kubeconfig`, `ssh_key`: `names._SHAPED_NAME`), read in text as a
JSON key's value is read (`names.shape_named_value`): `jwt=Zq8vN3xK7p` goes, `jwt: enabled`,
`pass: 142` and `ssh_key: ~/.ssh/id_rsa` stay.

And the hashes of a Windows account dump (impacket's secretsdump, pwdump: `user:rid:LM:NT:::`),
known by the line's shape: an NT hash logs in as the user (pass-the-hash), so both hashes go,
but for the LM hash of no password, a constant that tells the reader LM is off.
"""

from __future__ import annotations

import re

from triage.redact.names import _FORM_INDEX, shape_named_value
from triage.redact.rule import _OPEN_QUOTE, _Rule, _rule, _spellings, _value_replaced

#: The names as text writes them: `pass`, `jwt` and `bearer` alone; `session`, `kubeconfig` and
#: `ssh_key` as the last part of a longer name too (`user_session`, `STAGING_KUBECONFIG`), of
#: which only that part is read. Each spelling is a literal the engine jumps to, and what
#: comes before it is asked after (`_word`).
_ALONE = ("pass", "jwt", "bearer")
_LAST_PART = ("session", *_spellings("kube", "config"), *_spellings("ssh", "key"))


def _word(word: str, not_after: str) -> str:
    """`word`, not right after a character of the class `not_after`."""
    return rf"{re.escape(word)}(?<!{not_after}.{{{len(word)}}})"


_NAME = (
    # One case-sensitive class of the first letters first: under IGNORECASE the engine would
    # enter every alternative at each position to fold its first letter.
    "(?=(?-i:[pPjJbBsSkK]))(?P<name>"
    + "|".join(
        [*(_word(w, r"[\w.$-]") for w in _ALONE), *(_word(w, "[A-Za-z0-9]") for w in _LAST_PART)]
    )
    + ")"
)
#: After the name, a form's array index (`pass[]=`, `jwt[0]=`: `names._FORM_INDEX`); then between
#: the name and its value, on one line (a value below `kubeconfig:` is a block, which
#: a base64 run's rule reads whole): `=`, `:`, a quoted name's closing quote.
_SEPARATOR = r"""(?:\\?["'])?[ \t]{0,3}(?:=|:(?!:))[ \t]{0,3}"""
#: One word of a value, to a delimiter or a quote: longer than any session id or token.
_VALUE = r"""(?P<value>[^\s&;,"'}\\]{6,4096}+)"""


#: A list after the name, on one line: JSON's (`"pass": ["…", "x"]`, its quotes escaped inside a
#: JSON string too), YAML's flow style (`jwt: [a, b]`); a placeholder inside it is an item.
_LIST = r"(?P<list>\[(?:[^\[\]\r\n]|\[REDACTED:[\w-]{1,32}+\]){1,4096}+\])"
#: One item of such a list, between its quotes, spaces and commas (a placeholder whole).
_ITEM = re.compile(r"""\[REDACTED:[\w-]{1,32}+\]|[^\s,"'\\\[\]]{6,4096}+""")


def _shaped_items(match: re.Match[str]) -> str:
    """The list's items that have the shape of the name's secret replaced (`shape_named_value`,
    as `Redactor.value` judges each item), its brackets, quotes and other items kept."""
    name = match["name"]

    def item(found: re.Match[str]) -> str:
        if found[0].startswith("[REDACTED") or not shape_named_value(name, found[0]):
            return found[0]
        return "[REDACTED:password]"

    items = match["list"]
    return match[0][: match.start("list") - match.start()] + items[0] + _ITEM.sub(item, items[1:])


def _shaped_value(match: re.Match[str]) -> str:
    """The value replaced, the name, separator and quote kept, if it has the shape of the
    name's secret (`shape_named_value`: not a word, a path, a count); else the match as it is."""
    if not shape_named_value(match["name"], match["value"]):
        return match[0]
    return _value_replaced(match, "[REDACTED:password]")


def _shaped(match: re.Match[str]) -> str:
    """A list's items judged one by one (`_shaped_items`), or the value (`_shaped_value`)."""
    return _shaped_items(match) if match["list"] else _shaped_value(match)


#: The LM hash of an empty password: what a dump shows for every account when LM is off.
_EMPTY_LM = "aad3b435b51404eeaad3b435b51404ee"


def _dumped_hashes(match: re.Match[str]) -> str:
    """A dump line's rid and hashes with the NT hash (and a real LM hash) replaced."""
    lm = match["lm"] if match["lm"].lower() == _EMPTY_LM else "[REDACTED:password-hash]"
    return f"{match['rid']}:{lm}:[REDACTED:password-hash]:::"


SHAPED_RULES: tuple[_Rule, ...] = (
    # A dump line: after the user and its `:`, the rid, the LM and NT hashes (32 hex each) and
    # `:::`; read from the rid, the user's name any shape (`CORP\\svc_sql`, `krbtgt`).
    _rule(
        r"(?<=[^\s:]:)(?P<rid>[0-9]{1,10}):(?P<lm>[0-9a-fA-F]{32}):[0-9a-fA-F]{32}:::",
        _dumped_hashes,
        ":::",
    ),
    # A list is tried first: read as a value, its bracket would start the first item.
    _rule(
        rf"({_NAME}{_FORM_INDEX}{_SEPARATOR}{_OPEN_QUOTE})(?:{_LIST}|(?!\[REDACTED){_VALUE})",
        _shaped,
        *_ALONE,
        *_LAST_PART,
        flags=re.IGNORECASE,
    ),
)
