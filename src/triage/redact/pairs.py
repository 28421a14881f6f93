"""Rules for a secret known by the name before it, in the ways text pairs a name with its value: a
connection string's `Password=`, a string that is wholly `NAME=value`, a data class's toString,
Go's `%+v`, a YAML or .properties line, a YAML block scalar, the general `name = value` pair,
quoted or not, and daemons' and installers' config lines (`auth_pass …`, `rootpw …`,
debconf's `… password …`, Make's `?=`, CEF's labelled fields) (`PAIR_RULES`). Later in the
order: Terraform's new value after an old one redacted before it or hidden by Terraform
(`CHANGED_VALUE_RULES`), and a secret told in words, "the password is …" (`TOLD_RULES`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from triage.redact.calls import CODE_READ, call_literals_redacted
from triage.redact.commands import _ARGV_COMMANDS, gcloud_secret_id
from triage.redact.gcloud import gcloud_secret_reference
from triage.redact.names import (
    _PLACEHOLDER,
    _SECRET_NAME,
    _SECRET_NAME_NEEDLES,
    _STATE_WORDS,
    _TEMPLATE_VALUE,
    _TYPE,
    _TYPE_VALUE,
    _code_reference,
    _kept_match,
    _kept_value,
    connection_string_redacted,
    public_named,
    secret_named,
)
from triage.redact.rule import (
    _ASSIGN,
    _CHAIN_OPERAND,
    _CONTINUATION,
    _ESCAPED_QUOTED_CHAR,
    _INNER_QUOTE,
    _LINE_CHAR_IN_STRING,
    _LINES,
    _NAME_ASSIGNED_BEFORE,
    _OPEN_QUOTE,
    _PLACEHOLDER_FOUND,
    _PROSE_AFTER_OPTION,
    _QUOTED_CHAR,
    _SINGLE_QUOTED_CHAR,
    _VALUE_MAX,
    LISTED_WHEN,
    _file_path,
    _key_shaped,
    _LazyPattern,
    _random_looking,
    _Rule,
    _rule,
    _short_key,
    _value_replaced,
    _wrapper_start,
)
from triage.redact.templates import template_literals_redacted

#: The start of a placeholder up to its type (`[REDACTED:github-`), as it ends before a name.
_PLACEHOLDER_HEAD = re.compile(r"\[REDACTED:[a-z0-9-]{0,32}\Z")


def _placeholder_type(match: re.Match[str]) -> bool:
    """Whether the match's name is a placeholder's type (`[REDACTED:token]: …`), which names
    what a rule took, not a secret still to come."""
    start = match.start("name")
    return _PLACEHOLDER_HEAD.search(match.string, max(0, start - 44), start) is not None


#: Where a line starts, raw or inside a JSON string (an escaped `\n`).
_LINE_START = re.compile(r"(?:\n|\\n)(?!.*(?:\n|\\n))", re.DOTALL)
#: What may stand before a name that heads its line: indentation, a list's `-`, quotes, a
#: flow mapping's `{` or `,`.
_BEFORE_HEADING_NAME = frozenset(" \t-\"'{,")


def _heads_its_line(match: re.Match[str]) -> bool:
    """Whether the match's name is the first thing on its line (YAML's `password:` with the
    value below it), not a condition's or a loop's (`if token:`, `for t in tokens:`)."""
    start = match.start("name")
    window = match.string[max(0, start - 256) : start]
    line_start = _LINE_START.search(window)
    before = window[line_start.end() :] if line_start else window
    return all(char in _BEFORE_HEADING_NAME for char in before)


def _below_code(match: re.Match[str]) -> str | None:
    """For a value read on the line below a name that does not head its own and a `:` (a
    condition's `if token:`, then `return x`): the name and its `:`, then the rest of the match
    read again by the rule (a pair on the line below is still redacted). None for any other
    match: an `=` before the line's end assigns the value below (`<user password=` then
    `"…"/>`)."""
    gap_start = match.end("name")
    gap = match.string[gap_start : match.start("value")]
    if ("\n" not in gap and "\\n" not in gap) or "=" in gap or _heads_its_line(match):
        return None
    colon = gap.index(":") + 1 if ":" in gap else len(gap)
    rest = match.string[gap_start + colon : match.end()]
    return match.string[match.start() : gap_start + colon] + match.re.sub(_keep_quotes, rest)


#: A shell variable's `${` and its name's start, before the secret's word (`${DB_`).
_SHELL_VARIABLE_START = re.compile(r"\$\{[\w.]{0,128}\Z")


def _shell_message(match: re.Match[str]) -> bool:
    """Whether the match is a shell variable's error message (`${DB_PASSWORD:?must be set}`,
    docker-compose's required variable), which says the secret is missing, not what it is."""
    start = match.start("name")
    return match["value"].startswith("?") and (
        _SHELL_VARIABLE_START.search(match.string, max(0, start - 130), start) is not None
    )


#: What follows a quoted prompt's closing quote (`_closed_prompt`): after a blank, the
#: command's next option or another quoted string (the answer, `_LABEL_THEN_LITERAL`'s); or
#: what ends a JSON value, a list's item or a call's argument (`{"prompt":"password:",…}`,
#: `ask("Token:", default)`), which no value starts with.
_AFTER_PROMPT = re.compile(r"""(?P<quote>["'])(?:[ \t]{1,8}+[-"']|[ \t]{0,8}+[,)\]}])""")


def _closed_prompt(match: re.Match[str]) -> bool:
    """Whether the quote the match's value opens with closes one opened before the name on its
    line, and an option or another quoted string follows after a blank, or a comma or a closing
    bracket: the name ends a quoted prompt or label (`sudo -p "[sudo via ansible, key=…] password:" -u root …`,
    Ansible's become; `echo "password:" "…"`), so the match holds no value (a quoted answer
    after it is `_LABEL_THEN_LITERAL`'s). A word after the quote (`msg="password:" X`) may be
    the answer, and the rule reads it as before."""
    after = _AFTER_PROMPT.match(match.string, match.start("value"))
    if after is None:
        return False
    start = match.start("name")
    line_start = match.string.rfind("\n", max(0, start - 4096), start) + 1
    return match.string.count(after["quote"], line_start, start) % 2 == 1


#: A word of prose where an option's value would stand (`rule._PROSE_AFTER_OPTION`).
_PROSE = re.compile(_PROSE_AFTER_OPTION)


def _option_prose(match: re.Match[str]) -> bool:
    """Whether the match's name is an option's (`-password:`, `/password:`: a `-` or `/`
    before it) and its value a word of prose (`_PROSE`): the option talked about, "the winrs
    -password: option is unsafe"."""
    start = match.start("name")
    return match.string[start - 1 : start] in ("-", "/") and (
        _PROSE.fullmatch(match["value"]) is not None
    )


#: kubectl's `--from-file=<key>=<path>` before a name: the value is the file the key is read
#: from.
_FROM_FILE_BEFORE = re.compile(r"--from(?:-env)?-file=[\w.-]{0,64}\Z")


def _gcloud_secret_named(match: re.Match[str]) -> bool:
    """Whether the match is gcloud's `--secret=` and its value the id of the secret to read
    (`gcloud_secret_id`), which the pair `secret=…` only looks like."""
    start = match.start("name")
    if match.string[max(0, start - 2) : start] != "--":
        return False
    value = match["value"].strip("\"'")
    return gcloud_secret_id(match.string, start - 2, "--" + match["name"], value)


def _gcloud_secret_mapped(match: re.Match[str]) -> bool:
    """Whether the match's value is a reference in gcloud's `--set-secrets` list
    (`gcloud_secret_reference`: `DB_PASS=db-password:latest`), which the pair `DB_PASS=…`
    (or `secrets=…`, read from the option's name) only looks like."""
    return gcloud_secret_reference(match.string, match.start("value"), match["value"])


def _file_to_read(match: re.Match[str]) -> bool:
    """Whether the match's value is a file's path (`_file_path`) a command reads the named
    value from (`--from-file=password=./pw.txt`, `_FROM_FILE_BEFORE`)."""
    start = match.start("name")
    return _FROM_FILE_BEFORE.search(match.string, max(0, start - 80), start) is not None and (
        _file_path(match["value"])
    )


#: A Ruby hash as `inspect` prints it, a symbol's key then `=>` first (`{:password=>"…"}`), its
#: values nested two levels deep at most (`{:aws=>{:secret_access_key=>"…"}}`), on one line.
_RUBY_KEY = r"""(?::\w{1,64}+|"[^"\r\n]{1,64}+")[ \t]{0,8}=>"""
_RUBY_FLAT = r"""\{(?:"(?:[^"\\\r\n]|\\.){0,4096}+"|[^{}"\r\n]){0,4096}+\}"""
_RUBY_NESTED = (
    rf"""\{{(?:"(?:[^"\\\r\n]|\\.){{0,4096}}+"|[^{{}}"\r\n]|{_RUBY_FLAT}){{0,4096}}+\}}"""
)
_RUBY_HASH = (
    rf"""\{{[ \t]{{0,8}}+(?=:\w){_RUBY_KEY}"""
    rf"""(?:"(?:[^"\\\r\n]|\\.){{0,4096}}+"|[^{{}}"\r\n]|{_RUBY_NESTED}){{0,4096}}+\}}"""
)
#: A value after a Ruby hash's `=>`: a string (its quotes kept), or a bare scalar (a number,
#: a symbol, `nil`) to the next `,` or `}`; a nested hash's `{` is no value of its own.
_RUBY_VALUE = re.compile(
    r"""(?P<arrow>=>[ \t]{0,8}+)(?:(?P<q>")(?:[^"\\\r\n]|\\.){0,4096}+"|[^\s,{}"]{1,4096}+)"""
)


def _ruby_hash_redacted(text: str) -> str:
    """A Ruby hash under a secret's name with every value replaced, its keys, nesting and a
    string's quotes kept, so the reader still sees what the hash held."""
    return _RUBY_VALUE.sub(
        lambda m: f"{m['arrow']}{m['q'] or ''}[REDACTED:password]{m['q'] or ''}", text
    )


#: Node's `util.inspect` of a Buffer: its bytes in hex, cut after 50 (`... 14 more bytes`).
#: One a pass before blanked (`<Buffer [REDACTED:password]>`) is read so too, and stays.
_NODE_BUFFER = (
    r"<Buffer(?: \[REDACTED:[a-z0-9-]{1,32}+\]| [0-9a-f]{2}){0,50}+"
    r"(?: \.\.\. [0-9]{1,9}+ more bytes?)?>"
)


#: What a prompt says between its name and its `:`: the default it offers when none is set
#: or masked (`[None]`, `[****************EKEY]`, `[]`), or what the answer is (`(again)`,
#: `(optional)`, `(confirm)`, `(input is hidden)`). Not any remark in brackets: `password
#: (see docs): retry later` is prose.
_PROMPT_NOTE = (
    r"\[(?:None|\*{1,64}+[^\]\s]{0,16}+)?\]"
    r"|\((?:again|optional|confirm(?:ation)?|repeat|retype|re-?enter|verify|verification"
    r"|(?:input |typing )?(?:is |will be )?hidden|(?:will )?not (?:be )?(?:shown|echoed))\)"
)
#: The names whose value is words: a passphrase, a wallet's mnemonic or seed phrase.
_PHRASE_NAMES = r"pass[_.-]?phrases?|mnemonics?(?:[_.-]?phrases?)?|(?:seed|recovery)[_.-]?phrases?"


def _phrase_words(match: re.Match[str]) -> str:
    """A phrase's words replaced as one, unless its name keeps the first of them
    (`_kept_value`)."""
    first = match["value"].split(None, 1)[0]
    if _kept_value(match["name"], first):
        return match[0]
    return f"{match['head']}[REDACTED:password]"


#: The most pairs `_inner_pairs_read` reads one inside another: a real text nests two or
#: three (`credentials: password=…`); hostile text (`encrypt=` 8,000 times in one 64 KB
#: value) would recurse once per pair, past Python's limit, each re-reading the rest.
_INNER_PAIRS_DEPTH = 32


def _inner_pairs_read(match: re.Match[str], depth: int = 0) -> str:
    """A pair whose value its name keeps, with the pairs inside that value read by the same
    rule: the value the outer name declined (`credentials: password=…`, a log line naming
    what it dumps) holds a pair of its own, which the match ran over and the rule would
    otherwise never read. Read where it stands, so each inner name sees what is before it.
    Past `_INNER_PAIRS_DEPTH` pairs deep, the value is blanked whole, unread: what it holds
    may be a secret, and reading it would cost a call deeper per pair."""
    value_start = match.start("value")
    if not any(sep in match.string[value_start : match.end()] for sep in "=:"):
        return match[0]
    if depth >= _INNER_PAIRS_DEPTH:
        return f"{match['head']}[REDACTED:password]"
    pieces = [match.string[match.start() : value_start]]
    at = value_start
    for inner in match.re.finditer(match.string, value_start, match.end()):
        pieces += (match.string[at : inner.start()], _keep_quotes(inner, depth + 1))
        at = inner.end()
    pieces.append(match.string[at : match.end()])
    return "".join(pieces)


#: A GraphQL type where a value would stand: a named type, non-null (`!`) or a list of one
#: (`[String!]!`), no word's character after it.
_GRAPHQL_TYPE = re.compile(
    r"(?P<list>\[[ \t]{0,3}+)?(?P<type>[A-Z][A-Za-z]{0,63}+)(?P<bang>!?)"
    r"(?(list)[ \t]{0,3}+\]!?)(?![\w!\[\]])"
)
#: GraphQL's built-in scalars, which a schema's field declares (`password: String!`).
_GRAPHQL_SCALARS = frozenset(("String", "ID", "Int", "Float", "Boolean"))
#: A GraphQL variable where a value would stand (`password: $pw`), before what ends an argument.
_GRAPHQL_VARIABLE = re.compile(r"\$(?P<var>[A-Za-z_]\w{0,63}+)(?=[\s,)}\]]|\\[nrt\"]|\Z)")
#: A variable's name in one case only, which no password is (`_PLACEHOLDER`'s `$pw`, `$DB_PW`).
_ONE_CASE_VARIABLE = re.compile(r"[a-z_][a-z0-9_]{0,63}|[A-Z_][A-Z0-9_]{0,63}")


def _graphql_type(match: re.Match[str]) -> bool:
    """Whether the match's value is a GraphQL type (`_GRAPHQL_TYPE`): a variable's declared
    type (`$pw: String!`, `$in: LoginInput!`: a `$` before the name), or a built-in scalar a
    schema's field declares non-null or as a list (`password: String!`). A password ending in
    `!` (`password: Hunter2!`) has a digit, or no scalar's name, and goes."""
    found = _GRAPHQL_TYPE.match(match.string, match.start("value"))
    if found is None:
        return False
    if match.string[match.start("name") - 1 : match.start("name")] == "$":
        return True
    return _graphql_scalar(found)


def _graphql_scalar(found: re.Match[str]) -> bool:
    """Whether a GraphQL type (`_GRAPHQL_TYPE`) is a built-in scalar, non-null or a list
    (`String!`, `[ID]`): a schema's field type, no password's shape."""
    return found["type"] in _GRAPHQL_SCALARS and bool(found["bang"] or found["list"])


def _graphql_reference(match: re.Match[str]) -> bool:
    """Whether the match's value is a GraphQL variable's reference (`login(password: $pw)`):
    a `$` and a name in one case (`_ONE_CASE_VARIABLE`, as `_PLACEHOLDER` reads `$pw`), or one
    the text declares with a type (`($newPassword: String!)`). A `$` password in mixed case
    that no query declares still goes."""
    found = _GRAPHQL_VARIABLE.match(match.string, match.start("value"))
    if found is None:
        return False
    if _ONE_CASE_VARIABLE.fullmatch(found["var"]):
        return True
    declared = re.compile(rf"\${re.escape(found['var'])}[ \t]{{0,8}}:[ \t]{{0,8}}\[?[A-Z]")
    return declared.search(match.string) is not None


#: An Erlang or Elixir binary (`<<"…">>`, `<<"…"/utf8>>`): its quote `bq` (`\\"` inside a JSON
#: string) and its `/utf8` `butf`.
_ERLANG_BINARY = (
    r'<<(?P<bq>\\?")(?:(?!(?P=bq))(?:[^"\\\r\n]|\\[^\r\n])){1,4096}+(?P=bq)(?P<butf>/utf8)?>>'
)


def _binary_replaced(match: re.Match[str]) -> str:
    """An Erlang binary (`_ERLANG_BINARY`) with its text replaced, its `<<`, quotes and
    `/utf8` kept, so the reader still sees a binary."""
    return f"<<{match['bq']}[REDACTED:password]{match['bq']}{match['butf'] or ''}>>"


#: An empty list or object (`[]`, `[ ]`, `{}`) where a value starts, ended by the line, a
#: separator or a closing bracket: it holds no secret, so it stays as written.
_EMPTY_COLLECTION = re.compile(r"(?:\[[ \t]{0,8}+\]|\{[ \t]{0,8}+\})(?=[\s,;}\])]|$)")


def _lines_list_redacted(match: re.Match[str]) -> str:
    """A list (or parentheses) opened at its line's end, its items replaced as one: the
    closing bracket's indentation kept, and a comment after the opener (`[ # rotated`) kept
    on its line, the placeholder on the next, indented as the first item was."""
    opener, comment = match["lines_list"], match["lines_comment"]
    items = match[0][match.end("lines_list") - match.start() :]
    closing = items[len(items.rstrip()) :]
    if not comment:
        return f"{match['head']}{opener}[REDACTED:password]{closing}"
    items = items[len(comment) :]
    indent = items[: len(items) - len(items.lstrip())]
    return f"{match['head']}{opener}{comment}{indent}[REDACTED:password]{closing}"


def _flat_list_redacted(match: re.Match[str]) -> str:
    """A list on one line replaced as one, its opener and outer quotes kept, and the blank
    before its closing bracket (`[ "…" ]`) as written: what frames the secret stays."""
    items = match[0][match.end("list") - match.start() :]
    blank = items[len(items.rstrip(" \t")) :]
    return f"{match['head']}{match['list']}[REDACTED:password]{match['lq']}{blank}"


def _empty_collection(match: re.Match[str]) -> bool:
    """Whether the value after the match's head is an empty list or object, read in the whole
    text: a rule that took only its `[ ` still sees the `]` that follows."""
    return _EMPTY_COLLECTION.match(match.string, match.end("head")) is not None


def _keep_quotes(match: re.Match[str], depth: int = 0) -> str:
    """The name, separator and quotes of a `name = "value"` pair, the value replaced; a
    placeholder's type (`_placeholder_type`), a bare `PWD` whose value is a path, a plural
    name's count or an auth method (`_kept_match`) stays as it is, a template's placeholder
    loses only the quoted literals inside it, and a list of strings loses them all, as one."""
    if _placeholder_type(match) or _kept_match(match) or _shell_message(match):
        return _inner_pairs_read(match, depth)
    if _option_prose(match) or _file_to_read(match) or _gcloud_secret_named(match):
        return _inner_pairs_read(match, depth)
    if _gcloud_secret_mapped(match):
        return match[0]
    if _closed_prompt(match):
        return match[0]
    if _graphql_type(match) or _graphql_reference(match) or _empty_collection(match):
        return match[0]
    below = _below_code(match)
    if below is not None:
        return below
    if match["ruby"]:
        return f"{match['head']}{_ruby_hash_redacted(match['ruby'])}"
    if match["buffer"]:
        return f"{match['head']}<Buffer [REDACTED:password]>"
    if match["binary"]:
        return f"{match['head']}{_binary_replaced(match)}"
    if match["call"]:
        call = call_literals_redacted(match["call"])
        return f"{match['head']}{call}"
    if match["template"]:
        template = template_literals_redacted(match["template"])
        return f"{match['head']}{match['tq']}{template}{match['tq']}"
    quote_mark = (
        match["tdouble"]
        or match["tsingle"]
        or match["tescaped"]
        or match["escaped"]
        or match["double"]
        or match["single"]
    )
    if quote_mark:
        return f"{match['head']}{quote_mark}[REDACTED:password]{quote_mark}"
    if match["ansi"]:
        return f"{match['head']}$'[REDACTED:password]'"
    unclosed = (
        match["unclosed"]
        or match["unclosed_single"]
        or match["unclosed_escaped"]
        or match["unclosed_triple"]
        or match["unclosed_triple_single"]
    )
    if unclosed:
        return f"{match['head']}{unclosed}[REDACTED:password]"
    if match["lines_list"]:
        return _lines_list_redacted(match)
    if match["list"]:
        return _flat_list_redacted(match)
    if match["slice"]:
        return f"{match['head']}[[REDACTED:password]"
    if match["subst"]:
        return f"{match['head']}{match['sdefault']}[REDACTED:password]"
    if match["shell"]:
        if _PLACEHOLDER_FOUND.search(match[0], match.end("shell") - match.start()):
            return match[0]
        return f"{match['head']}{match['shell']}[REDACTED:password]}}"
    value = match[0][match.end("open") - match.start() :]
    return f"{match['head']}{match['open']}[REDACTED:password]{value[_wrapper_start(value) :]}"


#: A secret's name right before a YAML block scalar's `:` (`password: |`), spaces between.
_NAME_BEFORE_BLOCK = _LazyPattern(rf"{_SECRET_NAME}[ \t]{{0,3}}\Z", re.IGNORECASE)


def _block_scalar(match: re.Match[str]) -> str:
    """A block scalar's lines replaced, its marker and first indentation kept, when a secret's
    name stands right before its `:` (`_NAME_BEFORE_BLOCK`); else the match unchanged."""
    start = match.start()
    if _NAME_BEFORE_BLOCK.search(match.string, max(0, start - 256), start) is None:
        return match[0]
    return f"{match[1]}{match['indent']}[REDACTED:password]"


def _named_pair(match: re.Match[str]) -> str:
    """A pair's value replaced after its name (`head`), unless the name's value is kept
    (`_kept_match`) or is a reference in gcloud's `--set-secrets` list (`_gcloud_secret_mapped`:
    a string `'DB_PASS=db-password:latest'`)."""
    if _kept_match(match) or _gcloud_secret_mapped(match):
        return match[0]
    return f"{match['head']}[REDACTED:password]"


def _from_name(
    name_before: _LazyPattern, pair: _LazyPattern, replace: Callable[[re.Match[str]], str]
) -> Callable[[re.Match[str]], str]:
    """The replacement of a rule that starts at a pair's `=`: the name before it found
    (`name_before`, searched up to the `=`), the pair read whole from the name's start
    (`pair`), and `replace` applied to it, of which what follows the `=` is the match's (what
    the match reads past the pair's end, unchanged); the match unchanged when no name stands
    there or the pair ends after it."""

    def replacement(match: re.Match[str]) -> str:
        start = match.start()
        name = name_before.search(match.string, max(0, start - 512), start)
        if name is None:
            return match[0]
        whole = pair.match(match.string, name.start())
        if whole is None or whole.end() > match.end():
            return match[0]
        return replace(whole)[start - name.start() :] + match.string[whole.end() : match.end()]

    return replacement


#: A command run with a variable set before it (`PGPASSWORD=pw pg_dump -h db`, `TOKEN=x
#: ./deploy.sh`, `REDISCLI_AUTH=pw redis-cli ping`), read from the value's first word: a word
#: and then an option, a path, or a command these rules know (`_ARGV_COMMANDS`) alone or
#: before its arguments. Only the first word is the variable's value, in a YAML list item or
#: a string that starts with the pair as elsewhere.
_COMMAND_AFTER_VALUE = (
    r"""[^\s"'\\]{1,512}+[ \t]{1,8}+"""
    r"(?:[A-Za-z][\w.-]{0,64}+[ \t]{1,8}+-{1,2}[A-Za-z]|\.{0,2}/[\w.-]"
    rf"""|(?:{_ARGV_COMMANDS})(?![^\s"'\\]))"""
)

#: After a value's backslash: an escaped line break or tab (JSON's, inside a string) before
#: the next line's `name:` or `name=` (indented, a YAML list's item), which ends the value.
_ESCAPED_NEXT_PAIR = (
    r"[nrt](?:\\[nrt]|[ \t]){0,40}+(?:-[ \t]{1,8}+)?[A-Za-z_][\w.-]{0,64}+[ \t]{0,3}[:=]"
)

#: A string that is wholly `NAME=value`: what follows its `=`, its name before it, and the two.
#: A string opened by an escaped quote (`\\"NAME=…\\"` inside a JSON string: a command's
#: quoted argument) ends at its escaped closing quote, and the text after it stays. A value
#: that opens with an escaped quote (`"password=\\"a b\\" host=x"`) is a quoted one, the pair
#: rule's: it ends at its own closing quote.
_WHOLE_STRING_CHECKS = (
    r'(?!-?\[REDACTED|\\{1,16}+")' + _TEMPLATE_VALUE + rf"""(?!(?:{_STATE_WORDS}|\*{{3,64}})\\?")"""
)
#: The next pair of a string of several (Ansible's `-e "a_password=x db_pass=y"`), which ends
#: the value before it: a space, a name and its `=` (not `==`, a base64 value's padding).
_NEXT_PAIR = r"[ \t]{1,8}+[A-Za-z_][\w.-]{0,64}+=(?!=)"
#: A character of a string's value (escaped: inside a JSON string), where no next pair starts.
#: Only a space or a tab can start one, so only they are tested for it: the look-ahead at
#: every character was rule 365's cost on long texts.
_WHOLE_STRING_CHAR = rf"""(?:[^"\r\n\\ \t]|\\[^nr]|(?!{_NEXT_PAIR})[ \t])"""
_ESCAPED_STRING_CHAR = rf"(?:(?!{_NEXT_PAIR}){_ESCAPED_QUOTED_CHAR})"
_WHOLE_STRING_VALUE = (
    rf"""{_WHOLE_STRING_CHECKS}(?P<value>{_WHOLE_STRING_CHAR}{{1,512}}+)(?="|{_NEXT_PAIR})"""
)
_WHOLE_STRING_NAME = _LazyPattern(rf"""(?<=")[\w.-]{{0,64}}?{_SECRET_NAME}\Z""", re.IGNORECASE)
_WHOLE_STRING_PAIR = _LazyPattern(
    r"""(?P<head>(?:(?<=\\")(?P<esc>)|(?<="))"""
    rf"(?P<name>[\w.-]{{0,64}}?{_SECRET_NAME})=){_WHOLE_STRING_CHECKS}"
    rf"""(?P<value>(?(esc){_ESCAPED_STRING_CHAR}{{1,512}}+(?=\\"|{_NEXT_PAIR})"""
    rf"""|{_WHOLE_STRING_CHAR}{{1,512}}+(?="|{_NEXT_PAIR})))""",
    re.IGNORECASE,
)
#: … in single quotes (systemd's `Environment='NAME=a b'`, a shell's `export 'NAME=a b'`),
#: which hold no escape.
_WHOLE_SINGLE_CHECKS = (
    r"(?!-?\[REDACTED)" + _TEMPLATE_VALUE + rf"(?!(?:{_STATE_WORDS}|\*{{3,64}})')"
)
_WHOLE_SINGLE_CHAR = rf"(?:[^'\r\n\\ \t]|(?!{_NEXT_PAIR})[ \t])"  # … as above
_WHOLE_SINGLE_VALUE = (
    rf"{_WHOLE_SINGLE_CHECKS}(?P<value>{_WHOLE_SINGLE_CHAR}{{1,512}}+)(?='|{_NEXT_PAIR})"
)
_WHOLE_SINGLE_NAME = _LazyPattern(rf"(?<=')[\w.-]{{0,64}}?{_SECRET_NAME}\Z", re.IGNORECASE)
_WHOLE_SINGLE_PAIR = _LazyPattern(
    rf"(?P<head>(?<=')(?P<name>[\w.-]{{0,64}}?{_SECRET_NAME})=){_WHOLE_SINGLE_VALUE}",
    re.IGNORECASE,
)


#: A data class's or a map's field (`Config(…, password=…)`): the same three. A character of
#: its value, and what ends it: the next field or the closing bracket.
_FIELD_CHAR = r"(?:[^\r\n,(){}]|,(?! [A-Za-z_$][\w$.-]{0,64}+=))"
_FIELD_END = r", [A-Za-z_$][\w$.-]{0,64}+=|[)}]"
_FIELD_VALUE = (
    r"""(?!["'\[]|-?\[REDACTED)""" + _TEMPLATE_VALUE + rf"(?!(?:{_STATE_WORDS}|\*{{3,64}})[,)}}])"
    rf"(?P<value>{_FIELD_CHAR}{{1,512}}+)(?={_FIELD_END})"
)
_FIELD_NAME = _LazyPattern(
    rf"(?:(?<=[\w$]\()|(?<=\{{)|(?<=, ))[\w$.-]{{0,64}}?{_SECRET_NAME}\Z", re.IGNORECASE
)
_FIELD_PAIR = _LazyPattern(
    rf"(?P<head>(?:(?<=[\w$]\()|(?<=\{{)|(?<=, ))(?P<name>[\w$.-]{{0,64}}?{_SECRET_NAME})=)"
    + _FIELD_VALUE,
    re.IGNORECASE,
)


#: The three `=`-started rules as written (`_run_from_equals` runs them where they can match).
WHOLE_STRING_SOURCE = "=" + _WHOLE_STRING_VALUE
WHOLE_SINGLE_SOURCE = "=" + _WHOLE_SINGLE_VALUE
FIELD_SOURCE = "=" + _FIELD_VALUE

_COMMAND_AFTER = re.compile(_COMMAND_AFTER_VALUE)


def _unless_command_after(match: re.Match[str]) -> str:
    """A string's `NAME=value` (`_named_pair`), unless a command follows the value's first
    word (`_COMMAND_AFTER`): then the pair rule takes that word alone."""
    if _COMMAND_AFTER.match(match["value"]) is not None:
        return match[0]
    return _named_pair(match)


def _whole_strings(match: re.Match[str]) -> str:
    """A string's `NAME=value` replaced (`_unless_command_after`), the name found before the
    `=` (`_WHOLE_STRING_NAME`) and the pair read from it (`_WHOLE_STRING_PAIR`), as
    `_from_name` reads one; then each further string's secret pair that the match ran over:
    an escaped string's value holds the strings after it (`Environment=\\"LANG=C\\"
    \\"DB_PASSWORD=a b\\" \\"API_TOKEN=c d\\"`, `ExecStart=/usr/bin/env \\"TOKEN=a b\\" app`),
    which the rule then no longer reads."""
    text, start, end = match.string, match.start(), match.end()
    pieces: list[str] = []
    at = start
    name = _WHOLE_STRING_NAME.search(text, max(0, start - 512), start)
    first = None if name is None else _WHOLE_STRING_PAIR.match(text, name.start())
    if name is not None and first is not None and first.end() <= end:
        pieces.append(_unless_command_after(first)[start - name.start() :])
        at = first.end()
    if '\\"' not in text[at:end]:
        # No escaped quote: the value ran over no other string.
        return "".join(pieces) + text[at:end]
    # Searched to the match's end, and the closing quote after it (`\\"`) that a pair's value
    # looks ahead for.
    while (
        pair := _WHOLE_STRING_PAIR.search(text, max(at, start + 1), end + 2)
    ) is not None and pair.end() <= end:
        pieces += (text[at : pair.start()], _unless_command_after(pair))
        at = pair.end()
    pieces.append(text[at:end])
    return "".join(pieces)


#: The longest value the `=`-started rules below read (their `{1,512}+`), and the window
#: before a run's end where the only `=` they can match from stands.
_RUN_VALUE_MAX = 512
#: The longest run those rules read from an `=` in one go: every quantifier is bounded. A
#: longer run is read in pieces, each as one run.
_RUN_MAX = 1 << 20


def _run_from_equals(
    source: str, unit: str, end: str, replace: Callable[[re.Match[str]], str]
) -> tuple[str, Callable[[re.Match[str]], str]]:
    """A rule that starts at `=` and reads a value of `unit`s, at most `_RUN_VALUE_MAX`, that
    must be followed by `end` (`source`), made linear with the same output. Run as written,
    the engine read up to 512 characters at every `=` of a long run (`"=" * 40000`: 3 s). Here
    the rule reads the run from an `=` once, to its end, and consumes it; then `source` is
    tried only where it can match: not at all when `end` does not follow the run (every `=`
    inside it reads to the same end), else from the first `=` in the run's last 513
    characters on (one further back reads more than 512); each found as the engine found it,
    so `replace` sees the same match."""
    rule = _LazyPattern(source, re.IGNORECASE)
    ends = _LazyPattern(end, re.IGNORECASE)

    def replacement(match: re.Match[str]) -> str:
        text, start, stop = match.string, match.start(), match.end()
        if ends.match(text, stop) is None:
            return match[0]
        at = text.find("=", max(start, stop - _RUN_VALUE_MAX - 1), stop)
        while at >= 0:
            found = rule.match(text, at)
            if found is not None and found.end() == stop:
                return text[start:at] + replace(found)
            at = text.find("=", at + 1, stop)
        return match[0]

    return f"=(?:{unit}){{0,{_RUN_MAX}}}+", replacement


#: A YAML comment after a value: a `#` after a space.
_YAML_COMMENT = re.compile(r"[ \t]{1,64}+#")


#: The call that wraps an object, opening it (Terraform's `jsonencode({`, `yamlencode({`).
_WRAPPED_OBJECT = re.compile(r"(?:jsonencode|yamlencode|sensitive|tomap)\([ \t]{0,64}+\{")


#: The size `kubectl describe secret` prints in each key's place (`password:  10 bytes`).
_DESCRIBED_SIZE = re.compile(r"[0-9]{1,12} bytes")


def _line_value(match: re.Match[str]) -> str:
    """A YAML or .properties line's value replaced to the line's end (a YAML `# comment` after
    it stays); a shell-like `NAME=value` (no dot in the name, no space around the `=`, not a
    docker-compose list item `- NAME=…`, unless a command follows it, `_COMMAND_AFTER`: only
    the first word is the value) and a value the
    pair rule keeps by its first word (`_kept_value`), or that is already a placeholder, stay
    as they are."""
    name, value, sep = match["name"], match["value"], match["sep"]
    shell_like = sep == "=" and "." not in name
    if shell_like and (match["item"] is None or _COMMAND_AFTER.match(value) is not None):
        return match[0]
    comment = None if "=" in match["sep"] else _YAML_COMMENT.search(value)
    secret = value[: comment.start()] if comment else value.rstrip()
    call = call_literals_redacted(secret)
    if call is not None:
        return f"{match['head']}{call}{value[len(secret) :]}"
    first = value.split(None, 1)[0]
    if (
        _kept_value(name, first)
        # A connection string whose password the rule for `Password=` took (its words
        # `User Id` hold a space, so its first word is no whole value).
        or connection_string_redacted(secret)
        # A value a placeholder starts (`[REDACTED:password]}…`, or brackets then one: a list
        # whose item was blanked) is the first pass's.
        or first.lstrip("[{(").startswith("REDACTED:")
        or _code_reference(name, secret)
        or _PLACEHOLDER_FOUND.fullmatch(secret)
        # An object a call wraps (`jsonencode({` then its lines): sections.py read its values.
        or _WRAPPED_OBJECT.fullmatch(secret)
        # A list or parentheses opened at the line's end: the pair rule reads its lines.
        or secret in ("[", "(")
        # An empty list or object holds nothing.
        or _empty_collection(match)
        # `kubectl describe secret`'s size of each key (`password:  10 bytes`), not its value.
        or _DESCRIBED_SIZE.fullmatch(secret)
    ):
        return match[0]
    return f"{match['head']}{_flow_sequence_redacted(secret)}{value[len(secret) :]}"


#: The words one of which a title-case label naming a secret holds (`Secret ID`, `Client
#: Secret`, `Bootstrap Token`, `Private Key`, `Passphrase`), the label's rule's needles.
_LABEL_WORDS = "secret|token|pass|key"
#: A word of such a label: capitalised (`Secret`), an acronym (`ID`, `API`), a number (`Unseal
#: Key 1`); not a run mixing cases and digits, which is a value's.
_LABEL_WORD = r"(?:[A-Z][a-z]{1,31}+|[A-Z]{1,6}+|[0-9]{1,3}+)(?![A-Za-z0-9])"


#: A value wholly in parentheses: a tool's remark where the value would be (Vault's `(redacted
#: by policy)`, Terraform's `(sensitive value)`), no secret.
_REMARK = re.compile(r"\([^()\r\n]{0,128}\)")


def _label_value(match: re.Match[str]) -> str:
    """A title-case label's value replaced to its line's end, its trailing spaces kept, when
    the label read whole names a secret (`secret_named`: `Secret ID`, `Secret Access Key`;
    not `Accessor ID`, `Password Last Set`) and the value is none a name keeps (`_kept_value`
    of its first word, a placeholder, a remark, a reference in code); else the match
    unchanged."""
    name, value = match["name"], match["value"]
    secret = value.rstrip()
    if (
        not secret_named(name)
        or _kept_value(name, secret.split(None, 1)[0])
        or _PLACEHOLDER_FOUND.fullmatch(secret)
        or _REMARK.fullmatch(secret)
        or _code_reference(name, secret)
    ):
        return match[0]
    return f"{match['head']}[REDACTED:password]{value[len(secret) :]}"


#: A YAML flow sequence that is all of a line's value, its first item's quote after the `[`.
_FLOW_SEQUENCE = re.compile(
    r"\[(?P<open>[ \t]{0,8}+)(?P<q>[\"']?).{0,65535}?(?P<close>[ \t]{0,8}+)\]", re.DOTALL
)


def _flow_sequence_redacted(value: str) -> str:
    """A line's secret value replaced: a flow sequence (`['a', 'b']`) as one item, its brackets,
    the blanks inside them and its first quote kept, so the reader still sees the list as
    written; any other value whole."""
    sequence = _FLOW_SEQUENCE.fullmatch(value)
    if sequence is None or value.count("[") - value.count("[REDACTED:") > 1:
        return "[REDACTED:password]"
    quote_mark = sequence["q"]
    return f"[{sequence['open']}{quote_mark}[REDACTED:password]{quote_mark}{sequence['close']}]"


def _tab_value(match: re.Match[str]) -> str:
    """A value after a tab replaced, its trailing spaces kept; a value the pair rule keeps
    (`_kept_value`), one that holds a placeholder already, or a listing's date of change
    (`LISTED_WHEN`: a secret's name then when it was updated) stays."""
    value = match["value"].rstrip()
    if _kept_value(match["name"], value) or _PLACEHOLDER_FOUND.search(value):
        return match[0]
    if LISTED_WHEN.fullmatch(value) is not None:
        return match[0]
    return f"{match['head']}[REDACTED:password]{match['value'][len(value) :]}"


#: A Go struct's field name as `%+v` writes it, after a secret's value: exported, made of two
#: or more words (`MaxIdleConns`) and initialisms (`TLSConfig`, `OAuth2Token`), an initialism
#: alone (`DB`, `TLS`), or one word config structs name a field by (`_GO_ONE_WORD_FIELDS`:
#: `Host`, `Addr2`, `Db`). A password's next word after a space is rarely so shaped (`Xk7:`),
#: and a passphrase's capitalised word (`correct Horse:battery`) is one word no config names a
#: field by, so its value is not cut there: it runs on to a field shaped so, or the closing
#: brace. A one-word field outside the list after a secret goes with it: a field's value lost
#: beside a secret, rather than the passphrase's rest shown.
_GO_WORD = r"[A-Z][a-z]{2,24}+|[A-Z]{2,8}+(?![a-z])|[A-Z]{1,7}(?=[A-Z][a-z]{2})"
_GO_ONE_WORD_FIELDS = (
    "Acl|Acls|Active|Addr|Address|Addresses|Addrs|Alg|Algorithm|Alias|Annotations|App|Args|"
    "Attempts|Attrs|Audience|Auth|Backend|Backoff|Base|Bind|Body|Brokers|Bucket|Buffer|Burst|"
    "Cache|Callback|Capacity|Cert|Certs|Channel|Charset|Cipher|Ciphers|Client|Cluster|Code|"
    "Codec|Collation|Command|Compress|Compression|Concurrency|Config|Conn|Conns|Context|"
    "Cookie|Cookies|Count|Credentials|Creds|Ctx|Data|Database|Databases|Db|Deadline|Debug|"
    "Delay|Desc|Dialer|Dir|Disabled|Domain|Driver|Dsn|Duration|Email|Enabled|Encoding|"
    "Endpoint|Endpoints|Env|Environment|Err|Error|Errors|Exchange|Expiration|Expires|Expiry|"
    "Extra|Fallback|Fallbacks|Fields|File|Filename|Filter|Flags|Format|Fragment|Group|"
    "Handler|Hash|Header|Headers|Hook|Hooks|Host|Hostname|Hosts|Id|Identity|Index|Insecure|"
    "Interval|Ip|Issuer|Kind|Labels|Level|Limit|Limiter|Loc|Locale|Location|Log|Logger|Meta|"
    "Metadata|Method|Metrics|Mode|Name|Namespace|Net|Network|Nonce|Offset|Opaque|Options|"
    "Opts|Org|Os|Owner|Params|Partition|Passwd|Passphrase|Password|Path|Pin|Pool|Port|Prefix|"
    "Priority|Project|Protocol|Provider|Proxy|Queue|Rate|Realm|Region|Registry|Replicas|"
    "Retries|Retry|Role|Roles|Root|Rx|Salt|Schema|Scheme|Scope|Scopes|Secret|Secure|Server|"
    "Servers|Service|Session|Size|Source|Ssl|Sslmode|State|Status|Subject|Tags|Tenant|"
    "Timeout|Timezone|Tls|Token|Topic|Tracer|Transport|Ttl|Tx|Type|Uri|Url|User|Username|"
    "Users|Verbose|Version|Vhost|Weight|Workers|Zone"
)
_GO_FIELD_NAME = (
    rf"(?-i:(?:{_GO_WORD}|(?:Db|Id|Ip|Tx|Rx|Os)(?![a-z]))"
    rf"(?:{_GO_WORD}|[A-Z][a-z])(?:{_GO_WORD}|[A-Z][a-z]|[0-9]{{1,3}}+){{0,7}}+"
    rf"|[A-Z]{{2,8}}+(?![a-z])[0-9]{{0,3}}+"
    rf"|(?:{_GO_ONE_WORD_FIELDS})(?![a-z])[0-9]{{0,3}}+)"
)

#: A Go-syntax struct's quoted value (`%#v`: `Password:"…", DB:0`) and the comma after it.
_GO_QUOTED_VALUE = re.compile(r'"(?:[^"\\]|\\.)*+"(?P<comma>,?)')


def _go_field(match: re.Match[str]) -> str:
    """A Go struct's secret field (`%+v`) with its value replaced, if a `{` before it on its line
    is still open; a count, a bare `PWD`'s path or an auth method (`_kept_match`) stays. Else
    the match unchanged. A value quoted as `%#v` writes it loses what is inside its quotes: the
    quotes and the comma before the next field stay, so the struct still reads as Go."""
    text, start = match.string, match.start("name")
    line = text[text.rfind("\n", max(0, start - 4096), start) + 1 : start]
    if line.count("{") <= line.count("}") or _kept_match(match):
        return match[0]
    quoted = _GO_QUOTED_VALUE.fullmatch(match["value"])
    if quoted is not None:
        return f'{match["head"]}"[REDACTED:password]"{quoted["comma"]}'
    return f"{match['head']}[REDACTED:password]"


#: What a value told in words is not (`_told_password`): a number with separators (a date, a
#: time, a version, an address), a count with its unit (`90days`, `8chars`), the next pair
#: (`token=$token`).
_TOLD_NOT_SECRET = re.compile(
    r"[0-9]{1,4}(?:[-:./T][0-9]{1,4}){1,8}Z?|[0-9]{1,6}[a-z]{1,8}"
    r"|[A-Za-z_][\w.-]{0,64}[=:].{0,128}"
)
#: … nor, told bare, a lower-case identifier (`db01.example.com`, `rotation-job-7`); quoted,
#: one is the literal that was set (`the password is "s3cr3t-literal-42"`).
_LOWER_IDENTIFIER = re.compile(r"[a-z][a-z0-9]{0,64}(?:[-_.][a-z0-9]{1,64}){1,16}")
#: The quote a told value opens with: `\\"` inside a JSON string, `"` or `'`.
_TOLD_QUOTE = re.compile(r"""\\?["']""")


def _unquoted(value: str) -> tuple[str, str]:
    """A told value's quote (`"`, `'`, `\\"` inside a JSON string; "" for none) and its text
    inside that quote, read alike as written and inside a JSON string."""
    quote = _TOLD_QUOTE.match(value)
    if quote is None or not value.endswith(quote[0]) or len(value) < 2 * len(quote[0]):
        return "", value
    return quote[0], value[len(quote[0]) : len(value) - len(quote[0])]


def _told_password(value: str, quoted: bool, shortest: int = 6) -> bool:
    """Whether `value` (its quotes taken off), told as a password in words, is one: `shortest`
    characters or more, not only letters, not a flag, variable, path, URL or placeholder, no
    `_TOLD_NOT_SECRET`, and, told bare, no lower-case identifier."""
    return (
        len(value) >= shortest
        and not value.replace(" ", "").isalpha()
        and value[0] not in "-$%/<{[*(~"
        and "://" not in value
        and _TOLD_NOT_SECRET.fullmatch(value) is None
        and (quoted or _LOWER_IDENTIFIER.fullmatch(value) is None)
    )


#: The longest value told in words that is read whole: more than any password or token (a
#: cloudflared tunnel token is about 270 characters), bounded so a run of text is no value.
_TOLD_MAX = 4096

#: A word saying what state a secret is in (`_STATE_WORDS`: Ansible's
#: `VALUE_SPECIFIED_IN_NO_LOG_PARAMETER`), no value told.
_TOLD_STATE = re.compile(_STATE_WORDS, re.IGNORECASE)

#: The name is part of a variable's (`$DB_PASSWORD`, `${DB_PASSWORD}`, `%DB_PASSWORD%`).
_VARIABLE_BEFORE = re.compile(r"[$%{][A-Za-z0-9_]{0,64}\Z")


def _told_secret(match: re.Match[str]) -> str:
    """The value of a secret told in words replaced, if it looks like one (`_told_password`:
    six characters or more, four quoted); after a token's, a secret's or a key's name,
    random-looking and 16 or more, or a short key random by its shape (`_short_key`: a
    config's `api_key "q7Wz2Lk9Xa";`). Else the match unchanged."""
    quote_mark = match["q"] or ""
    raw = match["value"]
    value = _unquoted(raw)[1] if quote_mark else raw[: _wrapper_start(raw)].rstrip(".,;")
    after = "" if quote_mark else match["value"][len(value) :]
    graphql = _GRAPHQL_TYPE.fullmatch(value)
    if (
        _TYPE_VALUE.fullmatch(value)
        or _file_path(value)
        or (graphql and _graphql_scalar(graphql))
        or value.startswith("...")
        or _TOLD_STATE.fullmatch(value)
    ):
        # A declaration's type (`password: Optional[str]`, GraphQL's `password: String!`), a
        # file's path, leader dots before a value (`password ......: …`, read above), a
        # state word (`_TOLD_STATE`).
        told = False
    elif match["pw"] is None:
        told = (len(value) >= 16 and _random_looking(value)) or _short_key(value)
    else:
        told = _told_password(value, bool(quote_mark), 4 if quote_mark else 6)
    start = match.start()
    if not told or _VARIABLE_BEFORE.search(match.string, max(0, start - 65), start):
        return match[0]
    return f"{match['head']}{quote_mark}[REDACTED:password]{quote_mark}{after}"


#: A config line's value after its name: quoted whole, or a run to a space.
_CONFIG_VALUE = rf"""(?P<q>\\?["'])?(?!\[REDACTED)(?P<value>(?(q){_QUOTED_CHAR}{{1,{_TOLD_MAX}}}+(?=(?P=q))|[^\s"'\\]{{1,{_TOLD_MAX}}}+))"""


def _make_default(match: re.Match[str]) -> str:
    """Make's `NAME ?= value` with its value replaced when NAME is a secret's; else unchanged."""
    if not secret_named(match["name"]) or match["value"].startswith(("$(", "${")):
        return match[0]
    return f"{match['head']}{match['q'] or ''}[REDACTED:password]"


#: A CEF extension's custom field and the label naming it (`cs1Label=password cs1=…`): the
#: value runs to the next ` key=` or the line's end, as CEF writes it.
_CEF_END = r"(?=[ \t][\w.]{1,64}=|[ \t]*(?:$|\r?\n|\\[rn]|\"))"
_CEF_LABEL = re.compile(
    rf"(?<![\w])(?P<field>cs[1-6]|cn[1-3]|flexString[12])Label=(?P<label>[^\r\n=]{{1,64}}?){_CEF_END}"
)


def _cef_labelled_secrets(match: re.Match[str]) -> str:
    """A CEF line with each custom field's value replaced whose label names a secret."""
    line = match[0]
    for label in _CEF_LABEL.finditer(line):
        if secret_named(label["label"].strip()):
            field = re.escape(label["field"])
            line = re.sub(
                rf"(?<![\w])({field}=)(?!\[REDACTED)[^\r\n]{{1,{_TOLD_MAX}}}?{_CEF_END}",
                r"\1[REDACTED:password]",
                line,
            )
    return line


#: Daemons' and installers' directives that take a password after a space, no `=`:
#: keepalived's `auth_pass`, OpenLDAP's `rootpw`, nslcd's and ldap.conf's `bindpw` (and
#: `rootbindpw`), HAProxy's `insecure-password`, kickstart's `rootpw --plaintext` (its
#: `--iscrypted` hash is the hash rule's; `--lock` is a flag, no value).
_DIRECTIVE_NAMES = r"auth_pass|rootpw|bindpw|rootbindpw|insecure-password"

CONFIG_LINE_RULES: tuple[_Rule, ...] = (
    _rule(
        rf"(?P<head>(?<![\w-])(?:{_DIRECTIVE_NAMES})(?:[ \t]{{1,8}}--(?:plaintext|iscrypted))?+"
        rf"[ \t]{{1,8}})(?![-$%{{]|{_PROSE_AFTER_OPTION})" + _CONFIG_VALUE,
        r"\g<head>\g<q>[REDACTED:password]",
        "auth_pass",
        "rootpw",
        "bindpw",
        "insecure-password",
        flags=re.IGNORECASE,
    ),
    # debconf's answers (a preseed file, `debconf-set-selections`): `<owner> <question>
    # password <value>`, where `password` is the question's type, whatever its name.
    _rule(
        r"(?P<head>(?:(?m:^)|(?<=\\n))[ \t]{0,16}[\w.+-]{1,64}[ \t]{1,8}[\w.+-]{1,64}/[\w./+-]{1,128}"
        r"[ \t]{1,8}password[ \t]{1,8})(?!\[REDACTED)(?P<value>[^\s\\]{1,4096}+)",
        r"\g<head>[REDACTED:password]",
        "password",
        flags=re.IGNORECASE,
    ),
    # Make's conditional assignment (`DB_PASSWORD ?= …`), under a secret's name (`_make_default`).
    _rule(
        r"(?P<head>(?<![\w.$(-])(?P<name>[A-Za-z_][\w.-]{0,127}+)[ \t]{0,8}\?=[ \t]{0,8})"
        + _CONFIG_VALUE,
        _make_default,
        "?=",
    ),
    # A CEF event's custom string (or number) whose label names a secret (`cs1Label=password
    # cs1=…`): the label is in another field (`_cef_labelled_secrets`).
    _rule(
        r"CEF:[0-9]{1,2}\|(?:[^\r\n\\]|\\(?![rn])){1,16384}+",
        _cef_labelled_secrets,
        "cef:",
        fold_needles=True,
    ),
)

#: A value in an Erlang or Elixir tuple after its name: a binary, a quoted string (a charlist,
#: a quoted atom), or a bare atom or number, to the tuple's `}`.
_TUPLE_VALUE = (
    rf"(?P<binary>{_ERLANG_BINARY})"
    rf"""|(?P<q>\\?["']){_QUOTED_CHAR}{{1,{_VALUE_MAX}}}+(?P=q)"""
    r"""|[^\s,{}\[\]()<>"'\\]{1,512}+"""
)


def _tuple_value(match: re.Match[str]) -> str:
    """An Erlang or Elixir tuple's value replaced (its quotes, a binary's `<<` `>>` kept) when
    its name says secret (`secret_named`) and the value is none a name keeps (`_kept_value`: a
    state word, `undefined`) nor code's variable of that name (`{password, Password}`); else
    the match unchanged."""
    name, value = match["name"], match["value"]
    if not secret_named(name) or _kept_value(name, value) or _code_reference(name, value):
        return match[0]
    head = match.string[match.start() : match.start("value")]
    tail = match.string[match.end("value") : match.end()]
    if match["binary"]:
        return f"{head}{_binary_replaced(match)}{tail}"
    quote_mark = match["q"] or ""
    return f"{head}{quote_mark}[REDACTED:password]{quote_mark}{tail}"


#: Outcomes a line of prose gives after leader dots (an init script's `Setting root password
#: ...... done`, `[ OK ]`): no value.
_LEADER_OUTCOMES = (
    r"(?:ok|done|failed|success|succeeded|error|skipped|passed|changed|unchanged)(?![\w*])"
    r"|\[[ \t]{0,4}[A-Za-z]{1,10}[ \t]{0,4}\]"
)
#: The end of a value after leader dots: its trailing spaces, and escaped ones inside a JSON
#: string.
_TRAILING_SPACE = re.compile(r"(?:[ \t]|\\t){0,64}\Z")


def _leader_value(match: re.Match[str]) -> str:
    """A value after a name and its leader dots replaced to its line's end, its quotes and
    trailing spaces kept, unless its name keeps it (`_kept_value` of its first word); else
    the match unchanged."""
    value = match["value"]
    quote_mark = match["q"] or ""
    secret = _TRAILING_SPACE.sub("", value, count=1)
    first = secret[len(quote_mark) :].split(None, 1)[0] if secret.strip() else secret
    if _kept_value(match["name"], first.strip("\\\"'")):
        return match[0]
    return f"{match['head']}{quote_mark}[REDACTED:password]{quote_mark}{value[len(secret) :]}"


#: A GraphQL argument bound to a variable (`password: $p`), at a word's start (after an
#: escaped line break inside a JSON string too).
_GRAPHQL_BINDING = re.compile(
    r"(?:(?<![\w$])|(?<=\\[nrt]))(?P<arg>[A-Za-z_]\w{0,63}+)[ \t]{0,8}:[ \t]{0,8}"
    r"\$(?P<var>[A-Za-z_]\w{0,63}+)(?!\w)"
)
#: A member of GraphQL's `variables` by the quote its object is written with (JSON's `"`, a
#: JSON string's `\\"`, Python's repr's `'`): its name `var`, and its value quoted (`text`)
#: or a bare scalar (a number: a PIN).
_GRAPHQL_MEMBER = {
    quote: re.compile(
        rf"(?P<head>{re.escape(quote)}(?P<var>[A-Za-z_]\w{{0,63}}+){re.escape(quote)}"
        rf"[ \t]{{0,8}}:[ \t]{{0,8}})(?:{re.escape(quote)}(?!\[REDACTED)(?P<text>{chars}{{1,4096}}+)"
        rf"{re.escape(quote)}|(?P<scalar>-?[0-9][\w.+-]{{0,63}}+))"
    )
    for quote, chars in (
        ('"', r'(?:[^"\\\r\n]|\\.)'),
        ('\\"', r'(?:[^"\\\r\n]|\\\\\\"|\\[^"\r\n])'),
        ("'", r"(?:[^'\\\r\n]|\\.)"),
    )
}


def _graphql_variables(match: re.Match[str]) -> str:
    """A GraphQL request's `variables` with each member's value replaced whose variable the
    text binds to a secret's argument (`_GRAPHQL_BINDING`: `login(password: $p)` binds `p`),
    the others kept; the match unchanged when the text binds none."""
    bound = {
        binding["var"]
        for binding in _GRAPHQL_BINDING.finditer(match.string)
        if secret_named(binding["arg"])
    }
    if not bound:
        return match[0]

    def member(found: re.Match[str]) -> str:
        if found["var"] not in bound:
            return found[0]
        if found["scalar"] is not None:
            return f"{found['head']}[REDACTED:password]"
        return f"{found['head']}{match['q']}[REDACTED:password]{match['q']}"

    return _GRAPHQL_MEMBER[match["q"]].sub(member, match[0])


#: A quoted label ending in a password's or a token's word, then a quoted literal apart from
#: it: the label's answer (`echo "password:" "…"`, `printf 'db password:' '…'`), which the
#: pair rules below misread as the label's own quotes around a blank; or a JSON prompt and
#: its answer beside it (`{"prompt": "password:", "answer": "…"}`, a form's or a bot's
#: `{"question": "Enter token", "response": "…"}`, `"Vault passphrase?"`). The pattern starts
#: at the word, which the engine jumps to; `_label_literal` checks the label's opening quote.
_LABEL_THEN_LITERAL = (
    r"(?:pass(?:word|wd|phrase)?|pwd|token|secret)[ \t]{0,3}[:=?]?[ \t]{0,3}(?P<q>[\"'])"
    r"(?:[ \t]{1,8}+|[ \t]{0,8}+,[ \t\r\n]{0,64}+"
    r'"(?:answer|response|reply|input|entered)"[ \t]{0,8}+:[ \t]{0,8}+)'
    r"""(?P<lq>["'])(?P<literal>(?:(?!(?P=lq))[^\\\r\n]|\\.){1,512}+)(?P=lq)"""
)


#: Base64 with its padding (`aHVudGVy…E=`), which `_told_password` reads as a `name=` pair.
_PADDED_BASE64 = re.compile(r"[A-Za-z0-9+/]{8,512}+={1,2}")


def _padded_base64(literal: str) -> bool:
    """Whether `literal` is base64 with its padding and reads as random (`_random_looking`):
    an encoded password (Yarn's and npm's `_password`), not a `username=` left bare."""
    return _PADDED_BASE64.fullmatch(literal) is not None and _random_looking(literal)


def _camel_word_start(text: str, at: int) -> bool:
    """Whether the word at `at` starts a camel case name's last word (`_authToken`,
    `npmAuthToken`, `dbPassword`): an upper-case letter after a lower-case one."""
    return text[at : at + 1].isupper() and text[at - 1 : at].islower()


def _label_literal(match: re.Match[str]) -> str:
    """The literal after a quoted secret's label replaced, its quotes kept, when the word
    starts a word (or a camel case name's last word: Yarn 1's `"…:_authToken" "…"`) and ends a label whose quote opened before it on its line, and the literal
    is told as a password is (`_told_password`: four characters or more, not only letters,
    no variable or placeholder); else the match unchanged (`"password:" "$DB_PASSWORD"`,
    `"Token:" "expired"`)."""
    text, start = match.string, match.start()
    if text[start - 1 : start].isalnum() and not _camel_word_start(text, start):
        return match[0]
    line_start = text.rfind("\n", max(0, start - 4096), start) + 1
    if text.count(match["q"], line_start, start) % 2 == 0:
        return match[0]
    literal = match["literal"]
    if _PLACEHOLDER_FOUND.fullmatch(literal):
        return match[0]
    if not (_told_password(literal, True, 4) or _padded_base64(literal)):
        return match[0]
    return f"{match[0][: match.start('literal') - start]}[REDACTED:password]{match['lq']}"


PAIR_RULES: tuple[_Rule, ...] = (
    # A quoted label ending in a secret's word and the quoted literal after it (`echo
    # "password:" "…"`): before the rules below read the label's closing quote as a value's.
    _rule(_LABEL_THEN_LITERAL, _label_literal, "pass", "pwd", "token", "secret", flags=re.I),
    # An Erlang or Elixir tuple of a name and its value (a proplist's `{password,"…"}`,
    # `{password,<<"…">>}`, Elixir's `{:password, "…"}`, `{"password", <<"…">>}`), as a crash
    # report prints a connection's options: the name is read whole and asked (`_tuple_value`).
    # The rule starts at the `{`, which the engine jumps to.
    _rule(
        r"""\{[ \t]{0,8}+(?::|(?P<nq>\\?["']))?"""
        rf"(?P<name>[\w.@-]{{0,64}}?{_SECRET_NAME})(?(nq)(?P=nq))[ \t]{{0,8}}+,[ \t]{{0,8}}+"
        rf"""(?!(?:<<)?\\?["']?\[REDACTED)(?P<value>{_TUPLE_VALUE})[ \t]{{0,8}}+\}}""",
        _tuple_value,
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # A name padded to its value by leader dots (HikariCP's config dump, `password.......…`;
    # Windows' `Password . . . . : …`): the value, quoted or to its line's end (or, inside a
    # JSON string, to an escaped line break or the string's end). A space after the dots only
    # with one before them or a `:` after: prose's ellipsis is glued to its word (`Resetting
    # password.... please wait`). Prose's status after dots (`password ...... done`, `[ OK ]`),
    # a state word and a placeholder (`<masked>`) stay.
    _rule(
        rf"(?P<head>(?<![\w.-])(?P<name>[\w.-]{{0,64}}?{_SECRET_NAME})"
        r"(?P<lead>[ \t])?(?:\.{4,128}+|\.(?:[ ]\.){3,64}+)"
        r"(?>[ \t]{0,8}+:[ \t]{0,8}+|(?(lead)[ \t]{0,8}+)))"
        rf"(?!(?:{_LEADER_OUTCOMES}|{_STATE_WORDS}|\*{{3,64}})(?![\w*]))"
        rf"""(?!\\?["']?\[REDACTED){_TEMPLATE_VALUE}"""
        rf"""(?P<value>(?P<q>\\?["']){_QUOTED_CHAR}{{1,{_VALUE_MAX}}}+(?P=q)"""
        r"""|(?:[^\s"'\\]|\\(?![nrt"]))(?:[^\r\n"\\]|\\(?![nr"])|"""
        rf"""{_INNER_QUOTE}){{0,{_VALUE_MAX}}}+)""",
        _leader_value,
        "....",
        ". . .",
        flags=re.IGNORECASE,
    ),
    # GraphQL's `variables` (a gateway's error log of a request): the value of each variable
    # the query binds to a secret's argument (`login(password: $p)`, `{"p": "…"}`), which
    # its own name does not say (`_graphql_variables`). An object of scalars, an input
    # object one level deep inside it; the query anywhere in the text.
    _rule(
        r"""(?P<q>\\?["'])variables(?P=q)[ \t]{0,8}:[ \t\r\n]{0,64}+"""
        r"\{(?:[^{}]|\{[^{}]{0,4096}+\}){1,16384}+\}",
        _graphql_variables,
        "variables",
        fold_needles=True,
    ),
    # A connection string's password (ADO.NET, ODBC): the value runs to its `;`, spaces and all,
    # when the pair is one of a connection string's (after a `;`, or before `;Key=`); ODBC's
    # `{…}` (`}}` inside for a brace) goes whole, its braces kept. The last pair's value ends
    # at the line's end, or at the closing quote of the string that holds them all (JSON's
    # `"Host=db;…;Password=…"`, a delimiter or the line's end after it).
    _rule(
        r"(?P<head>(?:(?<=;)|(?<=;[ \t])|(?=(?:password|pwd)[ \t]{0,3}=[^;\r\n]{1,256}+;"
        r"[ \t]{0,3}[A-Za-z][\w .]{0,40}+=))(?<![A-Za-z0-9_.-])(?:password|pwd)[ \t]{0,3}=[ \t]{0,3})"
        r"(?!\[REDACTED)(?:(?P<brace>\{)(?!\{)(?:[^}\r\n]|\}\}){1,256}+\}(?![^\s;])"
        r"""|[^;\r\n"'{}\s/=][^;\r\n"'{}=]{0,255}+(?<![ \t])(?=;|[ \t]{0,8}(?:[\r\n]|$)"""
        r"""|\\?["'][ \t]{0,8}(?:[,}\]\r\n]|\\[nr]|$)))""",
        lambda m: (
            f"{m['head']}{{[REDACTED:password]}}"
            if m["brace"]
            else _value_replaced(m, "[REDACTED:password]")
        ),
        "password",
        "pwd",
        flags=re.IGNORECASE,
    ),
    # A string that is wholly `NAME=value` (docker inspect's Env array, systemd's
    # `Environment="…"`): the value runs to the closing quote, spaces and all. The rule starts
    # at the `=`, which the engine jumps to, and reads the pair whole from its name after
    # (`_from_name`): started at the name, it tried one after every quote of a JSON text.
    _rule(
        *_run_from_equals(
            WHOLE_STRING_SOURCE, _WHOLE_STRING_CHAR, rf'"|{_NEXT_PAIR}', _whole_strings
        ),
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # … and in single quotes (`Environment='DB_PASSWORD=a b'`).
    _rule(
        *_run_from_equals(
            WHOLE_SINGLE_SOURCE,
            _WHOLE_SINGLE_CHAR,
            f"'|{_NEXT_PAIR}",
            _from_name(_WHOLE_SINGLE_NAME, _WHOLE_SINGLE_PAIR, _unless_command_after),
        ),
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # A data class's or a map's toString (Lombok, Kotlin, records: `Config(url=…, password=my
    # secret pass, driver=…)`; Java's `{db.password=my secret, db.user=app}`): a secret field's
    # unquoted value runs, spaces and commas and all, to the next `, <field>=` or the closing
    # bracket. Only right after `Name(`, `{` or `, `; a quoted value is the pair rule's below.
    # It starts at the `=`, as the rule above (`_from_name`).
    _rule(
        *_run_from_equals(
            FIELD_SOURCE,
            _FIELD_CHAR,
            _FIELD_END,
            _from_name(_FIELD_NAME, _FIELD_PAIR, _named_pair),
        ),
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # Go's `%+v` of a struct (`&{Host:db Password:hunter two User:app}`): a secret field's
    # value runs, spaces and all, to the next ` <Field>:` (an identifier shaped as Go names
    # fields, `_GO_FIELD_NAME`) or the closing brace. Only right after `{` (not a shell's
    # `${`) or a space, inside a brace left open (`_go_field`). `%+v` writes one line, so the
    # value never runs over a line break escaped inside a JSON string (`\n`, `\r`): a CI log's
    # `Evaluating secrets:\n…` in a JSON object is no struct's field.
    _rule(
        # The `{` or space is read, not looked behind for: the engine then jumps between them.
        rf"(?P<head>[{{ ](?<!\$\{{)(?=\w{{1,65}}+:)(?P<name>\w{{0,64}}?{_SECRET_NAME}):)"
        r"(?!\[REDACTED)"
        rf"(?!(?:{_STATE_WORDS}|\*{{3,64}})[ }}])"
        rf"(?P<value>(?!\\[nr])[^\s{{}}](?:(?!\\[nr])[^\s{{}}]|[ \t](?!{_GO_FIELD_NAME}:)){{0,511}}+)"
        rf"(?=[ \t]{_GO_FIELD_NAME}:|\}})",
        _go_field,
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # A YAML or .properties line that starts with a secret's name (after indentation or a
    # list's `- `): `DB_PASSWORD: hunter2 xyz` (kubectl describe's env too), `spring.datasource.
    # password=my secret pass`, docker-compose's `- POSTGRES_PASSWORD=a b c`, an ini or .env
    # `password = a b c`. An unquoted value runs to the line's end (`_line_value`); a quoted
    # one, a template, a block scalar and kubectl's `<set to the key …>` reference are the
    # pair rule's below. A line also starts after an escaped line break inside a JSON string
    # (a log's "msg": "…\npassword: a b\n…"): its value then ends at the next escaped break
    # or at the string's closing quote (a rule of its own, which starts with the literal `\n`
    # the engine jumps to). Each line is read once from its start, so the value may be long
    # (`_VALUE_MAX`): the bound only stops a value longer than any secret.
    *(
        _rule(
            rf"(?P<head>{start}[ \t]{{0,40}}+(?P<item>-[ \t]{{1,8}}+)?"
            rf"(?P<name>[\w.-]{{0,64}}?{_SECRET_NAME})"
            r"(?P<sep>:[ \t]{1,64}+|[ \t]{0,3}=(?!=)[ \t]{0,64}+))"
            r"""(?!(?:[bru]{1,2})?\\{0,16}+["']|(?:!{1,2}[\w.:/-]{1,64}+[ \t]{1,8})?[|>]"""
            r"""|\$?\{|<set to the key ')"""
            + _TEMPLATE_VALUE
            + rf"""(?!(?:{_STATE_WORDS}|\*{{3,64}})(?![\w*]))(?!\(sensitive(?: value)?\))"""
            + rf"(?P<value>{value})",
            _line_value,
            *_SECRET_NAME_NEEDLES,
            flags=re.IGNORECASE,
        )
        for start, value in (
            ("(?m:^)", rf"[^\s][^\r\n]{{0,{_VALUE_MAX - 1}}}+"),
            (
                r"\\n",
                rf"""(?:[^\s\\"]|\\[^nr"'])(?:[^\r\n\\"]|\\[^nr]){{0,{_VALUE_MAX - 1}}}+""",
            ),
        )
    ),
    # A label of title-case words at a line's start, aligned CLI output (Nomad's `Secret ID
    # = …`, `Secret Access Key: …`), raw or after an escaped line break inside a JSON string:
    # the label, which the rules above read only as one word, is read whole and asked
    # (`_label_value`); its value runs to the line's end. Its words are read as written (a
    # label's), one of them holding a secret's word (`_LABEL_WORDS`), the rule's needles.
    *(
        _rule(
            rf"(?P<head>{start}[ \t]{{0,40}}+(?=[A-Za-z0-9 ]{{0,128}}?(?i:{_LABEL_WORDS}))"
            rf"(?P<name>{_LABEL_WORD}(?:[ ]{_LABEL_WORD}){{1,3}}+)"
            r"[ \t]{0,64}+[=:][ \t]{0,64}+)(?!\[REDACTED)"
            rf"(?P<value>{char}{{1,{_VALUE_MAX}}}+)",
            _label_value,
            *_LABEL_WORDS.split("|"),
            fold_needles=True,
        )
        for start, char in (("(?m:^)", r"[^\r\n]"), (r"\\n", r'(?:[^\r\n\\"]|\\[^nr"])'))
    ),
    # A name and its value on a line of their own with a tab between (a TSV listing, aligned
    # output: `password<TAB>a b`, `password    a b`; also inside a JSON string,
    # `\npassword\ta b\n`): the value
    # runs to the line's end, and holds no tab of its own (a row of a table with more
    # columns is `tables.py`'s).
    # … or two spaces or more, the value then holding no such run (a table's row does).
    _rule(
        rf"(?P<head>(?m:^)[ \t]{{0,40}}+(?P<name>[\w.-]{{0,64}}?{_SECRET_NAME})"
        r"(?:(?P<tabs>\t{1,64}+)|[ ]{2,64}+))"
        r"(?P<value>(?(tabs)[^\s][^\t\r\n]{0,4095}+"
        r"|[^\s](?:[^\s]| (?! )){0,4095}+[ ]{0,64}+)(?=\r?\n|\Z))",
        _tab_value,
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    _rule(
        rf"(?P<head>\\n[ \t]{{0,40}}+(?P<name>[\w.-]{{0,64}}?{_SECRET_NAME})(?:\\t){{1,64}}+)"
        r"""(?P<value>(?:[^\s\\"]|\\[^nrt"])(?:[^\t\r\n\\"]|\\[^nrt"]){0,4095}+(?=\\[nr]|"))""",
        _tab_value,
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # A YAML block scalar (`password: |`, `token: >-`): the value is every line below indented
    # at least as far as its first (also inside a JSON string, its lines broken by escaped `\n`:
    # one rule, whose lines are read as the break after the marker says). The rule starts at
    # the marker's `:`, which the engine jumps to, and asks for the secret's name before it
    # after (`_block_scalar`): started at the name, it tried a name at most letters of a text.
    _rule(
        # A tag may come before the marker (Ansible's `password: !vault |`, `!!binary |`),
        # and a comment after it (`password: | # rotated monthly`), none of the value.
        r"(:[ \t]{1,3}(?:!{1,2}[\w.:/-]{1,64}+[ \t]{1,8})?[|>][+-]?[0-9]?"
        r"""(?:[ \t]{1,8}#(?:[^\r\n\\"]|\\[^nr]){0,256}+)?[ \t]{0,8}"""
        rf"(?:{_LINES[0][0]}|(?P<esc>{_LINES[1][0]})))"
        rf"(?P<indent>[ \t]{{1,40}}+)(?!\[REDACTED)(?(esc){_LINES[1][1]}|{_LINES[0][1]}){{1,512}}+"
        rf"(?:(?(esc){_LINES[1][0]}|{_LINES[0][0]})(?P=indent)"
        rf"(?(esc){_LINES[1][1]}|{_LINES[0][1]}){{1,512}}+){{0,200}}+",
        _block_scalar,
        # Its marker (`: |`, `: >`) is rarer than a secret's name: text without one is skipped.
        "|",
        ">",
        flags=re.IGNORECASE,
    ),
    # A passphrase or a wallet's mnemonic after its name anywhere on a line (after a log's
    # prefix: `ERROR passphrase: a b c`, `gpg: passphrase: …`): its words go, every one of
    # them (the rule below takes a bare value's first word alone; the line rules above read
    # the name only at a line's start). Three words at least, letters alone: a phrase.
    _rule(
        rf"(?P<head>(?<![\w.-])(?P<name>[\w.-]{{0,64}}?(?:{_PHRASE_NAMES}))"
        r"(?::[ \t]{1,8}+|[ \t]{0,3}=[ \t]{0,8}+))"
        rf"(?!(?:{_STATE_WORDS})(?![\w*]))"
        r"(?P<value>[a-z]{1,32}+(?:[ \t][a-z]{1,32}+){2,47}+)(?![\w'-])",
        _phrase_words,
        "phrase",
        "mnemonic",
        flags=re.IGNORECASE,
    ),
    # A prompt that says more between its name and its `:` (`aws configure`'s `AWS Secret
    # Access Key [None]: …`, its masked default `[****EKEY]`, `Password (again): …`, `API
    # token (optional): …`), at a line's start: the label is asked whole (`_label_value`) and
    # its answer, to the line's end, goes. Looked for by the note's end before the `:` or by the
    # note's words (a `)` would start a needle no other starts with).
    _rule(
        r"(?P<head>(?m:^)[ \t]{0,40}+(?P<name>[A-Za-z][\w.-]{0,64}+(?:[ ][\w.-]{1,64}+){0,5}+)"
        rf"[ \t]{{1,4}}+(?:{_PROMPT_NOTE})[ ]?:[ \t]{{1,64}}+)"
        r"(?!\[REDACTED)(?P<value>[^\s][^\r\n]{0,4095}+)",
        _label_value,
        *("]:", "] :", "(again)", "(optional)", "(confirm", "(repeat)", "(retype)", "(re-enter)"),
        *(
            "(reenter)",
            "(verif",
            "(input ",
            "(typing ",
            "(hidden)",
            "(is hidden)",
            "(will ",
            "(not ",
        ),
    ),
    # name=value pairs by the name. A quoted value goes whole, spaces and all; its quotes stay
    # (an unclosed one to the line's end).
    _rule(
        # Python's prefix of a bytes or raw string (password=b'…') is kept with the name; a
        # form's nested name (Rails' and PHP's user[password]=…) and a subscript's
        # (os.environ["DB_PASSWORD"] = …, ENV['API_KEY'] = …) end at their `]`, before `=` or
        # `:` (PHP's print_r, `[token] => Array`, is markup's).
        # A declaration's type between the name and its `=` (`password: str = "…"`, Kotlin's
        # `val password: String = "…"`) stays with the name.
        rf"""(?P<head>(?P<name>{_SECRET_NAME})(?:["']?\](?=[ \t]{{0,3}}[=:](?!>)))?"""
        rf"(?:[ \t]{{0,3}}:[ \t]{{0,3}}{_TYPE}[ \t]{{1,3}}(?==[^=]))?{_ASSIGN}"
        r"""(?:[bru]{1,2}(?=\\?["']))?)"""
        # Not a placeholder (`-[REDACTED…`: a shell default already redacted, below; `{[REDACTED…`:
        # an ODBC value, above; `\\\"[REDACTED…`: one found a level down, its quotes escaped
        # twice), nor the empty default of `${DB_PASSWORD:-}`.
        # A string's prefix before it is the first pass's too (`b'[REDACTED…`), and so is a
        # binary's (`<<"[REDACTED…`).
        r"""(?!(?:[bru]{1,2}(?=\\?["']))?\\{0,16}+(?:""\"|'''|\$?["']|\{|<<)?-?(?:\\{0,16}+["'])?\[REDACTED|-\})"""
        # Nor a list that is one placeholder already (`[[REDACTED:…]]`, `['[REDACTED:…]']`).
        r"""(?!\[(?P<pq>\\?["']?)\[REDACTED:[\w-]{1,32}+\](?P=pq)\])"""
        # Nor a shell's default that is a reference (`${DB_PASSWORD:-$(cat f)}`, read from
        # the name inside the braces).
        rf"(?![-=]{_PLACEHOLDER}\}})"
        # Nor an object's opening brace: the name heads a section (`sections.py`).
        r"""(?!\{[ \t\r\n]{0,64}+(?:\\?["'}]|[\w.-]{1,64}+[ \t]{0,8}[:=]))"""
        + _TEMPLATE_VALUE
        # A block scalar's marker, its tag before it (`!vault |`) and a comment after it: above.
        + r"(?!(?:!{1,2}[\w.:/-]{1,64}+[ \t]{1,8})?[|>][+-]?[0-9]?"
        + r"""(?:[ \t]{1,8}#(?:[^\r\n\\"]|\\[^nr]){0,256}+)?[ \t]{0,8}(?:\r?\n|(?:\\r)?\\n|$))"""
        # A value that says something about the secret, not the secret: MySQL's "(using
        # password: YES)", "password: null", an already masked "********".
        rf"""(?!\\?["']?(?:{_STATE_WORDS}|\*{{3,64}})(?![\w*]))"""
        # Terraform's plan: `password = (sensitive value)`, `(sensitive)`, and a value it
        # learns only when it applies, `(known after apply)`.
        r"(?!\((?:sensitive(?: value)?|known after apply)\))"
        # kubectl describe's `<set to the key 'token' in secret 'api'>`: a reference, no value.
        r"(?!<set to the key ')"
        # A template's placeholder that holds a quoted literal (`{{ pw | default("hunter2") }}`):
        # the literals go, the placeholder stays (`_keep_quotes`).
        # A call (`Field(default="…")`, `os.getenv("TOKEN", "…")`) or a subscript
        # (`os.environ["TOKEN"]`), then any fallbacks (`or "…"`), or a ternary (`"…" if debug
        # else os.environ["X"]`): its literals go, the code stays (`call_literals_redacted`).
        # First, as a ternary may start with a literal, which the quoted values below read.
        # A Ruby hash's `inspect` (`{:password=>"…"}`, `{:aws=>{:key=>"…"}}`), two levels deep
        # inside it: read whole, its values replaced and its keys kept (`_ruby_hash_redacted`).
        # Node's `util.inspect` of a Buffer (`<Buffer 58 6b …>`): its bytes spell the value.
        # An Erlang or Elixir binary (`password => <<"…">>`): its text, `<<"` and `">>` kept.
        # No value is PHP var_dump's type before its string (`string(10) "…"`: markup.py's
        # var_dump rule read the string), nor an object property's visibility after its name
        # (`["password":protected]=>`).
        r"(?!string\([0-9]{1,10}+\)[ \t]|(?:public|protected|private)\]=>)"
        rf"(?P<value>(?P<ruby>{_RUBY_HASH})|(?P<buffer>{_NODE_BUFFER})|(?P<binary>{_ERLANG_BINARY})"
        rf"|(?P<call>{CODE_READ})"
        # … that ends the value: more code after it (`+ "…"`, a block) is not read as a call.
        r"""(?=[ \t]{0,8}+(?:[,;)\]}\r\n"'\\]|$))"""
        r"""|(?P<tq>\\?["']?)(?P<template>\$?\{\{[^{}\n]{1,512}+\}\}"""
        r"(?:[ \t]{0,8}+\$?\{\{[^{}\n]{1,512}+\}\}){0,8}+"
        # … and Terraform's interpolation of a call or a subscript (`"${lookup(var.pw, "db",
        # "…")}"`), whose inner quotes would end a quoted value.
        r"""|\$\{[A-Za-z_][\w.-]{0,127}+[(\[][^{}\n]{1,512}+\})(?P=tq)"""
        # Python's triple-quoted strings, over lines, to the closing triple quote.
        r"""|(?P<tdouble>""\")(?:[^"\\]|\\.|"(?!"")){1,2048}+""\""""
        r"""|(?P<tsingle>''')(?:[^'\\]|\\.|'(?!'')){1,2048}+'''"""
        # … and a triple double quote inside a JSON string (TOML's multi-line basic string
        # quoted into a log's JSON, `\"\"\"…\"\"\"`): an escape inside is the value's.
        r"""|(?P<tescaped>\\"\\"\\")(?:[^"\\]|\\[^"]|\\"(?!\\"\\")){1,2048}+\\"\\"\\\""""
        # `\"…\"`: JSON inside a JSON string, to its closing `\"`; an escape inside it (`\n`)
        # and an escaped escape (`\\\"`: a quote inside the inner JSON's value) are the value's.
        rf"""|(?P<escaped>\\")(?:[^"\\\n]|\\[^"\\\n]|\\\\(?:[^"\\\n]|\\.)){{1,{_VALUE_MAX}}}+\\\""""
        rf"""|(?P<double>")(?:[^"\\\n]|\\.){{1,{_VALUE_MAX}}}+\""""  # "…" with backslash escapes
        rf"""|(?P<single>'){_SINGLE_QUOTED_CHAR}{{1,{_VALUE_MAX}}}+'"""
        # bash's ANSI-C quotes (`X=$'…'`, as `set -x` and `export -p` print a value with a
        # control character or a quote), a backslash escaping the character after it: all of
        # it, `$'` and `'` kept.
        rf"""|(?P<ansi>\$'){_SINGLE_QUOTED_CHAR}{{1,{_VALUE_MAX}}}+'"""
        # A quote never closed on its line (a log line cut short, a value broken by the line's
        # end): the rest of the line goes, not only its first word.
        rf"""|(?P<unclosed>")(?:[^"\\\r\n]|\\.){{1,{_VALUE_MAX}}}+(?=\r?\n|$)"""
        # A single quote's, inside a JSON string, ends where the string does.
        rf"""|(?P<unclosed_single>')(?:(?!'){_LINE_CHAR_IN_STRING}){{1,{_VALUE_MAX}}}+"""
        r"""(?=\r?\n|$|"[ \t]{0,8}[,}\]])"""
        # … and an escaped quote inside a JSON string (`"msg": "password=\"a b"`): to the end
        # of the string.
        rf"""|(?P<unclosed_escaped>\\")(?:[^"\\\n]|\\\\(?:[^"\\\n]|\\.)){{1,{_VALUE_MAX}}}+(?=")"""
        # … and a triple quote never closed (its string's other lines cannot be told from the
        # text's): the rest of its line.
        rf"""|(?P<unclosed_triple>""\")[^"\r\n]{{1,{_VALUE_MAX}}}+(?=\r?\n|$)"""
        rf"""|(?P<unclosed_triple_single>''')[^'\r\n]{{1,{_VALUE_MAX}}}+(?=\r?\n|$)"""
        # A command substitution that only repeats a literal (`$(echo pw)`, `` `printf pw` ``,
        # a shell default's `${PW:-$(echo pw)}`; one that runs another command is a reference,
        # kept above): all of it.
        r"""|(?P<sdefault>[-=]?)(?P<subst>\$\([^()\r\n]{1,512}+\)"""
        r"""|`[ \t]{0,8}+(?:echo|printf)[ \t][^`\r\n]{1,512}+`)"""
        # A shell variable with a default (${DB_PASSWORD:-hunter2}): only the default goes.
        # Spring's `${db.password:hunter2}` too (`calls.py` took the default; this keeps the
        # name's brace and separator).
        r"|(?P<shell>\$\{[A-Za-z_]\w{0,127}+(?:\.[\w-]{1,64}+){0,8}+(?::[-=]?+|[-=])(?![?+]))"
        # … also one that is a command's output repeating a literal, spaces and all
        # (`${DB_PASSWORD:-$(echo …)}`; one reading a file is a reference, kept above).
        r"""(?:\$\([^()\r\n]{1,512}+\)|[^}\s\"'\\]{1,512}+"""
        r"""|\\"[^"\\\r\n]{0,512}+\\"|"[^"\r\n]{0,512}+"|'[^'\r\n]{0,512}+')\}"""
        # A list of strings (OpenTelemetry's header values, `"x_api_key": ["…"]`, Python's
        # `['…']`, Go's `[]string{"…"}` in an http.Header, Go's `%v` of a pointer to a struct,
        # `&{admin hunter2}`, whose fields have no names): all of it to its `]` (Go's `}`), as
        # one, its brackets and outer quotes kept. A placeholder inside it (an item redacted
        # before) is read whole: its `]` does not end the list. YAML's flow sequence of bare
        # items (`[abc, def]`) too, not only its first item.
        # … and one that opens at its line's end (pretty-printed JSON, code), or the
        # parentheses a formatter wraps a long string in (black's `KEY = (` then the string's
        # lines): its lines to the `]` or `)`, strings, bare items and flat objects, as one;
        # the closing bracket's indentation kept. Code inside (a call, a subscript) is no list.
        # A comment after the opener (`[ # rotated weekly`, `[ // …`) is kept, and a flat list
        # inside (a list of lists) is an item: a subscript, after a name or a bracket, is not.
        r"""|(?P<lines_list>\[|(?P<paren>\())(?P<lines_comment>[ \t]{0,8}+(?:\#|//)[^\r\n]{0,256}+)?"""
        r"""(?=[ \t]{0,8}+\r?\n)(?=\s{0,256}+[^\s\])])"""
        r"""(?:"(?:[^"\\\r\n]|\\.){0,1024}+"|'[^'\r\n]{0,1024}+'|\{[^{}()\[\]]{0,4096}+\}"""
        r"""|(?<![\w\])])\[(?:"(?:[^"\\\r\n]|\\.){0,1024}+"|'[^'\r\n]{0,1024}+'"""
        r"""|\[REDACTED:[\w-]{1,32}+\]|[^\[\]{}()"']){0,4096}+\]"""
        r"""|\[REDACTED:[\w-]{1,32}+\]|[^\[\]{}()"']){1,4096}+(?(paren)(?=\))|(?=\]))"""
        # Go's `%v` of a struct itself (`creds: {admin s3cr3t}`): a brace whose words run to
        # its `}` with no `:`, `=`, quote or bracket (an object, a flow map, a template has
        # one), a struct inside it aside (`{admin {pw x}}`), and nothing glued after it
        # (LDAP's `{SSHA}…` is a scheme before its hash). Go's `%v` of a map (`map[k:v …]`).
        # Go's `%v` of a slice of structs (`[{admin pw} {bob pw2}]`): every struct, as one
        # (the list below would end at the first one's `}`), the brackets kept.
        r"""|(?P<slice>\[)(?=\{)(?:\{[^{}\[\]\r\n"'\\:=]{1,512}+\}[ ]?){1,64}+(?=\])"""
        r"""|(?P<list>(?:\[|\[\]string\{|&\{|map\[|\{(?=[^\s{}"'\\:=,\[\]]"""
        r"""(?:[^{}\r\n"'\\:=\[\]]|\{[^{}\r\n"'\\:=\[\]]{0,512}+\}){0,512}+\}(?![\w$])))"""
        r"""[ \t]{0,3}(?P<lq>\\?["']|(?!\[REDACTED)))"""
        r"""(?:\[REDACTED:[\w-]{1,32}+\]|[^\]}\r\n\\]|\\.){1,4096}+(?=[\]}])"""
        # An unquoted value, which never starts with an escaped line break or tab (a name that
        # ends its line inside a JSON string heads what follows, and holds no value; so does
        # one before a log's own `\\n`, a backslash escaped in the JSON string: `\\\\n`). A
        # backslash opens it only before a quote: an escaped backslash is the value's.
        # An LDAP password's scheme (`{SSHA}`, `{CLEARTEXT}`) is the value's start. An escaped
        # line break before the next line's pair ends it (`DB_PASSWORD=x\\nHOST=db`).
        # Nor the mark that closes a name's emphasis (`**Password:** …`, `<b>Password:</b> …`:
        # the dressed name's rule in markup.py reads the value after it), nor the call that
        # wraps an object (`jsonencode({`: sections.py read the object's values). Nor brackets
        # that open before a placeholder (`[[REDACTED:password]}`: what an earlier pass left of
        # a list whose item was blanked; reading them as the value would eat the bracket).
        r"""|(?!(?:\*{1,2}|_{1,2}|</(?:strong|b|em|i|u)>)(?:[ \t]|$))(?![\[{(]{1,8}\[REDACTED)"""
        r"""(?!(?:jsonencode|yamlencode|sensitive|tomap)\([ \t\r\n]{0,64}+\{)"""
        rf"""(?!\\{{1,2}}[nrt])(?P<open>(?:\\?(?:""\"|'''|["']))?)(?:\{{[A-Za-z0-9.-]{{1,32}}+\}})?(?:[^\s&;,"'}}\\]|\\(?!["']|{_ESCAPED_NEXT_PAIR})|{_INNER_QUOTE}){{1,{_VALUE_MAX}}}+)""",
        _keep_quotes,
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    *CONFIG_LINE_RULES,
)


#: A single-quoted literal joined to the one before it by `+` (a space on either side at
#: most), variables or calls between them or not (`_CHAIN_OPERAND`): the rest of a value whose
#: first literal the pair rule replaced under its name, where `continued`'s rule for joined
#: literals, which runs first, found no secret (the name read another way, the pieces joined
#: judged apart from the first). A literal that is a placeholder (an earlier rule's, a
#: token's) stays.
_JOINED_SINGLE = rf"(?:[ ]?\+[ ]?{_CHAIN_OPERAND}){{0,4}}+[ ]?\+[ ]?'[^'\\\r\n]{{1,512}}+'"
_JOINED_SINGLE_PARTS = re.compile(r"(?P<join>[ ]?\+[ ]?')(?P<literal>[^'\\\r\n]{1,512}+)'")


def _joined_after_placeholder(match: re.Match[str]) -> str:
    """The literals joined to a secret's single-quoted value the pair rule replaced (`token =
    '[REDACTED:password]' + '…'`, the rest of a token split in two) replaced too, when a name
    and its `=` or `:` stand before that value; else the match unchanged."""
    start = match.start()
    if _NAME_ASSIGNED_BEFORE.search(match.string, max(0, start - 140), start) is None:
        return match[0]
    rest = _JOINED_SINGLE_PARTS.sub(_joined_literal_replaced, match["rest"])
    return f"{match['head']}{rest}"


def _joined_literal_replaced(match: re.Match[str]) -> str:
    """A joined literal (`_JOINED_SINGLE_PARTS`) replaced, its join and quotes kept, unless it
    is a placeholder already."""
    if _PLACEHOLDER_FOUND.fullmatch(match["literal"]):
        return match[0]
    return f"{match['join']}[REDACTED:password]'"


CHANGED_VALUE_RULES: tuple[
    _Rule, ...
] = (  # A secret's value split into single-quoted literals joined by `+` (`token = 'ghp_…' +
    # '…'`): the pair rule took the first literal, under its name; the rest go too
    # (`_joined_after_placeholder`). The rule starts at the placeholder's end, which it looks
    # for as written.
    _rule(
        rf"(?P<head>'\[REDACTED:password\]')(?P<rest>(?:{_JOINED_SINGLE}){{1,16}}+)",
        _joined_after_placeholder,
        "]' +",
        "]'+",
    ),
    # Terraform's plan shows a changed value as `"old" -> "new"`: after a secret's old value
    # (redacted above), the new one goes too.
    _rule(
        r"""(\[REDACTED:password\](?P<q>["'])[ \t]{1,3}->[ \t]{1,3}(?P=q))(?!\[REDACTED)"""
        rf"""{_QUOTED_CHAR}{{1,512}}+(?P=q)""",
        r"\1[REDACTED:password]\g<q>",
        "[REDACTED:password]",
    ),
    # … and after the old value Terraform hid itself (`(sensitive value) -> "new"`): the
    # attribute is sensitive, whatever its name, so its new value is too.
    _rule(
        r"""(\(sensitive value\)[ \t]{1,3}->[ \t]{1,3}(?P<q>["']))(?!\[REDACTED)"""
        rf"""{_QUOTED_CHAR}{{1,{_TOLD_MAX}}}+(?P=q)""",
        r"\1[REDACTED:password]\g<q>",
        "(sensitive value)",
    ),
)


#: A key's value, whole: a run of base64's and base64url's characters that no other character
#: of a name, a path or a time follows (`user:42:profile`, `uploads/a.pdf`, `…T02:14:07Z`);
#: from 8 characters, as a vendor's short key is (`_short_key`).
_KEY_VALUE = r"[A-Za-z0-9+/=_-]{8,512}+(?![A-Za-z0-9+/=_.:-])"
#: A name whose last word is `key`: after a separator (`ALGOLIA_ADMIN_KEY`, `jwt.key`) or in
#: camel case (`hmacKey`, `HMACKey`).
_KEY_NAME = re.compile(r"(?:[A-Za-z0-9][_.-](?:key|KEY|Key)|[A-Za-z0-9]Key)[\"' \t]*\Z")
_KEY_VALUE_WHOLE = re.compile(_KEY_VALUE)
#: YAML's block scalar after a key's `:` (`hmac_key: |`, `>-`): its first line, indented, holds
#: the value. Its line break may be escaped (inside a JSON string).
_YAML_BLOCK = r"(?:[|>][-+0-9]{0,2}[ \t]{0,8}(?:\r?\n|(?:\\r)?\\n)[ \t]{1,64}+)?"


def key_named_value(name: str, value: object) -> bool:
    """Whether a JSON value under `name` is a key by the rule the text follows: a name whose
    last word is `key` (`_KEY_NAME`) and a value shaped like a key (`_key_shaped`)."""
    return (
        isinstance(value, str)
        and _KEY_NAME.search(name) is not None
        and not public_named(name)
        and _KEY_VALUE_WHOLE.fullmatch(value) is not None
        and _key_shaped(value)
    )


def _key_value(match: re.Match[str]) -> str:
    """A value after a name ending in `key` replaced if it looks like a key (`_key_shaped`), or
    a short key random by its shape (`_short_key`: `STRIPE_KEY=q7Wz2Lk9Xa`); else the match
    unchanged."""
    # The name may stand before the match (its rules look behind for it): a public key's name
    # (`PublicKey =`, `VAPID_PUBLIC_KEY=`) is read in the few characters around its start.
    start = match.start()
    value = match["value"]
    if not (_key_shaped(value) or _short_key(value)) or public_named(
        match.string[max(0, start - 48) : start + 3]
    ):
        return match[0]
    return f"{match['head']}[REDACTED:password]"


#: A key's name before a space and its value (`HMAC_KEY`, `consumer.key`, `hmacKey`, a flag's
#: `--hmac-key`, nginx's `set $hmac_key`), up to its `key`: it starts a word (after a space,
#: a quote, a bracket, an escaped line break or tab inside a JSON string, or the text's
#: start), and ends in a separator before `key` or `KEY`, or in a letter or digit before
#: camel case's `Key`.
_KEY_NAME_BEFORE = re.compile(
    r"(?:(?<![^\s\"'(\[{,;|])|(?<=\\[nrt]))(?:-{1,2}|\$)?+[A-Za-z0-9][\w.-]{0,64}+\Z"
)


def _bare_key_value(match: re.Match[str]) -> str:
    """A key-shaped value after a key's name and a space (`_key_value`), when the name before
    the match's `key` is one (`_KEY_NAME_BEFORE`); else the match unchanged."""
    start = match.start()
    name = _KEY_NAME_BEFORE.search(match.string, max(0, start - 66), start)
    if name is None:
        return match[0]
    last = name[0][-1]
    if not (last in "_.-" or (match[0].startswith("Key") and last.isalnum())):
        return match[0]
    return _key_value(match)


TOLD_RULES: tuple[_Rule, ...] = (
    # A secret told in words, without `=` or `:` right after its name: "the password is
    # hunter2", "password for admin is …", "login with password …", Dockerfile's `ENV
    # DB_PASSWORD …`, redis.conf's `requirepass …`; a token, a secret or an API key so only
    # when its value looks random. The value is asked (`_told_secret`), so a word, a number
    # with separators (a date, a time, a version), a path, a URL, a flag, a placeholder or an
    # identifier stays: "the password is incorrect", "password expired on 2026-12-01".
    _rule(
        # Not a name that is an option's value (`vault kv get -field=password secret/db`): the
        # field it reads, and what follows is the command's next argument.
        r"(?P<head>(?=[ptsamr])(?<![A-Za-z0-9](?<!\\[nrt]))(?<!=)"
        r"(?:(?P<pw>pass(?:word|wd|phrase|code)s?|pwd?"
        # AWS's `SecretString` (Secrets Manager's value) is the secret whatever it holds.
        r"|requirepass|masterauth|secret[ _-]?string)|tokens?|secrets?"
        r"|(?:api|access|secret|auth)[ _-]?key)"
        # "for admin", "for user deploy": only with "is" or ":" after it.
        r"(?:[ \t]{1,3}(?:for|of)[ \t]{1,3}(?:user[ \t]{1,3})?[^\s:]{1,64}+"
        r"(?=[ \t]{1,3}(?:is|was)[ \t]|:))?"
        r"(?:[ \t]{1,3}(?:is|was))?(?:[ \t]{1,3}(?:set|changed|reset)[ \t]{1,3}to)?"
        r"[ \t]{0,3}:?[ \t]{1,3})"
        # Not an assignment's `=value` (the pair rules' above), nor the `}}` that closes a
        # template the name ends (`{{ .Values.db.password }}`): taken, the template is gone and
        # a second pass reads the name before it as a secret's.
        # An unquoted value ends at an escaped line break or tab (inside a JSON string).
        # A quote inside a word is the value's (`'it's-…'`, `pa"ss…`), quoted or not.
        # Nor a YAML tag before a block scalar's marker (`password: !vault |`: above).
        r"(?!!{1,2}[\w.:/-]{1,64}+[ \t]{1,8}[|>])"
        rf"""(?!\\?["']?\[REDACTED|=|\}}\}})(?P<value>(?P<q>\\?["'])(?:{_INNER_QUOTE}|{_QUOTED_CHAR}){{4,{_TOLD_MAX}}}+(?P=q)"""
        rf"""|(?:[^\s"'<>\\]|\\(?![nrt"'])|{_INNER_QUOTE}){{6,{_TOLD_MAX}}}+)""",
        _told_secret,
        "pass",
        "pw",
        "masterauth",
        "token",
        "secret",
        "key",
        flags=re.IGNORECASE,
    ),
    # A value after a name whose last word is `key` (`ALGOLIA_ADMIN_KEY`, `consumer_key`,
    # `jwt.key`, gitleaks' generic API key), when it looks like a key (`_key_shaped`): the names
    # above say secret whatever the value; `key` alone also names a cache's, a sort's or an
    # object's key (`cache_key=user:42`, `object_key=uploads/…`), which stays. The rule starts
    # at `key`, which the engine jumps to, and asks what stands before it after.
    _rule(
        r"(?P<head>(?:key|KEY|Key)(?<=[A-Za-z0-9][_.-]...)(?![A-Za-z0-9])"
        rf"{_ASSIGN}{_CONTINUATION}?{_YAML_BLOCK}{_OPEN_QUOTE})(?!\[REDACTED)"
        rf"(?P<value>{_KEY_VALUE})",
        _key_value,
        "_key",
        ".key",
        "-key",
        fold_needles=True,
    ),
    # … and after a space (a tab, a line continuation) instead: a name starting a word
    # (`HMAC_KEY <key>`, `consumer.key <key>`, `hmacKey "<key>"`), a command-line flag's
    # (`--hmac-key <key>`, `-signing-key <key>`, PowerShell's `-SigningKey <key>`; `--api-key=
    # <key>` is the rule's above), a Dockerfile's `ENV HMAC_KEY <key>` (or ARG's). The rule
    # starts at `key`, which the engine jumps to, and asks what stands before it after
    # (`_bare_key_value`). Its needles are looked for as written, so camel case's `Key` is one
    # without `key` in every JSON text.
    _rule(
        r"(?P<head>(?:key|KEY|Key)(?![A-Za-z0-9])(?:[ \t]|\\t){1,8}+"
        rf"{_CONTINUATION}?{_OPEN_QUOTE})(?!\[REDACTED)(?P<value>{_KEY_VALUE})",
        _bare_key_value,
        *("_key", "-key", ".key", "_KEY", "-KEY", ".KEY", "Key"),
    ),
    # … and a camel case's last word `Key` (`hmacKey`, `clientKey`, `HMACKey`), read as
    # written: its needle `Key` is looked for in the text as it is, where folded (`key`) it
    # would be found in almost every JSON text. AWS's tags (`"Key": "team"`) and an S3
    # event's `Key=` have no letter before it.
    _rule(
        r"(?P<head>Key(?<=[A-Za-z0-9]Key)(?![A-Za-z0-9])"
        rf"{_ASSIGN}{_CONTINUATION}?{_YAML_BLOCK}{_OPEN_QUOTE})(?!\[REDACTED)"
        rf"(?P<value>{_KEY_VALUE})",
        _key_value,
        "Key",
    ),
)
