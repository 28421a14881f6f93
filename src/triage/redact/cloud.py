"""Rules for cloud credentials: AWS's request signatures and other signed URLs, AWS access key
ids and secret keys (by the name before them, then by shape alone), Datadog's keys, Azure's
account keys and shared access signatures, Key Vault's secret bundles; and the value an AWS error
quotes back for a secret's member. The signing rules come before the access key rule, so that a
credential scope goes whole rather than in pieces.
"""

from __future__ import annotations

import binascii
import re

from triage.redact.disguises import _layout_free
from triage.redact.named_objects import NAMED_OBJECT_RULES
from triage.redact.names import AZURE_KEY as _AZURE_KEY
from triage.redact.names import secret_named
from triage.redact.rule import (
    _ASSIGN,
    _B64,
    _END,
    _LINES,
    _OPEN_QUOTE,
    _START,
    _prefixed,
    _random_looking,
    _replaced_value,
    _Rule,
    _rule,
    _spellings,
    _token_like,
    holds_run,
)

#: A key `key1` or `key2` names that is shorter than an Azure key (`_AZURE_KEY`): 16 to 31
#: base64 characters, its padding after them.
_SHORT_AZURE_KEY = r"[A-Za-z0-9+/]{16,31}+={0,2}(?![A-Za-z0-9+/=_-])"
#: The creation time the CLI now prints before a storage account key's name (`-o tsv`,
#: `-o table`: `2026-01-01T00:00:00.000000+00:00  key1  FULL  …`), and the blank after it
#: (a tab escaped inside a JSON string too, as the row's other blanks).
_CREATED_CELL = (
    r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?(?:[ \t]|\\t){1,32}+)?"
)


def _azure_key_replaced(match: re.Match[str]) -> str:
    """The key after `key1`/`primaryKey` replaced; a shorter one (`short`) only when it reads
    as random, upper and lower case and digits and few words (`_token_like`)."""
    short = match["short"]
    if short is not None and not (_random_looking(short) and _token_like(short)):
        return match[0]
    return f"{match['head']}[REDACTED:azure-key]"


_AWS_KEY_PREFIXES = "AKIA ASIA AGPA AIDA AROA AIPA ANPA ANVA APKA ABIA ACCA".split()  # noqa: SIM905


#: A line of base64 right after a line break (a YAML block's indentation before it) …
_BASE64_LINE_AFTER = re.compile(r"\r?\n[ \t]{0,16}(?:[A-Za-z0-9+/_-]{4}|[A-Za-z0-9+/_-]{2,3}=)")
#: … and right before one: the end of the text before a match, at most 22 characters of it.
_BASE64_LINE_BEFORE = re.compile(r"[A-Za-z0-9+/_-]{4}\r?\n[ \t]{0,16}\Z")


def _in_url(text: str, start: int) -> bool:
    """True if `text` at `start` is inside a URL: the run of non-space before it (at most
    2,048 characters back) holds `://`."""
    before = text[max(0, start - 2048) : start]
    return "://" in (before.rsplit(None, 1) or [""])[-1]


#: A piece of base64url's run right before a match, after its `-` or `_` (`…-` `<40>`; two in
#: a row, `__`, are as likely), and right after one (`<40>` `_…`): up to the run's next `-` or
#: `_`, 64 characters at most.
_PIECE_BEFORE = re.compile(r"[A-Za-z0-9]{1,64}[_-]{1,4}\Z")
_PIECE_AFTER = re.compile(r"[_-]{1,4}([A-Za-z0-9]{1,64})")
#: A name's word, which a secret may follow (`prefix-<secret>`): four letters or more of one case.
_NAME_WORD = re.compile(r"[a-z]{4,64}|[A-Z]{4,64}")


def _inside_base64url(match: re.Match[str]) -> bool:
    """True if the match, holding no `/` or `+`, is a piece of a longer base64url run: a `-`
    or `_` right before or after it, the run going on beyond with a piece that is no name's
    word (`_NAME_WORD`) on one side at least (a JWKS modulus, `…h7_<40>-kTv…`). An AWS secret
    is base64: a piece of it in base64url's alphabet stands alone, or after a name's words
    (`AWS_SECRET_<40>`)."""
    if "/" in match[0] or "+" in match[0]:
        return False
    text, start, end = match.string, match.start(), match.end()
    before = _PIECE_BEFORE.search(text, max(0, start - 68), start)
    after = _PIECE_AFTER.match(text, end)
    pieces = [
        *([before[0].rstrip("_-")] if before is not None else []),
        *([after[1]] if after is not None else []),
    ]
    return any(_NAME_WORD.fullmatch(piece) is None for piece in pieces)


def _aws_secret(match: re.Match[str]) -> str:
    """The placeholder for 40 base64 characters (an AWS secret's shape), unless they are a
    piece of a longer base64url run (`_inside_base64url`), run over a URL's `/` (a host's end
    and its path's segments: the path rules judge those), or are a line of base64 wrapped over
    lines (a line of base64 next to theirs) and decode to text: such a run is the base64 step's
    to judge whole (`_redacted_base64`), or a secret's tail on the next line would be left. An
    AWS secret, 30 random bytes, never decodes to text."""
    text, start = match.string, match.start()
    if _inside_base64url(match):
        return match[0]
    if "/" in match[0] and _in_url(text, start):
        return match[0]  # a host's end and path segments (`com/x/y/<32>`), not a secret
    if (
        _BASE64_LINE_AFTER.match(text, match.end()) is None
        and _BASE64_LINE_BEFORE.search(text[max(0, start - 22) : start]) is None
    ):
        return "[REDACTED:aws-secret]"
    decoded = binascii.a2b_base64(match[0]).decode(errors="replace")
    # A character cut by the line's edges decodes to U+FFFD there (up to 3 bytes each side).
    core = decoded.strip("\ufffd")
    text_like = (
        len(core) >= len(decoded) - 6
        and "\ufffd" not in core
        and (core.isprintable() or _layout_free(core).isprintable())
    )
    return match[0] if text_like else "[REDACTED:aws-secret]"


#: A member's path in an AWS error (`value`, `masterUserPassword`, `tags.1.member.value`,
#: `Parameters[0].ParameterValue`): its members, between dots and brackets.
_MEMBER_PARTS = re.compile(r"[.\[\]/:]+")


def _secret_member(path: str) -> bool:
    """Whether an AWS error's member path (or a parameter's name, `/app/db/password`) names a
    secret: its last member does (`secret_named`: `masterUserPassword`, `SecretString`), or it
    is the request's own top-level `value`, which SSM's PutParameter stores (a SecureString,
    for all the error says); a tag's `value` is a label's."""
    members = [member for member in _MEMBER_PARTS.split(path) if member]
    if not members:
        return False
    return secret_named(members[-1]) or (len(members) == 1 and members[0].lower() == "value")


def _refused_value(match: re.Match[str]) -> str:
    """An AWS error's quoted value (group `value`, after group 1) replaced when the member it
    was refused for names a secret (`_secret_member`); an empty value, or one already a
    placeholder, stays."""
    value = match["value"]
    if not value or value.startswith("[REDACTED") or not _secret_member(match["member"]):
        return match[0]
    return f"{match[1]}[REDACTED:password]{match.string[match.end('value') : match.end()]}"


#: A Key Vault's host (Azure's public cloud, China's, US Government's, Germany's) and the
#: path of a secret on it: what a secret bundle's `id` holds.
_KEY_VAULT_SECRET = (
    r"https://[A-Za-z0-9-]{3,24}\.vault\.(?:azure\.net|azure\.cn|usgovcloudapi\.net"
    r"|microsoftazure\.de)(?::443)?/secrets/"
)
#: A JSON member's quote: raw, or escaped inside a JSON string (the group `e` holds its
#: backslash: `_JSON_QUOTE` after it is the same kind).
_FIRST_QUOTE = r'(?P<e>\\)?"'
_JSON_QUOTE = r'(?(e)\\)"'
#: A JSON string's characters up to its closing quote, raw or inside a JSON string.
_JSON_STRING_CHARS = r'(?(e)(?:\\\\\\"|\\[^"]|[^"\\]){1,65536}+|(?:\\.|[^"\\]){1,65536}+)'
#: What lies between two members of one object: members, and up to two objects inside it one
#: level deep (a bundle's `tags`), never its closing brace. Braces split it one way only, and
#: its bounds keep the read from each start short.
_SAME_OBJECT = r"[^{}]{0,1024}?(?:\{[^{}]{0,1024}+\}[^{}]{0,1024}?){0,2}?"

#: A `random_password`'s made value in Terraform's state (`"result": "…"`) or a plan (`+ result
#: = "…"`), and its bcrypt hash: the resource exists to make a password.
_RANDOM_PASSWORD_RESULT = re.compile(
    r'((?:"(?:result|bcrypt_hash)"|(?<![\w"])(?:result|bcrypt_hash))[ \t]{0,3}[:=][ \t]{0,3}")'
    r'(?!\[REDACTED)[^"\r\n]{1,4096}+(?=")'
)


def _random_password_results(match: re.Match[str]) -> str:
    """Each `result` and `bcrypt_hash` value in a stretch after `random_password` replaced."""
    return _RANDOM_PASSWORD_RESULT.sub(r"\1[REDACTED:password]", match[0])


CLOUD_RULES: tuple[
    _Rule, ...
] = (  # AWS request signing: a presigned URL's query, the headers, a SigV4 Authorization header.
    # Before the access key rule, so a credential scope goes whole rather than in pieces.
    _rule(
        rf"({_START}X-Amz-(?:Signature|Credential|Security-Token)"
        rf"{_ASSIGN}{_OPEN_QUOTE})(?!\[REDACTED)[^&\s\"'<>#\\]{{1,4096}}",
        _replaced_value("[REDACTED:aws-signature]"),
        "x-amz-",
        flags=re.IGNORECASE,
    ),
    _rule(
        r"(Signature=(?<![A-Za-z0-9-](?<!\\[nrt]).{10}))[0-9a-f]{64}(?![0-9a-f])",
        r"\1[REDACTED:aws-signature]",
        "Signature=",
    ),
    # Other signed URLs: Signature= in a query (S3's older signing, CloudFront), Google Cloud
    # Storage's X-Goog-Signature and X-Goog-Credential.
    _rule(
        rf"((?=[sx])(?:(?<=[?&;#])Signature|{_START}X-Goog-(?:Signature|Credential))"
        rf"{_ASSIGN}{_OPEN_QUOTE})(?!\[REDACTED)[^&\s\"'<>#\\]{{1,4096}}",
        _replaced_value("[REDACTED:url-signature]"),
        "signature=",
        "x-goog-",
        flags=re.IGNORECASE,
    ),
    _rule(
        rf"{_prefixed(*_AWS_KEY_PREFIXES)}[A-Z0-9]{{16}}{_END}",
        "[REDACTED:aws-key]",
        *_AWS_KEY_PREFIXES,
    ),
    # … and one glued to a lower-case word (a label key `kAKIA…`, `idAKIA…`, `AKIA…secret`): the
    # change of case is its edge. Only the shape AWS issues (16 characters of base32, A-Z and
    # 2-7), not after a digit or `0x`, so an upper-case hex run (`0xACCA01…`) stays.
    _rule(
        rf"(?:{'|'.join(_AWS_KEY_PREFIXES)})(?<![A-Z0-9].{{4}})(?<!0x.{{4}})[A-Z2-7]{{16}}"
        r"(?![A-Z0-9])",
        "[REDACTED:aws-key]",
        *_AWS_KEY_PREFIXES,
    ),
    # Temporary credentials' session tokens (STS, SSO, the instance role's): base64 whose first
    # bytes AWS writes alike; Bedrock's API keys (ABSK + base64, and the short-lived ones, a
    # presigned URL in base64 after bedrock-api-key-).
    _rule(
        rf"(?:{_prefixed('IQoJb3JpZ2luX2Vj', 'FwoGZXIvYXdzE', 'ABSK')}"
        r"|bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t)"
        r"(?:[A-Za-z0-9+/=]|%(?:2[BbFf]|3[Dd])){60,8192}",
        "[REDACTED:aws-secret]",
        "IQoJb3JpZ2luX2Vj",
        "GZXIvYXdzE",  # FwoG…'s, without the F no other needle starts with
        "ABSK",
        "bedrock-api-key-",
    ),
    # A secret key by context: aws_secret_access_key = …, "SecretAccessKey": "…"
    _rule(
        rf"(secret[_.-]?access[_.-]?key|aws[_.-]?secret(?:[_.-]?key)?)(\W{{1,5}}){_B64}{{40}}(?!{_B64})",
        r"\1\2[REDACTED:aws-secret]",
        "secret",
        flags=re.IGNORECASE,
    ),
    # Datadog keys have no prefix: 32 hex (API key) or 40 hex (application key) after a name.
    _rule(
        rf"({_START}(?:dd|datadog)[_.-]?(?:api|app|application)[_.-]?key"
        rf"{_ASSIGN}{_OPEN_QUOTE})[0-9a-f]{{32}}(?:[0-9a-f]{{8}})?(?![0-9a-z])",
        r"\1[REDACTED:datadog-key]",
        "dd_",
        "dd-",
        "dd.",
        "ddap",
        "datadog",
        flags=re.IGNORECASE,
    ),
    # Azure connection strings (…;AccountName=x;AccountKey=…;…) and shared access signatures;
    # the key under its name in YAML or JSON too (`AccountKey: …`), whatever its first
    # characters (`/t/…`, `+x…`).
    _rule(
        rf"({_START}(?:Account|SharedAccess)Key{_ASSIGN}{_OPEN_QUOTE})[A-Za-z0-9+/=%]{{16,256}}",
        r"\1[REDACTED:azure-key]",
        "accountkey",
        "sharedaccesskey",
        flags=re.IGNORECASE,
    ),
    _rule(
        rf"({_START}SharedAccessSignature(?:[ \t]{{0,3}}=[ \t]{{0,3}}|[ \t]{{1,3}}))"
        r"[^;\s\"'<>]{8,2048}",
        _replaced_value("[REDACTED:azure-sas]"),
        "sharedaccesssignature",
        flags=re.IGNORECASE,
    ),
    # Azure Storage's 403 echoes the request's Shared Key signature (`The MAC signature found
    # in the HTTP request '…' is not the same as any computed signature`): an HMAC with the
    # account key, which a replay of that request passes, as a SAS's `sig=` does.
    _rule(
        r"(MAC signature found in the HTTP request[ \t]{1,3}')[A-Za-z0-9+/=]{16,256}+(?=')",
        r"\1[REDACTED:azure-sas]",
        "mac signature found",
        flags=re.IGNORECASE,
    ),
    # The keys an `az … keys list` prints by their own names: Cognitive Services' (Azure
    # OpenAI's) `key1`/`key2`, and Service Bus', Event Hubs', SignalR's, Maps', IoT Hub's
    # `primaryKey`/`secondaryKey` (Cosmos DB's `primaryMasterKey` is a master key's name),
    # in JSON or YAML (`-o yaml`). Only a key's shape goes (`_AZURE_KEY`): a database's
    # `primaryKey: id` names a column.
    # A key shorter than Azure's (16-31 base64 characters: one cut short, another service's
    # `key1`) goes only when it reads as random (`_short_azure_key`): `key1=value1` and
    # `key1=PaymentsService2024` are a map's first value.
    _rule(
        rf"(?P<head>{_START}(?:key[12]|(?:primary|secondary)[_-]?key)(?![A-Za-z0-9])"
        rf"{_ASSIGN}{_OPEN_QUOTE})(?!\[REDACTED)"
        rf"(?:{_AZURE_KEY}|(?P<short>{_SHORT_AZURE_KEY}))",
        _azure_key_replaced,
        "key1",
        "key2",
        *_spellings("primary", "key"),
        *_spellings("secondary", "key"),
        flags=re.IGNORECASE,
    ),
    # … and as a table prints them (`-o table`, `-o tsv`): a storage account's row (`key1`
    # or `kerb1`, its permissions, the key under `Value`), and Cognitive Services' row of the
    # two keys under the `Key1  Key2` header and its rule of dashes.
    *(
        rule
        for line_break, line_char in _LINES
        for rule in (
            _rule(
                r"(?P<head>(?:(?m:^)|(?<=\\n)|(?<=(?<!\\)\"))"
                rf"[ \t]{{0,16}}+{_CREATED_CELL}(?:key|kerb)[12]"
                r"(?:[ \t]|\\t){1,32}+(?:FULL|READ)(?:[ \t]|\\t){1,32}+)"
                rf"(?!\[REDACTED){_AZURE_KEY}",
                r"\g<head>[REDACTED:azure-key]",
                "key1",
                "key2",
                "kerb1",
                "kerb2",
                flags=re.IGNORECASE,
            ),
            _rule(
                r"(?P<head>(?:(?m:^)|(?<=\\n)|(?<=(?<!\\)\"))"
                rf"[ \t]{{0,16}}+Key1[ \t]{{2,128}}+Key2"
                rf"[ \t]{{0,16}}+{line_break}[ \t]{{0,16}}+-{{4,128}}+[ \t]{{2,16}}+-{{4,128}}+"
                rf"[ \t]{{0,16}}+{line_break}[ \t]{{0,16}}+)(?!\[REDACTED){_AZURE_KEY}"
                rf"(?P<gap>[ \t]{{1,128}}+){_AZURE_KEY}",
                r"\g<head>[REDACTED:azure-key]\g<gap>[REDACTED:azure-key]",
                "key1",
                fold_needles=True,
            ),
        )
    ),
    # The signature is base64, or base64url in a Logic Apps (Teams workflow) URL.
    _rule(r"(sig=(?<=[?&;#]sig=))[A-Za-z0-9%+/=_-]{16,256}", r"\1[REDACTED:azure-sas]", "sig="),
    # … and an AWS secret key by shape alone: exactly 40 base64 characters mixing upper case,
    # lower case and digits (a hex digest or a git sha is lower case only, so it stays). A `=`
    # may come before it (`key=…`: padding only ends a base64 string) but not after it. A line
    # of base64 wrapped over lines that decodes to text is left to the base64 step
    # (`_aws_secret`). Not right after a `%`: a percent-escape's hex digits (`%2F…`) start no
    # secret, the decoded token is read instead (`_scrub_escaped`).
    _rule(
        rf"(?<![A-Za-z0-9/+%](?<!\\[nrt]))(?={_B64}{{40}}(?![A-Za-z0-9/+=]))"  # the length, cheapest first
        rf"(?={_B64}{{0,39}}[A-Z])(?={_B64}{{0,39}}[a-z])(?={_B64}{{0,39}}[0-9]){_B64}{{40}}",
        _aws_secret,
        gate=holds_run(40),
    ),
    # The value an AWS error quotes back, when the member or parameter it was refused for
    # names a secret (`_secret_member`): AWS's validation message (`Value '…' at 'value'
    # failed to satisfy constraint`, a quote inside the value doubled or not: it ends at the
    # quote the member's path follows), a parameter's (`parameter value … for parameter name
    # DbPassword`, `Parameter value '…' for /app/db/password`), and botocore's check of a
    # request's types (`Invalid type for parameter Value, value: …, type: <class …>`). A
    # value is read to the next message's start at most, so each start's read is its own.
    _rule(
        r"((?<![A-Za-z])Value ')(?P<value>(?:(?!Value ')(?s:.)){0,65536}?)"
        r"' at '(?P<member>[\w.\[\]-]{1,256}+)' failed to satisfy constraint",
        _refused_value,
        "satisfy constraint",
    ),
    _rule(
        r"((?<![A-Za-z])parameter value (?P<q>')?)"
        r"(?P<value>(?(q)[^'\r\n]{1,4096}+|[^\s'\"\\]{1,4096}+))(?(q)')"
        r" for (?:parameter (?:name )?)?(?P<member>[\w/.:-]{1,512}+)",
        _refused_value,
        "parameter value ",
        flags=re.IGNORECASE,
    ),
    _rule(
        r"(Invalid type for parameter (?P<member>[\w.\[\]-]{1,256}+), value: )"
        r"(?P<value>(?:(?!Invalid type for parameter )[^\r\n]){1,4096}?)(?=, type: <class )",
        _refused_value,
        "Invalid type for parameter",
    ),
    # A Key Vault secret's bundle (`az keyvault secret show` and `set`, the REST API's
    # response): its `value` is the secret whatever the secret is called, known by the
    # bundle's `id` on a Key Vault's host in the same object (`_SAME_OBJECT`), before it
    # (`az`'s members in order) or after it (the REST API's `value` first); as JSON, raw or
    # inside a JSON string, and as `-o yaml` prints it (`id:` then `value:` at its indent).
    _rule(
        rf"(?P<head>{_FIRST_QUOTE}id{_JSON_QUOTE}[ \t]{{0,3}}:[ \t]{{0,3}}{_JSON_QUOTE}"
        rf"{_KEY_VAULT_SECRET}{_SAME_OBJECT}{_JSON_QUOTE}value{_JSON_QUOTE}[ \t]{{0,3}}:"
        rf"[ \t]{{0,3}}{_JSON_QUOTE})(?!\[REDACTED){_JSON_STRING_CHARS}(?={_JSON_QUOTE})",
        r"\g<head>[REDACTED:password]",
        "secrets/",
    ),
    _rule(
        rf"(?P<head>{_FIRST_QUOTE}value{_JSON_QUOTE}[ \t]{{0,3}}:[ \t]{{0,3}}{_JSON_QUOTE})"
        rf"(?!\[REDACTED){_JSON_STRING_CHARS}"
        rf"(?={_JSON_QUOTE}{_SAME_OBJECT}{_JSON_QUOTE}id{_JSON_QUOTE}[ \t]{{0,3}}:[ \t]{{0,3}}"
        rf"{_JSON_QUOTE}{_KEY_VAULT_SECRET})",
        r"\g<head>[REDACTED:password]",
        "secrets/",
    ),
    _rule(
        rf"(?P<head>(?m:^)(?P<indent>[ \t]{{0,16}}+)id:[ \t]{{1,8}}{_KEY_VAULT_SECRET}[^\s]{{1,512}}+"
        r"(?:\r?\n(?P=indent)(?!value:)[^\r\n]{0,4096}+){0,64}?\r?\n(?P=indent)value:[ \t]{1,8})"
        r"(?!\[REDACTED|null(?![^\r\n]))[^\s][^\r\n]{0,65535}+",
        r"\g<head>[REDACTED:password]",
        "secrets/",
    ),
    # Google Secret Manager's answer to an access (`gcloud --log-http secrets versions
    # access`, the API's): the payload's `data` is the secret in base64, known by the
    # `dataCrc32c` checksum beside it in its object, after it or before it.
    _rule(
        rf"(?P<head>{_FIRST_QUOTE}data{_JSON_QUOTE}[ \t]{{0,3}}:[ \t]{{0,3}}{_JSON_QUOTE})"
        rf"(?!\[REDACTED)[A-Za-z0-9+/_=-]{{1,65536}}+"
        rf"(?={_JSON_QUOTE}[^{{}}]{{0,1024}}?{_JSON_QUOTE}dataCrc32c{_JSON_QUOTE})",
        r"\g<head>[REDACTED:password]",
        "dataCrc32c",
    ),
    _rule(
        rf"(?P<head>{_FIRST_QUOTE}dataCrc32c{_JSON_QUOTE}[^{{}}]{{0,1024}}?"
        rf"{_JSON_QUOTE}data{_JSON_QUOTE}[ \t]{{0,3}}:[ \t]{{0,3}}{_JSON_QUOTE})"
        r"(?!\[REDACTED)[A-Za-z0-9+/_=-]{1,65536}+",
        r"\g<head>[REDACTED:password]",
        "dataCrc32c",
    ),
    # Terraform's `random_password`: its `result` (and `bcrypt_hash`) in the state or a plan,
    # each within 4 KB of the one before (`_random_password_results`); read once a stretch.
    _rule(
        r"random_password(?>(?s:.){0,4096}?(?:result|bcrypt_hash)\"?[ \t]{0,3}[:=][ \t]{0,3}\""
        r"(?!\[REDACTED)[^\"\r\n]{1,4096}+\"){1,256}+",
        _random_password_results,
        "random_password",
    ),
    # Hadoop's Azure storage secrets, one property per account or container, whose name ends
    # in the account's host (`fs.azure.account.key.<account>.dfs.core.windows.net`, the
    # OAuth client's secret, a container's SAS token): after `=`, `:` or a space, or in
    # core-site.xml's `<name>…</name><value>…</value>`; Spark's `spark.hadoop.` before it. A
    # word after a space stays (prose: "fs.azure.account.key.acct is missing").
    _rule(
        r"(?P<head>(?<![\w-])fs\.azure\.(?:account\.key|account\.oauth2\.client\.secret"
        r"|sas(?:\.fixed\.token)?)(?:\.[\w-]{1,253}+){1,12}+"
        # After a space, a value long enough to be no word of prose.
        r"(?:[ \t]{0,3}[=:][ \t]{0,3}|[ \t]{1,3}(?=[^\s<\"'\\]{16})"
        r"|</name>(?:\s|\\[nrt]){0,64}+<value>(?:\s|\\[nrt]){0,64}+))"
        r"(?!\[REDACTED|\$)[^\s<\"'\\]{1,4096}+",
        r"\g<head>[REDACTED:password]",
        "fs.azure.",
        fold_needles=True,
    ),
    # A name/value object (SSM's Parameter, an env entry, a tag) whose value stands apart
    # from its name: read as `Redactor.value` reads it.
    *NAMED_OBJECT_RULES,
)
