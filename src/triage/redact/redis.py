"""Rules for Redis's passwords: AUTH and CONFIG SET requirepass as MONITOR and SLOWLOG print them
(also inside a JSON string), the passwords and hashes in an ACL user's rules, and AUTH as typed
after redis-cli's prompt, in redis-cli's history or on a redis.conf line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from triage.redact.names import _kept_value, secret_named
from triage.redact.pairs import _told_password, _unquoted
from triage.redact.rule import _ESCAPED_QUOTED_CHAR, _LINES, _VALUE_MAX, _Rule, _rule


def _redis_password(match: re.Match[str]) -> bool:
    """True if a Redis AUTH, CONFIG SET requirepass or requirepass line (`match`) gives a
    password: after redis-cli's prompt, on redis-cli's command line or after CONFIG SET,
    always; a redis.conf line `requirepass …` that holds only it; a line that ends with `AUTH
    default …` (alone, or after a space: a log line's prefix, a YAML list's `- `), or with
    `auth …` whose value, or whose first of two words, `_told_password` says is one: `auth
    failed` is not (nor, bare, an identifier)."""
    if match["prompt"] is not None or match["config"] is not None or match["cli"] is not None:
        return True
    if match["line"] is None or match["end"] is None:
        return False
    if match["auth"] is None or (match["user"] or "").lower() == "default":
        return True
    quote, value = _unquoted(match["value"])
    # A bracket that closes what opened before `auth` is not the value's (`$(gcloud auth
    # print-access-token)`: a command's subcommand, an identifier).
    if _told_password(value if quote else value.rstrip(")]}`"), bool(quote)):
        return True
    return match["user"] is not None and _told_password(*_word(match["user"]))


def _word(text: str) -> tuple[str, bool]:
    """A typed word's text without its quotes, and whether it was quoted."""
    quote, value = _unquoted(text)
    return value, bool(quote)


def _user_goes(user: str | None, password: str) -> bool:
    """Whether the word before a password, read as Redis 6's user (`AUTH user pw`), goes too.
    Redis reads two words as a user and a password, but a person who types `AUTH pw next`
    meant the first as the password: the user stays only when it is `default`, or when it
    cannot be a password (`_told_password`) while the word after it can be one; a placeholder
    (an earlier rule's) stays as it is."""
    if user is None or _word(user)[0].lower() == "default" or "[REDACTED:" in user:
        return False
    return _told_password(*_word(user)) or not _told_password(*_word(password))


def _placeholder(value: str) -> str:
    """A typed value replaced by the password's placeholder, its quotes kept."""
    quote_mark = _unquoted(value)[0]
    return f"{quote_mark}[REDACTED:password]{quote_mark}"


def _with_user(match: re.Match[str], group: str) -> str:
    """The match's head with its user (`group`) replaced when `_user_goes` says so."""
    head = match["head"]
    user = match[group]
    if not _user_goes(user, match["value"]):
        return head
    start, end = match.start(group) - match.start(), match.end(group) - match.start()
    return head[:start] + _placeholder(user) + head[end:]


def _redis_auth(match: re.Match[str]) -> str:
    """A Redis password (`_redis_password`) replaced, its quotes kept, and its user too when
    that may be the password (`_user_goes`); else the match unchanged."""
    if not _redis_password(match):
        return match[0]
    return f"{_with_user(match, 'user')}{_placeholder(match['value'])}{match['end'] or ''}"


def _command_auth(match: re.Match[str]) -> str:
    """HELLO's, MIGRATE's or Sentinel's password replaced, its quotes kept; HELLO's and
    AUTH2's user too when that may be the password (`_user_goes`)."""
    group = "hello_user" if match["hello_user"] is not None else "auth2_user"
    return f"{_with_user(match, group)}{_placeholder(match['value'])}"


#: How Redis's MONITOR quotes an argument (`"…"`, backslash escapes inside), as printed and as
#: a JSON string holds it (`\\"…\\"`: MONITOR's `\\"` is then `\\\\\\"`, its `\\\\` `\\\\\\\\`): the
#: quote, and one character (or escape) inside it.
_REDIS_QUOTES = (
    ('"', r"""(?:[^"\\\n]|\\.)"""),
    ('\\"', r"""(?:\\\\\\"|\\[^"]|[^"\\\n])"""),
)


#: A password as typed after its command: quoted (`\\"…\\"` inside a JSON string, where a
#: shell's escaped quote, `\\\\\\"`, is the value's), or a run to a space or a quote; not a
#: placeholder already.
_TYPED_VALUE = (
    r"(?!\\?[\"']?\[REDACTED)(?P<value>\\\"(?:\\\\\\[\\\"]|[^\"\\\n]|\\[^\"\n]){1,512}+\\\""
    r"""|"(?:[^"\\\n]|\\.){1,512}+"|'(?:[^'\\\n]|\\.){1,512}+'"""
    r"""|[^\s"'\\]{1,512}+)"""
)


def _redis_monitor_auth(quote_mark: str, unit: str) -> str:
    """The pattern of a Redis AUTH (or requirepass) as MONITOR prints it, its arguments quoted by
    `quote_mark` and each of their characters `unit`: group 1 is all before the password
    (`value`), which holds the word before it (`user`) when two follow AUTH."""
    q = re.escape(quote_mark)
    # A space, or SLOWLOG's next numbered line (whose number differs from the line before).
    sep = r"(?:[ \t]{1,3}|\r?\n[ \t]{0,40}+[0-9]{1,3}\)[ \t]{1,3})"
    return (
        rf"""((?<![\w"\\]){q}(?:auth2?{q}{sep}"""
        rf"""(?:{q}(?P<user>{unit}{{0,512}}+){q}{sep}(?!{q}keys{q})(?={q}))?"""
        rf"""|(?:requirepass|masterauth){q}{sep})"""
        rf"""{q})(?!\[REDACTED)(?P<value>{unit}{{1,512}}+){q}"""
        # Not the user of `"AUTH" "user" "pw"` whose password is a placeholder already (found
        # a level down): without the user, the pattern would read the user as the password.
        rf"""(?!{sep}{q}\[REDACTED)"""
    )


#: What stands before an argument MONITOR quotes: the argument before it (`"3" "AUTH"`,
#: HELLO's), its closing quote then a space.
_AFTER_ARGUMENT = re.compile(r'"[ \t]{1,3}\Z')


def _monitor_user_goes(match: re.Match[str]) -> bool:
    """Whether the word before a password MONITOR printed (`user`) goes too: when AUTH is the
    command, not HELLO's or MIGRATE's argument (`_AFTER_ARGUMENT`), whose first word is a
    user, and that word may be the password (`_user_goes`), as typed."""
    start = match.start()
    return (
        match["user"] is not None
        and _AFTER_ARGUMENT.search(match.string, max(0, start - 4), start) is None
        and _user_goes(f'"{match["user"]}"', f'"{match["value"]}"')
    )


def _monitor_auth(quote_mark: str) -> Callable[[re.Match[str]], str]:
    """The replacement of a Redis AUTH as MONITOR prints it (`_redis_monitor_auth`): the
    password goes, its quotes kept, and the word before it when that may be the password too
    (`_monitor_user_goes`: `"AUTH" "pw" "next"`)."""

    def replacement(match: re.Match[str]) -> str:
        head = match[1]
        if _monitor_user_goes(match):
            at, end = match.start("user") - match.start(), match.end("user") - match.start()
            head = f"{head[:at]}[REDACTED:password]{head[end:]}"
        return f"{head}[REDACTED:password]{quote_mark}"

    return replacement


#: A password in a Redis ACL user's rules: `>pw` (adds it) or `<pw` (removes it) in clear, to
#: the end of its argument (raw, in MONITOR's quotes, in a JSON string's escaped quotes, in
#: redis-cli's single quotes); `#<sha256>` or `!<sha256>`, its hash.
_ACL_SECRET = re.compile(
    rf"""(?:(?<=\\")[<>]{_REDIS_QUOTES[1][1]}{{1,{_VALUE_MAX}}}+"""
    rf"""|(?<=")(?<!\\")[<>]{_REDIS_QUOTES[0][1]}{{1,{_VALUE_MAX}}}+"""
    rf"""|(?<=')[<>](?:[^'\\\n]|\\.){{1,{_VALUE_MAX}}}+"""
    # Typed with its quote after the `>` (redis-cli reads `>"p\\"w"` as `>p"w`), raw or inside
    # a JSON string.
    rf"""|(?<=[ \t])[<>](?:"(?:[^"\\\n]|\\.){{1,512}}+"|\\"{_ESCAPED_QUOTED_CHAR}{{1,512}}+\\")"""
    rf"""|(?<=[ \t])[<>](?:[^\s\\]|\\(?![nrt"])){{1,{_VALUE_MAX}}}+"""
    r"""|(?<=[\s"'])[#!][0-9A-Fa-f]{64}(?![0-9A-Za-z]))"""
)


def _acl_rules(match: re.Match[str]) -> str:
    """A Redis ACL user's rules (`rules`) with each password (`_ACL_SECRET`) replaced, its `>`,
    `<`, `#` or `!` kept: `[REDACTED:password]` for one in clear, `[REDACTED:password-hash]`
    for a SHA-256."""
    rules = _ACL_SECRET.sub(
        lambda m: (
            m[0][0] + ("[REDACTED:password-hash]" if m[0][0] in "#!" else "[REDACTED:password]")
        ),
        match["rules"],
    )
    return match["head"] + rules


#: A word typed before AUTH's password, its user (Redis 6's `AUTH user pw`): bare, quoted, or
#: in a JSON string's escaped quotes; not the password's placeholder, which these rules wrote
#: (another kind's, an earlier rule's token, may stand for a user).
_TYPED_USER = (
    r"(?!\\?[\"']?\[REDACTED:password\])(?:\\\"[^\"\\\n]{1,64}+\\\"|\"(?:[^\"\\\n]|\\.){1,64}+\""
    r"|'(?:[^'\\\n]|\\.){1,64}+'|[^\s\"'\\]{1,64}+)"
)


#: redis-cli's prompt (`127.0.0.1:6379>`, `db-1:6380[2]>`), where a command typed is echoed.
_PROMPT = r"(?<![\w.-])[\w.-]{1,253}+:[0-9]{1,5}(?:\[[0-9]{1,2}\])?>[ \t]{0,3}"
#: The commands whose reply holds a key's or a hash field's value, lower case: which of the
#: command's words names each reply line (`_named_lines`) depends on it.
_READS = ("hgetall", "hget", "hmget", "get", "getdel", "getex", "getset", "mget")
#: One word of a typed command: quoted (escapes inside), or bare.
_WORD = re.compile(r""""((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)""")
#: One line of a reply: redis-cli's numbering (`1) `, nested `1) 2) `), then its value:
#: quoted, or bare (`--raw`); RESP3's map entry (`1# "field" => "value"`) keeps both.
_REPLY_LINE = re.compile(
    r"""(?P<lead>[ \t]{0,16}(?:[0-9]{1,6}[)#][ \t]{1,4}){0,4}+)"""
    r"""(?:(?P<field>"(?:[^"\\]|\\.){0,1024}+")[ \t]{1,4}=>[ \t]{1,4})?"""
    r"""(?P<value>"(?:[^"\\]|\\.){0,4096}+"|[^\r\n]{0,4096}+)"""
)


def _words(args: str) -> list[str]:
    """A typed command's words, their quotes taken off."""
    return [w[1] if w[1] is not None else (w[2] if w[2] is not None else w[3])
            for w in _WORD.finditer(args)]  # fmt: skip


def _secret_key(key: str) -> bool:
    """Whether a Redis key or hash field names a secret: whole (`db_password`), or by its last
    part after `:` or `/` (`app:db:password`)."""
    return secret_named(key) or secret_named(re.split(r"[:/]", key)[-1])


def _named_lines(command: str, words: list[str], count: int) -> list[str | None]:
    """For each of a reply's `count` lines, the name of what it holds (a key, a hash field),
    or None for a line that holds a field's name (HGETALL's odd lines) or no value."""
    if command in ("get", "getdel", "getex", "getset"):
        return [words[0] if words else None] + [None] * (count - 1)
    if command == "hget":
        field = words[1] if len(words) > 1 else ""
        key = words[0] if words else ""
        return [field if _secret_key(field) else key] + [None] * (count - 1)
    if command == "hmget":
        return [*words[1 : count + 1], *[None] * max(0, count + 1 - len(words))][:count]
    if command == "mget":
        return [*words[:count], *[None] * max(0, count - len(words))][:count]
    return [None] * count


def _field_names(lines: list[str]) -> list[str | None]:
    """HGETALL's reply lines' names: each value (every second line) named by the field on the
    line before it; a field's own line names nothing."""
    names: list[str | None] = [None] * len(lines)
    for at in range(1, len(lines), 2):
        field = _REPLY_LINE.fullmatch(lines[at - 1])
        if field is not None:
            names[at] = _unquoted_reply(field["value"])
    return names


def _unquoted_reply(value: str) -> str:
    """A reply's value without redis-cli's quotes."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _blanked(line: str, name: str | None) -> str:
    """A reply's line with its value replaced, its quotes and numbering kept, when `name` (or a
    RESP3 map entry's field) names a secret and the value is one (`_kept_value` keeps a
    count, a state word); redis-cli's `(nil)`, `(integer) …` and `(error) …` stay."""
    found = _REPLY_LINE.fullmatch(line)
    if found is None:
        return line
    if found["field"] is not None:
        name = _unquoted_reply(found["field"])
    value = found["value"]
    bare = _unquoted_reply(value)
    if (
        name is None
        or not value
        or value.startswith("(")
        or "[REDACTED" in value
        or not _secret_key(name)
        or _kept_value(name, bare)
    ):
        return line
    quote_mark = '"' if bare != value else ""
    return f"{line[: found.start('value')]}{quote_mark}[REDACTED:password]{quote_mark}"


def _reply_blanked(line_break: str) -> Callable[[re.Match[str]], str]:
    """The replacement of a read's reply (`_READS`): each line whose value the command's
    words name a secret's (`_named_lines`; HGETALL's by the field on the line before) loses
    its value, the command and the other lines kept."""
    splitter = re.compile(line_break)
    # Inside a JSON string every quote of the reply is escaped: its lines are read unescaped,
    # and a line blanked is escaped back.
    in_string = line_break != _LINES[0][0]

    def blanked(line: str, name: str | None) -> str:
        if not in_string:
            return _blanked(line, name)
        done = _blanked(line.replace('\\"', '"'), name)
        return line if "[REDACTED" not in done else done.replace('"', '\\"')

    def replacement(match: re.Match[str]) -> str:
        command = match["command"].lower()
        lines = splitter.split(match["reply"])
        breaks = splitter.findall(match["reply"])
        names = _named_lines(command, _words(match["args"]), len(lines))
        if command == "hgetall":
            unescaped = [line.replace('\\"', '"') if in_string else line for line in lines]
            names = _field_names(unescaped)
        out = [blanked(line, name) for line, name in zip(lines, names, strict=True)]
        reply = out[0] + "".join(b + line for b, line in zip(breaks, out[1:], strict=True))
        return match["head"] + reply

    return replacement


def _read_reply_rule(line_break: str, line_char: str) -> _Rule:
    """A read typed after redis-cli's prompt (`HGETALL app:config`, `GET app:db:password`) and
    its reply, the lines up to the next prompt (256 at most), in a text whose lines end in
    `line_break` and hold `line_char`s."""
    return _rule(
        rf"(?P<head>{_PROMPT}(?P<command>{'|'.join(_READS)})[ \t]{{1,3}}"
        rf"(?P<args>{line_char}{{1,1024}}+){line_break})"
        rf"(?P<reply>(?:(?!{_PROMPT}){line_char}{{0,4096}}+)"
        rf"(?:{line_break}(?!{_PROMPT}){line_char}{{0,4096}}+){{0,255}}+)",
        _reply_blanked(line_break),
        *(f"> {command} " for command in _READS),
        flags=re.IGNORECASE,
    )


#: An AUTH in Redis' wire protocol (RESP: `*2`, `$4`, `AUTH`, each argument after its length,
#: `$16`), its lines apart by a CRLF, raw, escaped (`\\r\\n`), or as ngrep and `tcpdump -A`
#: print it (`..`); Redis 6's user, when given, before the password.
_RESP_AUTH = (
    r"(?P<head>\$4(?P<b>\r?\n|\\r\\n|\.\.)(?i:auth)(?P=b)"
    # The user, read once: a password already replaced makes no user of it on a later pass.
    r"(?>(?:\$[0-9]{1,4}+(?P=b)(?:(?!(?P=b))[^\r\n]){1,256}?(?P=b)(?=\$))?)"
    r"\$(?P<length>[0-9]{1,4}+)(?P=b))(?!\[REDACTED)(?P<rest>[^\r\n]{1,4096}+)"
)


def _resp_auth(match: re.Match[str]) -> str:
    """A RESP AUTH's password (`_RESP_AUTH`) replaced: as many characters as its length says,
    so the framing after it (`..`, `\\r\\n`) and the next command stay."""
    length = int(match["length"])
    if length == 0:
        return match[0]
    return f"{match['head']}[REDACTED:password]{match['rest'][length:]}"


REDIS_RULES: tuple[
    _Rule, ...
] = (  # Redis' AUTH on the wire (`_resp_auth`), as a packet capture or an strace shows it.
    _rule(_RESP_AUTH, _resp_auth, "$4"),
    # Redis's AUTH as MONITOR and SLOWLOG print a command (each argument quoted, SLOWLOG's on
    # numbered lines): `"AUTH" "pw"`, `"AUTH" "user" "pw"` (HELLO's), MIGRATE's `"AUTH" "pw"
    # "KEYS" …`, `"CONFIG" "SET" "requirepass" "pw"`. The password is the last argument, to
    # its closing quote (escaped quotes inside it, `"pa\\"ss"`, are the password's). Also
    # inside a JSON string (a log shipper's "msg"), every quote escaped: `\\"AUTH\\" \\"pw\\"`.
    *(
        _rule(
            _redis_monitor_auth(quote_mark, unit),
            _monitor_auth(quote_mark),
            f"{quote_mark}auth",
            f"{quote_mark}requirepass{quote_mark}",
            f"{quote_mark}masterauth{quote_mark}",
            flags=re.IGNORECASE,
        )
        for quote_mark, unit in _REDIS_QUOTES
    ),
    # Redis's ACL: a user's rules hold a password in clear (`>pw`, `<pw`) or its SHA-256
    # (`#…`, `!…`): after ACL SETUSER <user>, typed or as MONITOR prints it, and on ACL LIST's
    # and users.acl's lines (`user alice on #… ~* +@all`, at a line's start or a quote's). The
    # rest of the line is read once,
    # each rule asked (`_acl_rules`).
    _rule(
        rf"(?P<head>(?<![\w-])setuser(?:\\?[\"'])?[ \t]{{1,3}})(?P<rules>[^\r\n]{{1,{_VALUE_MAX}}}+)",
        _acl_rules,
        "setuser",
        flags=re.IGNORECASE,
    ),
    _rule(
        r"(?P<head>user(?:(?<=(?<![^\n\"])user)|(?<=\\nuser))[ \t][^\s\"'\\]{1,128}+[ \t](?:on|off)(?=[ \t\"'\\]))"
        rf"(?P<rules>[^\r\n]{{1,{_VALUE_MAX}}}+)",
        _acl_rules,
        "user ",
    ),
    # … and as typed: after redis-cli's prompt (`127.0.0.1:6379> auth pw`, `auth user pw`),
    # `CONFIG SET requirepass pw`, redis.conf's `requirepass pw` line; a line that is only
    # `AUTH default pw` or `auth pw` (redis-cli's history) when the password is no word
    # (`_redis_password`): "auth failed" stays.
    _rule(
        r"(?P<head>(?:(?P<prompt>(?<![\w.-])(?:[\w.-]{1,253}+:[0-9]{1,5}(?:\[[0-9]{1,2}\])?"
        r"|not connected)>[ \t]{0,3})"
        # redis-cli given the command as its arguments (`redis-cli -h db AUTH default …`).
        r"|(?P<cli>(?<![\w-])redis-cli(?:[ \t][^\n|;&]{0,200}?)?[ \t]{1,3}(?=auth[ \t]))"
        # A line's start, or a space before it: a log line's prefix, a YAML list's `- `.
        r"|(?P<line>(?:(?m:^)|(?<=\\n)|(?<=(?<!\\)\")|(?<=[ \t]))[ \t]{0,20}))?+"
        # A user before a placeholder is no password: the first pass took the one after it.
        r"(?<![\w-])(?:(?P<auth>auth)[ \t]{1,3}"
        # Code's assignment of a call is no AUTH command (`auth = HTTPBasicAuth("u", "…")`):
        # the calls' rules read it, and keep the call's name.
        r"(?!(?:=|:|:=|=>)[ \t]{1,3}[\w.]{1,128}+\()"
        rf"(?!{_TYPED_USER}[ \t]{{1,3}}\\?[\"']?\[REDACTED)"
        # Nor is this rule's own placeholder a user: it was the password of the one-argument
        # AUTH (too long to be read as a user before it was replaced), and the word after it
        # stays, as on the pass that wrote it.
        rf"(?:(?P<user>{_TYPED_USER})[ \t]{{1,3}}(?=[^\s\\]|\\\"))?"
        r"|(?P<config>config[ \t]{1,3}set[ \t]{1,3})?(?:requirepass|masterauth)[ \t]{1,8}))"
        # strace shows a buffer's CRLF escaped (`"AUTH pw\\r\\n"`).
        rf"{_TYPED_VALUE}(?P<end>[ \t]{{0,8}}(?=\r?\n|(?:\\r)?\\n|(?<!\\)\"|$))?",
        _redis_auth,
        # `auth` only before its argument: "authorization", "oauth2" never start this rule.
        "auth ",
        "auth\t",
        "requirepass",
        "masterauth",
        flags=re.IGNORECASE,
    ),
    # Commands that carry a password in its place, typed or logged: HELLO's `AUTH <user> <pw>`,
    # MIGRATE's `AUTH <pw>` and `AUTH2 <user> <pw>`, Sentinel's `auth-pass` (sentinel.conf's
    # `sentinel auth-pass <master> <pw>`, `SENTINEL SET <master> auth-pass <pw>`).
    _rule(
        r"(?P<head>(?<![\w-])(?:hello[ \t]{1,3}[23][ \t]{1,3}auth[ \t]{1,3}"
        rf"(?P<hello_user>{_TYPED_USER})"
        # MIGRATE host port key|"" db timeout [COPY] [REPLACE] AUTH …
        r"|migrate[ \t]{1,3}[^\s\"'\\]{1,253}+[ \t]{1,3}[0-9]{1,5}[ \t]{1,3}"
        # The key, or `""` (KEYS follows), raw or in a JSON string's escaped quotes.
        r"(?:\\\"\\\"|[^\s\\]{1,512}+)"
        r"[ \t]{1,3}[0-9]{1,5}[ \t]{1,3}[0-9]{1,10}(?:[ \t]{1,3}(?:copy|replace)){0,2}[ \t]{1,3}"
        rf"(?:auth|auth2[ \t]{{1,3}}(?P<auth2_user>{_TYPED_USER}))"
        r"|sentinel[ \t]{1,3}(?:auth-pass[ \t]{1,3}[^\s\"'\\]{1,64}+"
        r"|set[ \t]{1,3}[^\s\"'\\]{1,64}+[ \t]{1,3}auth-pass))[ \t]{1,3})" + _TYPED_VALUE,
        _command_auth,
        "hello",
        "migrate",
        "auth-pass",
        flags=re.IGNORECASE,
    ),
    # A read's reply in a redis-cli session: the value of a key or a hash field named like a
    # secret (`HGETALL app:config`'s `2) "…"` after `1) "db_password"`, `GET app:db:password`).
    *(_read_reply_rule(line_break, line_char) for line_break, line_char in _LINES),
)
