"""A template's placeholder read for the literals inside it (Jinja's and Ansible's `{{
lookup('env', 'X') | default('…') }}`, Go's and Helm's `{{ secret "kv/db" }}`, `{{ .Values.pw
| default "…" }}`): a literal argument of a lookup names where the secret comes from (a
variable, a file, a store's path) and stays, as a reference does; any other literal (a
default, a value piped into a filter, a lookup's `default=`, one with a key's shape) goes.
"""

from __future__ import annotations

import re

from triage.redact.rule import _key_shaped

#: The functions whose literal arguments say where a value comes from, or what it is for:
#: Ansible's lookups (`lookup`, `query`, `q`), consul-template's and Nomad's (`secret`, `key`,
#: `env`, `nomadVar`, `file`), sprig's and gomplate's (`env`, `getenv`, `ds`,
#: `datasource`), Helm's (`lookup`, `include`, `template`, `index`, and `required`'s message).
_KEPT_ARGUMENTS = frozenset(
    {
        *("lookup", "query", "q", "secret", "secrets", "key", "env", "getenv", "nomadVar"),
        *("file", "ds", "datasource", "include", "template", "index", "required", "vault"),
        *("aws_ssm", "aws_secret", "hashi_vault", "env_var", "os.getenv", "os.environ.get"),
    }
)
#: Go's actions, which stand before a command's function (`{{ with secret "kv/db" }}`).
_ACTIONS = frozenset({"with", "if", "range", "else", "not", "and", "or", "end"})
#: A keyword argument whose literal is a value to use, not a place to read (`default='…'`).
_VALUE_KEYWORDS = frozenset({"default", "fallback", "value"})

_TOKEN = re.compile(
    r"""(?P<literal>(?P<q>\\?["'`])(?P<text>(?:(?!(?P=q))[^\n]){0,512}?)(?P=q))"""
    r"|(?P<word>[.$]?[A-Za-z_][\w.]{0,127}+)(?P<call>[ \t]{0,3}\()?"
    r"|(?P<open>\()|(?P<close>\))|(?P<pipe>\|\|?)|(?P<keyword>=(?!=))|(?P<start>\{\{)"
    r"|(?P<comma>,)|(?P<subscript>\[)"
)


class _Reading:
    """Where a reader of a template stands: the function of each call open around it (the
    innermost last; None: none known), whether the next word is a command's function, the
    last word read and the keyword argument a literal is given to."""

    __slots__ = ("arguments", "functions", "head", "keyword", "last_word", "subscript")

    def __init__(self) -> None:
        self.functions: list[str | None] = [None]
        #: For each call open: how many arguments came before the one read now, and whether
        #: the first was a literal (Ansible's `lookup('env', …)` names its plugin so).
        self.arguments: list[tuple[int, bool]] = [(0, False)]
        self.head = True
        self.last_word: str | None = None
        self.keyword: str | None = None
        #: The token before was a `[`: a literal now is a key (`data["password"]`).
        self.subscript = False

    def read(self, token: re.Match[str]) -> None:
        """Take a token that is no literal: a word, a bracket, a `,`, a `|`, an `=`, a `{{`."""
        self.subscript = bool(token["subscript"])
        if token["comma"]:
            count, first_literal = self.arguments[-1]
            self.arguments[-1] = (count + 1, first_literal)
        elif token["start"]:
            self.functions, self.arguments, self.head = [None], [(0, False)], True
        elif token["word"]:
            self._word(token["word"], bool(token["call"]))
        elif token["open"]:
            self.functions.append(None)
            self.arguments.append((0, False))
            self.head = True
        elif token["close"]:
            if len(self.functions) > 1:
                self.functions.pop()
                self.arguments.pop()
            self.head = False
        elif token["pipe"]:
            # A filter's name comes next (`| default(…)`, `| default "…"`); `||` too.
            self.functions[-1], self.head = None, True
        elif token["keyword"]:
            self.keyword = self.last_word
        if not token["keyword"]:
            self.last_word = token["word"]

    def _word(self, word: str, call: bool) -> None:
        if call:  # `lookup(` opens a call of its own
            self.functions.append(word)
            self.arguments.append((0, False))
            self.head = False
        elif self.head and word not in _ACTIONS:
            self.functions[-1] = None if word[0] in ".$" else word
            self.head = False

    def kept(self, literal: str) -> bool:
        """Whether a literal read here stays: a key in a subscript (`data["password"]`) or a
        lookup's argument, but a value given to a keyword (`default='…'`) and Terraform's
        `lookup(map, "key", "…")`'s third (its default: its first argument is no literal), and
        nothing with a key's shape."""
        keyword, self.keyword = self.keyword, None
        subscript, self.subscript = self.subscript, False
        self.head = False
        count, first_literal = self.arguments[-1]
        if count == 0:
            self.arguments[-1] = (0, True)
        if _key_shaped(literal):
            return False
        if subscript:
            return True
        return (
            self.functions[-1] in _KEPT_ARGUMENTS
            and keyword not in _VALUE_KEYWORDS
            and not (self.functions[-1] == "lookup" and count >= 2 and not first_literal)
        )


def template_literals_redacted(template: str) -> str:
    """`template` with each quoted literal replaced, its quotes kept, but an empty one and a
    lookup's argument (`_Reading.kept`)."""
    reading = _Reading()
    pieces: list[str] = []
    last = 0
    for token in _TOKEN.finditer(template):
        if token["literal"] is None:
            reading.read(token)
            continue
        if reading.kept(token["text"]) or not token["text"]:
            continue
        quote_mark = token["q"]
        pieces += (template[last : token.start()], f"{quote_mark}[REDACTED:password]{quote_mark}")
        last = token.end()
    pieces.append(template[last:])
    return "".join(pieces)


#: A value that is wholly placeholders of a template, side by side (`{{ with secret "kv/db"
#: }}{{ .Data.data.password }}{{ end }}`); text between two is a literal, and no such value.
_WHOLE_TEMPLATE = re.compile(
    r"\$?\{\{[^{}\n]{1,512}+\}\}(?:[ \t]{0,8}+\$?\{\{[^{}\n]{1,512}+\}\}){0,8}+"
)


def whole_template_redacted(value: str) -> str | None:
    """`value` with its literals redacted (`template_literals_redacted`) when it is wholly a
    template's placeholders (`_WHOLE_TEMPLATE`); else None."""
    if "{{" not in value or _WHOLE_TEMPLATE.fullmatch(value) is None:
        return None
    return template_literals_redacted(value)


#: A template's lookup just before a `(`: its arguments are a plugin's name and a place to
#: read (`lookup('password', '/dev/null length=15')`, `query('aws_secret', 'prod/db')`), no
#: secret's name and its value.
_LOOKUP_BEFORE = re.compile(r"(?<![\w.])(?:lookup|query|q)[ \t]{0,3}\Z")


def after_lookup(text: str, start: int) -> bool:
    """Whether the `(` at `start` in `text` opens a lookup's arguments (`_LOOKUP_BEFORE`)."""
    return _LOOKUP_BEFORE.search(text, max(0, start - 12), start) is not None
