"""Rules for secrets in structured output whose name is read whole, then asked (`secret_named`):
XML elements and attributes (`<password>`, `<add key="Password" value="…"/>`), SQL's PASSWORD
and IDENTIFIED BY, Kubernetes env entries, the values validators echo (pydantic, Spring Boot),
PHP's print_r and var_dump (and Symfony's VarDumper as HTML), a container's args as JSON, a name and its value as two members
(JSON, the AWS CLI's shorthand, logfmt), Terraform's sensitive outputs, and a name dressed in
Markdown or inline HTML (`**Password:** …`, `` `password`: `…` ``, `<strong>Password:</strong> …`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from triage.redact.commands import _argument_items, _argument_list
from triage.redact.names import (
    _SECRET_NAME_NEEDLES,
    _STATE_WORDS,
    _kept_value,
    placeholder_named,
    secret_named,
)
from triage.redact.pairs import _KEY_NAME, key_named_value
from triage.redact.rule import (
    _INNER_QUOTE,
    _LINE_CHAR_IN_STRING,
    _LINES,
    _QUOTED_CHAR,
    _SINGLE_QUOTED_CHAR,
    _VALUE_MAX,
    _quoted_char,
    _random_looking,
    _replaced_value,
    _Rule,
    _rule,
)
from triage.redact.templates import after_lookup, whole_template_redacted


def _named_value(match: re.Match[str]) -> str:
    """A value reported under a name read whole (`name`): replaced, its quotes kept, if the name
    says secret; else the match unchanged."""
    if not secret_named(match["name"]):
        return match[0]
    quote_mark = match["double"] or (match.groupdict().get("single") or "")
    return f"{match[1]}{quote_mark}[REDACTED:password]{quote_mark}"


#: PHP's var_dump of a string under a name: `["password"]=>` (an object's property with its
#: visibility, `["password":protected]=>`), Xdebug's `'password' =>` and `protected $password
#: =>`, or a name a log wrote before a dump (`password => `, `$password = `, `password: `);
#: then `string(n) "…"` on the next line, or on the same one (a log that joins lines), raw or
#: inside a JSON string (its breaks `\\n`, its quotes `\\"`). The match runs to the line's end
#: (`rest`): where the string ends is read from it (`_dumped_end`).
_VAR_DUMP = (
    r"(?P<head>(?:\[(?P<q>\\?\")(?P<name>[^\"\\\r\n]{1,128}+)(?P=q)(?::[^\]\r\n]{1,256}+)?\]=>"
    r"|'(?P<xname>[^'\\\r\n]{1,128}+)'[ \t]=>"
    r"|(?<![\w$])(?:public|protected|private)[ \t]{1,3}\$(?P<pname>\w{1,128}+)[ \t]=>"
    r"|(?<![\w$.-])\$?(?P<bname>[A-Za-z_][\w.-]{0,127}+)[ \t]{0,3}(?:=>|[=:]))"
    r"(?:[ \t\r\n]|\\[rn]){1,72}+string\()(?P<length>[0-9]{1,10}+)(?P<close>\)[ \t](?P<oq>\\?\"))"
    r"(?!\[REDACTED)(?P<rest>[^\r\n]{1,8192}+)"
)
_VAR_DUMP_PATTERN = re.compile(_VAR_DUMP)
#: A var_dump string's closing quote when its length does not find it (a multi-byte character
#: in a text decoded and encoded again, a line cut short): before the line's end, the next
#: element (`["k"]=>`, `'k' =>`, `k =>`) or the dump's `}`.
_DUMP_END_AFTER = (
    r"[ \t]{0,8}(?:\\[rn]|[}\['\"]|\\\"|\Z|(?:public|protected|private)[ \t]"
    r"|\$?[A-Za-z_][\w.-]{0,127}+[ \t]{0,3}(?:=>|[=:]))"
)
_DUMP_END = {
    '"': re.compile(rf'(?<=.)"(?={_DUMP_END_AFTER})', re.DOTALL),
    # … inside a JSON string, an escaped quote no escaped backslash before it (`\\\\"`) takes.
    '\\"': re.compile(rf'(?<=.)(?<!\\)(?:\\\\)*+\\"(?={_DUMP_END_AFTER})', re.DOTALL),
}
#: What a var_dump's secret string becomes.
_PLACEHOLDER = "[REDACTED:password]"


def _dumped_end(rest: str, length: int, quote: str) -> int:
    """Where in `rest` a var_dump string `length` bytes long, opened by `quote`, ends (at its
    closing quote): after `length` bytes of UTF-8 (inside a JSON string, `\\x` and `\\uXXXX`
    read as the character they stand for) if its quote is there, else at the first quote
    `_DUMP_END` finds; if none, never closed: at the line's end (inside a JSON string, the
    string's)."""
    count = at = 0
    escaped = quote != '"'
    while count < length and at < len(rest):
        char, at = rest[at], at + 1
        if escaped and char == "\\" and at < len(rest):
            hexa = rest[at + 1 : at + 5]
            if rest[at] == "u" and _HEX.fullmatch(hexa):
                char, at = chr(int(hexa, 16)), at + 5
            else:
                char, at = rest[at], at + 1
        count += len(char.encode("utf-8", "surrogatepass"))
    if count == length and rest.startswith(quote, at):
        return at
    found = _DUMP_END[quote].search(rest)
    if found is not None:
        return found.end() - len(quote)
    # Never closed (a line cut short): to the line's end, or inside a JSON string its end.
    unclosed = _JSON_STRING_END.search(rest) if escaped else None
    return len(rest) if unclosed is None else unclosed.end() - 1


_HEX = re.compile(r"[0-9a-fA-F]{4}")
#: A JSON string's closing quote: one no backslash escapes.
_JSON_STRING_END = re.compile(r'(?<!\\)(?:\\\\)*+"')


def _var_dumped(match: re.Match[str]) -> str:
    """Each var_dump string on the match's line (`_VAR_DUMP`) replaced when its name says
    secret and the value is none a secret's name keeps (`_kept_value`); the others kept. The
    length before it becomes the placeholder's (`string(19)`): the dump still reads as
    var_dump's, and the secret's length is not told."""
    pieces: list[str] = []
    found: re.Match[str] | None = match
    while found is not None:
        rest = found["rest"]
        end = _dumped_end(rest, int(found["length"]), found["oq"])
        name = found["name"] or found["xname"] or found["pname"] or found["bname"]
        if secret_named(name) and not _kept_value(name, rest[:end]):
            head = f"{found['head']}{len(_PLACEHOLDER)}{found['close']}{_PLACEHOLDER}"
        else:
            head = found[0][: len(found[0]) - len(rest) + end]
        tail = rest[end:]
        found = _VAR_DUMP_PATTERN.search(tail)
        pieces += (head, tail if found is None else tail[: found.start()])
    return "".join(pieces)


def _element_text(match: re.Match[str]) -> str:
    """An XML element's text replaced if its name (`name`) says secret and the text is none a
    secret's name keeps (`_kept_value`: a state word, a word under a vendor's key), or the name
    ends in `key` and the text looks like a key (`key_named_value`: `<hmacKey>`, not
    `<sortKey>createdAt`); else the match unchanged."""
    name, text = match["name"], match["text"].strip()
    if (secret_named(name) and not _kept_value(name, text)) or key_named_value(name, text):
        template = whole_template_redacted(match["text"])
        return f"{match[1]}{template or '[REDACTED:password]'}"
    return match[0]


#: Space between a property list's elements, raw or escaped inside a JSON string.
_PLIST_SPACE = r"(?:[ \t\r\n]|\\[nrt]){0,64}+"
#: The space that ends a property list value's text, up to its closing tag.
_PLIST_TRAILING_SPACE = re.compile(rf"{_PLIST_SPACE}\Z")


def _plist_value(match: re.Match[str]) -> str:
    """A property list's value (`text`) replaced when the `<key>` before it names a secret and
    the text is none a name keeps, or names a key and the text looks like one, as an element's
    own name is asked (`_element_text`); its spaces kept. Else the match unchanged."""
    text = match["text"]
    value = _PLIST_TRAILING_SPACE.sub("", text, count=1)
    name = match["name"].strip()
    if not ((secret_named(name) and not _kept_value(name, value)) or key_named_value(name, value)):
        return match[0]
    return f"{match[1]}[REDACTED:password]{text[len(value) :]}"


def _env_entry_value(match: re.Match[str]) -> str:
    """A Kubernetes env entry's value replaced to its line's end, if its name (`name`, read
    whole) says secret and the value is none a secret's name keeps (`_kept_value`: a
    placeholder, a state word); a block scalar's lines (`value: |`) as one, its marker and
    its first line's indentation kept. Else the match unchanged."""
    if match["block"] is not None:
        if not secret_named(match["name"]):
            return match[0]
        first = _BLOCK_FIRST_LINE.match(match["lines"])
        lead = first[0] if first is not None else ""
        return f"{match[1]}{match['block']}{lead}[REDACTED:password]"
    value = match["value"].strip("\\\"' ")
    if not secret_named(match["name"]) or _kept_value(match["name"], value):
        return match[0]
    return f"{match[1]}[REDACTED:password]"


#: A block scalar's lines up to its first line's text: the breaks and the indentation kept
#: before the one placeholder that stands for all of them.
_BLOCK_FIRST_LINE = re.compile(r"(?:\r?\n|(?:\\r)?\\n|[ \t])*+")


#: The host that starts a .pgpass line, up to the colon before its port: after the line's
#: start and indentation, after the file's path (`~/.pgpass: `, `.pgpass line: `), or after
#: the `echo` or `printf` that writes it into the file (`echo 'db:5432:*:app:…' > …`), a
#: name or an address (`\:` escapes a colon inside it), not a
#: number alone. `_PGPASS_ESCAPED_HOST`: the same line inside a JSON string, after an escaped
#: line break or the string's opening quote.
_PGPASS_HOST = re.compile(
    r"(?:(?:\A|(?<=\n))[ \t]{0,16}+|\.pgpass(?:[ \t]{1,4}[A-Za-z]{1,16}+)?:?[ \t]{1,8}+"
    r"""|(?<![\w-])(?P<echo>echo|printf)(?:[ \t]{1,8}+-[A-Za-z]{1,3}+)?[ \t]{1,8}+(?P<quote>["'])?)"""
    r"(?![0-9]{1,5}+\Z)(?:\[[0-9A-Fa-f:.]{2,45}+\]|(?:[\w.*-]|\\:){1,253}+)\Z"
)
_PGPASS_ESCAPED_HOST = re.compile(
    r'(?:\\n|(?<!\\)")[ \t]{0,16}+(?![0-9]{1,5}+\Z)(?:[\w.*-]|\\\\:){1,253}+\Z'
)


#: The colon before a .pgpass line's port and the port's first character: not a bare `:`, of
#: which JSON text holds one a key (the search for needles would stop at each).
_PGPASS_NEEDLES = (":*:", *(f":{digit}" for digit in "0123456789"))


def _pgpass_password(match: re.Match[str], host: re.Pattern[str]) -> str:
    """A .pgpass line's fields after its host (group 1), the password replaced, if `host`
    finds its host before them; else the match unchanged. A line an `echo` writes ends at its
    closing quote, or unquoted at a blank: the redirection after it stays (`echo '…' >
    ~/.pgpass`)."""
    start = match.start()
    found = host.search(match.string, max(0, start - 300), start)
    if found is None:
        return match[0]
    echoed = found.groupdict()
    password = match[0][len(match[1]) :]
    # Quoted, the line ends at its quote; bare, at the blank the shell splits the words at.
    end = _ECHOED_LINE_END.get(echoed["quote"] or " ") if echoed.get("echo") else None
    cut = None if end is None else end.search(password)
    rest = "" if cut is None else password[cut.start() :]
    return f"{match[1]}[REDACTED:password]{rest}"


#: Where a .pgpass line an `echo` writes ends (`_pgpass_password`): its closing quote, or,
#: unquoted, a blank.
_ECHOED_LINE_END = {
    quote: re.compile(end) for quote, end in (('"', '"'), ("'", "'"), (" ", r"[ \t]"))
}


#: An attribute of a tag, its value quoted (`key="Password"`, `value='x'`, `key=\\"x\\"` inside
#: a JSON string, whose line breaks between attributes are escaped). Possessive: each value is
#: read once, to its closing quote.
_XML_ATTRIBUTE = re.compile(
    r"""(?:(?<=[\s"'])|(?<=\\[nrt]))(?P<attr>[\w:.-]{1,64}+)(?:[ \t\r\n]|\\[nrt]){0,8}+="""
    r"""(?:[ \t\r\n]|\\[nrt]){0,8}+"""
    rf"""(?:\\"(?P<escaped>[^"\\]{{0,{_VALUE_MAX}}}+)\\"|"(?P<double>[^"]{{0,{_VALUE_MAX}}}+)\""""
    rf"""|'(?P<single>[^']{{0,{_VALUE_MAX}}}+)')"""
)


def _attribute_value(attribute: re.Match[str]) -> str:
    """The group of an `_XML_ATTRIBUTE` match that holds its value."""
    for group in ("escaped", "double", "single"):
        if attribute[group] is not None:
            return group
    raise AssertionError("an attribute has a value")


def _any_value(value: str) -> bool:
    """Every value goes under a secret's name."""
    return True


def _value_asked(attributes: list[re.Match[str]]) -> Callable[[str], bool] | None:
    """What an element's value must be to go, by its key= or name= attribute: anything if one
    names a secret (`secret_named`); key-shaped if one's last word is `key` (`hmacKey`,
    `consumer_key`: `key_named_value`); None if neither, and the element stays. A name
    ending in a placeholder names nothing (`placeholder_named`)."""
    names = [
        name
        for a in attributes
        if a["attr"].lower() in ("key", "name")
        and not placeholder_named(name := a[_attribute_value(a)])
    ]
    if any(secret_named(name) for name in names):
        return _any_value
    for name in names:
        if _KEY_NAME.search(name) is not None:
            return partial(key_named_value, name)
    return None


def _xml_element(match: re.Match[str]) -> str:
    """An XML element's start tag (and text, `text`) with the value (or content) attribute
    replaced, or else the text, if a key= or name= attribute names a secret, or a key and the
    value looks like one (`_value_asked`); else the match unchanged."""
    tag = match[0] if match["text"] is None else match[0][: match.start("text") - match.start()]
    attributes = list(_XML_ATTRIBUTE.finditer(tag))
    asked = _value_asked(attributes)
    if asked is None:
        return match[0]
    # HTML's <meta name="csrf-token" content="…"> holds its value in content=.
    values = [a for a in attributes if a["attr"].lower() in ("value", "content")]
    if not values:
        if match["text"] is None or tag.endswith("/>") or not asked(match["text"].strip()):
            return match[0]
        return f"{tag}[REDACTED:password]"
    pieces: list[str] = []
    last = 0
    for a in values:
        group = _attribute_value(a)
        if a[group] and not a[group].startswith("[REDACTED") and asked(a[group]):
            pieces += (tag[last : a.start(group)], "[REDACTED:password]")
            last = a.end(group)
    pieces.append(match[0][last:])
    return "".join(pieces)


def _object_value(match: re.Match[str]) -> str:
    """A name/value object's value replaced if its name says secret and `Redactor.value` would
    blank it too (`_kept_value`: a placeholder, a state word, stay); else the match unchanged.
    A name ending in a placeholder names nothing (`placeholder_named`)."""
    if (
        placeholder_named(match["name"])
        or not secret_named(match["name"])
        or _kept_value(match["name"], match["value"])
    ):
        return match[0]
    text = match.string
    before, after = (
        text[match.start() : match.start("value")],
        text[match.end("value") : match.end()],
    )
    return f"{before}[REDACTED:password]{after}"


def _list_or_pair(match: re.Match[str]) -> str:
    """A command's argument list read as its command line (`_argument_list`) when the match
    is one (its quote `lq`), else a [name, value] pair's value (`_object_value`); a lookup's
    arguments (`after_lookup`) stay."""
    if match["lq"] is not None:
        return _argument_list(match)
    if after_lookup(match.string, match.start()):
        return match[0]
    return _object_value(match)


#: A DuckDB secret's parameter that holds the credential, and its quoted value.
_DUCKDB_SECRET_PARAMETER = re.compile(
    r"(?P<head>(?<![A-Za-z0-9_])(?:SECRET|SESSION_TOKEN|CLIENT_SECRET|ACCOUNT_KEY"
    r"|CONNECTION_STRING|PASSWORD|TOKEN)[ \t]{1,3}(?P<q>\\?')(?!\[REDACTED))"
    r"(?:[^'\\]|\\(?!')|'')*+(?P=q)",
    re.IGNORECASE,
)


def _duckdb_secret(match: re.Match[str]) -> str:
    """A DuckDB `CREATE SECRET (…)` with each credential parameter's value replaced
    (`_DUCKDB_SECRET_PARAMETER`), its quotes kept."""
    params = _DUCKDB_SECRET_PARAMETER.sub(
        lambda m: f"{m['head']}[REDACTED:password]{m['q']}", match["params"]
    )
    start, end = match.start("params") - match.start(), match.end("params") - match.start()
    return f"{match[0][:start]}{params}{match[0][end:]}"


def _table_function_secret(match: re.Match[str]) -> str:
    """A ClickHouse table function's secret key (`value`) replaced when it looks random, one
    word; a format's name or a structure (`a String, b UInt32`: words and spaces) stays."""
    value = match["value"]
    if not _random_looking(value) or any(c.isspace() for c in value):
        return match[0]
    return f"{match['head']}[REDACTED:password]'"


def _quoted_password(match: re.Match[str]) -> str:
    """SQL's quoted password (group 1 before it, its quote `q`) replaced; a value that is
    wholly a template's placeholder loses only its literals (`whole_template_redacted`)."""
    quote_mark = match["q"]
    value = match[0][len(match[1]) : len(match[0]) - len(quote_mark)]
    return f"{match[1]}{whole_template_redacted(value) or '[REDACTED:password]'}{quote_mark}"


#: A name/value object's keys, quoted (`\\"` inside a JSON string), and what is between a key
#: and its value, and between the two pairs.
#: The name's key may be what the service calls the thing it sets: a property (Spring's), a
#: setting, a variable, an attribute, an option, a parameter.
_OBJECT_NAME = (
    r"(?:name|key|Name|Key|ParameterKey|OptionName|header|field|path"
    r"|(?:[Pp]roperty|[Ss]etting|[Vv]ariable|[Aa]ttribute|[Oo]ption|[Pp]arameter)(?:_?[Nn]ame)?)"
)
_OBJECT_VALUE = r"(?:value|Value|ParameterValue)"
_COLON = r"(?P=q)[ \t]{0,3}:[ \t]{0,3}(?P=q)"
_COMMA = r"(?P=q)[ \t]{0,3},[ \t\r\n]{0,64}(?P=q)"
#: Between a name/value object's name and its value: its other members that are no string
#: (Azure's app settings' `"slotSetting": false`), then `_COMMA`.
_COMMA_OVER_SCALARS = (
    r"(?P=q)[ \t]{0,3},[ \t\r\n]{0,64}"
    r"(?:(?P=q)[\w.-]{1,64}+(?P=q)[ \t]{0,3}:[ \t]{0,3}(?:true|false|null|-?[0-9][0-9.]{0,31}+)"
    r"[ \t]{0,3},[ \t\r\n]{0,64}){0,3}+(?P=q)"
)
#: A name and its value as `key=value` words: the AWS CLI's shorthand
#: (`ParameterKey=DBPassword,ParameterValue=…`, `Key=…,Value=…`, ECS's `name=…,value=…`,
#: Beanstalk's `OptionName=…,Value=…`) and logfmt (`key=db_password value="…"`). An
#: unquoted value ends at a `}` that closes the shorthand's structure (`[{name=…,value=…}]`).
#: A quoted name is an XML attribute's (`key="password" value="x"`: `_xml_element` reads it).
_SHORTHAND_PAIR = (
    r"(?<![\w.-])(?:ParameterKey|OptionName|[Kk]ey|[Nn]ame|[Pp]roperty|[Ss]etting|[Vv]ariable)="
    r"(?P<name>[\w.:/-]{1,128}+)(?:,|[ \t]{1,3})"
    r"(?:ParameterValue|[Vv]alue)=(?!\\?\"?\[REDACTED)(?P<vq>\\?\")?"
    r"(?P<value>(?(vq)(?:[^\"\\\r\n]|\\[^\"\r\n]){1,4096}+|[^\s,\"\\}]{1,4096}+))(?(vq)(?P=vq))"
)
#: Terraform's own mark of a sensitive value (`terraform output -json`): `"sensitive": true`,
#: its output's other members (`"type"`: a word or a list of words), then its `"value"`.
_GAP = r"(?:[ \t\r\n]|\\[nrt]){0,64}+"
_SENSITIVE_VALUE = (
    rf"(?P<q>(?P<esc>\\)?\")sensitive(?P=q)[ \t]{{0,3}}:[ \t]{{0,3}}true"
    rf"(?:{_GAP},{_GAP}(?P=q)(?!value(?P=q))[\w-]{{1,64}}+(?P=q)[ \t]{{0,3}}:[ \t]{{0,3}}"
    r"(?:(?P=q)[\w.-]{0,256}+(?P=q)|\[[^\[\]{}\r\n]{0,512}+\]|true|false|null)){0,4}+"
    rf"{_GAP},{_GAP}(?P=q)value{_COLON}(?!\[REDACTED)"
)
#: A value, to its closing quote: in raw JSON an escaped quote (`\\"`) is inside it; inside a
#: JSON string, where `\\"` closes it, a quote escaped twice (`\\\\\\"`) and any other escape
#: are.
_QUOTED = (
    rf"(?P<value>(?(esc)(?:[^\"\\]|\\\\\\\"|\\[^\"]){{1,{_VALUE_MAX}}}+"
    rf"|(?:[^\"\\]|\\.){{1,{_VALUE_MAX}}}+))"
)

#: An HTML input's type=password, and its value attribute (quoted or not).
_PASSWORD_TYPE = re.compile(r"""(?<![\w-])type[ \t]{0,3}=[ \t]{0,3}["']?password(?![\w-])""", re.I)
_INPUT_VALUE = re.compile(
    r"""((?<![\w-])value[ \t]{0,3}=[ \t]{0,3})(?:"([^"]{1,4096}+)"|'([^']{1,4096}+)'|([^\s"'>]{1,4096}+))""",
    re.IGNORECASE,
)


#: Verbs an API call's name starts with (`ChangePassword`, `ResetPassword`): a log line naming
#: the call is no config directive.
_VERBS = (
    "Get|Set|Change|Reset|Rotate|Update|Create|Delete|Put|Describe|List|Restore|Verify"
    "|Forgot|Validate|Generate|Expire|Check|Remove|Add|Send|Request|Confirm"
)
#: The outcome a log line gives after such a call's name.
_OUTCOMES = (
    "ok|OK|failed|FAILED|success|succeeded|error|denied|started|completed|pending|InProgress"
)


def _password_input(match: re.Match[str]) -> str:
    """An HTML `<input>` tag with its value replaced, its quotes kept, if its type is
    password; else the tag unchanged."""
    tag = match[0]
    if _PASSWORD_TYPE.search(tag) is None:
        return tag

    def value(found: re.Match[str]) -> str:
        quote = '"' if found[2] is not None else "'" if found[3] is not None else ""
        held = found[2] or found[3] or found[4] or ""
        if held.startswith("[REDACTED"):
            return found[0]
        return f"{found[1]}{quote}[REDACTED:password]{quote}"

    return _INPUT_VALUE.sub(value, tag)


def _quotes_kept(match: re.Match[str]) -> str:
    """Group 1 then the value (group 2) replaced, the quotes around it kept."""
    value = match[2]
    quote = value[0] if value[0] in "\"'" and len(value) > 1 and value[-1] == value[0] else ""
    return f"{match[1]}{quote}[REDACTED:password]{quote}"


#: The marks that dress a name in Markdown, Slack's mrkdwn, Jira or inline HTML, each with the
#: mark that closes it.
_DRESS_CLOSE = {"**": "**", "__": "__", "*": "*", "_": "_", "`": "`"}
_INLINE_TAGS = "strong|b|em|i|code|kbd|u"


def _closes(opening: str, closing: str) -> bool:
    """Whether `closing` closes the mark `opening` (`**` … `**`, `<strong>` … `</strong>`)."""
    if opening.startswith("<"):
        return closing.lower() == "</" + opening[1:].split(">")[0].split()[0].lower() + ">"
    return _DRESS_CLOSE.get(opening) == closing


def _dressed_name_value(match: re.Match[str]) -> str:
    """The value after a dressed name (`**password**: …`) replaced when its marks pair up, the
    name says secret (`secret_named`) and the value is none a name keeps (`_kept_value`);
    else the match unchanged."""
    if not _closes(match["open"], match["close"]) or bool(match["c1"]) == bool(match["c2"]):
        return match[0]
    name, value = match["name"].strip(), match["value"]
    if not secret_named(name) or _kept_value(name, value):
        return match[0]
    return f"{match['head']}[REDACTED:password]"


#: A JSON Web Key's private members (RFC 7518): `d` of an EC, OKP or RSA key, an RSA key's
#: primes and CRT values, an oct key's `k`. The public ones (`x`, `y`, `n`, `e`) stay.
_JWK_PRIVATE = ("d", "p", "q", "dp", "dq", "qi", "k")
#: A member of a flat object as JSON text, a JSON string's `\\"` or a Python repr writes it, its
#: value base64url (or already a placeholder): its quote `q`, name `name`, value `value`.
_JWK_MEMBER = re.compile(
    r"""(?P<q>\\?["'])(?P<name>[A-Za-z0-9_]{1,16}+)(?P=q)[ \t]{0,8}:[ \t]{0,8}(?P=q)"""
    r"(?P<value>[A-Za-z0-9_=-]{1,8192}+|\[REDACTED:[\w-]{1,32}+\])(?=(?P=q))"
)


def _jwk_private_members(match: re.Match[str]) -> str:
    """An object with its JWK private members' values replaced (`_JWK_PRIVATE`), if it is a
    JWK: it has a `kty` member. Else the match unchanged: `d` and `k` name other things
    elsewhere (a diff's, a sort's)."""
    members = list(_JWK_MEMBER.finditer(match[0]))
    if not any(member["name"] == "kty" for member in members):
        return match[0]
    pieces: list[str] = []
    last = 0
    for member in members:
        if member["name"] in _JWK_PRIVATE and not member["value"].startswith("[REDACTED"):
            pieces += (match[0][last : member.start("value")], "[REDACTED:private-key]")
            last = member.end("value")
    pieces.append(match[0][last:])
    return "".join(pieces)


#: The elements of .NET's XML RSA key (`RSA.ToXmlString(true)`) that hold its private part;
#: `Modulus` and `Exponent` are the public key.
_RSA_XML_PRIVATE = re.compile(
    r"(<(?P<tag>D|P|Q|DP|DQ|InverseQ)>[ \t\r\n]{0,64}+)(?!\[REDACTED)[A-Za-z0-9+/=\s]{1,8192}+"
)


def _rsa_xml_private(match: re.Match[str]) -> str:
    """An `<RSAKeyValue>` element's text with its private elements' values replaced
    (`_RSA_XML_PRIVATE`), the tags kept, and so the public key's."""
    return _RSA_XML_PRIVATE.sub(r"\1[REDACTED:private-key]", match[0])


MARKUP_RULES: tuple[
    _Rule, ...
] = (  # XML elements named like a secret, and SQL's PASSWORD '…' / IDENTIFIED BY '…'.
    # An element named like a secret (`<password>`, `<apiToken>`, `<DD_API_KEY>`, a NuGet or
    # Maven `<ns:password>`, WS-Security's `<wsse:Password Type="…">`, attributes and all):
    # its text, to the next tag, or its one line between the tags' lines (pretty-printed). The
    # name is read whole, then asked.
    _rule(
        rf"(<(?P<name>[A-Za-z_][\w:.-]{{0,64}}+)(?:[ \t\r\n][^<>/]{{0,4096}}+)?>"
        r"(?:[ \t]{0,64}+\r?\n[ \t]{0,64}+)?)"
        rf"(?!\[REDACTED)(?P<text>[^<\n]{{1,{_VALUE_MAX}}}+)(?=(?:\n[ \t]{{0,64}}+)?</)",
        _element_text,
        "</",
        flags=re.IGNORECASE,  # no letter to fold: its needle joins the folded ones' `<` group
    ),
    # … its text in a CDATA section (`<password><![CDATA[…]]></password>`), on the tag's line
    # or the next; the name is read whole, then asked (`_element_text`).
    _rule(
        r"(<(?P<name>[A-Za-z_][\w:.-]{0,64}+)(?:[ \t\r\n][^<>/]{0,4096}+)?>"
        r"[ \t\r\n]{0,64}+<!\[CDATA\[)(?!\[REDACTED)(?P<text>(?:[^\]]|\](?!\]>)){1,4096}+)(?=\]\]>)",
        _element_text,
        "cdata[",
        fold_needles=True,
    ),
    # Symfony's VarDumper as HTML (Laravel's `dd()` and `dump()`, Symfony's error page and
    # profiler): an array's key or an object's property in a `sf-dump-key` (`-public`,
    # `-protected`, `-private`) span, then `=>` or `:`, the value's quote (`"""` before a
    # string of lines) and its text in a `sf-dump-str` span. The name is read whole, then asked
    # (`_element_text`); the spans and quotes stay.
    _rule(
        r"""(?P<head><span[ \t]class=\\?["']?sf-dump-(?:key|public|protected|private)\b"""
        r"[^<>]{0,512}+>(?P<name>[^<>]{1,128}+)</span>(?:\\?\")?"
        r"(?::|[ \t]{0,4}+=>)[ \t]{0,4}+(?:\\?\"){0,3}(?:(?:\r?\n|\\n)[ \t]{0,64}+)?"
        r"<span[ \t]class=\\?[\"']?sf-dump-str\b[^<>]{0,512}+>)"
        rf"(?!\[REDACTED)(?P<text>[^<]{{1,{_VALUE_MAX}}}+)(?=</span>)",
        _element_text,
        "sf-dump-",
        fold_needles=True,
    ),
    # An Apple property list (a `.mobileconfig` profile, a macOS check's dump): a `<key>` names
    # the `<string>`, `<data>` or `<integer>` after it, its text to the closing tag
    # (`_plist_value`: the key read whole, then asked). The rule starts at `<key>`.
    _rule(
        rf"(<key>[ \t]{{0,8}}+(?P<name>[^<>\r\n]{{1,128}}+)</key>{_PLIST_SPACE}"
        rf"<(?P<tag>string|data|integer)>{_PLIST_SPACE})(?!\[REDACTED)"
        rf"(?P<text>[^<]{{1,{_VALUE_MAX}}}+)(?=</(?P=tag)>)",
        _plist_value,
        "</key>",
        fold_needles=True,
    ),
    # A JSON Web Key (`{"kty": "EC", …, "d": "…"}`; raw, inside a JSON string, a Python
    # dict's repr): its private members go (`_jwk_private_members`). A flat object, read from
    # its `{` to its `}` (a JWKS's `{"keys": [{…}]}` is read at each key's own `{`), whatever
    # its members' order.
    _rule(
        r"\{(?=[^{}]{0,65536}?kty)[^{}]{1,65536}+\}",
        _jwk_private_members,
        "kty",
    ),
    # .NET's XML RSA key with its private part (`<RSAKeyValue>…<P>…</P>…<D>…</D>`): the
    # private elements' text goes, to the element's end or the key's (`_rsa_xml_private`).
    _rule(
        r"<(?:[\w.-]{1,32}:)?RSAKeyValue(?:[ \t\r\n][^<>]{0,256}+)?>"
        rf"(?:[^<]|<(?!/(?:[\w.-]{{1,32}}:)?RSAKeyValue>)){{0,{_VALUE_MAX}}}+",
        _rsa_xml_private,
        "rsakeyvalue",
        fold_needles=True,
    ),
    # A secret's name dressed in emphasis, code marks or an inline tag, its `:` inside the
    # marks or after them (`**password**: …`, `**Password:** …`, `*Password:* …`,
    # `` `password`: `…` ``, `<strong>Password:</strong> …`): the value after it, to its code
    # mark if it has one (on the next line too), else to a space or a quote. The marks must
    # pair up (`_dressed_name_value`).
    _rule(
        # A mark opens after no letter or digit (a snake_case name's `_` opens nothing: the
        # engine fails there at once).
        rf"(?P<head>(?:(?<![A-Za-z0-9])|(?<=\\[nrt]))(?P<open>\*\*|__|\*|_|`|<(?:{_INLINE_TAGS})(?:[ \t][^<>]{{0,128}}+)?>)"
        r"(?P<name>[A-Za-z][\w .-]{0,63}?)(?P<c1>[ \t]{0,3}:)?"
        rf"(?P<close>\*\*|__|\*|_|`|</(?:{_INLINE_TAGS})>)(?P<c2>[ \t]{{0,3}}:)?"
        r"(?:[ \t]{1,8}|[ \t]{0,8}(?:\r?\n|\\n)[ \t]{0,8}(?=`|<code>))"
        r"(?P<vopen>`|<code>)?)(?!\[REDACTED)"
        r"""(?P<value>(?(vopen)[^`<\r\n]{1,4096}+(?=`|</code>)|[^\s`<*"\\]{1,4096}+))""",
        _dressed_name_value,
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # An HTML password input: its value= goes, whatever the attributes' order.
    _rule(r"<input(?![\w-])[^<>]{1,4096}+>", _password_input, "<input", fold_needles=True),
    # An XML or config element with a key= or name= attribute that names the secret, in any
    # order and among other attributes (`<add key="Password" value="…"/>`, `<add value="…"
    # xdt:Transform="Replace" key="Password"/>`, `<property name="api_key" value="…"/>`,
    # `<entry key="db.password">…</entry>`): its value attribute, or else the element's text,
    # goes. One tag is read, never past a `>` (`_xml_element`), and at most `_VALUE_MAX`
    # characters of it and of its text (no two tags read the same characters, so the long bound
    # costs nothing, and no secret is cut with its tail left). The name is read whole, then
    # asked (`secret_named`), so `<add key="Port" value="5432"/>` stays. Its attributes may
    # stand on lines of their own, the breaks escaped inside a JSON string. A quoted value
    # may hold a `>` (legal in XML: `value="a>b"`), which ends no tag.
    _rule(
        rf"<[A-Za-z][\w:.-]{{0,64}}+(?:[ \t\r\n]|\\[nrt])"
        rf"""(?:"[^"<\n]{{0,4096}}+"|'[^'<\n]{{0,4096}}+'|[^<>]){{0,{_VALUE_MAX}}}+"""
        rf"(?:>(?!\[REDACTED)(?P<text>[^<\n]{{1,{_VALUE_MAX}}}+)(?=</))?",
        _xml_element,
        "key",
        "name",
        flags=re.IGNORECASE,
    ),
    # … also after MySQL's plugin (`IDENTIFIED WITH caching_sha2_password BY '…'`), as
    # PASSWORD('…'), and Oracle's unquoted `CREATE|ALTER USER u IDENTIFIED BY pw` (not `BY
    # VALUES`, a hash's form; "identified by its labels" in prose stays).
    _rule(
        r"((?<![A-Za-z0-9_])(?:IDENTIFIED(?:[ \t]{1,3}WITH[ \t]{1,3}[\w'\"]{1,64}+)?[ \t]{1,3}BY"
        r"(?:[ \t]{1,3}PASSWORD)?|PASSWORD)(?:[ \t]{1,3}|[ \t]{0,3}\([ \t]{0,3})"
        rf"""(?P<q>\\?["']))(?!\[REDACTED){_QUOTED_CHAR}{{1,256}}+(?P=q)""",
        _quoted_password,
        "identified",
        "password",
        flags=re.IGNORECASE,
    ),
    # MySQL's `SET PASSWORD [FOR 'u'@'h'] = 'pw'` (or `= PASSWORD('pw')`).
    _rule(
        r"((?<![A-Za-z0-9_])SET[ \t]{1,3}PASSWORD(?:[ \t]{1,3}FOR[ \t]{1,3}[^\s=]{1,256}+)?"
        r"[ \t]{0,3}=[ \t]{0,3}(?:PASSWORD[ \t]{0,3}\([ \t]{0,3})?"
        rf"""(?P<q>\\?["']))(?!\[REDACTED){_QUOTED_CHAR}{{1,256}}+(?P=q)""",
        _quoted_password,
        "password",
        flags=re.IGNORECASE,
    ),
    # Neo4j's `ALTER CURRENT USER SET PASSWORD FROM 'old' TO 'new'`: the old password and the
    # new one.
    _rule(
        r"(?P<head>(?<![A-Za-z0-9_])SET[ \t]{1,3}PASSWORD[ \t]{1,3}FROM[ \t]{1,3})"
        rf"""(?P<oq>\\?["'])(?!\[REDACTED){_quoted_char("oq")}{{1,256}}+(?P=oq)"""
        r"(?P<to>[ \t]{1,3}TO[ \t]{1,3})"
        rf"""(?P<nq>\\?["'])(?!\[REDACTED){_quoted_char("nq")}{{1,256}}+(?P=nq)""",
        lambda m: (
            f"{m['head']}{m['oq']}[REDACTED:password]{m['oq']}"
            f"{m['to']}{m['nq']}[REDACTED:password]{m['nq']}"
        ),
        "password",
        flags=re.IGNORECASE,
    ),
    # ClickHouse's object-store table functions given their keys (`s3('https://…', '<key id>',
    # '<secret>', 'CSV')`, `s3Cluster`'s after the cluster's name, `gcs`, `oss`, `cosn`): the
    # third argument goes when it looks random (`_table_function_secret`); a format's name or a
    # structure there (`s3(url, 'CSV', 'a String')`) stays.
    _rule(
        r"(?P<head>(?<![\w.])(?:s3(?:Cluster)?|gcs|oss|cosn)\([ \t]{0,3}"
        r"(?:'[^'\n]{0,256}+'[ \t]{0,3},[ \t]{0,3})?'(?:https?|s3|gs)://[^'\n]{1,2048}+'"
        r"[ \t]{0,3},[ \t]{0,3}'[^'\n]{1,256}+'[ \t]{0,3},[ \t]{0,3}')(?!\[REDACTED)"
        r"(?P<value>[^'\n]{1,256}+)'",
        _table_function_secret,
        "s3(",
        "s3cluster(",
        "gcs(",
        "oss(",
        "cosn(",
        flags=re.IGNORECASE,
    ),
    # DuckDB's `CREATE SECRET (TYPE S3, KEY_ID '…', SECRET '…')` (a persistent one's too): the
    # parameters that hold the credential (`SECRET`, `SESSION_TOKEN`, `CLIENT_SECRET`,
    # `ACCOUNT_KEY`, `CONNECTION_STRING`, `PASSWORD`, `TOKEN`), each in its quotes; its
    # `KEY_ID`, `REGION` and `SCOPE` stay.
    _rule(
        r"(?<![A-Za-z0-9_])CREATE[ \t]{1,3}(?:OR[ \t]{1,3}REPLACE[ \t]{1,3})?"
        r"(?:(?:PERSISTENT|TEMPORARY)[ \t]{1,3})?SECRET(?:[ \t]{1,3}[\w.]{1,128}+)?"
        r"(?:[ \t]{1,3}IN[ \t]{1,3}[\w.]{1,128}+)?[ \t]{0,3}\((?P<params>[^()]{1,4096}+)\)",
        _duckdb_secret,
        "secret",
        flags=re.IGNORECASE,
    ),
    _rule(
        r"((?<![A-Za-z0-9_])(?:CREATE|ALTER)[ \t]{1,3}USER[ \t]{1,3}[^\s;]{1,128}+"
        r"[ \t]{1,3}IDENTIFIED[ \t]{1,3}BY[ \t]{1,3})(?!\[REDACTED|(?:VALUES|PASSWORD)\b)"
        r"""((?:[^\s;'"\\]|\\(?!["'])){1,256}+)""",
        _replaced_value("[REDACTED:password]"),
        "identified",
        flags=re.IGNORECASE,
    ),
    # A .netrc line (curl, git, pip and ftp read it): machine <host> login <user> password
    # <password>, or the same after `default`; each on a line of its own too. The login is
    # required: "the machine rebooted; password prompt" is prose. An unquoted password ends at
    # a quote that is not inside a word: the end of the JSON string that holds the line.
    _rule(
        r"((?<![\w-])(?:machine[ \t\r\n]{1,8}[^\s]{1,256}+|default)"
        r"(?:[ \t\r\n]{1,8}(?:login|account)[ \t\r\n]{1,8}[^\s]{1,256}+){1,2}"
        r"[ \t\r\n]{1,8}password[ \t]{1,8})(?!\\?\"?\[REDACTED)"
        rf"(?!(?:{_STATE_WORDS})(?![\w-]))"
        r'(?:(?P<q>\\?")(?:(?!(?P=q))[^\r\n]){1,512}+(?P=q)'
        rf'|(?:[^\s\\"]|\\(?!")|{_INNER_QUOTE}){{1,512}})',
        lambda m: f"{m[1]}{m['q'] or ''}[REDACTED:password]{m['q'] or ''}",
        "password",
    ),
    # … and its `account` (a second password, for ftp's ACCT), before or after the password.
    _rule(
        r"((?<![\w-])(?:machine[ \t\r\n]{1,8}[^\s]{1,256}+|default)"
        r"(?:[ \t\r\n]{1,8}(?:login|password|port)[ \t\r\n]{1,8}[^\s]{1,256}+){0,3}"
        r"[ \t\r\n]{1,8}account[ \t]{1,8})(?!\\?\"?\[REDACTED)"
        rf"(?!(?:{_STATE_WORDS})(?![\w-]))"
        r'(?:(?P<q>\\?")(?:(?!(?P=q))[^\r\n]){1,512}+(?P=q)'
        rf'|(?:[^\s\\"]|\\(?!")|{_INNER_QUOTE}){{1,512}})',
        lambda m: f"{m[1]}{m['q'] or ''}[REDACTED:password]{m['q'] or ''}",
        "account",
    ),
    # A .pgpass line: host:port:database:user:password, the password to the line's end (`\:`
    # and `\\` escape a field's own; a line has five fields, not six). The port, a number or
    # `*`, and a host that is no number (not a time's `10:42:17:…`) tell it from other lines
    # with colons. Also a line inside a JSON string (after an escaped `\n` or its opening
    # quote), to the next escaped break or the closing quote. The rules start at the colon
    # before the port, which the engine jumps to; the host before it is asked after
    # (`_pgpass_password`).
    _rule(
        r"(:(?:[0-9]{1,5}|\*):(?:[^\s:\\]|\\[:\\]){1,63}+:(?:[^\s:\\]|\\[:\\]){1,63}+:)"
        r"(?!\[REDACTED)(?:[^\s:\\]|\\[:\\])(?:[^\r\n:\\]|\\[:\\]){0,511}+(?![^\r\n])",
        partial(_pgpass_password, host=_PGPASS_HOST),
        *_PGPASS_NEEDLES,
    ),
    _rule(
        r'(:(?:[0-9]{1,5}|\*):[^\s:\\"]{1,63}+:[^\s:\\"]{1,63}+:)'
        r'(?!\[REDACTED)(?:[^\s:\\"]|\\\\:)(?:[^\r\n:\\"]|\\\\:|\\[^nr\\]){0,511}+'
        r'(?=\\[nr]|")',
        partial(_pgpass_password, host=_PGPASS_ESCAPED_HOST),
        *_PGPASS_NEEDLES,
    ),
    # Kubernetes env as YAML: `- name: DB_PASSWORD` then `value: …` on the next line (also
    # inside a JSON string, its lines broken by escaped `\n`). The name is read whole, then
    # asked (`_env_entry_value`), so every secret's name counts (SIGNING_KEY, GITHUB_PAT,
    # SENTRY_DSN) and one that only holds a secret's word (TOKEN_TTL_SECONDS) does not.
    *(
        _rule(
            r"(name:[ \t]{0,3}\\?[\"']?(?P<name>[A-Za-z0-9_.-]{1,128}+)"
            rf"\\?[\"']?[ \t]{{0,8}}{brk}(?P<indent>[ \t]{{0,40}}+)value:[ \t]{{0,3}}+)"
            # A block scalar (`value: |`, `>-`, `|2`): its lines below, indented deeper than
            # `value:`, blank ones between them, are the value.
            rf"(?:(?P<block>[|>](?:[1-9]?[+-]?|[+-][1-9])[ \t]{{0,8}}+)"
            rf"(?P<lines>(?:(?:{brk}[ \t]{{0,64}}+(?={brk})){{0,8}}+{brk}(?P=indent)[ \t]{{1,64}}+"
            rf"(?:{char}){{1,4096}}+){{1,256}}+)"
            rf"|(?!\[REDACTED)(?P<value>(?:{char}){{1,{_VALUE_MAX}}}+))",
            _env_entry_value,
            "value:",
            flags=re.IGNORECASE,
        )
        for brk, char in _LINES
    ),
    # Validators echo the value they refused under the field's name, a line above: pydantic's
    # `<field>\n  <message> [type=…, input_value='…', input_type=…]`, Spring Boot's
    # `Property: <name>\n    Value: …`. The name is read whole, then asked (`secret_named`).
    _rule(
        r"((?:(?m:^)|(?<=\\n))[ \t]{0,8}(?P<name>[A-Za-z0-9_.\[\]-]{1,128}+)[ \t]{0,4}(?:\r?\n|\\n)"
        r"[ \t]{1,8}[^\n\[]{0,512}+\[type=[a-z_]{1,64}+,[ \t]{0,2}input_value=)(?!\[REDACTED)"
        r"""(?:(?P<single>')(?:[^'\\\n]|\\.){0,512}+'|(?P<double>")(?:[^"\\\n]|\\.){0,512}+\""""
        r"|[^\n\]]{1,512}?(?=,[ \t]{0,2}input_type=))",
        _named_value,
        "input_value=",
    ),
    _rule(
        r"(Property:[ \t]{1,3}(?P<name>[^\s\\]{1,128}+)[ \t]{0,4}(?:\r?\n|\\n)[ \t]{0,8}Value:"
        r"""[ \t]{0,3}+)(?!\[REDACTED)(?:(?P<double>")[^"\r\n\\]{0,512}+"|[^\r\n\\]{1,512}+)""",
        _named_value,
        "Property:",
    ),
    # PHP's print_r (`[password] => …`, to the line's end; a nested `Array`/`… Object` stays)
    # and var_dump (`_VAR_DUMP`). The name is read whole, then asked (`secret_named`).
    _rule(
        r"(\[(?P<name>[^\]\[\r\n]{1,128}+)\][ \t]=>[ \t])(?!\[REDACTED)"
        r"(?![A-Za-z_\\]{1,128}+(?:[ \t]Object)?[ \t]{0,8}(?:\r?\n|$))"
        rf"{_LINE_CHAR_IN_STRING}{{1,4096}}+",
        lambda m: f"{m[1]}[REDACTED:password]" if secret_named(m["name"]) else m[0],
        "] =>",
    ),
    _rule(_VAR_DUMP, _var_dumped, "string("),
    # A name/value object as JSON text (Kubernetes' and ECS's env, CloudFormation's parameters,
    # Elastic Beanstalk's options, Sentry's tags): {"name": "DB_PASSWORD", "value": "…"}, also
    # inside a JSON string (`\\"`), a JSON Patch's {"op": …, "path": "/data/password", "value":
    # …}. The name is read whole, then asked (`_object_value`), as `Redactor.value` asks it of
    # such an object. Its name and value keys in the order serialisers write them (sorted, or
    # as the service does), after at most two other string fields (Beanstalk's "Namespace",
    # JSON Patch's "op"): the rule starts at the `{`, which the engine jumps to.
    _rule(
        rf"\{{[ \t\r\n]{{0,16}}(?P<q>(?P<esc>\\)?\")"
        rf"(?:[\w.-]{{1,64}}+{_COLON}[^\"\\]{{0,256}}+{_COMMA}){{0,2}}{_OBJECT_NAME}{_COLON}"
        rf"(?P<name>[^\"\\]{{1,128}}+){_COMMA_OVER_SCALARS}{_OBJECT_VALUE}{_COLON}"
        rf"(?!\[REDACTED){_QUOTED}(?=(?P=q))",
        _object_value,
        'alue"',
        'alue\\"',
    ),
    # … and with its value first, as a serialiser that sorts keys writes a name whose key
    # sorts after `value` ({"value": "…", "variable": "DB_PASSWORD"}).
    _rule(
        rf"\{{[ \t\r\n]{{0,16}}(?P<q>(?P<esc>\\)?\")"
        rf"(?:[\w.-]{{1,64}}+{_COLON}[^\"\\]{{0,256}}+{_COMMA}){{0,2}}{_OBJECT_VALUE}{_COLON}"
        rf"(?!\[REDACTED){_QUOTED}{_COMMA_OVER_SCALARS}"
        r"(?:[Vv]ariable|[Ww]orkspace_?[Vv]ariable)(?:_?[Nn]ame)?"
        rf"{_COLON}(?P<name>[^\"\\]{{1,128}}+)(?=(?P=q))",
        _object_value,
        'alue"',
        'alue\\"',
    ),
    # A name and its value as words (`_SHORTHAND_PAIR`): the AWS CLI's shorthand, logfmt.
    _rule(_SHORTHAND_PAIR, _object_value, "value=", fold_needles=True),
    # Terraform's sensitive output (`_SENSITIVE_VALUE`): its value, whatever the output's name.
    _rule(
        _SENSITIVE_VALUE + _QUOTED + r"(?=(?P=q))",
        lambda m: f"{m.string[m.start() : m.start('value')]}[REDACTED:password]",
        "sensitive",
        fold_needles=True,
    ),
    # Azure's listKeys (`az storage account keys list`, `az cosmosdb keys list`, Event Hubs'
    # and Service Bus' keys): an object naming a key by "keyName" (key1, key2, kerb1) holds the
    # key itself in "value", whatever the name; its other fields may stand between
    # ("permissions", "creationTime").
    _rule(
        rf"(?P<q>(?P<esc>\\)?\")keyName{_COLON}[^\"\\]{{1,128}}+"
        rf"(?:{_COMMA}[\w.-]{{1,64}}+{_COLON}[^\"\\]{{0,256}}+){{0,3}}"
        rf"{_COMMA}value{_COLON}(?!\[REDACTED){_QUOTED}(?=(?P=q))",
        lambda m: f"{m.string[m.start() : m.start('value')]}[REDACTED:azure-key]",
        "keyname",
        fold_needles=True,
    ),
    # … and in YAML's flow style, unquoted or quoted: {name: DB_PASSWORD, value: …}; a quoted
    # value loses what is inside its quotes, which stay.
    _rule(
        r"""\{[ \t]{0,16}(?:name|key)[ \t]{0,3}:[ \t]{0,3}(?P<nq>["']?)(?P<name>[\w.:/-]{1,128}+)(?P=nq)"""
        r"""[ \t]{0,3},[ \t]{0,16}value[ \t]{0,3}:[ \t]{0,3}(?P<vq>["']?)(?!\[REDACTED)"""
        r"""(?P<value>(?<=")[^"\r\n]{0,4096}+(?=")|(?<=')[^'\r\n]{0,4096}+(?=')"""
        r"""|(?<!["'])[^\s,{}"'][^,{}\r\n]{0,4095}+)(?P=vq)""",
        _object_value,
        "value:",
        "value :",
        flags=re.IGNORECASE,
    ),
    # Dockerfile's ENV in its older form, `ENV DD_API_KEY <value>` (docker build's `Step 5/9 :
    # ENV …`): the rest of the line is the value. The name is read whole, then asked.
    _rule(
        r"(?<![\w-])ENV[ \t]{1,8}(?P<name>[A-Za-z_][\w.-]{0,127}+)[ \t]{1,8}"
        rf"(?!\[REDACTED|=)(?P<value>[^\s\\](?:(?!\\[nrt]){_LINE_CHAR_IN_STRING}){{0,4095}}+)",
        _object_value,
        "env",
        fold_needles=True,  # an `E` starts no other case-sensitive needle
    ),
    # A [name, value] pair as text: Sentry's request headers as JSON (`[["X-Api-Key", "…"]]`,
    # raw or inside a JSON string) or as a Python list of tuples in a log line (`[('Cookie',
    # '…')]`, of bytes: `[(b'cookie', b'…')]`). The name is read whole, then asked (`_object_value`), as `Redactor.value` asks
    # it of such a pair. The rule starts at the `[` or `(`, which the engine jumps to.
    # A command's argument list as a literal (`["mysql", "-p…"]`, a traceback's
    # `['redis-cli', '-a', '…']`) starts as such a pair does, and is read first, as the
    # command line it stands for (`_argument_list`).
    _rule(
        r"""[\[(] ?(?:(?<!\()(?<!\( )"""
        + _argument_items(r'\\?"')
        + r"""|(?P<q>(?P<esc>\\)?")(?P<name>[\w.:-]{1,128}+)(?P=q)[ \t]{0,3},"""
        rf"[ \t]{{0,3}}(?P=q)(?!\[REDACTED){_QUOTED}(?=(?P=q)[ \t]{{0,3}}[\])]))",
        _list_or_pair,
        # A space may follow the bracket (WordPress's `define( 'DB_PASSWORD', '…' )`).
        *('["', '[\\"', '("', '(\\"', '[ "', '[ \\"', '( "', '( \\"'),
    ),
    _rule(
        r"""[\[(] ?(?:(?<!\()(?<!\( )"""
        + _argument_items("'")
        # Bytes literals too: httpx's and an ASGI scope's headers (`[(b'x-api-key', b'…')]`).
        + r"""|b?'(?P<name>[\w.:-]{1,128}+)'[ \t]{0,3},[ \t]{0,3}b?'(?!\[REDACTED)"""
        rf"""(?P<value>{_SINGLE_QUOTED_CHAR}{{1,4096}}+)(?='[ \t]{{0,3}}[\])]))""",
        _list_or_pair,
        *("['", "('", "[ '", "( '", "[b'", "(b'", "[ b'", "( b'"),
    ),
    # A container's args as JSON: ["--password", "secret"].
    _rule(
        r"(\"--(?:[A-Za-z0-9]{1,20}-){0,4}(?:password|passwd|secret|token|api-key)\"[ \t]{0,3},"
        r"[ \t]{0,3}\")(?!\[REDACTED)[^\"\n]{1,512}\"",
        r'\1[REDACTED:password]"',
        '"--',
        flags=re.IGNORECASE,
    ),
    # A server's config directive named like a password, its value the rest of the line
    # (Apache's `AuthLDAPBindPassword x`, `SessionCryptoPassphrase x`): a CamelCase name ending
    # in Password, Passwd or Passphrase at a line's start. An API call's name and its outcome
    # (`ChangePassword failed`, `ResetPassword ok`) and a state word stay.
    _rule(
        rf"(?m)(^[ \t]{{0,16}}(?!(?:{_VERBS})[A-Z])[A-Z][A-Za-z0-9]{{0,63}}"
        r"(?:Password|Passwd|Pass[Pp]hrase)[ \t]{1,8})"
        rf"(?!\[REDACTED|(?:{_STATE_WORDS}|{_OUTCOMES})[ \t]{{0,16}}\r?$)"
        r"(\"[^\"\r\n]{1,512}+\"|'[^'\r\n]{1,512}+'|[^\s\"'][^\s]{0,511}+)(?=[ \t]{0,16}\r?$)",
        _quotes_kept,
        "password",
        "passwd",
        "passphrase",
        fold_needles=True,
    ),
    # Postfix's sasl_passwd: `[relay]:port user:password`, `relay:port user:password` or
    # `relay user@domain:password`, a line to itself, the password to the line's end (no port,
    # no time, no `//` of a URL). A dotted host and a bare `user:word` without a port or a
    # bracket is some other line (`10.0.0.5 redis:alpine`) and stays.
    _rule(
        r"(?m)(^[ \t]{0,8}(?:\[[\w.-]{1,253}+\](?::[0-9]{1,5})?[ \t]{1,16}[\w.+-]{1,64}+"
        r"|[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}+(?::[0-9]{1,5}[ \t]{1,16}[\w.+-]{1,64}+"
        r"|[ \t]{1,16}[\w.+-]{1,64}+(?=@)))(?:@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}+)?:)"
        r"(?!\[REDACTED|//|[0-9:]{1,16}[ \t]{0,16}\r?$)([^\s]{1,512}+)(?=[ \t]{0,16}\r?$)",
        r"\1[REDACTED:password]",
        # Each form holds one: a bracketed relay's `]`, a port's `:` and digit, a user's `@`.
        *("]", "@", *_PGPASS_NEEDLES[1:]),
    ),
    # strongSwan's and Libreswan's ipsec.secrets: `[ids] : PSK "…"` (also XAUTH, EAP, NTLM,
    # PIN), the secret quoted, 0x/0s-encoded, or a word mixing letters and digits (`: PSK
    # mismatch` in prose stays).
    _rule(
        r"(:(?<![^\s]:)[ \t]{1,8}(?:PSK|XAUTH|EAP|NTLM|PIN)[ \t]{1,8})(?!\[REDACTED|\"\[REDACTED)"
        r"(\"[^\"\r\n]{1,512}+\"|'[^'\r\n]{1,512}+'|0[sx][A-Za-z0-9+/=]{1,1024}+"
        r"|(?=[^\s\d]{0,511}\d)(?=[^\s]{0,511}[A-Za-z])[^\s\"'][^\s]{0,511}+)",
        _quotes_kept,
        # Not `EAP`, `XAUTH`: first letters no other needle as written starts with.
        "PSK",
        "AUTH",
        "AP",
        "NTLM",
        "PIN",
    ),
    # OpenVPN's inline credentials: <auth-user-pass>, the user's line, the password's line.
    *(
        _rule(
            rf"(<auth-user-pass>[ \t]{{0,8}}{brk}[ \t]{{0,8}}(?:{char}){{1,256}}?[ \t]{{0,8}}{brk}"
            rf"[ \t]{{0,8}})(?!\[REDACTED|</)((?:{char}){{1,512}}?)(?=[ \t]{{0,8}}{brk}[ \t]{{0,8}}</auth-user-pass>)",
            r"\1[REDACTED:password]",
            "<auth-user-pass>",
            fold_needles=True,
        )
        for brk, char in _LINES
    ),
)
