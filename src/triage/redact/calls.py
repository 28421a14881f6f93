"""Rules for a secret written in code as a literal beside a secret's name: a call's argument
after the quoted name (`os.getenv("DB_PASSWORD", "…")`, `ENV.fetch`, `getOrDefault`,
`config.get`), a fallback after the secret is read (`process.env.API_KEY || "…"`, `?? "…"`,
`?: "…"`, `or "…"`) and a shell's or Spring's default (`${DB_PASSWORD:-…}`,
`${db.password:…}`) and a literal given to a type made to hold a secret (`SecretStr('…')`)
(`CALL_RULES`); and `call_literals_redacted`, with which the pair rules
read a call assigned to a secret's name (`password = Field(default="…")`).

Only the literal goes: the call, its other arguments and its quotes stay, so a reader sees
where the secret was read. Code that only reads a secret (`os.getenv("TOKEN")`) has no
literal, and keeps its text. Every match but a secret type's holds a secret's name, so those
rules look for the pair rules' needles (`_SECRET_NAME_NEEDLES`), found once for them all.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable

from triage.redact.names import (
    _SECRET_NAME_NEEDLES,
    _kept_value,
    inside_placeholder,
    secret_named,
)
from triage.redact.rule import (
    _ESCAPED_QUOTED_CHAR,
    _LINES,
    _QUOTED_CHAR,
    _SINGLE_QUOTED_CHAR,
    _random_looking,
    _Rule,
    _rule,
    _token_like,
)
from triage.redact.templates import after_lookup

_PLACEHOLDER = "[REDACTED:password]"

#: A quoted literal, its quotes in named groups: `\\"…\\"` (inside a JSON string), `"…"` with
#: backslash escapes, `'…'`, Go's and JavaScript's `` `…` ``. The escaped form is tried first:
#: at a backslash, the plain one cannot start. `m`: the fewest characters between the quotes,
#: `n` the most.
_LITERAL = (
    r"""(?:(?P<{p}e>\\")(?P<{p}ev>"""
    + _ESCAPED_QUOTED_CHAR  # no braces: `format` leaves it as it is
    + r"""{{{m},{n}}}+)\\\""""
    r"""|(?P<{p}d>")(?P<{p}dv>(?:[^"\\\r\n]|\\.){{{m},{n}}}+)\""""
    r"""|(?P<{p}s>')(?P<{p}sv>""" + _SINGLE_QUOTED_CHAR + r"""{{{m},{n}}}+)'"""
    r"""|(?P<{p}b>`)(?P<{p}bv>[^`\r\n]{{{m},{n}}}+)`)"""
)


#: A quoted literal as one piece (`_LITERAL` without its groups).
_LITERAL_SOURCE = (
    rf'\\"{_ESCAPED_QUOTED_CHAR}{{0,4096}}+\\"'
    r'|"(?:[^"\\\r\n]|\\.){0,4096}+"'
    rf"|'{_SINGLE_QUOTED_CHAR}{{0,4096}}+'|`[^`\r\n]{{0,4096}}+`"
)
#: A ternary's condition: a word or a dotted path (a call without arguments, negated), alone
#: or compared with another or with a literal (`debug`, `!isProd`, `env == "prod"`, `n > 2`).
#: It is code, kept as written.
_CONDITION = (
    r"!?[A-Za-z_$][\w$]{0,64}+(?:\.[A-Za-z_$][\w$]{0,64}+){0,8}+(?:\(\))?"
    r"(?:[ \t]{0,3}(?:[=!]==?|[<>]=?)[ \t]{0,3}(?:[\w$.]{1,128}+|" + _LITERAL_SOURCE + r"))?"
)


def _literal_value(match: re.Match[str], prefix: str) -> tuple[str, str, str]:
    """The text before a `_LITERAL` (with `prefix`)'s value, the value, and the text after it,
    to the match's end."""
    for kind in "edsb":
        if match[f"{prefix}{kind}"] is not None:
            group = f"{prefix}{kind}v"
            text = match.string
            return (
                text[match.start() : match.start(group)],
                match[group],
                text[match.end(group) : match.end()],
            )
    raise AssertionError("a literal matched without its quotes")  # pragma: no cover


def _named_literal(match: re.Match[str]) -> str:
    """The literal after a secret's name replaced (its quotes and the code around it kept); a
    literal after another name, or one the name's value keeps (`_kept_value`: a placeholder,
    a state word), or a lookup's argument (`after_lookup`), stays."""
    before, value, after = _literal_value(match, "v")
    if not secret_named(match["name"]) or _kept_value(match["name"], value):
        return match[0]
    if after_lookup(match.string, match.start()):
        return match[0]
    return f"{before}{_PLACEHOLDER}{after}"


#: A constant's suffix that names where a setting is kept, not what it holds: Kafka's
#: `SSL_KEY_PASSWORD_CONFIG`, `DB_PASSWORD_PROPERTY`, `ACCESS_TOKEN_KEY`.
_CONSTANT_SUFFIX = re.compile(r"_(?:CONFIG|PROPERTY|PROP|KEY|ATTR|SETTING)\Z")


def _constant_literal(match: re.Match[str]) -> str:
    """The literal after a constant named like a secret (its name, or its name without a
    suffix that says where a setting is kept, `_CONSTANT_SUFFIX`) replaced, its quotes and
    the call kept; a literal holding whitespace stays (a message under `ERR_BAD_TOKEN` is
    prose), as does one a rule before took its secret from (`CURLOPT_USERPWD`'s `user:…`), one
    the name's value keeps (`_kept_value`) and a lookup's argument."""
    before, value, after = _literal_value(match, "v")
    name = match["name"]
    if not secret_named(name):
        name = _CONSTANT_SUFFIX.sub("", name)
        if name == match["name"] or not secret_named(name):
            return match[0]
    if any(ch.isspace() for ch in value) or "[REDACTED" in value or _kept_value(name, value):
        return match[0]
    if after_lookup(match.string, match.start()):
        return match[0]
    return f"{before}{_PLACEHOLDER}{after}"


def _secret_type_literal(match: re.Match[str]) -> str:
    """The literal given to a secret's type replaced (the call and its quotes kept), unless a
    password's value keeps it (`_kept_value`: pydantic's own mask `**********`, a
    placeholder)."""
    before, value, after = _literal_value(match, "v")
    if _kept_value("password", value):
        return match[0]
    return f"{before}{_PLACEHOLDER}{after}"


#: The name a fallback follows: a word, then a call's or a subscript's closing quote and
#: brackets (`getenv("TOKEN")`, `ENV['API_KEY']`), at the end of the text before the operator.
_NAME_BEFORE = re.compile(r"(?<![\w$])(?P<name>[\w$]{1,128})(?:\\?[\"'`])?[\])]{0,2}[ \t]{1,3}\Z")
#: … before a call's closing bracket and a comma (Go's `cmp.Or`), which the match starts with.
_NAME_BEFORE_COMMA = re.compile(r"(?<![\w$])(?P<name>[\w$]{1,128})\\?[\"'`][\])]?\Z")


def _literal_after_name(match: re.Match[str], name_before: re.Pattern[str]) -> str:
    """The match's literal replaced (its quotes kept) when `name_before`, searched in the text
    right before the match, finds a secret's name there and the name's value would not be
    kept (`_kept_value`); else the match unchanged."""
    start = match.start()
    name = name_before.search(match.string, max(0, start - 140), start)
    if name is None or not secret_named(name["name"]):
        return match[0]
    # A placeholder's kind (`password] ||`) is no name: the first pass read the secret there.
    if inside_placeholder(match.string, name.start("name")):
        return match[0]
    before, value, after = _literal_value(match, "v")
    if _kept_value(name["name"], value):
        return match[0]
    return f"{before}{_PLACEHOLDER}{after}"


#: … read after a ternary's `C ? ` (JavaScript's `c ? process.env["API_TOKEN"] : "…"`), which
#: the match's `:` follows.
_NAME_BEFORE_COLON = re.compile(
    r"\?[ \t]{1,3}[\w$.]{0,128}+(?:[(\[][ \t]{0,3}\\?[\"'`])?"
    r"(?<![\w$])(?P<name>[\w$]{1,128})(?:\\?[\"'`])?[\])]{0,2}[ \t]{1,3}\Z"
)
#: … before a ternary's `if C` (Python's `os.getenv("TOKEN") if c else "…"`), which the match's
#: `else` follows.
_NAME_BEFORE_IF = re.compile(
    r"(?<![\w$])(?P<name>[\w$]{1,128})(?:\\?[\"'`])?[\])]{0,2}"
    rf"[ \t]{{1,3}}if[ \t]{{1,3}}{_CONDITION}[ \t]{{1,3}}\Z"
)


def _fallback(match: re.Match[str]) -> str:
    """A fallback's literal replaced when a secret's name stands before its operator (before a
    ternary's `if C`, for its `else`; read after a ternary's `C ? `, for its `:`)."""
    if match[0].startswith("else"):
        return _literal_after_name(match, _NAME_BEFORE_IF)
    if match[0].startswith(":"):
        return _literal_after_name(match, _NAME_BEFORE_COLON)
    comma = match[0][0] in ")]"
    replaced = _literal_after_name(match, _NAME_BEFORE_COMMA if comma else _NAME_BEFORE)
    return _literal_before_next_read(match) if replaced == match[0] else replaced


def _literal_before_next_read(match: re.Match[str]) -> str:
    """A fallback's literal that heads the next operand (`a || "…" || process.env.X`, Ruby's
    or an object's `{ "…" || ENV["X"] }`) replaced when the code after it reads a secret's
    name, as `_literal_before_read` does for a literal the rule reads first; else the match
    unchanged."""
    read = _OPERATOR_THEN_READ.match(match.string, match.end())
    if read is None:
        return match[0]
    name = _read_name(read)
    before, value, after = _literal_value(match, "v")
    if not secret_named(name) or _kept_value(name, value):
        return match[0]
    return f"{before}{_PLACEHOLDER}{after}"


#: Code that reads a setting, after a literal and an operator (`"…" if c else os.environ["X"]`):
#: a dotted path (`process.env.API_TOKEN`, `password`), or a call or a subscript whose first
#: argument or key is a quoted name (`os.getenv("API_TOKEN")`, `ENV['SECRET_KEY']`). The name
#: read is that quoted name, else the path's last part.
_READ = (
    r"(?P<path>[A-Za-z_$][\w$]{0,64}+(?:\.[A-Za-z_$][\w$]{0,64}+){0,8}+)"
    r"(?:[(\[][ \t]{0,3}(?P<rq>\\?[\"'`])(?P<rname>[\w.:/-]{1,128}+)(?P=rq))?"
)
#: A fallback's operator, then code that reads a setting (`_READ`): what follows a literal
#: that heads an operand (a ternary's ` : ` aside, which only its `C ? ` makes an operator).
_OPERATOR_THEN_READ = re.compile(
    r"[ \t]{1,3}(?:or|\|\||\?\?|\?:|if[ \t]{1,3}"
    + _CONDITION
    + r"[ \t]{1,3}else)[ \t]{1,3}"
    + _READ
)


def _read_name(match: re.Match[str]) -> str:
    """The setting's name a `_READ` reads: its quoted key, else its dotted path's last part."""
    return match["rname"] or match["path"].rsplit(".", 1)[-1]


#: Where a literal heads an operand, its opening quote just read (the match's first
#: character, `\\"` inside a JSON string): after what an operand follows, glued or after a
#: space (`=`, `?`, `(`, `[`, `{`, `,`, `;`, `+`, `&&`, `||`; an object's `: `, not a JSON
#: key's glued `":`), after `return ` or `and `, at a line's start or after indentation (a
#: tab, two spaces), or at a JSON string's start (`"\\"…`; the text's own start too, when the
#: text is that string, `"\\"…`, or its inside, `\\"…`). Only the code after the literal
#: decides (`_literal_before_read`): a literal after anything else costs these look-behinds.
#: Each look-behind is one class of the characters before the quote (or its `\\`), so that a
#: quote after none of them (most quotes: a JSON value's closing one) costs a few tests.
_OPERAND_AFTER = r"=?(\[{,;+&|"
_LITERAL_HEAD = (
    rf"(?:(?<=[{_OPERAND_AFTER}\n\t].)|(?<=[{_OPERAND_AFTER}: \t][ \t].)"
    rf"|(?<=[{_OPERAND_AFTER}]\\.)|(?<=[{_OPERAND_AFTER}: \t][ \t]\\.)"
    r"|(?<=\A.)|(?<=\A\\.)|(?<=\A\"\\.)|(?<=\\[nt]\\.)|(?<=[ \t:,\[{]\"\\.)"
    r"|(?<=return[ \t].)|(?<=return[ \t]\\.)|(?<=[ \t]and[ \t].)|(?<=[ \t]and[ \t]\\.))"
)
#: … then its text and closing quote, for each quote that opened it: `\\"…\\"` inside a JSON
#: string or `"…"` (with backslash escapes), `'…'`, `` `…` ``; each may hold the other kinds
#: of quote (`"it's"`, `'pa"ss'`).
_DOUBLE_QUOTED_HEAD = (
    _LITERAL_HEAD
    # Not a JSON key or value (its closing quote before `:`, `,`, `}` or `]`), told by one
    # run of a class: most double quotes in alert text are JSON's.
    + r"(?![^\"\r\n]{0,256}+\"[:,}\]])"
    + rf"(?:(?<=\\\")(?P<wev>{_ESCAPED_QUOTED_CHAR}{{1,256}}+)\\\""
    r"|(?<!\\\")(?P<wdv>(?:[^\"\\\r\n]|\\.){1,256}+)\")"
)
#: A single quote or backtick heads an operand at a JSON string's start too, unescaped there
#: (`"'…' || process.env.X"`, as a JSON value or the whole text).
_UNESCAPED_QUOTE_HEAD = rf"(?:{_LITERAL_HEAD}|(?<=[ \t:,\[{{]\".)|(?<=\A\".))"
_SINGLE_QUOTED_HEAD = _UNESCAPED_QUOTE_HEAD + rf"(?P<wsv>{_SINGLE_QUOTED_CHAR}{{1,256}}+)'"
_BACKTICK_QUOTED_HEAD = _UNESCAPED_QUOTE_HEAD + r"(?P<wbv>[^`\r\n]{1,256}+)`"
#: A ternary's `C ? ` right before its first operand (its quote's `\\` inside a JSON string).
_TERNARY_BEFORE = re.compile(r"\?[ \t]{1,3}\\?\Z")


def _literal_before_read(match: re.Match[str]) -> str:
    """A literal replaced (its quotes kept) when the code after it and its operator reads a
    secret's name (`secret_named`; a ternary's ` : ` only after its `C ? `); a literal the
    name's value keeps (`_kept_value`) stays, as does one before a read of another name."""
    name = _read_name(match)
    if not secret_named(name):
        return match[0]
    if match["op"].strip() == ":":
        start = match.start()
        if _TERNARY_BEFORE.search(match.string, max(0, start - 5), start) is None:
            return match[0]
    group = next(f"w{kind}v" for kind in "edsb" if match[f"w{kind}v"] is not None)
    if _kept_value(name, match[group]):
        return match[0]
    start, end = match.start(group) - match.start(), match.end(group) - match.start()
    return f"{match[0][:start]}{_PLACEHOLDER}{match[0][end:]}"


#: The name a template's filter follows: its last word, then spaces (`.Values.db.password `).
_NAME_BEFORE_FILTER = re.compile(r"(?<![\w$])(?P<name>[\w$]{1,128})[ \t]{0,3}\Z")


def _template_default(match: re.Match[str]) -> str:
    """A template's default replaced when a secret's name is what it filters."""
    return _literal_after_name(match, _NAME_BEFORE_FILTER)


#: Where a default stands after a shell variable's name: `:-` and `-` (used if unset), `:=`
#: and `=` (and assigned); Spring's `:` (`${db.password:…}`). Not `:?` (an error message) nor
#: `:+` (used if set).
_SHELL_DEFAULT = r"(?::[-=]?+|[-=])(?![?+])"

#: A variable's name (or an attribute's path, `self.db_password`) where a traceback's
#: annotation points on the source line above it.
_ANNOTATED_NAME = re.compile(r"[A-Za-z_]\w{0,127}+(?:\.[A-Za-z_]\w{0,127}+){0,8}+")
#: An annotation's line: its `│` columns (the names to its left still to come) and the `└`
#: under the name whose value follows; tabs may stand for some of the spaces.
_ANNOTATION = re.compile(r"(?P<lead>(?:[ \t│]|\\t){0,1024}+)└ (?P<value>.{1,4096}+)", re.DOTALL)
#: The tab widths a traceback's tabs are read at, most common first; at 1, a tab is one
#: column, as a trace that counts a tab in the source line as one character writes it.
_TAB_WIDTHS = (8, 4, 2, 1)


def _secret_name_from(source: str, start: int) -> str | None:
    """The first name on `source` from `start` on that is a secret's (its last part)."""
    names = (n.rsplit(".", 1)[-1] for n in _ANNOTATED_NAME.findall(source, start))
    return next((name for name in names if secret_named(name)), None)


def _starts_name(source: str, column: int) -> bool:
    """Whether a name, or an attribute after its `.`, starts at `column` of `source` (not
    inside a name)."""
    before = source[column - 1 : column] if column else ""
    return _ANNOTATED_NAME.match(source, column) is not None and not (
        before.isalnum() or before == "_"
    )


def _tabbed_column(source: str, lead: str) -> tuple[str, int] | None:
    """The source line and the `└`'s column on it, both with their tabs expanded at the first
    width (`_TAB_WIDTHS`) where the `└` and every `│` before it stand where a name starts (a
    `│` marks a name to the left whose value is annotated below); None when no width does."""
    for width in _TAB_WIDTHS:
        expanded = source.expandtabs(width)
        marks = [at for at, char in enumerate(lead.expandtabs(width) + "└") if char in "│└"]
        if all(_starts_name(expanded, at) for at in marks):
            return expanded, marks[-1]
    return None


#: A string literal on a source line: the words inside it are no names a trace annotates.
_SOURCE_STRING = re.compile(r""""(?:[^"\\]|\\.)*+"|'(?:[^'\\]|\\.)*+'""")
#: A name or an attribute on a source line (`pool`, `connect` of `pool.connect`), not a
#: number's letters (`1e5`).
_SOURCE_WORD = re.compile(r"(?<![\w])[A-Za-z_]\w{0,127}+")


def _ranked_name(source: str, lead: str, marks: int) -> str | None:
    """The name the `└` after `lead` stands under, told by its rank when the columns say
    nothing (tabs at no width): a trace annotates its names left to right, the `│`s before a
    `└` counting those to its left, and the block's widest line marks them all (`marks`).
    When the line's names (no keyword, none inside a string) are exactly that many, the one
    at the `└`'s rank is it; else None: which value is whose cannot be told."""
    words = _SOURCE_WORD.findall(_SOURCE_STRING.sub("''", source))
    names = [word for word in words if not keyword.iskeyword(word)]
    rank = lead.count("│")
    return names[rank] if len(names) == marks and rank < marks else None


def _annotated_name(source: str, lead: str, marks: int) -> str | None:
    """The name (an attribute path's last part) the `└` after `lead` stands under on `source`.
    Past a placeholder an earlier rule wrote on the line (a URL's password), the columns moved
    by an unknown count: then a secret's name anywhere after the placeholder is taken, so the
    value under it goes whatever its column now says. So it is when tabs stand for spaces at
    no width that lines the marks up with names (`_tabbed_column`) and the names cannot be
    counted to the block's `marks` either (`_ranked_name`): any secret's name on the line is
    taken."""
    column = len(lead)
    placeholder = source.find("[REDACTED:")
    if placeholder != -1 and placeholder < column:
        return _secret_name_from(source, source.find("]", placeholder) + 1)
    if "\t" in lead or "\t" in source:
        tabbed = _tabbed_column(source, lead)
        if tabbed is None:
            return _ranked_name(source, lead, marks) or _secret_name_from(source, 0)
        source, column = tabbed
    named = _ANNOTATED_NAME.match(source, column)
    return None if named is None else named[0].rsplit(".", 1)[-1]


def _annotation_blanked(source: str, note: str, escaped: bool, marks: int) -> str:
    """One annotation's line with its value replaced when the name its `└` stands under on
    `source` is a secret's (its last part: `self.db_password`), quotes kept; else unchanged.
    Inside a JSON string (`escaped`) a tab is written `\\t`: read as the tab it stands for.
    `marks` is how many names the block annotates (`_ranked_name`)."""
    annotation = _ANNOTATION.fullmatch(note)
    if annotation is None:
        return note
    lead = annotation["lead"]
    if escaped:
        source, lead = source.replace("\\t", "\t"), lead.replace("\\t", "\t")
    name = _annotated_name(source, lead, marks)
    value = annotation["value"]
    if name is None or value.startswith(("[REDACTED", "'[REDACTED", '"[REDACTED')):
        return note
    quote = value[0] if value[0] in "'\"" and value.endswith(value[0]) and len(value) > 1 else ""
    if not secret_named(name) or _kept_value(name, value.strip("'\"")):
        return note
    return f"{annotation['lead']}└ {quote}{_PLACEHOLDER}{quote}"


def _annotations_blanked(brk: str) -> Callable[[re.Match[str]], str]:
    """The replacement for a source line and the annotations below it, which the text breaks
    into lines at `brk` (a line break, or its escape inside a JSON string)."""
    breaks = re.compile(brk)
    escaped = breaks.fullmatch("\n") is None

    def replaced(match: re.Match[str]) -> str:
        notes = breaks.split(match["notes"])
        seps = breaks.findall(match["notes"])
        marks = max(note.count("│") + 1 for note in notes[1:])
        blanked = [_annotation_blanked(match["source"], note, escaped, marks) for note in notes[1:]]
        return match["source"] + "".join(
            sep + note for sep, note in zip(seps, blanked, strict=True)
        )

    return replaced


#: Go's typed declaration of a string (`var token string = "…"`, `const apiKey string = …`),
#: its literal in double quotes or backticks: the type between the name and its `=` hides the
#: pair from the rules that read `name = value`.
_GO_TYPED_STRING = (
    r"(?<![\w.])(?:var|const)[ \t]{1,3}(?P<name>[A-Za-z_]\w{0,127}+)[ \t]{1,3}string[ ]?="
    r"[ \t]{0,3}(?P<q>\\?[\"`])(?P<value>(?!\[REDACTED)(?:(?!(?P=q))[^\r\n]){1,1024}+)(?P=q)"
)


def _go_typed_string(match: re.Match[str]) -> str:
    """A Go string declared under a secret's name (`_GO_TYPED_STRING`) with its literal
    replaced; a placeholder the rules keep (`_kept_value`: `${X}`, `changeme`) stays."""
    if not secret_named(match["name"]) or _kept_value(match["name"], match["value"]):
        return match[0]
    start, end = match.start("value") - match.start(), match.end("value") - match.start()
    return f"{match[0][:start]}[REDACTED:password]{match[0][end:]}"


#: A name in a pytest `where` line's expression (`settings.DB_PASSWORD`,
#: `os.environ['API_TOKEN']`, `cfg.get_password()`): its last one says what the value is.
_EXPRESSION_NAME = re.compile(r"[A-Za-z_][\w-]{0,127}")
#: A method that gives its receiver's value back, changed in form only (`s.token.strip()`,
#: `key.decode()`, `str(x)`): the name before it says what the value is.
_VALUE_KEEPING_METHODS = frozenset(
    "strip lstrip rstrip lower upper casefold title decode encode str repr bytes".split()  # noqa: SIM905
)
#: A line of pytest's output, raw or inside a JSON string, and the break after it.
_PYTEST_LINE = r"(?:[^\r\n\\]|\\(?!n)){0,2048}+"
_PYTEST_BREAK = r"(?:\r?\n|\\n)"
#: One line of pytest's explanation of a failed assertion: `+  where '…' = <expression>`, or
#: `+  and   '…' = <expression>` for the comparison's other side.
_EXPLAINED_LINE = re.compile(
    r"\+[ \t]{1,16}+(?:where|and)[ \t]{1,3}(?P<q>\\?[\"'])(?P<value>(?!\[REDACTED)"
    r"(?:(?!(?P=q))[^\r\n]){1,1024}+)(?P=q)[ \t]=[ \t]"
    r"(?P<expression>(?:[^\r\n\\\"]|\\(?![nrt\"])){1,512}+)"
)


def _secret_expression(expression: str, value: str) -> bool:
    """Whether a `where` line's `expression` gave a secret: its last name (a method that keeps
    the value's content, `_VALUE_KEEPING_METHODS`, read past) is a secret's, and `value` no
    placeholder."""
    names = _EXPRESSION_NAME.findall(expression)
    while len(names) > 1 and names[-1] in _VALUE_KEEPING_METHODS:
        names.pop()
    return bool(names) and secret_named(names[-1]) and not _kept_value(names[-1], value)


#: A `where` line up to its value's opening quote, ending a text, and what follows the value's
#: closing quote: the expression that gave it.
_EXPLAINED_BEFORE = re.compile(r"\+[ \t]{1,16}+(?:where|and)[ \t]{1,3}\\?[\"']\Z")
_EXPLAINED_AFTER = re.compile(
    r"\\?[\"'][ \t]=[ \t](?P<expression>(?:[^\r\n\\\"]|\\(?![nrt\"])){1,512}+)"
)


def explained_secret(before: str, value: str, after: str) -> bool:
    """Whether `value`, between `before` and `after` in a text, is a literal a pytest `where`
    line says a secret's expression gave (`+  where '…' = settings.DB_PASSWORD`): what the
    rules blank there, and an alert's other fields (the title's `FAILED … - assert '…'`) lose
    too (`view._replaced`)."""
    if _EXPLAINED_BEFORE.search(before[-64:]) is None:
        return False
    expression = _EXPLAINED_AFTER.match(after)
    return expression is not None and _secret_expression(expression["expression"], value)


def _where_values(match: re.Match[str]) -> str:
    """A pytest assertion's explanation (`_EXPLAINED_LINE`s, the `assert` line above them when
    the match holds it, the text below) with each value replaced, wherever the match shows it, whose
    expression's last name is a secret's (`_EXPRESSION_NAME`; a method that keeps the value's
    content, `_VALUE_KEEPING_METHODS`, read past) and that is no placeholder; else the match
    unchanged."""
    text = match[0]
    literals: dict[str, str] = {}
    for line in _EXPLAINED_LINE.finditer(text):
        if _secret_expression(line["expression"], line["value"]):
            quote = line["q"]
            literals[f"{quote}{line['value']}{quote}"] = f"{quote}{_PLACEHOLDER}{quote}"
    # The longest first: a literal inside another's quotes is replaced as part of it.
    for literal in sorted(literals, key=len, reverse=True):
        text = text.replace(literal, literals[literal])
    return text


CALL_RULES: tuple[_Rule, ...] = (
    # Its needles as gofmt writes the type and the `=`: `string` alone is in every JSON schema.
    _rule(_GO_TYPED_STRING, _go_typed_string, "string =", "string="),
    # A traceback annotated as loguru's `diagnose` (and better_exceptions) prints it: below a
    # source line, each variable's value after a `└` in the column where its name stands. A
    # value under a secret's name goes (`_annotation_blanked`), the others stay.
    *(
        _rule(
            rf"(?:(?<=\n)|(?<=\A)|(?<=\\n)|(?<=\"))(?P<source>{char}{{1,1024}}+)"
            rf"(?P<notes>(?:{brk}(?:[ \t│]|\\t){{0,1024}}+└ {char}{{1,4096}}+){{1,64}}+)",
            _annotations_blanked(brk),
            "└",
        )
        for brk, char in _LINES
    ),
    # pytest's explanation of a failed assertion: `+  where '…' = settings.DB_PASSWORD` (and
    # `+  and   '…' = …` for the other side) says which expression gave each literal; one named
    # like a secret loses it there and on the `assert` line above (`_where_values`), in single
    # or double quotes as `repr` writes them, inside a JSON string too; and wherever the text
    # below repeats it (the short summary's `FAILED t.py::test - assert '…' == …`, other
    # failures' blocks): the match runs to the text's end (a MiB past the block at most),
    # read once, as every block below is inside it.
    _rule(
        # The `assert` line and up to 16 lines of explanation between it and the first `where`.
        rf"(?:assert[ \t]{_PYTEST_LINE}(?:{_PYTEST_BREAK}{_PYTEST_LINE}){{0,16}}?"
        rf"{_PYTEST_BREAK}[^\r\n+]{{0,64}}+)?"
        rf"\+[ \t]{{1,16}}+where[ \t]{_PYTEST_LINE}"
        rf"(?:{_PYTEST_BREAK}[^\r\n+]{{0,64}}+\+[ \t]{{1,16}}+(?:where|and)[ \t]{_PYTEST_LINE}){{0,16}}+"
        r"[\s\S]{0,1048576}+",
        _where_values,
        "where",
    ),
    # A call's literal argument after a quoted secret's name, in any quotes, as its last
    # argument or before more, or given as its `default=`: `os.getenv('DB_PASSWORD', "…")`,
    # `config.get("password", "…", type=str)`, `viper.GetString(`api_token`, `…`)`,
    # `config("SECRET_KEY", default="…")`. The rule starts at the `(`.
    _rule(
        r"""\([ \t]{0,3}(?P<q>\\?["'`])(?P<name>[\w.:-]{1,128}+)(?P=q)[ \t]{0,3},[ \t]{0,3}"""
        r"(?:(?i:default|fallback)(?:_?value)?[ \t]{0,3}=[ \t]{0,3})?(?!\\?[\"'`]\[REDACTED)"
        + _LITERAL.format(p="v", m=1, n=4096)
        + r"(?=[ \t]{0,3}[,)])",
        _named_literal,
        *_SECRET_NAME_NEEDLES,
        fold_needles=True,
    ),
    # A call's literal argument after a constant named like a secret, unquoted: JNDI's
    # `env.put(Context.SECURITY_CREDENTIALS, "…")`, Kafka's `props.put(SslConfigs.
    # SSL_KEYSTORE_PASSWORD_CONFIG, "…")`, `opts.put(PASSWORD, "…")`, PHP's `Cfg::DB_PASSWORD`
    # (`_constant_literal`). The rule starts at the `(`.
    _rule(
        r"\([ \t]{0,3}(?:[A-Za-z_$][\w$]{0,64}+(?:\.|::)){0,8}+"
        r"(?P<name>[A-Z][A-Z0-9]{0,63}+(?:_[A-Z0-9]{1,64}+){0,16}+)(?![\w$.])"
        r"[ \t]{0,3},[ \t]{0,3}(?!\\?[\"'`]\[REDACTED)"
        + _LITERAL.format(p="v", m=1, n=4096)
        + r"(?=[ \t]{0,3}[,)])",
        _constant_literal,
        *_SECRET_NAME_NEEDLES,
        "credential",
        fold_needles=True,
    ),
    # A fallback's literal, after the operator that follows a secret's read, or before the
    # operator that a secret's read follows. After: JavaScript's `process.env.API_KEY || "…"`
    # and `?? "…"`, PHP's and Kotlin's `getenv("TOKEN") ?: "…"`, Python's `os.environ.get(
    # "TOKEN") or "…"`, Ruby's `ENV['API_KEY'] || '…'` and `ENV.fetch("API_KEY") { "…" }`, Go's
    # `cmp.Or(os.Getenv("API_KEY"), "…")`, a ternary's `c ? process.env.X : "…"`; the name
    # before it is asked after (`_fallback`). Before, under any name: Python's `x = "…" if c
    # else os.environ["DB_PASSWORD"]`, `"…" or os.getenv("API_TOKEN")`, `"…" ||
    # process.env.API_TOKEN`, a ternary's `c ? "…" : process.env.API_TOKEN`; the name read is
    # asked after (`_literal_before_read`). One rule, whose first characters (an operator's or
    # a quote) the engine jumps to; a literal before an operator heads an operand
    # (`_LITERAL_HEAD`).
    _rule(
        # The first character: an operator's, or a quote that opens a literal (each its own
        # alternative, the engine jumps to them all; an empty group marks the quote).
        r"(?:\|\||\?[?:]|or(?<=[ \t]or)|else(?<=[ \t]else)|\{(?<=[ \t]\{)|\),|\],|:(?<=[ \t]:)"
        r"|\"(?P<q1>)|'(?P<q2>)|`(?P<q3>))"
        # After a quote, its literal (`_LITERAL_HEAD`); else a fallback's literal.
        + rf"(?(q1){_DOUBLE_QUOTED_HEAD}|(?(q2){_SINGLE_QUOTED_HEAD}"
        + rf"|(?(q3){_BACKTICK_QUOTED_HEAD}|(?P<fb>[ \t]{{1,3}}(?!\\?[\"'`]\[REDACTED)"
        + _LITERAL.format(p="v", m=1, n=4096)
        + "))))"
        # … and after a literal, its operator and the code that reads a secret.
        + r"(?(fb)|(?P<op>[ \t]{1,3}(?:or|\|\||\?\?|\?:|:|if[ \t]{1,3}"
        + _CONDITION
        + r"[ \t]{1,3}else)[ \t]{1,3})"
        + _READ
        + ")",
        lambda m: _fallback(m) if m["fb"] is not None else _literal_before_read(m),
        *_SECRET_NAME_NEEDLES,
        fold_needles=True,
    ),
    # A template's default filter after a secret's name: Helm's `{{ .Values.db.password |
    # default "…" }}`, Jinja's `{{ db_password | default('…') }}`. It starts at the `|`.
    _rule(
        r"\|[ \t]{0,3}default(?:[ \t]{1,3}|[ \t]{0,3}\([ \t]{0,3})(?!\\?[\"'`]\[REDACTED)"
        + _LITERAL.format(p="v", m=1, n=4096),
        _template_default,
        *_SECRET_NAME_NEEDLES,
        fold_needles=True,
    ),
    # Terraform's variable named like a secret (`variable "db_password" {`): the literal of
    # its block's `default =` (before any inner block), on the block's line or below it, raw
    # or inside a JSON string (`\\"` quotes). It starts with the word, which the engine jumps
    # to, and asks what precedes it after.
    _rule(
        r"variable(?<![\w-]variable)[ \t]{1,3}"
        r"(?P<nq>\\?\")(?P<name>[\w-]{1,128}+)(?P=nq)[ \t]{0,3}\{"
        r"[^{}]{0,4096}?(?<![\w-])default[ \t]{0,16}=[ \t]{0,3}(?!\\?[\"']\[REDACTED)"
        + _LITERAL.format(p="v", m=1, n=4096),
        _named_literal,
        *_SECRET_NAME_NEEDLES,
        fold_needles=True,
    ),
    # Perl's hash element named like a secret, assigned a literal: `$ENV{DB_PASSWORD} = '…'`,
    # `$ENV{'API_TOKEN'} = "…"`, `$self->{password} = '…'`, `$cfg{db}{password} = '…'`.
    _rule(
        r"\$[A-Za-z_]\w{0,64}+(?:->)?"
        r"(?:\{[ \t]{0,3}\\?[\"']?[\w.-]{1,64}+\\?[\"']?[ \t]{0,3}\}(?:->)?){0,4}?"
        r"\{[ \t]{0,3}(?P<q>\\?[\"']?)(?P<name>[\w.-]{1,128}+)(?P=q)[ \t]{0,3}\}"
        r"[ \t]{0,3}=[ \t]{0,3}(?!\\?[\"'`]\[REDACTED)" + _LITERAL.format(p="v", m=1, n=4096),
        _named_literal,
        *_SECRET_NAME_NEEDLES,
        fold_needles=True,
    ),
    # A literal given to a type made to hold a secret, whose name says what the literal is:
    # pydantic's `SecretStr('…')` and `SecretBytes(b'…')`, Starlette's and Prometheus'
    # `Secret('…')`, `Secret(value='…')`, Rust secrecy's `SecretString::new("…".into())`,
    # `Secret::new(…)`, `SecretBox`, ConnId's `new GuardedString("…".toCharArray())`,
    # Pulumi's `pulumi.secret("…")` and `Output.secret(…)`. Its sole argument: a `Secret`
    # whose literal has more after it is a resource's name (Pulumi's `Secret("db", …)`).
    _rule(
        r"(?:(?<![\w$])(?:Secret(?:Str|Bytes|String|Vec|Box)?|GuardedString|SensitiveString)"
        r"(?:::(?:new|from))?|(?<![\w$])(?:pulumi|Output)\.secret)[ \t]{0,3}\([ \t]{0,3}"
        r"(?P<kw>(?:secret_)?value[ \t]{0,3}=[ \t]{0,3})?b?(?!\\?[\"'`]\[REDACTED)"
        + _LITERAL.format(p="v", m=1, n=4096)
        + r"(?(kw)(?=[ \t]{0,3}[,)])|(?:\.[A-Za-z_]\w{0,32}+\(\)){0,2}+[ \t]{0,3}\))",
        _secret_type_literal,
        *("secret", "guardedstring", "sensitivestring"),
        fold_needles=True,
    ),
    # A shell's or Spring's default after a secret's name: `${DB_PASSWORD:-…}`,
    # `${DB_PASSWORD=…}`, `${DB_PASSWORD:-"…"}`, `${db.password:…}`; the name's separator and
    # the default's quotes stay.
    _rule(
        r"(?P<head>\$\{(?P<name>[A-Za-z_]\w{0,127}+(?:\.[\w-]{1,64}+){0,8}+)"
        rf"{_SHELL_DEFAULT}(?P<q>\\?[\"'])?)(?!\[REDACTED)"
        rf"(?P<value>(?(q){_QUOTED_CHAR}|[^{{}}\s\"'\\]){{1,512}}+)(?(q)(?P=q))\}}",
        lambda m: (
            m[0]
            if not secret_named(m["name"]) or _kept_value(m["name"], m["value"])
            else f"{m['head']}{_PLACEHOLDER}{m['q'] or ''}}}"
        ),
        *_SECRET_NAME_NEEDLES,
        fold_needles=True,
    ),
)


#: A call: a dotted callee (`os.environ.get`, `System.getenv().getOrDefault`), then its
#: arguments (one level of brackets inside them).
_CALLEE = r"[A-Za-z_$][\w$]{0,64}+(?:\.[A-Za-z_$][\w$]{0,64}+|\(\)){0,8}\("
_ARGS = r"(?:[^()\r\n]|\([^()\r\n]{0,512}+\)){0,2048}+"
_CALL = re.compile(rf"(?P<callee>{_CALLEE})(?P<args>{_ARGS})\)")
#: A subscript that reads a secret: a dotted path, then one to eight keys, each a quoted name
#: or a number (`os.environ["X"]`, `ENV['API_KEY']`, `config["db"]["password"]`).
_SUBSCRIPT_SOURCE = (
    r"[A-Za-z_$][\w$]{0,64}+(?:\.[A-Za-z_$][\w$]{0,64}+){0,8}+"
    r"""(?:\[[ \t]{0,3}(?:\\?["'`][\w.:/-]{1,128}+\\?["'`]|[0-9]{1,6})[ \t]{0,3}\]){1,8}+"""
)
_SUBSCRIPT = re.compile(_SUBSCRIPT_SOURCE)
#: Python's `A if C else B`, between its two operands.
_IF_ELSE = rf"[ \t]{{1,3}}if[ \t]{{1,3}}{_CONDITION}[ \t]{{1,3}}else[ \t]{{1,3}}"
#: JavaScript's, Java's or PHP's `C ? A : B` before its first operand, and its `:`.
_TERNARY_HEAD_SOURCE = rf"{_CONDITION}[ \t]{{1,3}}\?[ \t]{{1,3}}"
_TERNARY_HEAD = re.compile(_TERNARY_HEAD_SOURCE)
#: An operator between two operands: a fallback's (Python's `or`, JavaScript's and Ruby's
#: `||`, `??`, PHP's and Kotlin's `?:`), a `+` that joins a literal to what was read, a
#: ternary's `if C else`; after a ternary's `C ? `, its ` : ` too (`_TERNARY_OPERATOR`).
_OPERATOR_SOURCE = rf"(?:[ \t]{{1,3}}(?:or|\|\||\?\?|\?:|\+)[ \t]{{1,3}}|{_IF_ELSE})"
_OPERATOR = re.compile(_OPERATOR_SOURCE)
_TERNARY_OPERATOR_SOURCE = rf"(?:{_OPERATOR_SOURCE}|[ \t]{{1,3}}:[ \t]{{1,3}})"
_TERNARY_OPERATOR = re.compile(_TERNARY_OPERATOR_SOURCE)
#: An operand that is no read: a quoted literal or a bare word.
_LITERAL_OR_BARE = rf"(?:{_LITERAL_SOURCE}|[A-Za-z_$.]{{1,128}}+)"
#: … as the first operand of Python's ternary (`"…" if debug else os.environ["X"]`).
_IF_FIRST = re.compile(rf"{_LITERAL_OR_BARE}(?={_IF_ELSE})")
#: Any operand: a call, a subscript, a literal or a bare word.
_OPERAND = rf"(?:{_CALLEE}{_ARGS}\)|{_SUBSCRIPT_SOURCE}|{_LITERAL_OR_BARE})"
#: Code that reads a secret, as a value's pattern (the pair rules' `call`): a call or a
#: subscript (or a literal or a bare word before Python's `if C else`), then up to eight
#: fallbacks after an operator; or a ternary's `C ? ` and its operands (`C ? A : B`).
#: `call_literals_redacted` reads it piece by piece.
CODE_READ = (
    rf"(?:{_TERNARY_HEAD_SOURCE}{_OPERAND}(?:{_TERNARY_OPERATOR_SOURCE}{_OPERAND}){{0,8}}+"
    rf"|(?:{_CALLEE}{_ARGS}\)|{_SUBSCRIPT_SOURCE}|{_LITERAL_OR_BARE}(?={_IF_ELSE}))"
    rf"(?:{_OPERATOR_SOURCE}{_OPERAND}){{0,8}}+)"
)
#: One argument: a keyword (`default=`), then a quoted literal or anything else up to the next
#: top-level comma.
_ARGUMENT = re.compile(
    r"(?P<space>[ \t]*)(?P<keyword>[A-Za-z_]\w{0,64}+[ \t]*=(?!=)[ \t]*)?"
    r"(?:" + _LITERAL.format(p="a", m=0, n=4096) + r"|(?P<bare>(?:[^,()\"'`]|\([^()]*\))*))"
    r"(?P<end>[ \t]*(?:,|\Z))"
)
#: A literal that names a secret rather than holds one: an environment variable's name
#: (`DB_PASSWORD`, `GITHUB_TOKEN`), or a lower-case one that names a secret (`api_key`).
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]{0,63}(?:_[A-Z0-9]{1,64}){1,8}")
#: … and as a call's first argument, any name in capitals without digits (`"TOKEN"`, `"X"`):
#: what `os.getenv` reads, where a secret of capitals alone is a guess a scanner makes first.
_FIRST_NAME = re.compile(r"[A-Z_][A-Z_]{0,127}")
#: Keywords whose literal describes the field, not its value (pydantic's, click's, argparse's).
_DESCRIBING = frozenset(
    {"description", "title", "help", "alias", "validation_alias", "env", "envvar", "doc"}
)
#: A bare argument that holds no secret: a constant (`None`, `...`), another variable's dotted or
#: snake-case path (no digits: `_REFERENCE`'s reasoning), a number given to a keyword
#: (`min_length=12`). A bare word alone (`fn(x)`) may be a password with brackets in it.
_CONSTANT = re.compile(r"None|null|nil|undefined|true|false|True|False|\.\.\.")
_PATH = re.compile(r"[A-Za-z_$][A-Za-z_$]{0,64}(?:\.[A-Za-z_$][A-Za-z_$]{0,64}){0,8}")
_NUMBER = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")


def _bare_kept(bare: str, keyword: str) -> bool:
    """Whether a bare (unquoted) argument holds no secret (`_CONSTANT`, a `_PATH` with a `.`
    or `_` or given to a keyword, a keyword's `_NUMBER`)."""
    if not bare or _CONSTANT.fullmatch(bare):
        return True
    if keyword:
        return _PATH.fullmatch(bare) is not None or _NUMBER.fullmatch(bare) is not None
    return _PATH.fullmatch(bare) is not None and ("." in bare or "_" in bare)


#: A call that reads a setting by its name (`cfg.get`, `config.fetch`, `getenv`, `ENV.fetch`,
#: `settings.lookup`, `viper.GetString`, `getProperty`): the last word of its callee.
_READER = re.compile(
    r"(?:get|fetch|lookup|read|require)\w{0,32}|env|config|settings?|param|option", re.IGNORECASE
)
#: A setting's name as a reader's first argument: a word or a dotted, dashed or slashed path
#: (`"k"`, `"db_host"`, `"upstream.auth"`, `"/app/db/host"`).
_SETTING_NAME = re.compile(r"[A-Za-z_/][A-Za-z0-9_.:/-]{0,127}")


def _reads_setting(callee: str) -> bool:
    """Whether `callee` (a call's callee, its `(` included) reads a setting by its name
    (`_READER`)."""
    last = re.split(r"[.()]+", callee.rstrip("("))[-1]
    return _READER.fullmatch(last) is not None


def _setting_named(value: str) -> bool:
    """A reader's first literal that names the setting it reads (`_SETTING_NAME`), and is no
    key or token itself (`_random_looking`, `_token_like`)."""
    return (
        _SETTING_NAME.fullmatch(value) is not None
        and not _random_looking(value)
        and not _token_like(value)
    )


def _argument_kept(argument: re.Match[str], first: bool, reads_setting: bool = False) -> bool:
    """Whether a call's argument holds no secret: a bare one `_bare_kept` keeps, an empty or
    already redacted literal, a secret's or an environment variable's name as a literal
    (`"DB_PASSWORD"`; as the `first` argument, any name in capitals: `"X"`, and, when the call
    `reads_setting`, a setting's name: `cfg.get("db_host")`), a describing keyword's text."""
    keyword = (argument["keyword"] or "").split("=")[0].strip()
    if argument["bare"] is not None:
        return _bare_kept(argument["bare"].strip(), keyword)
    _, value, _ = _literal_value(argument, "a")
    return (
        not value
        or keyword in _DESCRIBING
        or value.startswith("[REDACTED:")
        or _ENV_NAME.fullmatch(value) is not None
        or (
            not keyword
            and (
                secret_named(value)
                or (first and _FIRST_NAME.fullmatch(value) is not None)
                or (first and reads_setting and _setting_named(value))
            )
        )
    )


def _argument_redacted(argument: re.Match[str]) -> str:
    """A literal argument with its value replaced, its keyword and quotes kept."""
    start, end = next(
        argument.span(f"a{kind}v") for kind in "edsb" if argument[f"a{kind}"] is not None
    )
    text = argument.string
    return f"{text[argument.start() : start]}{_PLACEHOLDER}{text[end : argument.end()]}"


def _arguments_redacted(args: str, reads_setting: bool = False) -> str | None:
    """`args` (a call's arguments) with each literal that may hold a secret replaced; None when
    a bare argument may (`_bare_kept`), or they cannot be read one by one: the value is then
    no call but a secret with brackets in it (`token=fn(x)`), and goes whole."""
    parts: list[str] = []
    position = 0
    while position < len(args):
        argument = _ARGUMENT.match(args, position)
        if argument is None or argument.end() == position:
            return None
        if _argument_kept(argument, first=position == 0, reads_setting=reads_setting):
            parts.append(argument[0])
        elif argument["bare"] is not None:
            return None
        else:
            parts.append(_argument_redacted(argument))
        position = argument.end()
    return "".join(parts)


def call_literals_redacted(value: str) -> str | None:
    """For a value under a secret's name that is wholly code reading it: a call
    (`Field(default="…")`, `os.getenv("TOKEN", "…")`, `SecretStr("…")`) or a subscript
    (`os.environ["TOKEN"]`), then any fallbacks (`or "…"`, `|| "…"`, `?? "…"`, `?: "…"`; see
    `_code_operands`), or a ternary (`A if C else B`, `C ? A : B`; its condition kept): the
    code with each literal that may hold the secret replaced (`_argument_kept` says which of a
    call's arguments stay), the same text when none may; the placeholder alone when the code
    cannot be read piece by piece. None for a value that does not start with a call, a
    subscript or a ternary."""
    head = _TERNARY_HEAD.match(value)
    if head is not None:
        parts = _code_operands(value, head.end(), _TERNARY_OPERATOR)
        return _PLACEHOLDER if parts is None else head[0] + "".join(parts)
    first = _CALL.match(value) or _SUBSCRIPT.match(value) or _IF_FIRST.match(value)
    if first is None:
        return None
    parts = _code_operands(value)
    return _PLACEHOLDER if parts is None else "".join(parts)


#: A fallback's literal, whole.
_FALLBACK_LITERAL = re.compile(_LITERAL.format(p="v", m=0, n=4096))
#: A fallback that is no literal: a constant or another variable (`None`, `DEFAULT_TOKEN`).
_BARE_OPERAND = re.compile(r"[A-Za-z_$.]{1,128}+")


def _code_operand(value: str, position: int) -> tuple[str, int] | None:
    """The operand of a fallback chain at `position`, as it is written out, and where it ends:
    a call (its literals replaced), a subscript (kept), a literal (replaced unless empty) or a
    bare constant or dotted or snake-case path (`None`, `DEFAULT_TOKEN`, kept: `_bare_kept`). None when none of
    these starts there, or a call's arguments cannot be read one by one."""
    call = _CALL.match(value, position)
    if call is not None:
        args = _arguments_redacted(call["args"], _reads_setting(call["callee"]))
        return None if args is None else (f"{call['callee']}{args})", call.end())
    subscript = _SUBSCRIPT.match(value, position)
    if subscript is not None:
        return subscript[0], subscript.end()
    literal = _FALLBACK_LITERAL.match(value, position)
    if literal is not None:
        before, text, after = _literal_value(literal, "v")
        return (literal[0] if not text else f"{before}{_PLACEHOLDER}{after}"), literal.end()
    bare = _BARE_OPERAND.match(value, position)
    if bare is not None and _bare_kept(bare[0], ""):
        return bare[0], bare.end()
    return None


def _code_operands(
    value: str, position: int = 0, operators: re.Pattern[str] = _OPERATOR
) -> list[str] | None:
    """`value` read as code from `position`: operands (`_code_operand`) joined by `operators`
    (fallbacks', `+`, a ternary's: `_OPERATOR`, or `_TERNARY_OPERATOR` after a ternary's `C ? `),
    each written out with its literals replaced; None when some of it is none of these (a
    secret with brackets in it goes whole)."""
    parts: list[str] = []
    while True:
        operand = _code_operand(value, position)
        if operand is None:
            return None
        parts.append(operand[0])
        position = operand[1]
        if position == len(value):
            return parts
        operator = operators.match(value, position)
        if operator is None or len(parts) > 8:
            return None
        parts.append(operator[0])
        position = operator.end()
