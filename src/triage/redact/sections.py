"""Rules for a *section* of secrets: a key whose children are all secrets, because its name says
secrets (`secrets`, `credentials`, `tokens`, `api_keys`; `section_named`) or names a secret
that holds a mapping (`password: {current: …, previous: …}`). Each shape configuration gives a
section has its rule: a YAML block below the key, a JSON, Python, YAML-flow or HCL object after
it, an INI or TOML table, an XML element, a Kubernetes Secret's `data` and `stringData`. Every
value below goes, but what describes the secrets (`section_meta`: a count, a path, a provider,
a name), a boolean, a state word, a placeholder and a plural name's count stay. A flat path (`Secrets__Db`, `secrets.db.value`, `SECRETS_DB`) is
a name like any other (`names._SECTION_CHILD`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from triage.redact.names import (
    _SECRET_NAME_NEEDLES,
    _kept_value,
    connection_string_passwords_redacted,
    secret_named,
    secret_object_named,
)
from triage.redact.rule import _LazyPattern, _Rule, _rule
from triage.redact.tables import (
    KEY_COLUMN_NEEDLES,
    KEY_TABLE,
    TABLE,
    TABLE_AFTER_PLACEHOLDER,
    table,
)
from triage.redact.words import SECTION_FIRST_META, SECTION_META, SECTION_WORD

_PLACEHOLDER = "[REDACTED:password]"

#: A name whose last part is a section's word (`credentials`, `app.secrets`, `API_KEYS`).
_SECTION_NAME = re.compile(
    rf"(?:\A|[^A-Za-z0-9]|(?-i:(?<=[a-z0-9])(?=[A-Z]))){SECTION_WORD}\Z", re.I
)
#: A child's name that describes the secrets: its first part or its last (`words`), parts
#: split at separators and at camel case (`secretName`, `defaultMode`).
_META = re.compile(
    rf"(?:{SECTION_FIRST_META})(?!(?-i:[a-z0-9]|(?<=[A-Z0-9])[A-Z]))"
    rf"|(?:.*(?:[^A-Za-z0-9]|(?-i:[a-z0-9](?=[A-Z]))))?(?:{SECTION_META})\Z",
    re.I,
)


def section_named(name: str) -> bool:
    """True for a key whose children are all secrets: a section's word (`secrets`,
    `credentials`, `tokens`) or a secret's name (`password`, `db_password`)."""
    bare = name.strip(" \t\"'\\:")
    # A Secret's name (`imagePullSecrets:`) heads a list of names, none a secret.
    if secret_object_named(bare):
        return False
    return _SECTION_NAME.search(bare) is not None or secret_named(bare)


#: Keys whose children are all secrets, whatever their own names say: Grafana's secureJsonData
#: (a data source's header values, passwords, keys) and secureSettings (an alerting contact
#: point's; secure_settings in its older notifiers), a Kubernetes Secret's stringData.
SECRET_SECTIONS = frozenset({"secureJsonData", "secureSettings", "secure_settings", "stringData"})
#: … their needles, folded.
_SECRET_SECTION_NEEDLES = ("securejsondata", "securesettings", "secure_settings", "stringdata")

#: A Kubernetes Secret's manifest, whose `data` and `stringData` hold only secrets.
_KIND_SECRET = re.compile(r"""kind\\?["']?[ \t]{0,8}:[ \t]{0,8}\\?["']?Secret(?![\w-])""")


def _holds_secrets(key: str, text: str) -> bool:
    """True for a key whose children are secrets (`section_named`, `SECRET_SECTIONS`), or a
    Kubernetes Secret's `data` when `text` is a Secret's manifest."""
    bare = key.strip(" \t\"'\\:")
    if bare in SECRET_SECTIONS or (bare == "data" and _KIND_SECRET.search(text) is not None):
        return True
    # A bare `secret:` holding a mapping refers to one (a Kubernetes volume's or env's
    # `secret: {secretName: …}`), and sets how it is read, not what it is.
    return bare.lower() != "secret" and section_named(bare)


def section_meta(name: str) -> bool:
    """True for a child's name that describes the secrets (`count`, `provider`, `db_host`,
    `per_minute`), not one of them."""
    return _META.match(name.strip(" \t\"'\\")) is not None


#: A value of a section's child that is no secret (beside `_kept_value`'s): a literal, an
#: empty string. (A number is a secret's, a PIN's, unless its name describes: `count: 3`.)
_KEPT_SCALAR = re.compile(r"true|false|null|none|nil|~|", re.I)


def _kept_child(key: str, value: str) -> bool:
    """A child's value that stays: under a name that describes the secrets, a literal, a value
    `_kept_value` keeps (a placeholder, a state word, a plural's count), one already
    redacted."""
    return (
        section_meta(key)
        or _KEPT_SCALAR.fullmatch(value) is not None
        or _kept_value(key or "secret", value)
        or value.startswith("[REDACTED")
    )


# --- An object after the key: JSON, a Python repr, YAML's flow style, HCL ----------------------

#: One token of an object's text: a quoted string (`"…"`, `'…'`, `\"…\"` inside a JSON string),
#: an assignment (`:`, `=`, `=>`), a bare word (a placeholder is one: its `:` no assignment),
#: or other punctuation.
_TOKEN = re.compile(
    r"""(?P<q>\\"|"|')(?P<s>(?:(?!(?P=q))(?:\\[^\n]|[^\\\n])){0,65536}+)(?P=q)"""
    r"|(?P<assign>=>|[:=])"
    r"|(?P<word>\[REDACTED:[\w-]{1,32}+\]|[^\s{}\[\],;:=\"'\\]{1,4096}+)|(?P<punct>[{}\[\],;])"
)


def _object_leaves(text: str) -> str:
    """An object's text with every value that is no key replaced (`_kept_child` aside; a
    connection string loses only its password, `connection_string_passwords_redacted`): a
    token followed by an assignment is a key, and names the values after it."""
    tokens = list(_TOKEN.finditer(text))
    pieces: list[str] = []
    last = 0
    key = ""
    for i, token in enumerate(tokens):
        if token["s"] is None and token["word"] is None:
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        value = token["s"] if token["s"] is not None else token["word"]
        if following is not None and following["assign"]:
            key = value
            continue
        if _kept_child(key, value):
            continue
        group = "s" if token["s"] is not None else "word"
        partial = connection_string_passwords_redacted(value)
        pieces += (text[last : token.start(group)], partial or _PLACEHOLDER)
        last = token.end(group)
    pieces.append(text[last:])
    return "".join(pieces)


#: The text inside an object's braces, nested up to four deep, a quoted string read whole.
_INNER = r"""(?:[^{}"\\]|\\.|"(?:[^"\\\n]|\\.){0,4096}+")"""
_OBJECT_SOURCE = r"\{(?!\{)(?:" + _INNER + r"){0,65536}+\}"
for _ in range(3):
    _OBJECT_SOURCE = r"\{(?!\{)(?:" + _INNER + "|" + _OBJECT_SOURCE + r"){0,65536}+\}"

#: A key's name just before its assignment, as `_object` reads it back from the text.
_KEY_BEFORE = re.compile(r"""([\w.$:-]{1,128})(?:\\?["'])?[ \t]{0,8}\Z""")


def _object(match: re.Match[str]) -> str:
    """An object after a key (or inside the call that wraps it: `jsonencode({…})`): its values
    replaced if the key names a section (`_object_leaves`), else the sections inside it
    redacted."""
    text = match.string
    key = _KEY_BEFORE.search(text, max(0, match.start() - 140), match.start())
    inner = match["object"][1:-1]
    if key is not None and _holds_secrets(key[1], text):
        inner = _object_leaves(inner)
    else:
        inner = _OBJECT_AFTER_KEY.sub(_object, inner)
    return f"{match['assign']}{match['call'] or ''}{{{inner}}}"


#: What opens a mapping: a key and its assignment, a quoted key, or nothing (`{}`); not an
#: LDAP password's scheme (`{SSHA}…`) nor a template's `{{`.
_MAPPING_OPENS = r"""\{(?=[ \t\r\n]{0,64}+(?:\\?["'}]|[\w.$-]{1,128}+[ \t]{0,8}(?:[:=]|=>)))"""
#: A call that wraps the object and keeps its values (Terraform's `jsonencode({…})`,
#: `yamlencode`, `sensitive`, `tomap`): the object inside it is the key's.
_WRAPPING_CALL = r"(?:jsonencode|yamlencode|sensitive|tomap)\([ \t\r\n]{0,64}+"
_OBJECT_AFTER_KEY = re.compile(
    rf"(?P<assign>[:=]>?[ \t\r\n]{{0,64}}+)(?P<call>{_WRAPPING_CALL})?"
    rf"(?P<object>(?={_MAPPING_OPENS}){_OBJECT_SOURCE})"
)


# --- A YAML block below the key --------------------------------------------------------------

#: A line of a YAML block: its indentation, a list's dash, and a key with its value or a bare
#: item.
_YAML_LINE = re.compile(
    r"""(?P<indent>[ \t]*+)(?P<dash>-[ \t]++)?"""
    r"""(?:(?P<key>"[^"\n]{1,128}+"|'[^'\n]{1,128}+'|[^\s:#"'][^:\n]{0,127}?)[ \t]*+:"""
    r"""(?:[ \t]++(?P<value>[^\n]*))?|(?P<item>[^\n]+))"""
)
#: A YAML comment after a value.
_COMMENT = re.compile(r"[ \t]+#.*\Z")


def _yaml_value(key: str, value: str) -> str:
    """A YAML scalar replaced, its quotes and comment kept, unless `_kept_child` keeps it (a
    connection string loses only its password: `connection_string_passwords_redacted`)."""
    comment = _COMMENT.search(value)
    scalar = value[: comment.start()] if comment else value.rstrip()
    tail = value[len(scalar) :]
    quote = scalar[:1] if scalar[:1] in "\"'" and scalar[-1:] == scalar[:1] else ""
    bare = scalar[1:-1] if quote and len(scalar) >= 2 else scalar
    if _kept_child(key, bare):
        return value
    partial = connection_string_passwords_redacted(bare)
    return f"{quote}{partial or _PLACEHOLDER}{quote}{tail}"


def _yaml_children(block: str, newline: str = "\n") -> str:
    """A section's YAML block with each child's value replaced (`_yaml_value`): `key: value`,
    a list's `- value`, and the lines of a block scalar (`key: |`). Its lines are broken by
    `newline` (an escaped `\\n` inside a JSON string)."""
    out: list[str] = []
    scalar_indent = -1  # the indentation of a block scalar's key, while its lines follow
    for line in block.split(newline):
        parsed = _YAML_LINE.fullmatch(line.rstrip("\r"))
        indent = len(parsed["indent"]) if parsed else 0
        if scalar_indent >= 0 and line.strip() and indent > scalar_indent:
            out.append(line[: len(line) - len(line.lstrip())] + _PLACEHOLDER)
            continue
        scalar_indent = -1
        if parsed is None or not line.strip() or line.lstrip().startswith("#"):
            out.append(line)
            continue
        head = line[: parsed.start("value") if parsed["value"] else parsed.start("item")]
        if parsed["key"] is not None:
            key, value = parsed["key"].strip("\"'"), parsed["value"] or ""
            if value.strip()[:1] in ("|", ">") and not section_meta(key):
                scalar_indent = indent
            elif value.strip():
                out.append(head + _yaml_value(key, value.rstrip("\r")))
                continue
            out.append(line)
        else:
            out.append(head + _yaml_value("", parsed["item"].rstrip("\r")))
    return newline.join(out)


def _yaml_block(match: re.Match[str]) -> str:
    """A YAML key's block: its children's values replaced if the key names a section, else
    the sections inside it redacted."""
    block = match["block"]
    if _holds_secrets(match["key"], match.string):
        block = _yaml_children(block)
    else:
        block = _YAML_BLOCK.sub(_yaml_block, block)
    return f"{match['head']}{block}"


def _escaped_yaml_block(match: re.Match[str]) -> str:
    """`_yaml_block` for YAML inside a JSON string, its lines broken by escaped `\\n`."""
    block = match["block"]
    if _holds_secrets(match["key"], match.string):
        block = _yaml_children(block, "\\n")
    else:
        block = _ESCAPED_YAML_BLOCK.sub(_escaped_yaml_block, block)
    return f"{match['head']}{block}"


#: A YAML key with nothing after it on its line (a comment aside), and the lines below it that
#: are indented further (or, for a list, as far, after a dash), blank lines among them.
_YAML_BLOCK = re.compile(
    r"(?P<head>(?m:^)(?P<indent>[ \t]{0,64}+)(?:-[ \t]{1,8}+)?"
    r"""(?P<key>"[^"\n]{1,128}+"|'[^'\n]{1,128}+'|[\w.$/][\w.$/-]{0,127}+)[ \t]{0,8}+:"""
    r"[ \t]{0,64}+(?:#[^\n]{0,1024}+)?)"
    r"(?P<block>(?:\r?\n(?:(?P=indent)[ \t]{1,64}+[^\n]{0,65536}+|(?P=indent)-[ \t][^\n]{0,65536}+"
    r"|[ \t]{0,64}+(?=\r?\n))){1,65536}+)"
)


#: … the same inside a JSON string: a line starts after an escaped `\\n` or at the string's
#: start (read with the key, so that the engine jumps to them), and ends at the next escaped
#: break or at the string's closing quote.
_ESCAPED_LINE = r"""(?:[^"\\\r\n]|\\[^nr]){0,65536}+"""
_ESCAPED_YAML_BLOCK = re.compile(
    r"(?P<head>(?:\\n|\")(?P<indent>[ \t]{0,64}+)(?:-[ \t]{1,8}+)?"
    r"(?P<key>[\w.$/][\w.$/-]{0,127}+)[ \t]{0,8}+:[ \t]{0,64}+)"
    rf"(?P<block>(?:(?:\\r)?\\n(?:(?P=indent)[ \t]{{1,64}}+{_ESCAPED_LINE}|(?P=indent)-[ \t]{_ESCAPED_LINE}"
    r"|[ \t]{0,64}+(?=(?:\\r)?\\n))){1,65536}+)"
)


# --- An INI or TOML table, an XML element ------------------------------------------------------

#: A table's `key = value` line; a placeholder is no key (its `:` assigns nothing), so a line
#: redacted before (`<[REDACTED:email]>`) stays as it is.
_INI_PAIR = re.compile(
    r"(?m)^(?P<head>[ \t]*+(?P<key>[^\s=:#;\[](?:(?!\[REDACTED:)[^=:\n]){0,127}?)[ \t]*+[=:][ \t]*+)"
    r"(?P<value>[^\n]*)"
)


def _ini_table(match: re.Match[str]) -> str:
    """An INI or TOML table's body with each `key = value` replaced, if its header names a
    section (`[secrets]`, `[app.credentials]`, `[secureJsonData]`); else unchanged."""
    parts = match["name"].strip('"').split(".")
    if not any(section_named(part) or part in SECRET_SECTIONS for part in parts):
        return match[0]

    def pair(line: re.Match[str]) -> str:
        return line["head"] + _yaml_value(line["key"].strip("\"'"), line["value"])

    return match["header"] + _INI_PAIR.sub(pair, match["body"])


_INI_TABLE = re.compile(
    r"(?P<header>(?m:^)[ \t]{0,64}+\[\[?(?P<name>[\w.\" -]{1,128}+)\]\]?[ \t]{0,64}+(?=\r?\n))"
    r"(?P<body>(?:\r?\n(?![ \t]{0,64}+\[)[^\n]{0,65536}+){1,65536}+)",
    re.IGNORECASE,
)
_TABLE = _LazyPattern(TABLE, re.IGNORECASE)

#: A JSON string whose text holds an escaped line break.
_JSON_LINES = re.compile(
    r""""(?<!\\")(?=(?:[^"\\\r\n]|\\[^n]){0,65536}+\\n)(?P<body>(?:[^"\\\r\n]|\\.){1,65536}+)\""""
)
#: An escape inside a JSON string: a line break, a tab or a quote is read as one (a CSV's
#: quoted cells), any other kept.
_STRING_ESCAPE = re.compile(r"\\(.)")
_READ_ESCAPES = {"n": "\n", "t": "\t", '"': '"'}


def _json_string_read(match: re.Match[str], redact: Callable[[str], str]) -> str:
    """A JSON string's text redacted by `redact` as raw text is: its escaped line breaks, tabs
    and quotes read, `redact` applied, and written escaped again (a JSON string holds no raw
    line break, tab or quote, so this changes nothing else)."""
    text = _STRING_ESCAPE.sub(lambda e: _READ_ESCAPES.get(e[1], e[0]), match["body"])
    redacted = redact(text)
    if redacted == text:
        return match[0]
    escaped = redacted.replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _json_lines(match: re.Match[str]) -> str:
    """A JSON string's text with its INI tables and secrets' tables redacted as raw text is."""
    return _json_string_read(match, lambda t: _INI_TABLE.sub(_ini_table, _TABLE.sub(table, t)))


_KEY_TABLE = re.compile(KEY_TABLE)
_TABLE_AGAIN = _LazyPattern(TABLE_AFTER_PLACEHOLDER, re.IGNORECASE)


def _json_tables_again(match: re.Match[str]) -> str:
    """A JSON string's text with its tables whose header holds a placeholder read again, as
    `tables.TABLE_AGAIN_RULES` reads raw text's."""
    return _json_string_read(match, lambda t: _TABLE_AGAIN.sub(table, t))


def _json_key_tables(match: re.Match[str]) -> str:
    """A JSON string's text with its tables of a key's column redacted as raw text is."""
    return _json_string_read(match, lambda t: _KEY_TABLE.sub(table, t))


#: The text of an XML element, between a tag's `>` and the next `<`.
_XML_TEXT = re.compile(r">(?P<text>[^<]*[^<\s][^<]*)<")


def _xml_section(match: re.Match[str]) -> str:
    """An XML element named like a section with every text inside it replaced."""
    if not section_named(match["tag"].rsplit(":", 1)[-1]):
        return match[0]
    body = _XML_TEXT.sub(lambda m: f">{_PLACEHOLDER}<", match["body"])
    return f"{match['open']}{body}{match['close']}"


def _value_child(match: re.Match[str]) -> str:
    """A `<Value>` child's text replaced when the element around it, or the `<name>` before
    it, names a secret (`secret_named`) and the text is none a name keeps (`_kept_value`)."""
    name, text = match["name"], match["text"].strip()
    if not secret_named(name) or _kept_value(name, text):
        return match[0]
    return f"{match['head']}[REDACTED:password]"


#: The space between two tags: the line breaks of pretty-printed XML, raw or escaped.
_TAG_GAP = r"(?:[ \t\r\n]|\\[nrt]){0,64}+"

#: A signing key file's line of base64 (minisign's, signify's: a comment line, then the key).
_KEY_FILE_LINE = r"[A-Za-z0-9+/]{40,4096}+={0,2}(?![A-Za-z0-9+/=])"
#: A minisign or signify secret key, known by its first bytes: `Ed` then minisign's scrypt
#: and BLAKE2 (`EdScB2`), or none (`Ed\0\0B2`, unencrypted), or signify's bcrypt_pbkdf (`EdBK`).
#: A public key starts `Ed` then its id.
_SIGNING_SECRET_KEY = (
    r"(?<![A-Za-z0-9+/])(?:RWRTY0Iy|RWQAAEIy|RWRCSw)[A-Za-z0-9+/]{80,4096}+={0,2}"
    r"(?![A-Za-z0-9+/=])"
)

SECTION_RULES: tuple[_Rule, ...] = (
    # A minisign, rsign or signify secret key file: `untrusted comment:` naming a secret key,
    # then the key's one line of base64 (its break raw, or escaped inside a JSON string),
    # which goes; and such a key pasted without its comment, known by its first bytes.
    _rule(
        r"(untrusted comment:[^\r\n\\]{0,256}?secret key[^\r\n\\]{0,256}+"
        r"(?:\r?\n|(?:\\r)?\\n)[ \t]{0,16}+)" + _KEY_FILE_LINE,
        r"\1[REDACTED:private-key]",
        "untrusted comment:",
    ),
    _rule(
        _SIGNING_SECRET_KEY,
        "[REDACTED:private-key]",
        *("rwrty0iy", "rwqaaeiy", "rwrcsw"),
        fold_needles=True,  # an `R` starts no needle as written; `r` starts folded ones
    ),
    # An object after a key (`"secrets": {…}`, `secrets = {…}`, `'secrets': {…}`); the key
    # is read back from the text before the assignment, so that the engine jumps from one
    # `:` or `=` to the next.
    _rule(
        _OBJECT_AFTER_KEY.pattern,
        _object,
        *_SECRET_NAME_NEEDLES,
        *_SECRET_SECTION_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # A YAML key heading a block (`secrets:` then `  db: …`; a Kubernetes Secret's `data:`);
    # also inside a JSON string.
    _rule(
        _YAML_BLOCK.pattern,
        _yaml_block,
        *_SECRET_NAME_NEEDLES,
        *_SECRET_SECTION_NEEDLES,
        flags=re.IGNORECASE,
    ),
    _rule(
        _ESCAPED_YAML_BLOCK.pattern,
        _escaped_yaml_block,
        *_SECRET_NAME_NEEDLES,
        *_SECRET_SECTION_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # An INI or TOML table (`[secrets]` then `db = …` up to the next table).
    _rule(
        _INI_TABLE.pattern,
        _ini_table,
        *_SECRET_NAME_NEEDLES,
        *_SECRET_SECTION_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # A JSON string holding lines (escaped `\\n`): its INI tables and the tables of
    # `tables.py`, read in the string's text as they are in raw text.
    _rule(_JSON_LINES.pattern, _json_lines, *_SECRET_NAME_NEEDLES, flags=re.IGNORECASE),
    # … and its tables with a key's column (`name,hmacKey`), their needles as written.
    _rule(_JSON_LINES.pattern, _json_key_tables, *KEY_COLUMN_NEEDLES),
    # An XML element named like a secret whose text is its `<Value>` child's (unattend.xml's
    # `<Password><Value>…</Value>`, `<AdministratorPassword>`), and a `<value>` after a
    # `<name>` naming a secret (Hadoop's `<property><name>fs.s3a.secret.key</name><value>…`).
    _rule(
        rf"(?P<head><(?P<name>[A-Za-z_][\w:.-]{{0,64}}+)(?:[ \t][^<>/]{{0,1024}}+)?>{_TAG_GAP}"
        rf"<value(?:[ \t][^<>/]{{0,1024}}+)?>{_TAG_GAP})(?!\[REDACTED)(?P<text>[^<]{{1,4096}}+)(?=</value>)",
        _value_child,
        "<value",
        flags=re.IGNORECASE,
    ),
    _rule(
        rf"(?P<head><name>{_TAG_GAP}(?P<name>[^<>\r\n]{{1,256}}+){_TAG_GAP}</name>{_TAG_GAP}"
        rf"<value>{_TAG_GAP})(?!\[REDACTED)(?P<text>[^<]{{1,4096}}+)(?=</value>)",
        _value_child,
        "<name>",
        flags=re.IGNORECASE,
    ),
    # An XML element named like a section (`<secrets><db>…</db></secrets>`).
    _rule(
        rf"(?P<open><(?P<tag>[\w:.-]{{0,64}}?{SECTION_WORD})"
        r"(?:[ \t\r\n][^<>]{0,4096}+)?>)(?P<body>(?:(?!</(?P=tag)>)[^\x00]){1,65536}?)"
        r"(?P<close></(?P=tag)>)",
        _xml_section,
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
)

#: A JSON string's tables whose header a placeholder made short enough to read, read again
#: after the rules that write a value's placeholder (`rules.py`), as raw text's are
#: (`tables.TABLE_AGAIN_RULES`).
JSON_TABLE_AGAIN_RULES: tuple[_Rule, ...] = (
    _rule(_JSON_LINES.pattern, _json_tables_again, "redacted:", fold_needles=True),
)
