"""Rules for a value an ORM or a driver logs as bound by its place to a statement's parameter,
on a line of its own below the statement: Hibernate 4 and 5's `binding parameter [2] as
[VARCHAR] - [pw]`, Hibernate 6's `binding parameter (2:VARCHAR) <- [pw]`, Hibernate 3's
`binding 'pw' to parameter: 2`, EclipseLink's `bind => [bob, pw]`, MyBatis' `Parameters:
bob(String), pw(String)`, Postgres' `parameters: $1 = 'bob', $2 = 'pw'` and
datasource-proxy's `Params:[(bob,pw)]`. The statement is the last one written before the
values (`places_before`); a value goes when its place binds a column named like a secret
(`tables._secret_places`: `INSERT … (name, password) VALUES (?, ?)`, `SET api_token = ?`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator

from triage.redact.rule import _LINES, _Rule, _rule
from triage.redact.tables import _PLACEHOLDER_MARK, _cell_replaced, _secret_places

#: How far before its values a statement is looked for: a statement and its bound values are
#: logged together, and 8,192 characters hold the longest an ORM writes.
_STATEMENT_REACH = 8192
_VERBS = ("insert", "update", "delete", "select", "merge", "replace", "upsert")
#: A statement's verb as drivers and ORMs write it, in capitals, in lower case or capitalised.
_VERB = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(form for verb in _VERBS for form in (verb, verb.upper(), verb.capitalize()))
    + r")(?=[ \t\r\n]|\\[nrt])"
)


#: Space between a statement's words: raw, or an escaped line break or tab (a JSON string's).
_SPACE = r"(?:[ \t\r\n]|\\[nrt])"
#: A common table expression's start (`WITH [RECURSIVE] name [(columns)] AS [NOT
#: MATERIALIZED] (`): the statement after its last `)` is one with it, and its placeholders
#: come first (`WITH x AS (SELECT … WHERE org = ?) UPDATE … SET password = ?`).
_CTE = re.compile(
    rf"(?<![\w-])(?i:with){_SPACE}{{1,16}}+(?:(?i:recursive){_SPACE}{{1,16}}+)?"
    rf"[\w\"`]{{1,128}}+{_SPACE}{{0,16}}+(?:\([^()]{{0,1024}}+\){_SPACE}{{0,16}}+)?"
    rf"(?i:as){_SPACE}{{0,16}}+(?:(?:(?i:not){_SPACE}{{1,16}}+)?(?i:materialized){_SPACE}{{0,16}}+)?\("
)


#: An INSERT's head up to its columns' `)`: a SELECT right after it gives the INSERT its rows
#: (`INSERT INTO users (name, password) SELECT ?, ? …`), and starts no statement of its own.
_INSERT_HEAD = re.compile(
    rf"(?i:insert){_SPACE}{{1,16}}+(?:(?i:into){_SPACE}{{1,16}}+)?[^\s(]{{1,256}}+{_SPACE}{{0,16}}+"
    rf"\([^()]{{1,4096}}+\){_SPACE}{{0,16}}+"
)


def _char_before(text: str, at: int) -> str:
    """The character before `at`, spaces and escaped line breaks or tabs skipped ("" at the
    text's start)."""
    before = at
    while before > 0:
        if text[before - 1] in " \t\r\n":
            before -= 1
        elif before > 1 and text[before - 2] == "\\" and text[before - 1] in "nrt":
            before -= 2
        else:
            break
    return text[before - 1 : before]


def _starts_statement(text: str, at: int) -> bool:
    """Whether the verb at `at` starts a statement: not right after a word, `(`, `,` or `=`,
    where it continues one (`union select`, `in (select`, `x = (select`); spaces and escaped
    line breaks between do not count."""
    last = _char_before(text, at)
    return not last or not (last.isalnum() or last in "_(,=")


def _statement_starts(text: str) -> list[int]:
    """Where the text's statements start (`_starts_statement`), in order. A statement right
    after a common table expression's `)` (`_CTE`) starts where its `WITH` does, so that the
    CTE's placeholders count before its own; a `with` in prose, no CTE's shape, joins none.
    A SELECT that gives an INSERT its rows (`_INSERT_HEAD`) is the INSERT's."""
    ctes = [cte.start() for cte in _CTE.finditer(text)]
    starts: list[int] = []
    last_verb = -1
    for verb in _VERB.finditer(text):
        at = verb.start()
        if not _starts_statement(text, at):
            continue
        if last_verb >= 0 and _INSERT_HEAD.fullmatch(text, last_verb, at) is not None:
            continue
        last_verb = at
        cte = bisect.bisect_left(ctes, at) - 1
        pending = cte >= 0 and (not starts or ctes[cte] > starts[-1])
        if pending and _char_before(text, at) == ")":
            at = ctes[cte]
        starts.append(at)
    return starts


#: A statement's secret places (place → its column's name) and how many places it has.
_Places = tuple[dict[int, str], int]
#: The statements of the last text asked about: its length and hash (equal texts have equal
#: statements; the text itself is not kept), the starts of its statements, and each start's
#: secret places as first read. A rule's matches in one text each ask for the statement
#: before them: found once, so that many values cost no more than one each.
_found: tuple[tuple[int, int], list[int], dict[int, _Places]] = ((0, 0), [], {})


def places_before(text: str, end: int) -> _Places:
    """The last statement written before `end`, from its verb (`_starts_statement`): its
    secret places (`tables._secret_places`) and how many places it has; none when no
    statement starts within `_STATEMENT_REACH`. A statement is read up to the first values
    asking for it."""
    global _found
    key = (len(text), hash(text))
    found = _found  # one snapshot: another thread may replace it for its own text
    if found[0] != key:
        starts = _statement_starts(text)
        found = _found = (key, starts, {})
    _, starts, places = found
    at = bisect.bisect_left(starts, end) - 1
    if at < 0 or starts[at] < end - _STATEMENT_REACH:
        return {}, 0
    start = starts[at]
    if start not in places:
        sql = text[start:end]
        marks = sum(1 for mark in _PLACEHOLDER_MARK.finditer(sql) if mark["mark"])
        places[start] = (_secret_places(sql), marks)
    return places[start]


def _replaced_at(
    match: re.Match[str], values: Iterator[tuple[int, str]], secret: dict[int, str]
) -> str:
    """The match with each value at a secret place replaced (`_cell_replaced`): `values`
    gives each value's place and its group name in the match."""
    pieces: list[str] = []
    last = match.start()
    for place, group in values:
        if place not in secret:
            continue
        pieces += (
            match.string[last : match.start(group)],
            _cell_replaced(match[group], secret[place]),
        )
        last = match.end(group)
    pieces.append(match.string[last : match.end()])
    return "".join(pieces)


def _one_bound(match: re.Match[str]) -> str:
    """A line binding one value by its 1-based place (`n`), the value replaced when the
    statement before it (`places_before`) binds that place to a secret's column."""
    secret = places_before(match.string, match.start())[0]
    return _replaced_at(match, iter([(int(match["n"]) - 1, "value")]), secret)


def _list_values(values: str, item: re.Pattern[str]) -> list[tuple[int, int]] | None:
    """The spans of a list's values, each read by `item` (its `value` group) and separated by
    `,`; None when the list does not read as such."""
    spans: list[tuple[int, int]] = []
    position = 0
    while True:
        one = item.match(values, position)
        if one is None:
            return None
        spans.append(one.span("value"))
        position = one.end()
        if position == len(values):
            return spans
        if values[position] != ",":
            return None
        position += 1


def _listed_bound(item: re.Pattern[str]) -> Callable[[re.Match[str]], str]:
    """A line listing every bound value in order (`values`, each read by `item`), those at a
    secret place replaced. When the values cannot be told apart (one holding a `,`: more
    values than the statement has places), they all go if any place is a secret's."""

    def replaced(match: re.Match[str]) -> str:
        secret, places = places_before(match.string, match.start())
        if not secret:
            return match[0]
        values = match["values"]
        spans = _list_values(values, item)
        if spans is None or len(spans) != places:
            spans = [(0, len(values))]
            secret = {0: next(iter(secret.values()))}
        pieces: list[str] = []
        last = 0
        for place, (begin, end) in enumerate(spans):
            if place in secret:
                pieces += (values[last:begin], _cell_replaced(values[begin:end], secret[place]))
                last = end
        pieces.append(values[last:])
        start, stop = match.start("values") - match.start(), match.end("values") - match.start()
        return match[0][:start] + "".join(pieces) + match[0][stop:]

    return replaced


def _numbered_bound(match: re.Match[str]) -> str:
    """Postgres' `parameters: $1 = '…', $2 = '…'`: each value by its number."""
    secret = places_before(match.string, match.start())[0]
    if not secret:
        return match[0]
    numbered = (
        (int(one["n"]) - 1, one.span("value")) for one in _POSTGRES_VALUE.finditer(match[0])
    )
    pieces: list[str] = []
    last = 0
    for place, (begin, end) in numbered:
        if place in secret:
            pieces += (match[0][last:begin], _cell_replaced(match[0][begin:end], secret[place]))
            last = end
    pieces.append(match[0][last:])
    return "".join(pieces)


#: One of MyBatis' values: `value(Type)`, `null`, or a placeholder a rule put there before.
_MYBATIS_ITEM = re.compile(
    r" ?(?P<value>\[REDACTED:[\w-]{1,32}\]|[^\r\n]{0,4096}?\([\w.$]{1,64}\)|null)(?=,|\Z)"
)
#: One of EclipseLink's or datasource-proxy's values: anything to a `,`.
_PLAIN_ITEM = re.compile(r" ?(?P<value>[^,\r\n]{0,4096})")
#: One of Postgres' numbered values: `$N = 'value'` (`''` inside) or `NULL`.
_POSTGRES_VALUE = re.compile(r"\$(?P<n>[0-9]{1,4}) = (?P<value>'(?:[^']|''){0,4096}+'|NULL)")


def _rules_for(char: str) -> tuple[_Rule, ...]:
    """The rules for values to their line's end, whose characters are `char`s (raw text, or
    text inside a JSON string: `rule._LINES`)."""
    value_end = rf"\](?=[ \t]{{0,64}}+(?!{char}))"
    return (
        # Hibernate 4 and 5 (and 6.0): the value in brackets, or bare to the line's end (4.x).
        _rule(
            r"binding[ ]parameter[ ]\[(?P<n>[0-9]{1,4})\][ ]as[ ]\[[\w ]{1,64}+\][ ]-[ ]"
            rf"(?:\[(?P<value>{char}{{0,4096}}?){value_end}|(?!\[)(?P<bare>{char}{{1,4096}}+))",
            _hibernate_bound,
            "binding parameter",
        ),
        # Hibernate 6: `binding parameter (2:VARCHAR) <- [value]`.
        _rule(
            r"binding[ ]parameter[ ]\((?P<n>[0-9]{1,4}):[\w ]{1,64}+\)[ ]<-[ ]"
            rf"\[(?P<value>{char}{{0,4096}}?){value_end}",
            _one_bound,
            "binding parameter",
        ),
        # EclipseLink: `bind => [v1, v2]` (not its `[2 parameters bound]`).
        _rule(
            rf"bind[ ]=>[ ]\[(?![0-9]{{1,4}}[ ]parameters?[ ]bound\])(?P<values>{char}{{0,65536}}?)"
            rf"{value_end}",
            _listed_bound(_PLAIN_ITEM),
            "bind =>",
        ),
        # MyBatis: `==> Parameters: v1(String), v2(Integer), null`.
        _rule(
            rf"==>[ ]{{1,4}}Parameters:[ ](?P<values>{char}{{1,65536}}+)",
            _listed_bound(_MYBATIS_ITEM),
            "parameters:",
            fold_needles=True,
        ),
        # datasource-proxy: `Params:[(v1,v2)]`.
        _rule(
            rf"Params:\[\((?P<values>{char}{{0,65536}}?)\)\]",
            _listed_bound(_PLAIN_ITEM),
            "params:[(",
            fold_needles=True,
        ),
    )


def _hibernate_bound(match: re.Match[str]) -> str:
    """Hibernate 4's and 5's line: its value in brackets (`value`) or bare (`bare`)."""
    secret = places_before(match.string, match.start())[0]
    group = "value" if match["value"] is not None else "bare"
    return _replaced_at(match, iter([(int(match["n"]) - 1, group)]), secret)


BIND_RULES: tuple[_Rule, ...] = (
    *(rule for _, char in _LINES for rule in _rules_for(char)),
    # Hibernate 3: `binding 'value' to parameter: 2`.
    _rule(
        r"binding[ ](?P<value>'(?:[^'\r\n\\]|''){0,4096}+')[ ]to[ ]parameter:[ ](?P<n>[0-9]{1,4})",
        _one_bound,
        "to parameter:",
    ),
    # Postgres: `parameters: $1 = '…', $2 = '…'`.
    _rule(
        r"(?i:parameters):[ ]\$[0-9]{1,4}[ ]=[ ](?:'(?:[^'\r\n]|''){0,4096}+'|NULL)"
        r"(?:,[ ]\$[0-9]{1,4}[ ]=[ ](?:'(?:[^'\r\n]|''){0,4096}+'|NULL)){0,4096}+",
        _numbered_bound,
        "parameters: $",
        fold_needles=True,
    ),
)
