"""Rules for a secret in a table, known by its column's name in a header: a TSV, CSV or
semicolon-separated table, a Markdown, psql or MySQL table (`|`), and SQL's `INSERT INTO t
(…, password, …) VALUES (…, '…', …)`, a parameter a log prints after a statement that binds
it to such a column by its place (`VALUES (%s, ?)`, `SET password = $1`), a unique key's
error quoting a value (Postgres' `Key (api_token)=(…)`, MySQL's `Duplicate entry '…' for key
'…token'`); or by the cell before it in its row (`| Password | … |`,
`<td>password</td><td>…</td>`, `<dt>password</dt><dd>…</dd>`), the name and the value
dressed in emphasis, code marks or inline tags or not (`**Password**`, `` `…` ``). Every cell
below a header cell that names a secret (`secret_named`) goes, in each row until one no longer
has the header's number of cells;
an empty cell, `NULL`, a masked `****` or a state word stays, as after a name. A column
whose name's last word is `key` (`consumer_key`, `hmacKey`) loses only key-shaped cells
(`key_named_value`), as a value after such a name does; `cache_key`'s `user:42` stays.
"""

from __future__ import annotations

import re

from triage.redact.names import (
    _SECRET_NAME,
    _SECRET_NAME_NEEDLES,
    _kept_value,
    placeholder_named,
    secret_named,
)
from triage.redact.pairs import _KEY_NAME, key_named_value
from triage.redact.rule import LISTED_WHEN, _Rule, _rule

_PLACEHOLDER = "[REDACTED:password]"

#: A line between a table's header and its rows, or around them: dashes, pluses, pipes, colons.
_RULE_LINE = re.compile(r"[ \t]*[-+=|:]*-[-+=|: \t]*")


def _cells(line: str, delimiter: str) -> list[tuple[int, int]]:
    """The spans of `line`'s cells between `delimiter`s, a double-quoted cell read whole (a
    CSV's `"a,b"`); a `|` table's outer pipes open and close the row, and make no cell."""
    spans: list[tuple[int, int]] = []
    start, quoted = 0, False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(line)))
    if delimiter == "|":
        if spans and not line[spans[0][0] : spans[0][1]].strip():
            spans = spans[1:]
        if spans and not line[spans[-1][0] : spans[-1][1]].strip():
            spans = spans[:-1]
    return spans


#: Inline HTML that dresses a cell's name or value (`<strong>Password</strong>`,
#: `<code>…</code>`), and Markdown's emphasis and code marks around it (`**DB password**`).
_INLINE_TAG = r"</?(?:strong|b|em|i|code|pre|kbd|samp|tt|span|mark)(?:[ \t][^<>]{0,128}+)?>"
_DRESS_AROUND = re.compile(
    rf"\A(?P<lead>(?:[ \t\r\n]|{_INLINE_TAG}|\*{{1,3}}|_{{1,3}}|`{{1,3}})*+)"
    rf"(?P<inner>.*?)(?P<trail>(?:[ \t\r\n]|{_INLINE_TAG}|\*{{1,3}}|_{{1,3}}|`{{1,3}})*+)\Z",
    re.DOTALL,
)


def _undressed(name: str) -> str:
    """A cell's name without the emphasis, code marks, quotes and inline tags around it."""
    dressed = _DRESS_AROUND.match(name)
    inner = dressed["inner"] if dressed else name
    return inner.strip().strip("\"'")


def _cell_replaced(cell: str, name: str) -> str:
    """A cell with its value replaced, its spaces, quotes, code marks and inline tags kept,
    unless the value is one a name's value keeps (`_kept_value`: a state word, a masked one),
    `NULL` or empty."""
    dressed = _DRESS_AROUND.match(cell)
    if dressed is None:  # the pattern matches any text; this keeps a type checker sure
        return cell
    lead, value, trail = dressed["lead"], dressed["inner"], dressed["trail"]
    quote = value[0] if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) > 1 else ""
    bare = value[1:-1] if quote else value
    if not bare or bare.upper() == "NULL" or bare.startswith("[REDACTED"):
        return cell
    if _kept_value(name, bare):
        return cell
    if not secret_named(name) and not key_named_value(name, bare):
        return cell
    return f"{lead}{quote}{_PLACEHOLDER}{quote}{trail}"


def _row_replaced(line: str, delimiter: str, secret: dict[int, str]) -> str:
    """A row with its secret columns' cells replaced (`secret`: column index → header name)."""
    pieces: list[str] = []
    last = 0
    for index, (start, end) in enumerate(_cells(line, delimiter)):
        if index in secret:
            pieces += (line[last:start], _cell_replaced(line[start:end], secret[index]))
            last = end
    pieces.append(line[last:])
    return "".join(pieces)


def _column_named(name: str) -> bool:
    """Whether a header's or a row's cell names a column whose cells may be secrets: a
    secret's name (`secret_named`) or a name whose last word is `key` (`_KEY_NAME`); a cell
    ending in a placeholder names none (`placeholder_named`)."""
    if placeholder_named(name):
        return False
    return secret_named(name) or _KEY_NAME.search(name) is not None


#: A pipe table's row or rule line (`| name | state |`, `|---|---|`) ending where the next
#: line starts.
_PIPE_ROW_ABOVE = re.compile(r"(?m:^)[ \t]{0,64}+\|[^\r\n]{0,65536}+\r?\n\Z")


def _below_a_pipe_row(match: re.Match[str]) -> bool:
    """Whether the match's header row stands below another row or rule line of a pipe table:
    then it is a row of that table (`| api_key | set |` under `| name | state |`), whose cells
    the rule for a cell beside a secret's name reads, not a header naming the columns below."""
    start = match.start("header")
    above = match.string.rfind("\n", 0, max(start - 1, 0)) + 1
    return start > 0 and _PIPE_ROW_ABOVE.match(match.string[above:start]) is not None


#: A setting's name as an environment or a `NAME<TAB>value` listing writes it (`DB_PASSWORD`).
_SETTING_NAME = re.compile(r"[A-Z_][A-Z0-9_]{1,127}+")

#: A column's name in capitals (`USER`, `VALUE`, `LAST_USED`).
_CAPS_WORD = re.compile(r"[A-Z_]{1,64}+")


def _settings_listed(names: list[str], lines: list[str]) -> bool:
    """Whether a tab-separated block is a listing of settings, each line a name and its value
    (`API_KEY<TAB>…` then `DB_PASSWORD<TAB>…`), not a table under a header: two cells a line,
    the first of each a setting's name, and the first line's second no column's name in
    capitals (`PASSWORD<TAB>USER` heads a table) unless a line below names a secret too (a
    value in capitals, `API_KEY<TAB>ABCD…`, then `DB_PASSWORD<TAB>…`: a table's cells under
    `PASSWORD` are passwords, not secrets' names). Each value is then the pair rule's, read
    after its own name (`_tab_value`); as a header, the first line's name would take the
    names below it for its column's cells, and leave their values."""
    if len(names) != 2 or not _SETTING_NAME.fullmatch(names[0]):
        return False
    rows = [line.rstrip("\r") for line in lines if line.strip()]
    firsts: list[str] = []
    for row in rows:
        cells = _cells(row, "\t")
        first = row[cells[0][0] : cells[0][1]].strip() if len(cells) == 2 else ""
        if _SETTING_NAME.fullmatch(first) is None:
            return False
        firsts.append(first)
    return bool(rows) and (
        not _CAPS_WORD.fullmatch(names[1]) or any(secret_named(first) for first in firsts)
    )


def table(match: re.Match[str]) -> str:
    """A table's rows with their secret columns replaced, while a row has as many cells as the
    header; the header and every other line stay. Unchanged when no header cell names a
    secret, or when one is a date (`LISTED_WHEN`): a row of data (`gh secret list`'s
    `NAME<TAB>Updated …`), not a header, which names its columns."""
    header, delimiter = match["header"], match["d"]
    if delimiter == "|" and _below_a_pipe_row(match):
        return match[0]
    names = [_undressed(header[start:end]) for start, end in _cells(header, delimiter)]
    secret = {i: name for i, name in enumerate(names) if _column_named(name)}
    if not secret or any(LISTED_WHEN.fullmatch(name) for name in names):
        return match[0]
    lines = match["rows"].split("\n")
    if delimiter == "\t" and _settings_listed(names, lines):
        return match[0]
    for at, line in enumerate(lines):
        if not line.strip() or _RULE_LINE.fullmatch(line.rstrip("\r")):
            continue
        if len(_cells(line.rstrip("\r"), delimiter)) != len(names):
            break
        lines[at] = _row_replaced(line, delimiter, secret)
    return header + "\n".join(lines)


#: A header's cell: a quoted name, or up to four words (`Secret Name`).
_CELL = (
    r"""(?:"[^"\r\n]{1,64}+"|`[^`\r\n]{1,64}+`|[^\s,;|"'`]{1,64}+(?:[ ][^\s,;|"'`]{1,64}+){0,3})"""
)


def _table(column_name: str) -> str:
    """A header row (`column_name` somewhere in it) whose cells are names between one delimiter
    (a tab, `,`, `;` or `|`), and the lines after it that hold that delimiter or rule the
    table."""
    return (
        rf"(?P<header>(?m:^)(?=[ \t]{{0,64}}+(?:\|[ \t]{{0,64}}+)?{_CELL}[ ]{{0,64}}+[\t,;|])"
        rf"(?=[^\r\n]{{0,1024}}?{column_name})[ \t]{{0,64}}+(?:\|[ \t]{{0,64}}+)?"
        rf"{_CELL}[ ]{{0,64}}+(?P<d>[\t,;|])[ ]{{0,64}}+{_CELL}"
        rf"(?:[ ]{{0,64}}+(?P=d)[ ]{{0,64}}+{_CELL}){{0,256}}+[ \t]{{0,64}}+\|?[ \t]{{0,64}}+(?=\r?\n))"
        r"(?P<rows>(?:\r?\n(?:[^\r\n]{0,65536}?(?P=d)[^\r\n]{0,65536}+"
        r"|[ \t]{0,64}+[-+=|:]{0,1024}?-[-+=|: \t]{0,65536}+)){1,65536}+)"
    )


TABLE = _table(_SECRET_NAME)
#: A header's name whose last word is `key` (`consumer_key`, `hmacKey`), its case as written.
_KEY_COLUMN = r"(?-i:(?:[A-Za-z0-9][_.-](?:key|KEY|Key)|[A-Za-z0-9]Key)(?![A-Za-z0-9]))"
#: Where a key's name is, in the text as written: camel case's `Key`, or a separator and `key`
#: in lower or upper case.
KEY_COLUMN_NEEDLES = ("_key", ".key", "-key", "_KEY", ".KEY", "-KEY", "Key")
#: A table with a key's column (`name,hmacKey`), whose key-shaped cells go (`table`).
KEY_TABLE = _table(_KEY_COLUMN)
_SECRET_OR_KEY_TABLE = _table(f"(?:{_SECRET_NAME}|{_KEY_COLUMN})")


# --- SQL's INSERT --------------------------------------------------------------------------------

#: One value of an INSERT's tuple: a quoted string (`''` inside), a call with its brackets, a
#: word or number.
_SQL_VALUE = re.compile(
    r"""[ \t\r\n]*+(?:'(?:[^']|'')*+'|[^,()'\s]++(?:\((?:[^()']|'(?:[^']|'')*+'){0,65536}+\))?)[ \t\r\n]*+"""
)


def _sql_tuple(text: str, secret: set[int]) -> str:
    """One `(…)` of VALUES with the values at `secret` positions replaced; a NULL or a value
    that is not a quoted string stays (a call, `crypt('pw', …)`, loses its quoted literals)."""
    pieces: list[str] = []
    position = 0
    index = 0
    while position < len(text):
        value = _SQL_VALUE.match(text, position)
        if value is None:
            break
        if index in secret:
            pieces.append(re.sub(r"'(?:[^']|'')*+'", f"'{_PLACEHOLDER}'", value[0]))
        else:
            pieces.append(value[0])
        position = value.end()
        if position < len(text) and text[position] == ",":
            pieces.append(",")
            position += 1
            index += 1
        else:
            break
    pieces.append(text[position:])
    return "".join(pieces)


#: A tuple of an INSERT's VALUES, quoted strings and one level of calls inside.
_SQL_TUPLE = re.compile(
    r"\((?P<inner>(?:[^()']|'(?:[^']|'')*+'|\((?:[^()']|'(?:[^']|'')*+'){0,65536}+\))*+)\)"
)


def _sql_insert(match: re.Match[str]) -> str:
    """An INSERT with the values of its secret-named columns replaced, in every tuple."""
    columns = [c.strip().strip("\"'`[]") for c in match["columns"].split(",")]
    secret = {i for i, column in enumerate(columns) if secret_named(column)}
    if not secret:
        return match[0]
    values = _SQL_TUPLE.sub(lambda t: f"({_sql_tuple(t['inner'], secret)})", match["values"])
    return f"{match['head']}{values}"


# --- SQL's parameters bound by position, and unique-key errors ----------------------------------

#: A positional placeholder of a statement (`%s`, `?`, `$1`, `:1`). What holds a `?` or a `$1`
#: that is no placeholder is skipped, so that it shifts no place: a string (`''` or `\\'`
#: inside), a quoted name (`"…"`, `` `…` ``), a comment (`/* … */`, `-- …` to the line's
#: end, an escaped line break's inside a JSON string), Postgres' dollar-quoted string
#: (`$$…$$`, `$tag$…$tag$`), JDBC's escaped `??` and jsonb's `?|`, `?&` and `? 'key'`.
_PLACEHOLDER_MARK = re.compile(
    r"'(?:[^'\\]|''|\\.)*+'"
    r'|"(?:[^"\r\n]|""){0,256}+"|`[^`\r\n]{0,256}+`'
    # A comment ends at its `*/`, and holds no `/*` (an unclosed one is read once, not again from
    # each `/*` after it).
    r"|/\*(?:[^*/]|\*(?!/)|/(?!\*)){0,4096}+\*/|--(?:[^\r\n\\]|\\(?![nr]))*+"
    r"|\$(?P<tag>(?:[A-Za-z_]\w{0,63})?)\$(?s:.){0,65536}?\$(?P=tag)\$"
    r"|\?\?|\?(?=[|&]|[ \t]{0,8}')"
    r"|(?P<mark>%s|\?|\$[0-9]{1,4}|(?<![\w:]):[0-9]{1,4})"
)
#: A column set or compared to a placeholder (`password=%s`, `"users"."secret" = ?`).
_COLUMN_MARK = re.compile(
    r"(?P<column>[\w\"`\[\].]{1,128}+)[ \t\r\n]{0,8}=[ \t\r\n]{0,8}"
    r"(?P<mark>%s|\?|\$[0-9]{1,4}|:[0-9]{1,4})(?![\w])"
)
#: An INSERT's columns and its first VALUES tuple, or the list a SELECT gives them
#: (`INSERT INTO users (name, password) SELECT ?, ? FROM …`: to its first parenthesis).
_INSERT_COLUMNS = re.compile(
    r"INSERT[ \t\r\n]{1,64}(?:INTO[ \t\r\n]{1,64})?[^\s(]{1,256}+[ \t\r\n]{0,64}"
    r"\((?P<columns>[^()]{1,4096}+)\)[ \t\r\n]{0,64}"
    r"(?:VALUES[ \t\r\n]{0,64}\((?P<inner>[^()]{0,4096}+)\)"
    r"|SELECT[ \t\r\n]{1,64}(?P<selected>[^()]{0,4096}+))",
    re.IGNORECASE,
)
#: One parameter as Python's repr (or JSON) prints it: a quoted string, or anything to a comma.
_PARAMETER = re.compile(
    r"""[ \t\r\n]*+(?P<value>[bru]{0,2}'(?:[^'\\\n]|\\.)*+'|[bru]{0,2}"(?:[^"\\\n]|\\.)*+\""""
    r"""|[^,()\[\]'"\s]++)[ \t\r\n]*+"""
)


def _secret_places(sql: str) -> dict[int, str]:
    """The 0-based places of a statement's parameters bound to a column named like a secret
    (`_column_named`), and each one's column: an INSERT's VALUES by the column at its
    position, any `column = placeholder` by its column; `$N` and `:N` by their number, the
    others by their order."""
    marks = [m for m in _PLACEHOLDER_MARK.finditer(sql) if m["mark"]]
    place: dict[int, int] = {}
    for order, mark in enumerate(marks):
        number = mark["mark"].lstrip("$:")
        place[mark.start("mark")] = int(number) - 1 if number.isdigit() else order
    columns: dict[int, str] = {}
    insert = _INSERT_COLUMNS.search(sql)
    if insert is not None:
        names = [c.strip().strip("\"'`[]") for c in insert["columns"].split(",")]
        group = "inner" if insert["inner"] is not None else "selected"
        position = insert.start(group)
        for name, item in zip(names, insert[group].split(","), strict=False):
            start = position + len(item) - len(item.lstrip())
            if start in place:
                columns[place[start]] = name
            position += len(item) + 1
    for compared in _COLUMN_MARK.finditer(sql):
        at = compared.start("mark")
        if at in place:
            columns[place[at]] = compared["column"].rsplit(".", 1)[-1].strip('"`[]')
    return {at: name for at, name in columns.items() if _column_named(name)}


def _parameters_replaced(params: str, secret: dict[int, str]) -> str:
    """A parameter tuple or list (`('bob', 'pw')`, `[7, 'pw']`) with the values at `secret`
    places replaced (`_cell_replaced`); a list of tuples (executemany's) tuple by tuple."""
    inner = params[1:-1]
    if inner.lstrip().startswith(("(", "[")):
        return (
            params[0]
            + _SQL_PARAMETER_TUPLE.sub(lambda t: _parameters_replaced(t[0], secret), inner)
            + params[-1]
        )
    pieces: list[str] = []
    position = index = 0
    while position < len(inner):
        parameter = _PARAMETER.match(inner, position)
        if parameter is None:
            return params
        value = parameter["value"]
        if index in secret and value[:1] in "\"'":
            value = _cell_replaced(value, secret[index])
        pieces.append(inner[position : parameter.start("value")] + value)
        pieces.append(inner[parameter.end("value") : parameter.end()])
        position = parameter.end()
        if position < len(inner) and inner[position] == ",":
            pieces.append(",")
            position += 1
            index += 1
        elif position < len(inner):
            return params
    return params[0] + "".join(pieces) + params[-1]


#: A tuple or a list of parameters, strings inside read whole.
_SQL_PARAMETER_TUPLE = re.compile(
    r"""[(\[](?:[^()\[\]'"]|'(?:[^'\\\n]|\\.)*+'|"(?:[^"\\\n]|\\.)*+")*+[)\]]"""
)


def _bound_parameters(match: re.Match[str]) -> str:
    """A statement and its logged parameters (`[parameters: (…)]`, `params=(…)`) with the
    parameters bound to secret columns replaced (`_secret_places`)."""
    secret = _secret_places(match["sql"])
    if not secret:
        return match[0]
    start = match.start("params") - match.start()
    return match[0][:start] + _parameters_replaced(match["params"], secret)


def _key_detail(match: re.Match[str]) -> str:
    """Postgres' unique or foreign key error's `Key (columns)=(values)` with the values of secret columns replaced; every
    value when they cannot be told apart (a value holding `, `) and a column is a secret's."""
    names = [n.strip().strip('"') for n in match["columns"].split(",")]
    values = match["values"].split(", ")
    if not any(_column_named(name) for name in names):
        return match[0]
    if len(values) != len(names):
        replaced = _PLACEHOLDER
    else:
        replaced = ", ".join(
            _cell_replaced(value, name) if _column_named(name) else value
            for name, value in zip(names, values, strict=True)
        )
    start, end = match.start("values") - match.start(), match.end("values") - match.start()
    return match[0][:start] + replaced + match[0][end:]


def _duplicate_entry(match: re.Match[str]) -> str:
    """MySQL's `Duplicate entry '…' for key '…'` with the entry replaced when the key (its
    table's prefix aside) is named like a secret."""
    key = match["key"].rsplit(".", 1)[-1]
    if not _column_named(key) or match["entry"].startswith("[REDACTED"):
        return match[0]
    start, end = match.start("entry") - match.start(), match.end("entry") - match.start()
    return match[0][:start] + _PLACEHOLDER + match[0][end:]


#: A pipe table's row: its first cell (`name`) and the cell after it (`value`).
_PIPE_CELLS = (
    r"(?m:^)[ \t]{0,64}+\|[ \t]{0,64}+(?P<name>[^|\r\n]{1,64}+)\|(?P<value>[^|\r\n]{1,4096}+)(?=\|)"
)
#: … at a JSON string's start or after its escaped line break (read from that quote or `\n`,
#: which the engine jumps to; a look-behind for them at every position cost more than the
#: rule), where a cell ends at the string's end too.
_JSON_PIPE_CELLS = (
    r"(?:\"|\\n)[ \t]{0,64}+\|[ \t]{0,64}+(?P<name>(?:[^|\r\n\"\\]|\\[^nr\r\n]){1,64}+)\|"
    r"(?P<value>(?:[^|\r\n\"\\]|\\[^nr\r\n]){1,4096}+)(?=\|)"
)
#: An HTML table's cell (`name`) and the `<td>` after it (`value`).
#: A cell's name or value may be dressed in inline tags (`<th><strong>Password</strong></th>`,
#: `<td><code>…</code></td>`).
_HTML_CELLS = (
    r"<t[hd](?:[ \t][^<>]{0,256}+)?>[ \t\r\n]{0,64}+"
    rf"(?P<name>(?:[^<>\r\n]|{_INLINE_TAG}){{1,64}}+)</t[hd]>[ \t\r\n]{{0,64}}+"
    rf"<td(?:[ \t][^<>]{{0,256}}+)?>(?P<value>(?:[^<>]|{_INLINE_TAG}){{1,4096}}+)(?=</td>)"
)
#: … and a definition list's term and its description (`<dt>Password</dt><dd>…</dd>`).
_DEFINITION_CELLS = (
    r"<dt(?:[ \t][^<>]{0,256}+)?>[ \t\r\n]{0,64}+"
    rf"(?P<name>(?:[^<>\r\n]|{_INLINE_TAG}){{1,64}}+)</dt>[ \t\r\n]{{0,64}}+"
    rf"<dd(?:[ \t][^<>]{{0,256}}+)?>(?P<value>(?:[^<>]|{_INLINE_TAG}){{1,4096}}+)(?=</dd>)"
)


#: The line after a Markdown table's header (`|---|:---:|`), raw or after a JSON string's
#: escaped line break.
_MARKDOWN_RULE_NEXT = re.compile(
    r"[^\r\n]{0,4096}?(?:\r?\n|\\r?\\n)[ \t]{0,64}+\|[ \t]{0,64}+:?-{3}"
)


def _header_row(match: re.Match[str]) -> bool:
    """Whether the match's row is a Markdown table's header (a rule line `|---|` under it):
    its cells name columns (`| secret | updated |`), and the one after a secret's name is a
    name too, not its value."""
    return _MARKDOWN_RULE_NEXT.match(match.string, match.end()) is not None


def _cell_beside(match: re.Match[str]) -> str:
    """A cell's value replaced when the cell before it names a secret (`secret_named`) and the
    value is no word a name's value keeps (`_cell_replaced`), and the row is no Markdown
    table's header (`_header_row`); else the match unchanged."""
    name = _undressed(match["name"])
    if not _column_named(name) or _header_row(match):
        return match[0]
    start, end = match.start("value") - match.start(), match.end("value") - match.start()
    return match[0][:start] + _cell_replaced(match["value"], name) + match[0][end:]


TABLE_RULES: tuple[_Rule, ...] = (
    # A header with a secret's name (`user,password`) or a key's (`name,consumer_key`,
    # `id\thmacKey`), whose key columns lose key-shaped cells only (`_cell_replaced`). One
    # pattern, twice, as the cells' rules below: for a secret's needles (folded), and for a
    # key's as written (camel case's `Key`; folded, `key` is in almost every JSON text).
    _rule(_SECRET_OR_KEY_TABLE, table, *_SECRET_NAME_NEEDLES, flags=re.IGNORECASE),
    _rule(_SECRET_OR_KEY_TABLE, table, *KEY_COLUMN_NEEDLES),
    # A cell naming a secret (or a key) and the cell after it: a Markdown or pipe table's row
    # (`| Password | … |`), an HTML table's (`<td>password</td><td>…</td>`, `<th>…`), a
    # definition list's (`<dt>Password</dt><dd>…</dd>`); the name dressed or not.
    *(
        rule
        for cells in (_PIPE_CELLS, _JSON_PIPE_CELLS, _HTML_CELLS, _DEFINITION_CELLS)
        for rule in (
            _rule(cells, _cell_beside, *_SECRET_NAME_NEEDLES, flags=re.IGNORECASE),
            _rule(cells, _cell_beside, *KEY_COLUMN_NEEDLES),
        )
    ),
    _rule(
        r"(?P<head>INSERT[ \t]{1,8}INTO[ \t]{1,8}[^\s(]{1,256}+[ \t]{0,8}"
        r"\((?P<columns>[^()]{1,4096}+)\)[ \t\r\n]{0,64}VALUES[ \t\r\n]{0,64})"
        r"(?P<values>\((?:[^()']|'(?:[^']|''){0,65536}+'|\((?:[^()']|'(?:[^']|''){0,65536}+'){0,65536}+\)){1,65536}+\)"
        r"(?:[ \t\r\n]{0,64},[ \t\r\n]{0,64}\((?:[^()']|'(?:[^']|''){0,65536}+'"
        r"|\((?:[^()']|'(?:[^']|''){0,65536}+'){0,65536}+\)){1,65536}+\)){0,4096}+)",
        _sql_insert,
        # Every match starts with INSERT, rarer than a secret's name.
        "insert",
        flags=re.IGNORECASE,
    ),
    # A statement with positional placeholders (`%s`, `?`, `$1`) and the parameters a driver
    # or SQLAlchemy logs after it (`[parameters: (…)]`, `params=(…)`, `args: […]`; a JSON
    # log's field, `"params": […]`, knex's `"bindings"`): each parameter bound to a secret
    # column (`_bound_parameters`).
    _rule(
        # As drivers and ORMs write it, the verb in capitals or in lower case (Hibernate's,
        # hand-written SQL's), the parameters' word in lower case: in any case, prose's
        # "Update" and "Select" would each start a scan.
        r"(?P<sql>(?<![\w-])(?:INSERT|UPDATE|REPLACE|UPSERT|MERGE|SELECT|DELETE"
        r"|insert|update|replace|upsert|merge|select|delete)[ \t\r\n]"
        r"[^\0]{0,8192}?)(?<![\w-])(?:parameters|params|args|bind[ _]?params|bindings)"
        r"(?:\\?[\"'])?[ \t]{0,3}[:=][ \t]{0,3}"
        r"(?P<params>[(\[](?:[^()\[\]'\"]|'(?:[^'\\\n]|\\.){0,4096}+'|\"(?:[^\"\\\n]|\\.){0,4096}+\""
        r"|[(\[](?:[^()\[\]'\"]|'(?:[^'\\\n]|\\.){0,4096}+'|\"(?:[^\"\\\n]|\\.){0,4096}+\"){0,4096}+[)\]])"
        r"{0,65536}+[)\]])",
        _bound_parameters,
        "parameters",
        "params",
        "args",
        "bindings",
    ),
    # Postgres' `DETAIL: Key (api_token)=(…) already exists.` (and `is not present`, `is still
    # referenced`, `conflicts with`): the values of secret columns.
    _rule(
        r"(?<![\w-])Key[ \t]{1,3}\((?P<columns>[^()\r\n]{1,1024}+)\)=\((?P<values>[^\r\n]{1,4096}?)\)"
        r"(?=[ \t]{1,3}(?:already[ \t]exists|is[ \t]not[ \t]present|is[ \t]still[ \t]referenced"
        r"|conflicts[ \t]with))",
        _key_detail,
        "key (",
        flags=re.IGNORECASE,
    ),
    # MySQL's `Duplicate entry '…' for key 'users.password_reset_token'`.
    _rule(
        r"Duplicate[ \t]entry[ \t]'(?P<entry>(?:[^'\\\r\n]|\\.|''){1,4096}+)'[ \t]for[ \t]key[ \t]"
        r"'(?P<key>[^'\r\n]{1,256}+)'",
        _duplicate_entry,
        "duplicate entry",
        flags=re.IGNORECASE,
    ),
)

#: A table's header holding a placeholder (`token=[REDACTED:password],password`) and its rows.
TABLE_AFTER_PLACEHOLDER = r"(?m:^)(?=[^\r\n]{0,1024}?\[REDACTED:)" + _SECRET_OR_KEY_TABLE

#: The table rule again, after the rules that write a value's placeholder (`rules.py`): a
#: header cell holding a secret may have been past a cell's length (`_CELL`) when
#: `TABLE_RULES` ran, before a later rule (a pair's) made it short; a second pass would read
#: that header, so the first reads it too (inside a JSON string: `sections.JSON_TABLE_AGAIN_RULES`).
TABLE_AGAIN_RULES: tuple[_Rule, ...] = (
    _rule(TABLE_AFTER_PLACEHOLDER, table, "redacted:", flags=re.IGNORECASE),
)
