"""Rules for logins told in shapes the name rules do not read: a session's value under a bare
`session` name (by its shape), a user:password pair with no URL scheme (before a host, or
after a name such as `creds`), an `expect` script's answer to a password prompt, SNMP's
community strings (a command's `-c`, a configuration's `community`), and the other secrets of
a network device's configuration (IOS, Junos, FortiOS) that a config-diff alert quotes.
"""

from __future__ import annotations

import re

from triage.redact.gcloud import gcloud_secret_reference
from triage.redact.rule import (
    _ASSIGN,
    _LINES,
    _OPEN_QUOTE,
    _PROSE_AFTER_OPTION,
    _QUOTED_CHAR,
    _key_shaped,
    _prefixed,
    _Rule,
    _rule,
)

#: A session's value: token characters, 16 or more, that no character of a time, a path or a
#: host follows.
_SESSION_VALUE = r"[A-Za-z0-9_.+/=%-]{16,4096}+(?![A-Za-z0-9_.+/=%:@-])"
_SESSION_VALUE_WHOLE = re.compile(_SESSION_VALUE)
#: A key whose last word is `session` (`session`, `user_session`, `userSession`).
_SESSION_KEY = re.compile(r"(?:\A|[^A-Za-z0-9]|(?<=[a-z0-9])(?=S))session\Z", re.IGNORECASE)
_ALNUM_PARTS = re.compile(r"[A-Za-z0-9]+")


def _session_shaped(value: str) -> bool:
    """A session id, not a name or a date: key-shaped (`_key_shaped`), or its parts holding
    letters and digits together make half its letters and digits or more
    (`s3cr3t-s3ss10n-v4lu3`, a UUID; `2026-12-05-morning-batch-01` is a date and words)."""
    if _key_shaped(value):
        return True
    parts = _ALNUM_PARTS.findall(value)
    mixed = sum(
        len(p) for p in parts if any(c.isdigit() for c in p) and any(c.isalpha() for c in p)
    )
    return 2 * mixed >= sum(map(len, parts)) > 0 and len(value) >= 16


def session_named_value(name: str, value: object) -> bool:
    """Whether a JSON value under `name` is a session's by the rule the text follows: a key
    whose last word is `session` and a session-shaped value (`_session_shaped`)."""
    return (
        isinstance(value, str)
        and _SESSION_KEY.search(name) is not None
        and _SESSION_VALUE_WHOLE.fullmatch(value) is not None
        and _session_shaped(value)
    )


#: A key naming SNMP's community (`snmp_community`, `rocommunity`, `community_string`).
_COMMUNITY_KEY = re.compile(
    r"(?:\A|[^A-Za-z0-9])(?P<name>(?:snmp[_.-]?|ro|rw)?community(?:[_.-]?(?:string|name|str))?)\Z",
    re.IGNORECASE,
)
#: A key naming a user:password pair, and the pair's shape: not a URL's `scheme://`, which
#: says where the credentials are (`creds: s3://bucket/creds.json`), as the text rule reads it.
_CREDS_KEY = re.compile(r"(?:\A|[^A-Za-z0-9])creds?\Z", re.IGNORECASE)
_PAIR_VALUE = re.compile(r"[^\s:@]{1,128}:(?!//)\S{1,256}")


def login_named_value(name: str, value: object) -> bool:
    """Whether a JSON value under `name` is a login by the rules the text follows: a
    session's id (`session_named_value`), an SNMP community that is no default (a bare
    `community` only with letters and digits), a user:password pair under `creds`."""
    if not isinstance(value, str):
        return False
    folded = name.lower()  # most keys name none of them: one test each before the patterns
    if "session" in folded:
        return session_named_value(name, value)
    community = _COMMUNITY_KEY.search(name) if "community" in folded else None
    if community is not None:
        bare = community["name"].lower() == "community"
        mixed = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
        return value.lower() not in _DEFAULT_COMMUNITIES and (mixed or not bare)
    return (
        "cred" in folded
        and _CREDS_KEY.search(name) is not None
        and _PAIR_VALUE.fullmatch(value) is not None
    )


def _session_value(match: re.Match[str]) -> str:
    """The match with its value replaced if it is session-shaped; else unchanged."""
    if not _session_shaped(match["value"]):
        return match[0]
    return f"{match['head']}[REDACTED:password]"


#: A password before a host, in a pair with no scheme (`app:pw@db:5432/app`): the host is
#: followed by a port or a path, as a DSN's is (an e-mail's domain, an image's `@sha256:` and
#: scp's `user@host:path` are not); a password of digits alone is a port or a time.
_HOST = r"[A-Za-z0-9.-]{1,253}+(?::[0-9]{1,5}(?![0-9A-Za-z])|/)"
_HOST_AFTER = rf"(?={_HOST})"

#: The user before a schemeless pair's `:`: it starts a word (not a URL's, a path's, an
#: e-mail's or a placeholder's part), and is no `mailto`.
_USER_BEFORE = re.compile(
    r"(?:(?<![A-Za-z0-9._%+/:@\\\[\]-])|(?<=\\[nrt]))(?!mailto\Z)[A-Za-z0-9._-]{1,64}+\Z"
)


def _schemeless_password(match: re.Match[str]) -> str:
    """The match (`:password@`) with its password replaced when a user stands before it
    (`_USER_BEFORE`); else unchanged."""
    start = match.start()
    if _USER_BEFORE.search(match.string, max(0, start - 65), start) is None:
        return match[0]
    return ":[REDACTED:password]@"


#: SNMP's published default communities: knowing one is no secret, and a reader should see a
#: device still answers to it.
_DEFAULT_COMMUNITIES = frozenset({"public", "private"})


def _assigned_key(match: re.Match[str], value: str) -> bool:
    """Under a bare `community`: a value given by `:` or `=` that holds letters and digits."""
    separator = match["head"][len(match["name"]) :]
    return (
        any(c in separator for c in ":=")
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
    )


def _community(match: re.Match[str]) -> str:
    """The match with its community replaced, unless it is a default (`public`, `private`)
    or, under a bare `community` name, is not assigned a value of letters and digits
    (`community: open source`, `community 2024`)."""
    value = match["value"]
    if value.lower() in _DEFAULT_COMMUNITIES or value.startswith(("$", "{{", "%")):
        return match[0]
    if (match["name"] or "").lower() == "community" and not _assigned_key(match, value):
        return match[0]
    return f"{match['head']}[REDACTED:password]"


#: A value quoted whole (its quote the group `q`) up to its closing quote, or unquoted to a
#: space or a quote.
_QUOTED_OR_BARE = rf"""(?(q){_QUOTED_CHAR}{{1,512}}+(?=(?P=q))|[^\s"'\\<>,;]{{1,512}}+)"""
#: A character of one line, raw or inside a JSON string (where an escaped break ends it).
_LINE_CHAR = r"(?:[^\r\n\\]|\\(?![nr]))"

#: The end of a device config's line, raw or inside a JSON string (or the string's end).
_LINE_END = r"""(?=[ \t]{0,8}+(?:$|\r?\n|\\[rn]|"))"""
#: A device config's value: quoted whole (Junos), or a run to a space that is no word of
#: prose ("the authentication-key is rotated", "pre-shared-key for each peer").
_DEVICE_VALUE = rf"""(?P<q>\\?["'])?(?!\[REDACTED)(?(q)|(?!{_PROSE_AFTER_OPTION}))(?P<value>{_QUOTED_OR_BARE})"""


def _typed_password(match: re.Match[str]) -> str:
    """IOS's `password|secret <type> <value>` with its value replaced: type 0 is the clear
    text, 6 and 7 reversible encodings (so the secret itself), 4, 5, 8 and 9 one-way hashes,
    blanked as a hash is elsewhere (crackable offline); the type digit stays. A type 7 value
    is hex, so `password 7 times` is no config line. Huawei's words: `simple` (clear),
    `cipher` (reversible), `irreversible-cipher` (a hash)."""
    kind, value = match["type"].lower(), match["value"]
    if kind == "7" and _HEX_WHOLE.fullmatch(value) is None:
        return match[0]
    if len(kind) > 1 and _prose_word(value):
        return match[0]  # "the password simple enough"
    hashed = kind == "irreversible-cipher" or (len(kind) == 1 and kind in "4589")
    label = "password-hash" if hashed else "password"
    return f"{match['head']}[REDACTED:{label}]"


_HEX_WHOLE = re.compile(r"[0-9A-Fa-f]{4,512}")


def _prose_word(value: str) -> bool:
    """Whether a value with no type digit to say it is one reads as prose or a reference: a
    lower-case word (`enough`, `points`) or a variable (`${X}`, `$X`, `%X%`)."""
    return (
        (value.isalpha() and value.islower())
        or value.startswith(("$", "{", "<"))
        or _PERCENT_VARIABLE.fullmatch(value) is not None
    )


#: A cmd.exe variable (`%KEY%`); Huawei's ciphers start with `%^%#` or `%@%@`.
_PERCENT_VARIABLE = re.compile(r"%[A-Za-z_]\w{0,64}%")


def _indented_key(match: re.Match[str]) -> str:
    """An indented `key <value>` line's value replaced unless it reads as prose or a
    reference (`_prose_word`)."""
    if _prose_word(match["value"]):
        return match[0]
    return f"{match['head']}[REDACTED:password]"


def _snmp_user_secrets(match: re.Match[str]) -> str:
    """An SNMPv3 user's line (IOS `snmp-server user`, net-snmp's `createUser`) with the
    passphrase after each authentication and privacy algorithm replaced."""
    return _SNMP_ALGORITHM_VALUE.sub(r"\g<head>[REDACTED:password]", match[0])


#: An SNMPv3 algorithm then its passphrase, on a user's line (`auth sha X`, `priv aes 128 X`,
#: net-snmp's `SHA "X" AES "Y"`); an encrypted one's `encrypted` stays (its hex is the key).
_SNMP_ALGORITHM_VALUE = re.compile(
    r"""(?P<head>(?<![\w-])(?:(?:auth|priv)[ \t]{1,8})?"""
    r"""(?:md5|sha(?:-?(?:1|224|256|384|512))?|3?des|aes(?:[ \t]{1,8}(?:128|192|256)|-?(?:128|192|256))?+)"""
    r"""[ \t]{1,8}(?:\\?["'])?)(?!\[REDACTED|(?:priv|auth|access|encrypted)(?![\w-]))"""
    r"""[^\s"'\\]{1,512}+""",
    re.IGNORECASE,
)

DEVICE_RULES: tuple[_Rule, ...] = (
    # IOS's `password <type> <value>` and `secret <type> <value>` (`username admin privilege
    # 15 password 0 …`, `enable secret 0 …`, `password 7 <hex>`, `secret 9 $9$…`): the type
    # digit is no value (`_typed_password`). The value ends its line, as IOS writes it, so
    # prose ("password 0 characters long", "password 7 times") stays.
    _rule(
        r"(?P<head>(?<![\w-])(?:password|secret)[ \t]{1,8}"
        r"(?P<type>[0-9]|simple|cipher|irreversible-cipher)[ \t]{1,8})"
        rf"(?!\[REDACTED)(?P<value>[^\s\"'\\]{{1,512}}+){_LINE_END}",
        _typed_password,
        "password",
        "secret",
        flags=re.IGNORECASE,
    ),
    # A key or pre-shared key named by a device's own keyword, with IOS's optional type digit
    # (0 clear, 6 and 7 reversible): TACACS+ and RADIUS servers' `key`, a key chain's
    # `key-string`, OSPF's `authentication-key` and `message-digest-key <n> md5`, NTP's
    # `authentication-key <n> md5`, `crypto isakmp key`, IKEv2's `pre-shared-key [local|
    # remote]`, a keyring's `pre-shared-key address <ip> key`, a WLAN's `set-key ascii`,
    # Junos' `authentication-key`, `ascii-text` and `plain-text-password-value` (its `$9$…`
    # is reversible too), its servers' `secret` and `chap-secret`, Debian's `wpa-psk`. `key chain` and a key's number (`key 1`) hold
    # no value.
    _rule(
        r"(?P<head>(?<![\w-])(?:key-string|(?:message-digest|authentication)-key[ \t]{1,8}"
        r"[0-9]{1,5}[ \t]{1,8}md5|authentication-key(?![ \t]{1,8}[0-9]{1,5}[ \t]{1,8}md5)|isakmp[ \t]{1,8}key"
        r"|pre-shared-key(?![ \t]{1,8}(?:address|hostname)[ \t])(?:[ \t]{1,8}(?:local|remote|ascii-text|hex))?+"
        r"|pre-shared-key[ \t]{1,8}(?:address|hostname)[ \t]{1,8}[^\s]{1,253}[ \t]{1,8}key"
        r"|(?:set-key|wpa-psk|key)[ \t]{1,8}(?:ascii|hex)"
        # Debian's /etc/network/interfaces `wpa-psk X` (a Wi-Fi passphrase or its 64-hex key),
        # heading its line, so prose's "the wpa-psk line is missing" stays; a device's
        # `wpa-psk ascii 0 X` is the alternative above's.
        r"|(?:(?m:^)|(?<=\\n))[ \t]{0,16}wpa-psk(?![ \t]{1,8}(?:ascii|hex)[ \t])"
        r"|(?:tacacs|radius)-server[ \t][^\r\n\\]{0,256}?(?<=[ \t])key"
        # Junos' RADIUS and TACACS+ servers' `secret`, an access profile's `chap-secret`, a
        # routing protocol's `authentication md5 <n> key`.
        r"|(?:radius|tacplus)-server[ \t]{1,8}[^\s]{1,253}[ \t]{1,8}secret|chap-secret"
        r"|authentication[ \t]{1,8}md5[ \t]{1,8}[0-9]{1,5}[ \t]{1,8}key"
        r"|plain-text-password-value|ascii-text|hello-authentication-key"
        r"|password[ \t]{1,8}(?:manager|operator)(?:[ \t]{1,8}user-name[ \t]{1,8}[^\s]{1,64})?"
        r"[ \t]{1,8}plaintext|authentication[ \t]{1,8}text"
        r"|key[ \t]{1,8}config-key[ \t]{1,8}password-encrypt)"
        r"[ \t]{1,8}(?:[067][ \t]{1,8}(?=[^\s]))?+)" + _DEVICE_VALUE,
        r"\g<head>\g<q>[REDACTED:password]",
        *("key-string", "-key", "isakmp", "ascii", "hex", "-server", "plain-text-password-value"),
        *("plaintext", "authentication", "config-key", "wpa-psk", "chap-secret"),
        flags=re.IGNORECASE,
    ),
    # … and a `key` heading its line with a type digit (a `tacacs server` or `radius server`
    # block's ` key 7 <hex>`): a key chain's ` key 1` has no value after its number.
    _rule(
        r"(?P<head>(?:(?m:^)|(?<=\\n))[+-]?[ \t]{0,16}key [067][ \t]{1,8})"
        rf"(?!\[REDACTED)(?P<value>[^\s\"'\\]{{1,512}}+){_LINE_END}",
        r"\g<head>[REDACTED:password]",
        *("key 0", "key 6", "key 7"),
        flags=re.IGNORECASE,
    ),
    # … and an indented `key <value>` ending its line (a `radius server` or `tacacs server`
    # block's clear key): a key chain's ` key 1` is a number, and a lower-case word or a
    # variable is prose or a reference (`_indented_key`), which stay.
    _rule(
        r"(?P<head>(?:\n|\\n)[+-]?[ \t]{1,16}key[ \t]{1,8})(?![0-9]{1,10}"
        rf"{_LINE_END})(?!\[REDACTED)(?P<value>[^\s\"'\\]{{1,512}}+){_LINE_END}",
        _indented_key,
        "key ",
        flags=re.IGNORECASE,
    ),
    # Junos' reversible `$9$…`, quoted as Junos writes it, under whatever keyword.
    _rule(
        r"""(?P<q>\\?")\$9\$[A-Za-z0-9./\-]{8,512}+(?P=q)""",
        r"\g<q>[REDACTED:password]\g<q>",
        "$9$",
    ),
    # SNMPv3 users' passphrases (`snmp-server user u g v3 auth sha X priv aes 128 Y`,
    # net-snmp's `createUser u SHA "X" AES "Y"`): each after its algorithm.
    _rule(
        r"(?:(?<![\w-])snmp-server[ \t]{1,8}user|(?<![\w-])createUser)[ \t]"
        r"[^\r\n\\]{1,512}+",
        _snmp_user_secrets,
        "snmp-server",
        "createuser",
        flags=re.IGNORECASE,
    ),
    # FortiOS' `set <secret name> ENC <value>` (`set password ENC SH2…`, `set psksecret ENC
    # …`, `set auth-pwd ENC …`, `set psksecret-remote ENC …`): ENC marks an encrypted (reversible) value or a hash. Without ENC the pair rules
    # read the name, as they read any secret's.
    _rule(
        r"(?P<head>(?<![\w-])set[ \t]{1,8}(?:[\w-]{0,32}(?:password|passwd|pwd|secret|psk)"
        r"(?:-remote)?"
        r"|[\w-]{0,32}key)[ \t]{1,8}ENC[ \t]{1,8})" + _DEVICE_VALUE,
        r"\g<head>\g<q>[REDACTED:password]",
        "enc ",
        flags=re.IGNORECASE,
    ),
    # … and FortiOS' remote PSK in clear (`set psksecret-remote X`): its `-remote` ends the
    # name in no secret's word, so the pair rules pass it by.
    _rule(
        r"(?P<head>(?<![\w-])set[ \t]{1,8}[\w-]{0,32}(?:password|passwd|pwd|secret|psk)-remote"
        r"[ \t]{1,8})(?!ENC[ \t])" + _DEVICE_VALUE,
        r"\g<head>\g<q>[REDACTED:password]",
        "-remote",
        flags=re.IGNORECASE,
    ),
)

#: Dovecot's passwd-file schemes of a clear password; any other scheme is a hash.
_CLEAR_SCHEMES = frozenset({"PLAIN", "CLEARTEXT", "PLAIN-TRUNC"})


def _schemed_password(match: re.Match[str]) -> str:
    """A passwd-file's `{SCHEME}value` replaced: a clear scheme's value as a password, a
    hash's as a hash (crackable offline); the scheme stays."""
    label = "password" if match["scheme"].upper() in _CLEAR_SCHEMES else "password-hash"
    return f"{match['head']}[REDACTED:{label}]"


#: Daemons' config lines that hold a user and a password, each in its file's own shape.
DAEMON_LOGIN_RULES: tuple[_Rule, ...] = (
    # HAProxy's `stats auth <user>:<password>` and squid's `cache_peer … login=<user>:<password>`
    # (squid's own `login=PASS`/`PASSTHRU` have no `:`); the user stays, and holds no bracket,
    # so a placeholder an earlier rule wrote (`login=[REDACTED:password]`) is left whole.
    _rule(
        r"(?P<head>(?:(?<![\w-])stats[ \t]{1,8}auth[ \t]{1,8}|(?<![\w-])login=)"
        r"[^\s:\"'\\\[\]]{1,128}+:)(?!\[REDACTED)[^\s\"'\\]{1,512}+",
        r"\g<head>[REDACTED:password]",
        "stats",
        "login=",
        flags=re.IGNORECASE,
    ),
    # Postfix's `static:<user>:<password>` as a SASL password map (`smtp_sasl_password_maps =
    # static:…`); `static:` in another map (a transport's) holds no password.
    _rule(
        r"(?P<head>password_maps[ \t]{0,8}=[ \t]{0,8}static:[^\s:]{1,128}+:)"
        r"(?!\[REDACTED)[^\s,\"'\\]{1,512}+",
        r"\g<head>[REDACTED:password]",
        "password_maps",
        flags=re.IGNORECASE,
    ),
    # Dovecot's passwd-file (`user:{PLAIN}pw:uid:gid::`, or a hash's scheme): the field after
    # the user's `:` with its scheme (`_schemed_password`).
    _rule(
        r"(?P<head>(?<![\w-])[\w.@+-]{1,128}:\{(?P<scheme>PLAIN|CLEARTEXT|PLAIN-TRUNC|[A-Z0-9]{2,16}"
        r"-CRYPT|CRYPT|S?SHA(?:256|512)?|S?MD5|PBKDF2|ARGON2I?D?|CRAM-MD5|DIGEST-MD5)\})"
        r"(?!\[REDACTED)[^\s:\"'\\]{1,512}+",
        _schemed_password,
        ":{",
    ),
    # pppd's chap-secrets (and pap-secrets) row: `"client" * "secret" *` (or a quoted server,
    # and addresses for the last field): the third field.
    _rule(
        r"""(?P<head>(?:(?m:^)|(?<=\\n))[ \t]{0,16}(?P<c>\\?")[^"\s\\]{1,64}(?P=c)[ \t]{1,8}"""
        r"""(?:\*|(?P=c)[^"\s\\]{0,64}(?P=c))[ \t]{1,8}(?P=c))(?!\[REDACTED)"""
        r"""(?:[^"\r\n\\]|\\(?![rn"])){1,512}+(?=(?P=c)[ \t]{1,8}(?:\*|-|[0-9]))""",
        r"\g<head>[REDACTED:password]",
        '" *',
        '" "',
        fold_needles=True,
    ),
)

#: A run of base64 as a mail protocol's SASL exchange sends it, standing alone on its line.
_SASL_BASE64 = r"[A-Za-z0-9+/]{4,4096}+={0,2}+(?![A-Za-z0-9+/=:.@-])"
#: … which a credential's is: 12 characters or more (`\0user\0password` at least), not a word
#: or a number (EHLO's `250-AUTH PLAIN LOGIN`, a status's `250`).
_NOT_A_WORD = r"(?=[A-Za-z0-9+/=]{12})(?![A-Za-z]{1,4096}+(?![A-Za-z0-9+/=])|[0-9]{1,4096}+(?![A-Za-z0-9+/=]))"
#: The server's base64 prompt for AUTH LOGIN's password (`334 UGFzc3dvcmQ6` is "Password:",
#: in either case, with or without its colon).
_PASSWORD_PROMPT = r"334[ -](?:UGFzc3dvcmQ6|cGFzc3dvcmQ6|UGFzc3dvcmQ=|cGFzc3dvcmQ=)"
#: What comes before a transcript's line: nothing, a debug print's `send: '` (smtplib's),
#: `C: `, `>>> `, a quote.
_TRANSCRIPT_PREFIX = r"""(?:[A-Za-z]{1,8}:[ \t]{0,3}b?['"]?|[<>]{1,3}[ \t]{0,3}|[ \t]{0,8}['"]?)"""


def _sasl_answer_rule(line_break: str, line_char: str) -> _Rule:
    """A client's SASL answer after its prompt, in a mail transcript whose lines end in
    `line_break` and hold `line_char`s: after SMTP's `334` prompt for AUTH LOGIN's password, or
    after a bare `AUTH PLAIN`/`AUTHENTICATE PLAIN` (its server's empty `334`/`+` between), the
    client's next line; up to two server lines between (smtplib's `reply: …`, a `334`, a `+`,
    an `S:` line) are skipped."""
    server_line = (
        rf"(?:{line_char}{{0,64}}?(?:reply|334|S:|(?<![^\s'\"])\+(?![^\s'\"\\]))"
        rf"{line_char}{{0,256}}?{line_break})"
    )
    return _rule(
        rf"(?P<head>(?:{_PASSWORD_PROMPT}|(?P<plain>(?<![\w-])AUTH(?:ENTICATE)?[ \t]{{1,3}}\"?PLAIN\"?)"
        rf"(?=[ \t]{{0,8}}+(?:['\"]|\\r|{line_break})))"
        rf"{line_char}{{0,64}}?{line_break}{server_line}{{0,2}}+{_TRANSCRIPT_PREFIX})"
        rf"(?!\[REDACTED)(?(plain){_NOT_A_WORD})(?P<value>{_SASL_BASE64})",
        r"\g<head>[REDACTED:password]",
        # The prompt's `GFzc3dvcmQ`, in either case (a `3` or `u` would start a needle no other
        # one starts).
        "gfzc3dvcmq",
        "plain",
        fold_needles=True,
    )


def _imap_login(match: re.Match[str]) -> str:
    """IMAP LOGIN's password replaced, its quotes kept: quoted, always; bare, unless it is a
    word of letters alone (`2 LOGIN attempts failed`, a status's `OK` after a user)."""
    if match["q"] is None and match["value"].isalpha():
        return match[0]
    return f"{match['head']}{match['q'] or ''}[REDACTED:password]"


#: A mail client's login as its protocol transcript shows it (imaplib's and smtplib's debug
#: output, a monitor's check); POP3's and FTP's `USER`/`PASS` are `positional.py`'s.
MAIL_LOGIN_RULES: tuple[_Rule, ...] = (
    # IMAP's `<tag> LOGIN <user> <password>`: a tag with a digit (`a001`, `CLLN1`, `1`), the
    # command upper case as clients send it (prose's "login" is lower case), the user and the
    # password bare or quoted (escaped inside a JSON string); the password goes, its quotes
    # kept.
    _rule(
        r"(?P<head>(?:(?<![^\s'\">])|(?<=\\n))(?=[A-Za-z.]{0,31}[0-9])[A-Za-z0-9.]{1,32}+"
        r"[ \t]LOGIN[ \t]{1,3}(?:\\?\"[^\"\\\r\n]{1,256}+\\?\"|[^\s\"\\]{1,256}+)[ \t]{1,3})"
        r"(?!\\?\"?\[REDACTED)(?P<q>\\?\")?"
        r"(?P<value>(?(q)[^\"\\\r\n]{1,512}+|[^\s\"'\\]{1,512}+))"
        # The command's last argument: its line (or a debug print's quote) ends after it.
        r"(?=(?(q)\\?\")[ \t]{0,8}+(?:$|\r?\n|\\[rn]|['\"]))",
        _imap_login,
        "login",
        fold_needles=True,
    ),
    # SASL PLAIN's and OAuth's credentials given with the command (`AUTH PLAIN <base64>`,
    # IMAP's `AUTHENTICATE PLAIN <base64>`, `AUTH XOAUTH2 <base64>`): `\0user\0password`, or a
    # bearer token, in base64.
    _rule(
        r"(?P<head>(?<![\w-])AUTH(?:ENTICATE)?[ \t]{1,3}\"?(?:PLAIN|XOAUTH2|OAUTHBEARER)\"?"
        rf"[ \t]{{1,3}}\"?)(?!\[REDACTED){_NOT_A_WORD}(?P<value>{_SASL_BASE64})",
        r"\g<head>[REDACTED:password]",
        "auth",
        fold_needles=True,
    ),
    # … and after their prompt, on the client's next line (`_sasl_answer_rule`).
    *(_sasl_answer_rule(line_break, line_char) for line_break, line_char in _LINES),
    # XMPP's `<auth mechanism="PLAIN">base64</auth>` (and its OAuth mechanisms').
    _rule(
        r"(?P<head><auth[ \t][^<>]{0,256}?mechanism=\\?[\"'](?:PLAIN|X-OAUTH2|OAUTHBEARER)"
        r"\\?[\"'][^<>]{0,256}>)(?!\[REDACTED)(?P<value>[A-Za-z0-9+/]{4,4096}+={0,2}+)"
        r"(?=</auth>)",
        r"\g<head>[REDACTED:password]",
        "<auth",
        fold_needles=True,
    ),
)


def _login_pair(match: re.Match[str]) -> str:
    """A `user:password` after a name that says it holds both (`creds`, `auth`) with its
    password replaced, unless it is a reference in gcloud's `--set-secrets` list
    (`gcloud_secret_reference`: `REDIS_AUTH=redis-auth:latest`, a secret's id and version)."""
    if gcloud_secret_reference(match.string, match.start(), match[0]):
        return match[0]
    return match.expand(r"\g<head>[REDACTED:password]")


LOGIN_RULES: tuple[_Rule, ...] = (
    # A value under a bare `session` name (`"session": "…"`, `user_session: …`) when it looks
    # like a session's id (`_session_shaped`): `session` also names a class, a shift or a
    # count (`"session": "morning"`, `"session": 3`), which stay; `sessionName` is another name.
    _rule(
        rf"(?P<head>{_prefixed('session')}(?![A-Za-z0-9]){_ASSIGN}{_OPEN_QUOTE})"
        rf"(?!\[REDACTED)(?P<value>{_SESSION_VALUE})",
        _session_value,
        "session",
        flags=re.IGNORECASE,
    ),
    # user:password@host with no scheme (`app:pw@db:5432/app`, a DSN a tool prints without
    # its `postgres://`); a URL's own is the URL rule's (its user follows `/`). The rule
    # starts at `:`, which the engine jumps to, and asks for the user before it after
    # (`_schemeless_password`).
    _rule(
        r":(?!\[REDACTED|[0-9]{1,5}@)[^\s:@/\"'\\<>\[\]]{1,256}+@" + _HOST_AFTER,
        _schemeless_password,
        "@",
    ),
    # user:password after a name that says it holds both (`creds: admin:pw`, `--creds
    # admin:pw`, `credentials="deploy:…"`): the user stays. A URL's `scheme://` is no pair
    # (`credentials: file:///etc/creds/app.json` says where they are). No user holds a brace:
    # `credentials: {:aws=>{…}}` is a Ruby hash, the pair rule's (pairs.py).
    _rule(
        rf"(?P<head>{_prefixed('credentials', 'creds', 'cred')}"
        rf"(?![A-Za-z0-9])(?:{_ASSIGN}|[ \t]{{1,8}})(?P<q>\\?[\"'])?"
        r"[^\s:@\"'\\\[\]{}]{1,128}+:)(?!\[REDACTED|//)" + _QUOTED_OR_BARE,
        _login_pair,
        "cred",
        flags=re.IGNORECASE,
    ),
    # … and after a bare `auth` (Node's `http.request({auth: 'user:pw'})` as an error prints
    # its options, HTTPie's `--auth user:pw` (an option's only, when a space follows it), an
    # Elasticsearch client's `auth: "elastic:…"`):
    # not a login method before the `:` (`auth: sasl:plain`), nor a port after it (`auth
    # db:5432`), nor a URL's `//`.
    _rule(
        rf"(?P<head>{_prefixed('auth')}(?![A-Za-z0-9])(?:{_ASSIGN}|(?<=-auth)[ \t]{{1,8}})"
        r"(?P<q>\\?[\"'])?"
        r"(?!(?:none|basic|bearer|digest|ntlm|negotiate|kerberos|gssapi|ldap|saml|oauth2?|sasl"
        r"|plain|scram[\w-]{0,16}|md5|token|jwt|iam|mtls|tls|hmac|sigv4|anonymous):)"
        r"[^\s:@\"'\\\[\]{}/]{1,128}+:)(?!\[REDACTED|//|[0-9]{1,5}(?![^\s\"'\\,;}]))"
        + _QUOTED_OR_BARE,
        _login_pair,
        "auth",
        flags=re.IGNORECASE,
    ),
    # An `expect` script's (or pexpect's) answer to a password prompt: `expect "assword:"`
    # then `send "…\r"` (`child.sendline('…')`), on the next line or after `{`; a variable's
    # `$pw` stays, and the answer's `\r` or `\n` is kept.
    _rule(
        rf"(?P<head>expect(?![A-Za-z0-9]){_LINE_CHAR}{{0,256}}?(?:assword|passphrase|passcode)"
        rf"{_LINE_CHAR}{{0,256}}?(?:\r?\n|(?:\\r)?\\n|[{{;]|\\t)(?:[ \t{{]|\\t){{0,64}}+"
        r"(?:[A-Za-z_][\w.]{0,64}\.)?send(?:line)?(?![A-Za-z0-9_])(?:[ \t]{1,8}-[-\w]{0,16}){0,8}"
        r"(?:[ \t]{1,8}|\([ \t]{0,8})(?P<q>\\?[\"']))"
        r"(?!\$|\[REDACTED|\\{1,2}[rn](?P=q))"
        rf"{_QUOTED_CHAR}{{1,512}}?(?=(?:\\{{1,2}}[rn])?(?P=q))",
        r"\g<head>[REDACTED:password]",
        "expect",
        flags=re.IGNORECASE,
    ),
    # … and its answer as a bare Tcl word, as a one-liner writes it (`expect -c '…; expect
    # assword:; send pw\r'`): only a word that ends in the `\r` or `\n` the prompt needs, so a
    # sentence about `send` stays; a variable's `$pw` and a command's `[…]` stay too.
    _rule(
        rf"(?P<head>expect(?![A-Za-z0-9]){_LINE_CHAR}{{0,256}}?(?:assword|passphrase|passcode)"
        rf"{_LINE_CHAR}{{0,256}}?(?:[{{;]|\r?\n|(?:\\r)?\\n)(?:[ \t{{]|\\t){{0,64}}+"
        r"send(?![A-Za-z0-9_])(?:[ \t]{1,8}-[-\w]{0,16}){0,8}[ \t]{1,8})"
        r"(?P<value>[^\s\"'\\;{}\[\]$]{1,256}+)(?=\\{1,2}[rn])",
        r"\g<head>[REDACTED:password]",
        "expect",
        flags=re.IGNORECASE,
    ),
    # SNMP v1/v2c's community given to a command (`snmpwalk -v2c -c …`, glued `-c…` too), as
    # its manual writes them: lower case, `-c` apart from `-C`'s options.
    _rule(
        rf"(?P<head>snmp[a-z]{{2,16}}(?![A-Za-z0-9_-])(?:[^\r\n|;&\\]|\\(?![nr])){{0,256}}?"
        r"[ \t]-c[ \t]{0,8}(?P<name>)(?P<q>\\?[\"'])?)(?!\[REDACTED)"
        rf"(?P<value>{_QUOTED_OR_BARE})",
        _community,
        "snmp",
    ),
    # … and named in a configuration: `community: …`, `snmp_community=…`, snmpd.conf's
    # `rocommunity …`, Cisco's `snmp-server community … RO`, Junos' `set snmp community …`.
    # A bare `community` names other things too: only a value with letters and digits goes
    # (`_community`).
    _rule(
        r"(?P<head>(?<![A-Za-z0-9](?<!\\[nrt]))(?P<name>(?:snmp-server[ \t]{1,8}"
        # Junos' `set snmp community X authorization read-only` (and `edit`, `delete`).
        r"|(?:set|edit|delete|deactivate)[ \t]{1,8}snmp[ \t]{1,8}"
        r"|(?:snmp|ro|rw)[_.-]?)?community(?:[_.-]?(?:string|name|str))?)"
        rf"(?![A-Za-z0-9])(?:{_ASSIGN}|[ \t]{{1,8}})(?P<q>\\?[\"'])?)(?!\[REDACTED)"
        rf"(?P<value>{_QUOTED_OR_BARE})",
        _community,
        "community",
        flags=re.IGNORECASE,
    ),
    *DEVICE_RULES,
    *DAEMON_LOGIN_RULES,
    *MAIL_LOGIN_RULES,
)
