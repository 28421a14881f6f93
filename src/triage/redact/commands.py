"""Rules for passwords given to a command on its command line: MySQL's `-pX`, the password options
of docker login, redis-cli, sqlcmd, 7z, ssh-keygen, snmpwalk and others, smbclient's `user%X`,
lftp's `user,X`, rabbitmqctl's and mc's positional password, sshpass, curl's `-u user:X`,
keytool's and openssl's pass options, htpasswd's batch mode and any `--…password` option. The
rules that read a command from a line's or a pipeline step's start read each line once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from triage.redact.gcloud import _GCLOUD
from triage.redact.logins import _HOST
from triage.redact.names import (
    _PLACEHOLDER_VALUE,
    _SECRET_NAME,
    _SECRET_NAME_NEEDLES,
    _TEMPLATE_VALUE,
    _kept_value,
    _key_file,
    _named_thing,
    _secret_object,
    secret_named,
)
from triage.redact.positional import _STDIN_READER
from triage.redact.rule import (
    _CONTINUATION,
    _INNER_QUOTE,
    _LINES,
    _PROSE_AFTER_OPTION,
    _QUOTED_CHAR,
    _SHELL_DOUBLE_QUOTED,
    _file_path,
    _quoted_char,
    _random_looking,
    _replaced_value,
    _Rule,
    _rule,
    _value_replaced,
    _wrapper_start,
)
from triage.redact.templates import whole_template_redacted

#: Where a command starts: after a space (a log line's prefix, a YAML list's `- `, a prompt's
#: `$ `, `sudo `, `-- `), a line's start, a pipeline's `|`, `;`, `&` or `(`, a quote or a
#: backquote (a JSON string's, a traceback's `Command 'mysql …'`), `[` or `=` (`ExecStart=`),
#: or an escaped line break or tab inside a JSON string; not inside a word or a path.
_COMMAND_START = r"""(?:(?<![^\s|;&(\["'`=])|(?<=\\[nt]))"""
#: A command's directory (`/usr/bin/mysql`, Windows' `C:\tools\mysql`): its parts, each to
#: its `/` or `\`, possessive: nothing to give back.
_COMMAND_PATH = r"(?:[^\s|;&()/\\]{0,64}+[/\\]){0,16}+"
#: After a command's name: Windows' `.exe`, and the quote that closes a quoted path
#: (`"C:\Program Files\MySQL\bin\mysql.exe" -p…`).
_COMMAND_END = r"(?:\.exe)?(?:\\?\")?"

#: A character of a command's arguments: anything on its line before a pipeline's `|`, `;` or
#: `&`, but not the quote that closes the JSON string holding the line (a raw `"` with the `,`,
#: `}` or `]` after a JSON value next), so the arguments end where the string ends.
_ARGS_CHAR = r'(?:[^\n|;&"]|(?<=\\)"|"(?![ \t]{0,8}[,}\]]))'

#: impacket's example scripts (`secretsdump.py`, `GetUserSPNs.py`), in any case.
_IMPACKET_SCRIPTS = (
    "(?:secretsdump|psexec|wmiexec|smbexec|atexec|dcomexec|GetUserSPNs|GetNPUsers|getTGT|getST"
    "|mssqlclient|smbclient|lookupsid|ticketer|addcomputer|dacledit|changepasswd|rpcdump"
    "|samrdump|reg|services|wmiquery|GetADUsers|findDelegation)"
)
#: Commands that take a password as a short option's value (`-p pw`; 7-Zip's only glued,
#: `-ppw`): a pattern of command names, and the options.
_PASSWORD_OPTIONS = (
    # Registries' and platforms' logins: docker's and the tools that copy its options,
    # OpenShift's, Cloud Foundry's, Azure's (its container registry's too), regctl's.
    (
        r"(?:docker|podman|buildah|skopeo|nerdctl|oras|az(?:[ \t]{1,3}acr)?|oc|cf"
        r"|(?:helm|crane|regctl)[ \t]{1,3}(?:registry|auth))[ \t]{1,3}login"
        r"|mongo(?:sh|dump|restore|import|export)?",
        ("-p",),
    ),
    ("twine", ("-p",)),
    # Publishers' tokens: the VS Code Marketplace's and Open VSX's (`-p`), Chocolatey's (`-k`).
    ("vsce|ovsx", ("-p",)),
    (r"choco(?:\.exe)?", ("-k",)),
    ("7za?", ("-p",)),
    # Valkey's and KeyDB's clients are redis-cli's forks.
    ("redis-cli|valkey-cli|keydb-cli", ("-a",)),
    ("cqlsh|rabbitmqadmin", ("-p",)),
    ("mosquitto_(?:pub|sub|rr)", ("-P",)),
    ("sqlcmd|mssql-cli|bcp|ipmitool|zip|unzip|osql|isql|tsql", ("-P",)),
    (r"security[ \t]{1,3}add-(?:generic|internet)-password", ("-w",)),
    ("ssh-keygen", ("-N", "-P")),
    ("snmp(?:walk|bulkwalk|get|getnext|bulkget|set|table|trap)", ("-A", "-X")),
    # ldappasswd's -a is the old password and -s the new one, besides the bind's -w.
    ("ldappasswd", ("-w", "-a", "-s")),
    ("ldap(?:search|add|modify|delete|compare|whoami|exop|modrdn|url)", ("-w",)),
    ("racadm|rdesktop", ("-p",)),
    # The InfluxDB, DigitalOcean and Fly.io clients take their API token as `-t`.
    ("influx", ("-p", "-t")),
    ("doctl|fly(?:ctl)?", ("-t",)),
    # useradd's and usermod's -p take the password (crypt'ed, or by mistake in clear).
    ("user(?:add|mod)", ("-p",)),
    # keytool's -storepasswd and -keypasswd take the new password after -new.
    ("keytool", ("-new",)),
    ("plink|pscp|psftp", ("-pw",)),
    ("(?i:psexec(?:64)?)", ("-p",)),
    (r"openssl[ \t]{1,3}enc", ("-k",)),
    ("(?:un)?rar", ("-p",)),
    ("ncftp(?:put|get|ls|batch)?", ("-p",)),
    # Neo4j's cypher-shell; Samba's smbpasswd -w (its LDAP admin's password); ESXi's account
    # commands (-c confirms the password); slapd's and Dovecot's password hashers.
    ("cypher-shell", ("-p",)),
    ("smbpasswd", ("-w",)),
    (r"esxcli[ \t]{1,3}system[ \t]{1,3}account[ \t]{1,3}(?:add|set)", ("-p", "-c")),
    ("slappasswd", ("-s",)),
    (r"doveadm[ \t]{1,3}pw", ("-p",)),
    # Codecov's uploaders take their upload token as -t.
    ("codecov(?:cli|-cli)?", ("-t",)),
    # Attack tools a runtime security alert quotes (Falco, GuardDuty, an EDR): their -p is
    # the password tried or used (their -P a port or a password list, -H a hash).
    (
        "hydra|medusa|smbmap|bloodhound-python|ldapdomaindump|enum4linux(?:-ng)?",
        ("-p",),
    ),
    # … and those whose -H is an NT hash, which logs in as the password does (pass-the-hash),
    # and impacket's scripts' `-hashes LM:NT` and `-aesKey` (Kerberos' key of the password).
    ("evil-winrm|crackmapexec|netexec|nxc", ("-p", "-H")),
    (rf"(?i:impacket-[\w-]{{1,40}}+|{_IMPACKET_SCRIPTS}\.py)", ("-hashes", "-aesKey")),
    # Package registries' logins: NuGet's source (`dotnet nuget add source … -u bot -p X`),
    # Conan's remote (`conan remote login corp bot -p X`, Conan 1's `conan user -p X`).
    # Its push and delete take the feed's API key as -k.
    (r"dotnet[ \t]{1,3}nuget", ("-p", "-k")),
    (r"conan[ \t]{1,3}(?:remote[ \t]{1,3}login|user)", ("-p",)),
    # Code signing: signtool's certificate password, a macOS keychain's and a .p12's.
    ("signtool", ("/p",)),
    (r"security[ \t]{1,3}(?:unlock|create)-keychain", ("-p",)),
    (r"security[ \t]{1,3}import", ("-P",)),
    # Chef's bootstrap over SSH; Alibaba Cloud's ossutil's AccessKey secret.
    ("knife", ("-P",)),
    ("ossutil(?:64)?", ("-k",)),
    # Analytics databases' clients: SAP HANA's, Hive's, Vertica's.
    ("hdbsql|beeline", ("-p",)),
    ("vsql", ("-w",)),
    # Identity servers' admin tools: MIT Kerberos' kadmin; FreeIPA's installers (the server's
    # -p is the Directory Manager's, -a the admin's; the client's -p is a principal).
    (r"kadmin(?:\.local)?", ("-w",)),
    ("ipa-server-install", ("-p", "-a")),
    ("ipa-(?:replica|client)-install", ("-w",)),
    # Perforce's global -P (the user's password or ticket; its -p is the server's address).
    ("p4", ("-P",)),
    # Couchbase's admin and query shells; VMware's vmrun (the guest's -gp, the VM's encryption
    # -vp); sendEmail's SMTP password; gobuster's basic-auth password.
    ("couchbase-cli|cbq", ("-p",)),
    ("vmrun", ("-gp", "-vp")),
    ("(?i:sendemail)", ("-xp",)),
    ("gobuster", ("-P",)),
    # Poetry's publish (`-u __token__ -p <token>`); Consul's and Nomad's agents' gossip
    # encryption key (`-encrypt <key>`: whoever holds it joins the cluster's gossip).
    (r"poetry[ \t]{1,3}publish", ("-p",)),
    # HPE's iLO tools: ilorest's login and hponcfg's `-u admin -p <password>`.
    ("ilorest|hponcfg", ("-p",)),
    # OpenSearch's security plugin's hasher (`hash.sh -p <password>`); lego's ACME external
    # account binding key (`--hmac`); Apple's altool (`-u <apple id> -p <app password>`).
    (r"hash\.sh", ("-p",)),
    ("lego", ("--hmac",)),
    # Teleport's static join token (`tctl tokens add --type=node --value <token>`).
    (r"tctl[ \t]{1,3}tokens[ \t]{1,3}add", ("--value",)),
    (r"(?:xcrun[ \t]{1,3})?altool", ("-p",)),
    # Azure's database servers take their admin's password as -p (`--admin-password`).
    (
        r"az[ \t]{1,3}(?:sql|postgres|mysql|mariadb)[ \t]{1,3}server[ \t]{1,3}(?:create|update)",
        ("-p",),
    ),
    ("consul|nomad", ("-encrypt",)),
)
#: The commands whose option is a token's for one tool and a name's for another of the same
#: name: Fly.io's `fly -t <token>`, Concourse's `fly -t <target>`. Its value goes only when it
#: looks random (`_random_looking`).
_NAME_OR_TOKEN = re.compile("fly")
#: The commands whose password option takes its value glued to it only.
_GLUED_OPTION = re.compile("7za?|(?:un)?rar")
#: The commands whose password option takes its value after a space only (their own parsers;
#: the others' getopt, pflag or argparse take `-pX` as `-p X`: `sqlcmd -PX`, `ldapsearch -wX`).
_SPACED_OPTION = re.compile(
    r"redis-cli|valkey-cli|keydb-cli|plink|pscp|psftp|(?i:psexec(?:64)?)|openssl[ \t]{1,3}enc|keytool|rdesktop"
    # The mongo tools read a single-dash long option as a long one (`mongo -port 27017`).
    r"|mongo(?:sh|dump|restore|import|export)?|mosquitto_(?:pub|sub|rr)"
    # InfluxDB 1.x's client reads Go's single-dash long options (`-password X`, `-precision`).
    r"|influx|signtool|vmrun|(?i:sendemail)|consul|nomad"
)
#: A single-dash option that spells a password's name out (`-password`, `-passwd`, `-pass`):
#: an option of its own, never `-p` with its value glued to it.
_SPELLED_PASSWORD_OPTION = re.compile(r"-p(?:ass(?:word|wd|phrase)?|wd)", re.IGNORECASE)


#: A port mapping after `-p` (`docker run --name mongo -p 27017:27017`, `-p 127.0.0.1:80:80`):
#: a command's name there is docker's container name, and its `-p` no password.
_PORT_MAPPING = re.compile(
    r"(?:[0-9.]{1,39}:)?[0-9]{1,5}(?:-[0-9]{1,5})?:[0-9]{1,5}(?:-[0-9]{1,5})?(?:/(?:tcp|udp|sctp))?"
)


#: A word of prose where an option's value would stand (`_PROSE_AFTER_OPTION`).
_PROSE = re.compile(_PROSE_AFTER_OPTION)


#: Where a tool reads the password it is told of (altool's `-p @keychain:NAME`, `@env:NAME`):
#: a reference, no password.
_STORED_REFERENCE = re.compile(r"@(?:keychain|env):[\w.-]{1,128}+")


def _command_passwords(match: re.Match[str]) -> str:
    """A command line (`command`, then `args`) with the value of each of its password options
    (`_PASSWORD_OPTIONS`) replaced, its quotes kept; an empty one (`-N ''`), a word of
    prose (`_PROSE`: "the zip -P option is insecure") and a stored password's reference
    (`_STORED_REFERENCE`) stay."""
    command = match["command"]
    options = next(o for c, o in _PASSWORD_OPTIONS if re.fullmatch(c, command) is not None)
    glued = _GLUED_OPTION.fullmatch(command) is not None
    takes_glued = _SPACED_OPTION.fullmatch(command) is None
    args, offset = match["args"], match.start("args") - match.start()
    text = match[0]
    pieces: list[str] = []
    last = 0
    pending = False
    for arg in _ARGUMENT.finditer(args):
        value = arg[0]
        start = offset + arg.start()
        if (
            pending
            and not value.startswith("-")
            and value not in ("''", '""')
            and not (_PORT_MAPPING.fullmatch(value))
            and _PROSE.fullmatch(value) is None
            and _PLACEHOLDER_VALUE.fullmatch(value.strip("\\\"'")) is None
            and _STORED_REFERENCE.fullmatch(value) is None
            and not (_NAME_OR_TOKEN.fullmatch(command) and not _random_looking(value))
        ):
            if not value.lstrip("\\\"'").startswith("[REDACTED"):
                quote_mark = _quote_mark(value)
                placeholder = f"{quote_mark}[REDACTED:password]{quote_mark}"
                pieces += (text[last:start], placeholder)
                last = offset + arg.end()
        elif _glued_value(value, options, takes_glued):
            quote_mark = _quote_mark(value[2:])
            pieces += (text[last : start + 2], f"{quote_mark}[REDACTED:password]{quote_mark}")
            last = offset + arg.end()
        pending = not glued and value in options
    pieces.append(text[last:])
    return "".join(pieces)


def _glued_value(argument: str, options: tuple[str, ...], glued: bool) -> bool:
    """Whether `argument` is a two-letter password option with its value glued to it: any
    value for a command that takes it so (`7z -pX`, `sqlcmd -PX`, `docker login -pX`), a
    quoted one for any (`-p"X"`); not a placeholder already."""
    value = argument[2:]
    if argument[:2] not in options or not value or value.startswith(("[RED", '"[RED', "'[RED")):
        return False
    if _SPELLED_PASSWORD_OPTION.fullmatch(argument) is not None:
        return False
    return glued or value[0] in "\"'\\"


def _quote_mark(argument: str) -> str:
    """The quote an argument opens with (`\\"` inside a JSON string, `\\\\\\"` a level
    further), or "" for none."""
    for escaped in ('\\"', '\\\\\\"'):
        if argument.startswith(escaped):
            return escaped
    return argument[0] if argument[:1] in ("'", '"') else ""


#: A command substitution, spaces and all (`$(aws ecr get-login-password --region x)`): one
#: argument.
_SUBSTITUTION = r"\$\([^()\r\n]{1,512}+\)"
#: One argument of a command line: quoted (`\\"…\\"` inside a JSON string; a backslash
#: escapes inside double quotes, `_SHELL_DOUBLE_QUOTED`), or a run of non-space, which a
#: quoted part may end (7-Zip's `-p"…"`).
_QUOTED_ARGUMENT = rf"{_SHELL_DOUBLE_QUOTED}|'[^'\n]{{0,512}}+'"
_ARGUMENT = re.compile(
    rf"""{_SUBSTITUTION}|{_QUOTED_ARGUMENT}|(?:[^\s'"\\]|\\(?!\\{{0,2}}["'])){{1,512}}+(?:{_QUOTED_ARGUMENT})?"""
)


#: A NetworkManager setting that holds a secret: `<setting>.psk`, `.password`, `.wep-key0`.
_NMCLI_SECRET = (
    r"[\w-]{1,64}\.(?:psk|password|password-raw|wep-key[0-3]|leap-password"
    r"|private-key-password|phase2-private-key-password|pin)"
)


#: An rclone remote's option that holds a secret, as `rclone config create|update` takes it
#: (`name value`): a password (crypt's `password2`, a key file's `key_file_pass`), S3's
#: `secret_access_key` and `sse_customer_key`, B2's, Azure's and Swift's `key` and
#: `account_key`, an OAuth app's `client_secret`, a token (`token`, `bearer_token`,
#: `auth_token`), Azure's `sas_url`.
_RCLONE_SECRET = re.compile(
    r"(?:pass(?:word2?)?|key_file_pass|secret_access_key|(?:sse_customer_|account_)?key"
    r"|client_secret|(?:bearer_|auth_)?token|sas_url)"
)


def _rclone_secrets(match: re.Match[str]) -> str:
    """An `rclone config create|update` line (`args`: the remote's name, for `create` its
    type, then `name value` pairs) with the value after each secret option's name replaced
    (`_RCLONE_SECRET`), its quotes kept; the remote's name and type (a remote named `key`),
    options (`--obscure`) and a placeholder an earlier rule wrote stay."""
    args, offset = match["args"], match.start("args") - match.start()
    text, pieces, last = match[0], [], 0
    heads = 2 if match["verb"] == "create" else 1
    positional = [arg for arg in _ARGUMENT.finditer(args) if not arg[0].startswith("-")]
    pairs = positional[heads:]
    for name, value in zip(pairs[::2], pairs[1::2], strict=False):
        quote_mark = _quote_mark(value[0])
        if _RCLONE_SECRET.fullmatch(name[0]) and not value[0].startswith(
            "[REDACTED", len(quote_mark)
        ):
            closing = quote_mark if len(value[0]) > len(quote_mark) else ""
            start = offset + value.start()
            pieces += [text[last:start], f"{quote_mark}[REDACTED:password]{closing}"]
            last = offset + value.end()
    return "".join([*pieces, text[last:]])


def _up_to(option: str, limit: int) -> str:
    """A command's arguments before `option` (at most `limit` characters, as few as will do),
    never past `option` with a placeholder for its value: the first pass took that one, and a
    second must not read the next `option` (ssh's `-p` port after sshpass's `-p`) instead."""
    return rf"(?:(?!(?<![\w-]){option}\\?[\"']?\[REDACTED){_ARGS_CHAR}){{0,{limit}}}?"


def _htpasswd(match: re.Match[str]) -> str:
    """An htpasswd command line (`args`) with its password replaced, its quotes kept, when -b
    says it is given: the argument after the file and the user, or after the user alone with
    -n (no file). `-C` and `-r` take a number first. Else the match unchanged."""
    args = list(_ARGUMENT.finditer(match["args"]))
    flags, positional = "", []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg[0].startswith("-"):
            flags += arg[0][1:]
            skip = arg[0][-1] in "Cr"
        else:
            positional.append(arg)
    index = 1 if "n" in flags else 2
    if "b" not in flags or len(positional) <= index:
        return match[0]
    password = positional[index]
    quote_mark = _quote_mark(password[0])
    # A placeholder and what follows it is the first pass's: the password already went.
    if password[0].startswith("[REDACTED", len(quote_mark)):
        return match[0]
    start = match.end(1) + password.start()
    end = match.end(1) + password.end()
    text = match.string
    return (
        f"{text[match.start() : start]}{quote_mark}[REDACTED:password]{quote_mark}"
        f"{text[end : match.end()]}"
    )


#: A value given to a command as one word: quoted whole, or a run of non-space.
_WORD_VALUE = (
    rf"""(?P<q>\\?["'])(?!\[REDACTED){_QUOTED_CHAR}{{1,512}}+(?P=q)"""
    r"""|(?!\[REDACTED)(?:[^\s"';|&\\]|\\(?!["'])|""" + _INNER_QUOTE + r"){1,512}+"
)


def _word_replaced(match: re.Match[str]) -> str:
    """A command's value (group `value`) replaced, its quotes kept."""
    quote_mark = match["q"] or ""
    value_start = match.start("value") - match.start()
    return f"{match[0][:value_start]}{quote_mark}[REDACTED:password]{quote_mark}"


#: A value that names the file holding it (`--token @file`, `@/run/secrets/api_token.txt`): a
#: path, or a word of letters (and an extension) that no random key is.
_AT_FILE = re.compile(r"@(?P<file>[A-Za-z_.-]{1,64}+|[\w.~/-]{1,255}+)")
#: A uuid: libvirt's name for a secret it holds (`virsh attach-disk … --secret <uuid>`).
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
#: virsh on the option's line, before it.
_VIRSH = re.compile(r"(?<![\w-])virsh(?![\w-])[^\n]{0,512}\Z")


#: An option named like a secret whose value is always a file: OpenVPN's `--auth-user-pass`
#: (a file of the user's and the password's lines; a literal one is `<(printf …)`).
_FILE_OPTION = re.compile(r"--auth-user-pass\Z", re.IGNORECASE)
#: A file's name with no directory: words and an extension (`creds.txt`).
_FILE_NAME = re.compile(r"[\w-]{1,128}+(?:\.[A-Za-z0-9]{1,8}+){0,2}+")


def _file_named(value: str) -> bool:
    """Whether `value` is a file's path (`_file_path`) or a name of words with an extension
    that no random key is (`creds.txt`, `auth.conf`)."""
    if _file_path(value):
        return True
    return _FILE_NAME.fullmatch(value) is not None and "." in value and not _random_looking(value)


def _file_reference(value: str) -> bool:
    """Whether a secret option's value is `@` and the file that holds it (`_AT_FILE`: curl's
    and many CLIs' convention), whose name says where the secret is, not what it is."""
    at_file = _AT_FILE.fullmatch(value)
    if at_file is None:
        return False
    file = at_file["file"]
    return _file_path(file) if "/" in file else not _random_looking(file)


def _libvirt_secret_uuid(match: re.Match[str], name: str, value: str) -> bool:
    """Whether the value is a uuid given to virsh's `--secret`: the id libvirt names a stored
    secret by (a Ceph or iSCSI key it holds), not the secret's value."""
    if name.lower() != "--secret" or _UUID.fullmatch(value) is None:
        return False
    text, at = match.string, match.start()
    line_start = text.rfind("\n", 0, at) + 1
    return _VIRSH.search(text, line_start, at) is not None


#: A Secret Manager secret's id: letters, digits, `-` and `_`.
_SECRET_MANAGER_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")


def gcloud_secret_id(text: str, option_at: int, name: str, value: str) -> bool:
    """Whether `value` is the id given to gcloud's `--secret` (`name`, at `option_at` in
    `text`: `gcloud secrets versions access latest --secret=db-password`): the name of the
    secret to read, not its value. A random-looking one is no name a person gave, and goes."""
    if name.lower() != "--secret" or _SECRET_MANAGER_ID.fullmatch(value) is None:
        return False
    if _random_looking(value):
        return False
    line_start = text.rfind("\n", 0, option_at) + 1
    return _GCLOUD.search(text, line_start, option_at) is not None


def _option_value(match: re.Match[str]) -> str:
    """A secret option's value replaced (a quoted one to its closing quote, the quotes kept),
    unless the option names a key a vendor issues and the value a thing (`_named_thing`)."""
    value = match[0][len(match[1]) :]
    name, bare = match[1].rstrip(" \t=\"'\\"), value.strip("\"'\\")
    if _named_thing(name, bare) or _key_file(name, bare[: _wrapper_start(bare)]):
        return match[0]
    if _secret_object(name, bare):
        return match[0]
    if _file_reference(bare) or _libvirt_secret_uuid(match, name, bare):
        return match[0]
    if gcloud_secret_id(match.string, match.start(), name, bare):
        return match[0]
    if _FILE_OPTION.search(name) is not None and _file_named(bare):
        return match[0]
    if match["q"]:
        closed = match["closed"] or ""
        template = whole_template_redacted(value[: len(value) - len(closed)])
        return f"{match[1]}{template or '[REDACTED:password]'}{closed}"
    return _value_replaced(match, "[REDACTED:password]")


#: HTTPie's (and xh's) query item `name==value` and an `--auth-type` that makes `-a` a token.
_QUERY_ITEM = re.compile(r"(?P<name>[A-Za-z_][\w.-]{0,127}+)==(?P<value>.+)", re.DOTALL)
_BEARER_AUTH = re.compile(r"(?:-A|--auth-type)(?:=|[ \t]{1,3})(?:bearer|jwt|token)(?![\w-])", re.I)


def _httpie_secrets(match: re.Match[str]) -> str:
    """An HTTPie or xh command line (`args`) with the value of each query item named like a
    secret (`token==…`, `api_key==…`) replaced, and, when `-A bearer` says `-a` gives a token,
    that token (`-a`, `--auth`, `--auth=`); a reference (`$TOKEN`) and a placeholder stay."""
    args, offset = match["args"], match.start("args") - match.start()
    bearer = _BEARER_AUTH.search(args) is not None
    text = match[0]
    pieces: list[str] = []
    last = 0
    pending = False
    for arg in _ARGUMENT.finditer(args):
        word = arg[0]
        start, end = offset + arg.start(), offset + arg.end()
        item = _QUERY_ITEM.fullmatch(word)
        if pending or (bearer and word.startswith("--auth=")):
            value_start = start if pending else start + len("--auth=")
            value = text[value_start:end]
            if _word_kept(value):
                pending = False
                continue
            quote_mark = _quote_mark(value)
            pieces += (text[last:value_start], f"{quote_mark}[REDACTED:password]{quote_mark}")
            last = end
        elif item is not None and secret_named(item["name"]) and not _word_kept(item["value"]):
            quote_mark = _quote_mark(item["value"])
            value_start = start + item.start("value")
            pieces += (text[last:value_start], f"{quote_mark}[REDACTED:password]{quote_mark}")
            last = end
        pending = bearer and word in ("-a", "--auth")
    pieces.append(text[last:])
    return "".join(pieces)


def _word_kept(value: str) -> bool:
    """Whether a command's value holds no secret to take: a reference (`$TOKEN`, `${X}`), a
    placeholder, empty, or a word a name's value keeps (`_kept_value`)."""
    bare = value.strip("\\\"'")
    return (
        not bare
        or bare.startswith(("$", "[REDACTED"))
        or _PLACEHOLDER_VALUE.fullmatch(bare) is not None
        or _kept_value("token", bare)
    )


#: The host a DSN's password stands before (`@db/app`, `@db:3306`), to the pair's end.
_AT_HOST = re.compile(rf"@{_HOST}[\s\S]*\Z")


#: A password given as a variable's reference (`$DB_PW`, `${DB_PW}`, cmd's `%DB_PW%`): it says
#: where the password comes from, and holds none.
_REFERENCE = re.compile(rf"(?:{_PLACEHOLDER_VALUE.pattern}|%[A-Za-z_]\w{{0,127}}+%)(?:@[\s\S]*)?")


#: A container engine's command that runs a process as `-u user:group` (`docker exec`, `docker
#: compose run`, `podman container create`), then its options before `-u`/`--user`, each with
#: its value unless it is a switch (`-it`, `--rm`): past the image or the container's name, the
#: words are the process's own (`docker exec db-1 curl -u admin:pw`).
_CONTAINER_USER_GROUP = re.compile(
    r"(?<![\w./-])(?:docker|podman|nerdctl|finch)(?:-compose|[ \t]{1,3}(?:compose|container))?"
    r"[ \t]{1,3}(?:run|exec|create)"
    r"(?:[ \t]{1,3}(?:-[dit]{1,3}+|-P|--(?:rm|detach|interactive|tty|privileged|init|read-only"
    r"|no-deps|no-TTY|service-ports)"
    r"|--?[\w-]{1,40}+(?:=[^\s]{0,512}+|[ \t]{1,3}[^\s-][^\s]{0,512}+)?)){0,32}+[ \t]{1,3}\Z"
)


def _not_a_login(match: re.Match[str]) -> bool:
    """Whether a `-u a:b` names no user and password: a JDBC URL (beeline's and sqlline's
    `-u jdbc:hive2://host:port/db`, whose own password other rules take), or a container
    engine's `-u user:group` (`_CONTAINER_USER_GROUP`: docker's `-u postgres:postgres`)."""
    if match["user"].lower() == "jdbc":
        return True
    text, at = match.string, match.start()
    escaped = text.rfind("\\n", 0, at)
    line_start = max(text.rfind("\n", 0, at) + 1, escaped + 2 * (escaped >= 0))
    return _CONTAINER_USER_GROUP.search(text, line_start, at) is not None


#: wfuzz's payload markers (`FUZZ`, `FUZ2Z` …): `--basic FUZZ:FUZ2Z` brute-forces logins
#: from word lists, and holds no password itself.
_FUZZ_MARKER = re.compile(r"FUZ(?:[0-9]{1,2})?Z")


#: curl run as a command (after a separator, a line break escaped inside a JSON string, or a
#: path), then its arguments on the line.
_CURL_RUN = re.compile(
    r"(?:^|[\s;|&(`\"']|\\[nrt])(?:[^\s;|&(`\"'\\]{0,256}/)?curl[ \t][^\r\n;|&]{0,512}\Z",
    re.MULTILINE,
)


def _curl_before(match: re.Match[str]) -> bool:
    """Whether curl runs before a clustered `-…u` on its line (`curl -su`, not `ps -fu`)."""
    text, at = match.string, match.start()
    return _CURL_RUN.search(text, text.rfind("\n", max(0, at - 768), at) + 1, at) is not None


def _user_password(match: re.Match[str]) -> str:
    """The password of a `-u user:password` (curl's proxy's `-U`, `--proxy-user` too) replaced
    (its own quotes, or those around the pair, kept; a DSN's host after it kept); docker's
    `-u 1000:1000` (a user and a group id, or a group alone: `-u :1000`), what is no login
    (`_not_a_login`: a JDBC URL, a container's user and group) and a variable's reference
    outside single quotes (`admin:$DB_PW`: `_REFERENCE`), wfuzz's payload markers
    (`FUZZ:FUZ2Z`) and a clustered `-…u` no curl runs before (`ps -fu root:wheel`) stay."""
    password = match["whole"] or match["quoted"] or match["pw"]
    if match["cluster"] is not None and not _curl_before(match):
        return match[0]
    quote = (match["uq"] or match["pq"] or "").lstrip("\\")
    if quote != "'" and _REFERENCE.fullmatch(password) is not None:
        return match[0]
    if _FUZZ_MARKER.fullmatch(password) is not None:
        return match[0]
    if _not_a_login(match):
        return match[0]
    if match["whole"]:
        if (match["user"] == "" or match["user"].isdigit()) and match["whole"].isdigit():
            return match[0]
        host = _AT_HOST.search(match["whole"])
        return f"{match[1]}:[REDACTED:password]{host[0] if host else ''}"
    if match["pq"]:
        quote = match["pq"]
        return f"{match[1]}:{quote}[REDACTED:password]{quote}"
    if (match["user"] == "" or match["user"].isdigit()) and match["pw"].isdigit():
        return match[0]
    return _value_replaced(match, ":[REDACTED:password]")


#: The command names these rules know, as an argument list's first item names one.
_ARGV_COMMANDS = (
    r"mysql(?:dump|admin|import|check|show|slap)?|mariadb(?:-dump|-admin)?|sshpass|htpasswd"
    r"|docker|podman|buildah|skopeo|nerdctl|oras|az|oc|cf|helm|crane|mongo(?:sh|dump|restore)?"
    r"|7za?|redis-cli|valkey-cli|keydb-cli|cqlsh|rabbitmqadmin|rabbitmqctl|mosquitto_(?:pub|sub|rr)|sqlcmd|bcp"
    r"|ipmitool|zip|unzip|ssh-keygen|snmp[a-z]{2,12}|ldap[a-z]{2,10}|plink|pscp|psftp|psexec"
    r"|openssl|(?:un)?rar|twine|influx|racadm|curl|wget|smbclient|rpcclient|lftp|keytool|java"
    r"|psql|pg_dump|pg_restore|kubectl|mc|nmcli|https?|xhs?"
)


def _argument_items(quote: str) -> str:
    """The pattern of a command's argument list written as a literal, after its `[`: Python's
    repr in a traceback (`['redis-cli', '-a', '…']`), JSON text (`["mysql", "-p…"]`, also
    inside a JSON string, `[\\"…\\"]`), its items in `quote` (the group `lq`); its first item
    a command these rules know, each item free of quotes and backslashes. `markup`'s rules
    for a `[name, value]` pair read it (`_argument_list`), starting at the `[`."""
    return (
        rf"(?P<lq>{quote})(?:[^\s\"'\\]{{0,200}}+/)?(?:{_ARGV_COMMANDS})(?P=lq)"
        r"(?:[ \t]{0,3},[ \t]{0,3}(?P=lq)[^\"'\\\n]{0,512}+(?P=lq)){1,64}+[ \t]{0,3}\]"
    )


#: What an argument needs double quotes for, to be one word on a command line.
_SPACED = re.compile(r"[\s;&|()<>#`$]")


def _argument_list(match: re.Match[str]) -> str:
    """An argument list (`_argument_items`) with each item these rules take on the command line
    it stands for replaced: the items joined as shell words, redacted by `COMMAND_RULES`, and
    each changed word written back in its item's quotes."""
    quote = re.escape(match["lq"])
    items = list(re.finditer(rf"{quote}([^\"'\\\n]*){quote}", match[0]))
    words = [f'"{i[1]}"' if not i[1] or _SPACED.search(i[1]) else i[1] for i in items]
    line = " ".join(words)
    redacted = line
    for rule in COMMAND_RULES:
        redacted = rule.pattern.sub(rule.replacement, redacted)
    if redacted == line:
        return match[0]
    changed = _ARGUMENT.findall(redacted)
    if len(changed) != len(items):
        # A rule joined or split words: the list cannot be written back item by item.
        return match[0]
    pieces: list[str] = []
    last = 0
    for item, word, new in zip(items, words, changed, strict=True):
        if new != word:
            pieces += (match[0][last : item.start(1)], new.strip('"'))
            last = item.end(1)
    pieces.append(match[0][last:])
    return "".join(pieces)


# --- what a command printed -----------------------------------------------------------------------

#: Commands that print a secret on the line below them, in a shell transcript: 1Password's `op
#: read` of a field and `op item get --fields`, Vault's `-field=` (when the field, `field`, is
#: named like a secret), a Kubernetes secret decoded or a token it creates, the CLIs' own
#: tokens (Heroku, GitHub, gcloud, Fly.io, Azure's as TSV), ECR's login password, a secret
#: store's value as text (AWS Secrets Manager and SSM decrypted, Google, Azure Key Vault,
#: Doppler, Infisical, chamber), macOS's keychain's `-w`, a password manager's entry (pass,
#: gopass, Bitwarden), a key openssl generates; and, when its name is named like a secret
#: (`named`), a Terraform output, a Heroku config var (Netlify's, GitLab's, Pulumi's too), an
#: environment variable printed (`echo
#: $X`, `printenv X`), a file shown (`cat /run/secrets/db_password`).
#: A character of the command's line, which ends at a line break (raw, or escaped inside a
#: JSON string) or a pipeline's `|`: `[^\r\n|]` in `_PRINTS_SECRET` stands for it.
_ON_LINE = r"(?:[^\r\n|\\]|\\(?![nr]))"
#: The Azure CLI's commands that print a credential: an account's or a namespace's keys
#: (`storage account keys list`, `redis list-keys`, `… authorization-rule keys list`), a
#: registry's (`acr credential show`, `acr login --expose-token`), a connection string, a
#: service principal's new password, a SAS token, an access token.
_AZ_PRINTS = (
    r"(?:[\w-]{1,48}+[ \t]{1,3}){0,5}?(?:keys?[ \t]{1,3}(?:list|renew)|list-keys|regenerate-keys?"
    r"|credential[ \t]{1,3}(?:show|renew|reset)|(?:admin-key|connection-string)[ \t]{1,3}show"
    r"|show-connection-string|list-connection-strings|list-publishing-credentials"
    r"|create-for-rbac|generate-sas|get-access-token"
    r"|login(?=[^\r\n|]{0,512}?--expose-token))"
)
_PRINTS_SECRET = (
    # Each alternative starts with its command's word, then (`word~`, below) the edge before
    # it, no letter, digit, `.` or `-`: the engine jumps to the words' first letters.
    r"(?:op~[ \t]{1,3}(?:read[ \t]{1,3}(?:-[\w-]{1,16}+[ \t]{1,3}){0,3}+\\?[\"']?"
    r"op://[^\s\"'?\\]{0,512}/(?P<field>[^\s\"'/?\\]{1,128}+)"
    r"|item[ \t]{1,3}get[ \t][^\r\n|]{0,512}?--fields?[ \t=]{1,3}"
    r"(?P<item_field>[\w.,=-]{1,256}+))"
    r"|vault~[ \t]{1,3}(?:kv[ \t]{1,3}get|read)[ \t][^\r\n|]{0,512}?-field[ \t=]{1,3}"
    r"(?P<vault_field>[\w.-]{1,64}+)"
    r"|kubectl~[ \t](?:[^\r\n|]{0,512}?(?<![\w-])secrets?(?![\w-])[^\r\n|]{0,512}"
    r"\|[ \t]{0,8}base64[ \t]{1,3}(?:-d|--decode|-D)"
    # … or a secret's data as a JSONPath or a Go template picks it (base64, as good as clear).
    r"|[^\r\n|]{0,512}?(?<![\w-])secrets?(?![\w-])[^\r\n|]{0,512}?(?:-o|--output)[ \t=]{1,3}"
    r"\\?[\"']?(?:jsonpath|go-template)[^\r\n|]{0,512}?\.(?:data|stringData)(?![\w-])"
    r"|[^\r\n|]{0,256}?(?<![\w-])create[ \t]{1,3}token)"
    r"|heroku~[ \t]{1,3}auth:token|gh~[ \t]{1,3}auth[ \t]{1,3}token"
    # Vercel's `env add NAME [env]` at a prompt: the line typed below it is the value (the
    # variables are an app's secrets whatever their names).
    r"|vercel~[ \t](?:[^\r\n|]{0,64}?[ \t])?env[ \t]{1,3}add[ \t]{1,3}[\w.-]{1,128}+"
    r"(?:[ \t]{1,3}[\w.-]{1,64}+){0,2}+[ \t]{0,8}(?=\r?\n|\\n)"
    r"|fly~(?:ctl)?[ \t]{1,3}auth[ \t]{1,3}token"
    r"|gcloud~[ \t]{1,3}(?:auth[ \t]{1,3}(?:application-default[ \t]{1,3})?"
    r"print-(?:access|identity)-token|secrets[ \t]{1,3}versions[ \t]{1,3}access)"
    r"|aws~[ \t]{1,3}(?:ecr(?:-public)?[ \t]{1,3}get-login-password"
    r"|secretsmanager[ \t]{1,3}get-secret-value[ \t][^\r\n|]{0,512}?"
    r"(?:--output[ \t=]{1,3}text|--query[ \t=]{1,3}\\?[\"']?Secret(?:String|Binary)(?![\w.\[{]))"
    r"|ssm[ \t]{1,3}get-parameters?[ \t](?=[^\r\n|]{0,512}?--with-decryption)"
    r"[^\r\n|]{0,512}?(?:--output[ \t=]{1,3}text"
    r"|--query[ \t=]{1,3}\\?[\"']?Parameters?(?:\[[0-9]{1,3}\])?\.Value(?![\w.\[{])))"
    # Azure's: Key Vault's secret and the commands that print a credential (`_AZ_PRINTS`),
    # as TSV or a table, or in any output when a query picks it (`--query value` prints a
    # JSON string, a YAML scalar, a table's cell); `az_query` and `az_output` say which.
    rf"|az~[ \t]{{1,3}}(?:keyvault[ \t]{{1,3}}secret[ \t]{{1,3}}show|{_AZ_PRINTS})(?![\w-])"
    r"(?![^\r\n|]{0,512}?(?:-o|--output)[ \t=]{1,3}none)"
    r"(?=[^\r\n|]{0,512}?(?:(?:-o|--output)[ \t=]{1,3}(?:tsv|table)|--query[ \t=]))"
    r"(?=(?:[^\r\n|]{0,512}?--query[ \t=]{1,3}"
    r"(?P<az_query>\\?\"[^\"\r\n]{1,256}+\"|'[^'\r\n]{1,256}+'|[^\s|'\"]{1,256}+))?)"
    r"(?=(?:[^\r\n|]{0,512}?(?:-o|--output)[ \t=]{1,3}(?P<az_output>[\w-]{1,8}+))?)"
    r"|security~[ \t]{1,3}find-(?:generic|internet)-password[ \t][^\r\n|]{0,512}?(?<![\w-])-w(?![\w-])"
    r"|pass~[ \t]{1,3}show[ \t]|gopass~[ \t]{1,3}(?:show|cat)[ \t]"
    r"|bw~[ \t]{1,3}get[ \t]{1,3}(?:password|totp)[ \t]"
    r"|(?:doppler~|infisical~)[ \t]{1,3}secrets[ \t]{1,3}get[ \t][^\r\n|]{0,512}?--plain"
    r"|chamber~[ \t]{1,3}read[ \t][^\r\n|]{0,512}?(?<![\w-])-q(?![\w-])"
    r"|openssl~[ \t]{1,3}rand[ \t]{1,3}-(?:base64|hex)"
    # The desktop keyring's secret (`secret-tool lookup attr value`), new passwords (pwgen),
    # and one field of a SOPS file decrypted (`sops -d --extract '["db"]["password"]'`): its
    # last key names it.
    r"|secret-tool(?<![\w.-]secret-tool)[ \t]{1,3}lookup[ \t]|pwgen~(?:[ \t]|(?=\r?\n|\\n|$))"
    r"|sops~[ \t][^\r\n|]{0,512}?--extract[ \t=]{1,3}\\?[\"']?(?:\[[^\]\r\n]{1,128}+\]){0,7}?"
    r"\[\\?[\"']?(?P<sops_field>[\w.-]{1,128}+)\\?[\"']?\](?=\\?[\"']?(?:[ \t]|$|\r?\n))"
    r"|argocd~[ \t]{1,3}admin[ \t]{1,3}initial-password"
    # A cluster's new join token (kubeadm's and k3s' bootstrap token; its join command, with
    # `--print-join-command`, has the token's own rule), Headscale's new pre-auth key.
    r"|(?:kubeadm~|k3s(?<![\w.-]k3s))[ \t]{1,3}token[ \t]{1,3}create"
    r"(?![^\r\n|]{0,256}?--print-join-command)"
    r"|headscale~[ \t]{1,3}preauthkeys[ \t]{1,3}create"
    # Consul's and Nomad's new gossip encryption key.
    r"|consul~[ \t]{1,3}keygen|nomad~[ \t]{1,3}operator[ \t]{1,3}"
    r"(?:keygen|gossip[ \t]{1,3}keyring[ \t]{1,3}generate)"
    # WireGuard's new private or pre-shared key, or an interface's shown.
    r"|wg~[ \t]{1,3}(?:genkey|genpsk|show[ \t]{1,3}[\w.-]{1,64}+[ \t]{1,3}(?:private-key|preshared-keys))"
    # PowerShell's SecretManagement and Az modules print the secret as text with -AsPlainText.
    r"|(?i:get-(?:secret|azkeyvaultsecret))(?<![\w.-](?i:get-secret))"
    r"(?<![\w.-](?i:get-azkeyvaultsecret))[ \t][^\r\n|]{0,512}?(?i:-asplaintext)(?![\w-])"
    r"|terraform~[ \t]{1,3}output[ \t]{1,3}-raw[ \t]{1,3}(?P<tf_output>[\w-]{1,128}+)"
    # Consul's and etcd's key-value stores: the key's last part names the value printed
    # (etcdctl prints the key's line before it, unless `--print-value-only`; not its JSON).
    r"|consul~[ \t]{1,3}kv[ \t]{1,3}get(?:[ \t]{1,3}-[\w-]{1,32}+(?:=[^\s|]{0,256}+)?){0,8}+"
    r"[ \t]{1,3}\\?[\"']?(?:[^\s\"'|]{0,256}/)?(?P<kv_key>[\w.-]{1,128}+)(?![^\s\"'|])"
    r"|etcdctl~(?:[ \t]{1,3}--?[\w-]{1,32}+(?:=[^\s|]{0,256}+)?){0,8}+[ \t]{1,3}get"
    r"(?![^\r\n|]{0,512}?(?:-w|--write-out)[ \t=]{1,3}(?!simple))"
    r"(?:[ \t]{1,3}--?[\w-]{1,32}+(?:=[^\s|]{0,256}+)?){0,8}+[ \t]{1,3}\\?[\"']?"
    r"(?P<etcd_path>(?:[^\s\"'|]{0,256}/)?(?P<etcd_key>[\w.-]{1,128}+)/?)(?![^\s\"'|])"
    # A CI's or a store's secret read by its name, printed whatever the name (Buildkite's
    # `buildkite-agent secret get`, credstash, Berglas, Conjur, Akeyless, the view-secret plugin
    # of kubectl with a key); a platform's variable by its name, a secret only when the name
    # is a secret's (Heroku's config var, Netlify's env, GitLab's CI variable, Pulumi's config).
    r"|buildkite-agent(?<![\w.-]buildkite-agent)[ \t]{1,3}secret[ \t]{1,3}get[ \t]|credstash~[ \t]{1,3}get[ \t]"
    r"|berglas~[ \t]{1,3}access[ \t]|conjur~[ \t]{1,3}variable[ \t]{1,3}(?:get|value)[ \t]"
    r"|akeyless~[ \t]{1,3}get-secret-value[ \t]"
    r"|kubectl~[ \t]{1,3}view-secret[ \t]{1,3}[\w.-]{1,253}+[ \t]{1,3}[\w.-]"
    r"|(?:heroku~[ \t]{1,3}config:get|netlify~[ \t]{1,3}env:get|glab~[ \t]{1,3}variable"
    r"[ \t]{1,3}get|pulumi~[ \t]{1,3}config[ \t]{1,3}get)(?:[ \t]{1,3}-[\w-]{1,32}+"
    r"(?:[ \t=][^\s|-][^\s|]{0,127}+)?){0,4}?[ \t]{1,3}(?P<config_var>(?!-)[\w.:-]{1,128}+)(?![^\s|])"
    r"|printenv~[ \t]{1,3}(?P<env_var>\w{1,128}+)"
    r"|echo~[ \t]{1,3}\\?[\"']?\$\{?(?P<echoed_var>[A-Za-z_]\w{0,127}+)\}?\\?[\"']?(?![^\s|])"
    r"|cat~[ \t]{1,3}(?:[^\s|;&<>]{0,256}/)?(?P<cat_file>[\w.-]{1,128}+)(?=[ \t]{0,8}+(?![^\r\n\\\"])))"
)
_PRINTS_SECRET = re.sub(
    r"([a-z]+)~", lambda m: rf"{m[1]}(?<![\w.-]{m[1]})", _PRINTS_SECRET
).replace(r"[^\r\n|]", _ON_LINE)

#: The groups of `_PRINTS_SECRET` that name what the command prints: its output is a secret
#: only when the name is a secret's.
_FIELDS: tuple[str, ...] = ("field", "item_field", "vault_field", "tf_output", "config_var")
_FIELDS += ("env_var", "echoed_var", "cat_file", "kv_key", "etcd_key", "sops_field")

#: A shell's prompt (`$ `, `# `, `deploy@ci:~$ `, `PS C:\> `, `> `), or the `+ ` a script's
#: `set -x` trace writes before each command it runs (`++ ` in a command substitution).
_PROMPT_MARK = r"(?:[^\s\"]{0,64}[$#>%]|\+{1,8})[ \t]{1,3}"
#: What runs the command for the person at the prompt and shows its output on the same
#: terminal: `sudo` or `doas` and their options, `docker`/`podman exec` and its container,
#: `kubectl exec` and its pod up to `--`, `ssh` and its host; one after another
#: (`sudo docker exec app …`).
_RUNNER = (
    r"(?:(?:(?:sudo|doas)(?:[ \t]{1,3}(?:-[A-Za-z]{1,8}(?:[ \t]{1,3}[\w.@-]{1,64})?"
    r"|--[\w-]{1,32}(?:=[^\s|]{1,128})?)){0,8}"
    r"|(?:docker|podman|nerdctl)[ \t]{1,3}(?:container[ \t]{1,3})?exec"
    r"(?:[ \t]{1,3}-[\w-]{1,32}(?:[= \t][^\s|-][^\s|]{0,127})?){0,8}[ \t]{1,3}[\w./:-]{1,128}"
    r"|kubectl[ \t]{1,3}exec[ \t][^\r\n|]{0,512}?[ \t]--"
    r"|ssh(?:[ \t]{1,3}-[A-Za-z]{1,4}(?:[ \t]{1,3}[^\s|-][^\s|]{0,255})?){0,8}[ \t]{1,3}[\w.@-]{1,128})"
    r"[ \t]{1,3}){0,3}"
)
#: What may stand before the command on its line: indentation, a prompt and a runner.
_PROMPT = re.compile(rf"[ \t]{{0,16}}(?:{_PROMPT_MARK})?{_RUNNER}")
#: The groups of commands that a script runs as often as a person does (`echo $X`, `cat f`):
#: the line after them is output only in a transcript, after a shell's prompt (`_SHELL_PROMPT`).
_SCRIPTED = ("env_var", "echoed_var", "cat_file")
_SHELL_PROMPT = re.compile(rf"[ \t]{{0,16}}{_PROMPT_MARK}{_RUNNER}")
#: A `set -x` trace's assignment (`+ CONN=…`, `+ export CONN=…`): after a command traced one
#: level deeper (`++ az …`), it assigns what that command printed, quoted by the trace (`'…'`)
#: when it holds a space. The value is the rest of the line.
_TRACED_ASSIGNMENT = (
    r"\+{1,8}[ \t]{1,3}(?:(?:export|local|readonly|declare|typeset)[ \t]{1,3}"
    r"(?:-[A-Za-z]{1,8}[ \t]{1,3}){0,4})?[A-Za-z_]\w{0,127}="
)
_TRACED_VALUE = re.compile(rf"(?P<head>[ \t]{{0,16}}{_TRACED_ASSIGNMENT})(?P<value>.+)", re.DOTALL)


#: An output line that says the command failed (`[ERROR] item not found`, `Error from server
#: (NotFound): …`, `base64: invalid input`, `usage: …`): no secret follows it.
_FAILED = re.compile(
    r"[ \t]{0,64}+\[?(?:error|err|fatal|usage|invalid)(?![a-z0-9])"
    r"|[^\r\n]{0,4096}?(?<![a-z])(?:error|invalid|denied|not[ ]found|failed|forbidden"
    r"|unauthori[sz]ed|no[ ]such)(?![a-z])",
    re.IGNORECASE,
)
#: A word on the command's own line that says it printed nothing but a failure (`wg genkey
#: failed`, `wg genkey: error`): a word of its own, not part of a path (`secret/failed`).
_SAID_FAILED = re.compile(
    r"(?:(?<=[ \t:])|(?<=\A))(?:failed|fails|error|errored|denied|unable)(?=\Z|[ \t:.!,])",
    re.IGNORECASE,
)
#: An output line printed before the secret: a warning (`Warning: …`, `W1206 …`), a tool's
#: `name: note`, an interactive prompt (`Enter the password for bob at my.1password.com:`), a
#: CLI's banner of its version (`Vercel CLI 32.1.0`).
_BEFORE_SECRET = re.compile(
    r"[ \t]{0,64}+\[?warn(?:ing)?(?![a-z0-9])|[ \t]{0,64}+[\w.-]{1,32}+:[ \t]"
    r"|[ \t]{0,64}+[\w.-]{1,32}+[ \t]CLI[ \t]v?[0-9]{1,4}+(?:\.[0-9]{1,4}+){1,3}+[ \t]{0,8}+\Z"
    r"|[^\r\n]{0,4096}?[A-Za-z][^\r\n]{0,4096}?[:?][ \t]{0,8}+\Z",
    re.IGNORECASE,
)
#: How many lines (blank, warnings, prompts) may come between a command and its secret: past
#: them, a line is some later output, not the secret.
_LINES_BEFORE_SECRET = 4
#: A printed block's first line and how its last starts: a JSON object or list over lines, a
#: PEM block.
_BLOCK_OPENS = {"{": "}", "[": "]"}
#: A block's lines that hold no secret: its brackets alone.
_PUNCTUATION_LINES = frozenset({"{", "}", "[", "]", "},", "],"})


def _told_in_words(line: str) -> bool:
    """Whether an output line is a sentence (`no oauth token found for github.com`): words,
    one of them prose's (`_PROSE`: `for`, `is`, `not` …). A passphrase of words has none."""
    words = line.split()
    return len(words) > 1 and any(_PROSE.fullmatch(word) for word in words)


def _line_start(text: str, at: int) -> int:
    """Where the line holding `at` starts: after a line break, raw or escaped inside a JSON
    string (`\\n`), or the string's opening quote."""
    escaped = text.rfind("\\n", 0, at)
    return max(
        text.rfind("\n", 0, at) + 1, text.rfind('"', 0, at) + 1, escaped + 2 * (escaped >= 0)
    )


def _block_end(lines: list[str], first: int) -> int:
    """The index of the last line of the block whose first line is `lines[first]`: a JSON
    object's or list's closing line at its opening's indentation, a PEM block's END line;
    the last line before a blank one when the block is not closed among `lines`."""
    opening = lines[first].strip()
    indent = len(lines[first]) - len(lines[first].lstrip())
    for at in range(first + 1, len(lines)):
        line = lines[at]
        if not line.strip():
            return at - 1
        if opening.startswith("-----BEGIN") and line.lstrip().startswith("-----END"):
            return at
        closing = _BLOCK_OPENS.get(opening, "")
        if (
            closing
            and line.lstrip().startswith(closing)
            and len(line) - len(line.lstrip()) == indent
        ):
            return at
    return len(lines) - 1


def _secret_lines(lines: list[str]) -> range:
    """Which of the output lines after a command that prints a secret hold it: the first
    line that is no blank, warning or prompt (at most `_LINES_BEFORE_SECRET` of those before
    it), or the block it opens (`_block_end`: a JSON object over lines, a PEM block). None
    after a failure (`_FAILED`), a sentence (`_told_in_words`) or a placeholder (a rule
    before took the secret)."""
    for at, line in enumerate(lines[: _LINES_BEFORE_SECRET + 1]):
        if not line.strip():
            continue
        if line.lstrip().startswith("[REDACTED") or _FAILED.match(line) is not None:
            return range(0)
        if _BEFORE_SECRET.match(line) is not None:
            continue
        if _told_in_words(line):
            return range(0)
        if line.strip() in _BLOCK_OPENS or line.lstrip().startswith("-----BEGIN"):
            return range(at + 1, _block_end(lines, at))
        return range(at, at + 1)
    return range(0)


def _etcd_values(lines: list[str], path: str) -> list[int]:
    """Which of `etcdctl get <path>`'s output lines hold a secret: it prints each key's line
    (the path, or under `--prefix` a path it starts) and its value's line after it; a value
    goes when its key's last part is named like a secret. The output ends at the first line
    that is no such key's."""
    taken: list[int] = []
    at = 0
    while at + 1 < len(lines) and lines[at].strip().startswith(path):
        if secret_named(lines[at].strip().rstrip("/").rsplit("/", 1)[-1]):
            taken.append(at + 1)
        at += 2
    return taken


#: A table's rule under its header, as `az -o table` prints it: runs of dashes, spaces apart.
_TABLE_RULE = re.compile(r"[ \t]{0,64}+-{2,}+(?:[ \t]{1,8}+-{2,}+){0,64}+[ \t]{0,8}+")
#: A field of an Azure CLI answer that holds the secret: Key Vault's and a key list's
#: `value`, a key (`primaryKey`, `key1`), or a field named like a secret (`password`,
#: `accessToken`, `primaryConnectionString`); a table's column so headed, `PASSWORD2` too.
_AZ_SECRET_FIELD = re.compile(r"value|result|(?:[a-z]{0,32})key[0-9]?", re.IGNORECASE)
#: A JMESPath query's field names (`passwords[0].value`), its quoted literals left out.
_QUERY_FIELD = re.compile(r"'[^']*'|`[^`]*`|(?P<field>[A-Za-z_]\w{0,127})")


def _secret_field(name: str) -> bool:
    """Whether an Azure CLI answer's field or table column holds the secret (`_AZ_SECRET_FIELD`)."""
    return _AZ_SECRET_FIELD.fullmatch(name) is not None or secret_named(name.rstrip("0123456789"))


def _query_picks_secret(query: str) -> bool:
    """Whether an `az … --query` names a field that holds the secret (`[0].value`,
    `primaryKey`); one for an id, a name or an expiry prints none."""
    fields = (m["field"] for m in _QUERY_FIELD.finditer(query.strip("\\\"'")) if m["field"])
    return any(_secret_field(field) for field in fields)


#: A table's cell: words with single spaces between them; two spaces part cells.
_TABLE_CELL = re.compile(r"\S+(?: \S+)*")


def _cell_spans(row: str, header: str, rule: str) -> list[tuple[int, int, str]]:
    """Each cell of a table's row, with its column's header: by their order when the row has
    as many cells as the header (a cell wider than its column, a placeholder, shifts the rest),
    else by the rule's dashes each cell starts under (a column left empty)."""
    names = _TABLE_CELL.findall(header)
    cells = [cell.span() for cell in _TABLE_CELL.finditer(row)]
    if len(cells) == len(names):
        return [(start, end, name) for (start, end), name in zip(cells, names, strict=True)]
    columns = [(dashes.start(), header[dashes.start() : dashes.end()].strip())
               for dashes in re.finditer("-+", rule)]  # fmt: skip
    spans: list[tuple[int, int, str]] = []
    for start, end in cells:
        name = next((name for at, name in reversed(columns) if at <= start), "")
        spans.append((start, end, name))
    return spans


def _table_rows_blanked(lines: list[str], header: int) -> dict[int, str]:
    """The rows of the table whose header is `lines[header]` (its rule below it), each with
    its cells under a secret's column (`_secret_field`) replaced, or whole when no column
    is one, by their index in `lines`. The rows end at a blank line."""
    head, rule = lines[header], lines[header + 1]
    secret_columns = any(_secret_field(name) for name in _TABLE_CELL.findall(head))
    rows: dict[int, str] = {}
    for at in range(header + 2, len(lines)):
        row = lines[at]
        if not row.strip():
            break
        if not secret_columns:
            rows[at] = f"{row[: len(row) - len(row.lstrip())]}[REDACTED:password]"
            continue
        # From the right, so the spans of the cells left of a replaced one stay true.
        for start, end, name in reversed(_cell_spans(row, head, rule)):
            if _secret_field(name) and not row.startswith("[REDACTED", start):
                row = f"{row[:start]}[REDACTED:password]{row[end:]}"
        if row != lines[at]:
            rows[at] = row
    return rows


def _tsv_rows(lines: list[str], first: int) -> range:
    """The TSV records from `lines[first]` to the first blank line: `az … -o tsv` prints
    one for each key of a list."""
    end = next((at for at in range(first, len(lines)) if not lines[at].strip()), len(lines))
    return range(first, end)


def _assigned(lines: list[str], prompt: str) -> range:
    """The first of the output lines when it is a `set -x` trace's assignment that takes what
    the command printed: the command was traced one level deeper (`++ cmd`, then `+ X=…`),
    as a command substitution's is; none otherwise (the assignment is a later command's)."""
    return range(1) if prompt.strip().startswith("++") else range(0)


def _traced_value_blanked(traced: re.Match[str]) -> str:
    """A traced assignment (`_TRACED_VALUE`) with its value replaced, the trace's quotes kept."""
    value = traced["value"].rstrip()
    if value.startswith(("[REDACTED", "'[REDACTED")):
        return traced[0]
    quote = "'" if len(value) > 1 and value[0] == value[-1] == "'" else ""
    return f"{traced['head']}{quote}[REDACTED:password]{quote}"


def _output_blanked(lines: list[str], taken: Sequence[int]) -> tuple[dict[int, str], Sequence[int]]:
    """The output lines that hold a secret (`taken`) replaced, by index, and the lines they
    span: each line whole but its indentation (a JSON block's brackets stay), a traced
    assignment's value only, a table's secret cells below its header (the header, at
    `taken`, stays; `_table_rows_blanked`)."""
    if taken and (traced := _TRACED_VALUE.match(lines[taken[0]])) is not None:
        return {taken[0]: _traced_value_blanked(traced)}, taken
    if len(taken) == 1 and _TABLE_RULE.fullmatch([*lines, ""][taken[0] + 1]):
        rows = _table_rows_blanked(lines, taken[0])
        return rows, range(taken[0], max(rows, default=taken[0] + 1) + 1)
    blanked = {
        at: f"{lines[at][: len(lines[at]) - len(lines[at].lstrip())]}[REDACTED:password]"
        for at in taken
        if lines[at].strip() not in _PUNCTUATION_LINES
    }
    return blanked, taken


#: A later stage of the pipeline that turns the secret into what may be shown: `wg genkey |
#: tee privatekey | wg pubkey` prints the public key, the private one went to the file.
_PIPED_TO_PUBLIC = re.compile(r"\|[ \t]{0,8}+(?:sudo[ \t]{1,3})?wg[ \t]{1,3}pubkey(?![\w-])")


def _printed_secret(brk: str) -> Callable[[re.Match[str]], str]:
    """The replacement of a command that prints a secret (`_PRINTS_SECRET`) and its output's
    lines, broken by `brk`: the lines that hold the secret (`_secret_lines`) replaced, when
    the command starts its line (after a prompt: `_PROMPT`) and the field it reads, if it
    names one, is named like a secret; the lines after them read again for the next such
    command."""
    breaks = re.compile(f"({brk})")

    def replaced(match: re.Match[str]) -> str:
        text = match.string
        prompt = _SHELL_PROMPT if any(match[name] for name in _SCRIPTED) else _PROMPT
        if prompt.fullmatch(text, _line_start(text, match.start()), match.start()) is None:
            return match[0][: match.start("output") - match.start()] + match.re.sub(
                replaced, match["output"]
            )
        field = next((match[name] for name in _FIELDS if match[name] is not None), None)
        # `op item get --fields label=username,label=password` prints each field, joined by `,`.
        names = [name.removeprefix("label=") for name in (field or "").split(",")]
        pieces = breaks.split(match["output"])  # "", break, line, break, line …
        lines = pieces[2::2]
        head = match[0][: match.start("output") - match.start()]
        taken: Sequence[int] = _secret_lines(lines)
        if _TRACED_VALUE.match(lines[0]) is not None:
            taken = _assigned(lines, text[_line_start(text, match.start()) : match.start()])
        if match["etcd_path"] is not None and "--print-value-only" not in head:
            taken = _etcd_values(lines, match["etcd_path"])
        elif (field is not None and not any(secret_named(name) for name in names)) or (
            match["az_query"] is not None and not _query_picks_secret(match["az_query"])
        ):
            # A field not named like a secret, or an `az --query` that picks no secret.
            taken = range(0)
        elif match["az_output"] == "tsv" and taken:
            taken = _tsv_rows(lines, taken[0])
        if _PIPED_TO_PUBLIC.search(head) is not None or _SAID_FAILED.search(head) is not None:
            taken = range(0)
        blanked, taken = _output_blanked(lines, taken)
        for at, line in blanked.items():
            pieces[2 + 2 * at] = line
        done = 1 + 2 * (taken[-1] + 1 if taken else 0)
        return head + "".join(pieces[:done]) + match.re.sub(replaced, "".join(pieces[done:]))

    return replaced


#: A line break, raw or escaped inside a JSON string, and the blank lines and indentation after it.
_BREAKS = r"(?:[ \t]{0,8}(?:\r?\n|(?:\\r)?\\n)){1,4}[ \t]{0,8}"
#: What a service prints before the password it generated: MySQL's `A temporary password is
#: generated for root@localhost: X`, Jenkins' `… the following password to proceed to
#: installation:` and the password below it, Elasticsearch's `PASSWORD elastic = X`
#: (elasticsearch-setup-passwords), `New value: X` after a reset, and its first start's
#: `Password for the elastic user (reset with …):` and the password below it, or, in 8.0's log,
#: `The generated password for the elastic built-in superuser is : X`.
_GENERATED = (
    r"(?:A temporary password is generated for [^\s:]{1,256}+:[ \t]{1,3}"
    rf"|following password to proceed to installation:{_BREAKS}"
    r"|(?:(?<![\w-])|(?<=\\n))PASSWORD [\w.-]{1,64}+ = "
    rf"|successfully reset\.{_BREAKS}New value:[ \t]{{1,3}}"
    rf"|user \(reset with [^\r\n]{{0,256}}?\):{_BREAKS}"
    r"|generated password for the [\w.-]{1,64}+ built-in superuser is ?:[ \t]{1,3})"
)

#: Elasticsearch's `New value: X` at its line's start with the value alone on its line: what
#: `elasticsearch-reset-password` prints below `… successfully reset.` (`_GENERATED`), read on
#: its own for a log that cut that line away. The value is 12 to 64 of the characters its
#: generator writes (letters, digits, `~!@#$%^&*-_=+?`), no path, time or sentence.
_NEW_VALUE_LINE = (
    r"(?:(?<![^\n])|(?<=\\n))[ \t]{0,8}+New value:[ \t]{1,3}"
    r"(?P<value>[A-Za-z0-9~!@#$%^&*_=+?.-]{12,64}+)(?=[ \t]{0,8}+(?:\r?\n|\\[rn]|\"|$))"
)
#: A character of a generated password that no name or word holds.
_GENERATED_MARKS = frozenset("0123456789~!@#$%^&*_=+?")


def _new_value_line(match: re.Match[str]) -> str:
    """A `New value:` line's value replaced when it has a generated password's shape: upper
    and lower case, and a digit or a sign no name holds (`Read-Only-Mode`, `MaxConnections`
    stay); else the match unchanged."""
    value = match["value"]
    generated = (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and not _GENERATED_MARKS.isdisjoint(value)
    )
    if not generated:
        return match[0]
    return f"{match[0][: match.start('value') - match.start()]}[REDACTED:password]"


#: The rules for a command's printed secret: the command, the rest of its line, and the lines
#: after it (line breaks raw, or escaped inside a JSON string) up to the next prompt's line.
PRINTED_RULES: tuple[_Rule, ...] = tuple(
    _rule(
        rf"{_PRINTS_SECRET}{char}{{0,512}}+(?P<output>(?:{brk}"
        rf"(?![ \t]{{0,64}}+(?!{_TRACED_ASSIGNMENT}){_PROMPT_MARK}){char}{{0,4096}}+){{1,64}}+)",
        _printed_secret(brk),
        *("op read", "op item", "-field", "base64", "create token", "auth:token", "auth token"),
        *("print-access-token", "print-identity-token", "versions access"),
        *("get-login-password", "get-secret-value", "get-access-token"),
        *("find-generic-password", "find-internet-password"),
        *("pass show", "gopass", "bw get", "--plain", "chamber", "openssl rand", "-raw"),
        *("config:get", "printenv", "echo", "cat ", "keyvault", "ssm"),
        *("initial-password", "-asplaintext", "kv get", "etcdctl", "az ", "az\t", "jsonpath"),
        *("go-template", "genkey", "genpsk", "private-key", "preshared-keys", "keygen"),
        *("token create", "preauthkeys"),
        *("secret get", "credstash", "berglas", "conjur", "akeyless", "view-secret"),
        *("env:get", "variable get", "config get"),
        *("secret-tool", "pwgen", "--extract"),
        "keyring",
        "env add",
        fold_needles=True,
    )
    for brk, char in _LINES
)


#: A conversion of a `printf` format (`%s`, `%-8s`, `%q`); `%%` is a literal percent sign.
_PRINTF_CONVERSION = re.compile(r"%(?:%|[-+ #0]{0,4}[0-9]{0,4}(?:\.[0-9]{1,4})?[a-zA-Z])")
#: The name a format writes just before a conversion (`password=%s`, `token: %s`), after a
#: line break the format escapes (`\\npassword=%s`) too.
_PRINTF_NAME = re.compile(r"(?:(?<![\w.\\-])|(?<=\\[nrt]))([\w.-]{1,64})[ \t]{0,3}[=:][ \t]{0,3}\Z")
#: One argument after a `printf` format: quoted whole, or a word.
_PRINTF_ARGUMENT = re.compile(
    r"""[ \t]{1,3}(?P<argument>"(?:[^"\\\r\n]|\\.){0,1024}+"|'[^'\r\n]{0,1024}+'"""
    r"""|[^\s"'|;&<>()]{1,1024}+)"""
)


def _printf_secrets(match: re.Match[str]) -> str:
    """A shell `printf` with each argument replaced whose conversion in the format follows a
    secret's name (`printf "[client]\\npassword=%s" "…"`: `_PRINTF_NAME`), its quotes kept;
    else the match unchanged."""
    fmt = match["format"]
    secret_places: set[int] = set()
    place = 0
    for conversion in _PRINTF_CONVERSION.finditer(fmt):
        if conversion[0] == "%%":
            continue
        name = _PRINTF_NAME.search(fmt, 0, conversion.start())
        if name is not None and secret_named(name[1]):
            secret_places.add(place)
        place += 1
    if not secret_places:
        return match[0]
    args, start = match["args"], match.start("args") - match.start()
    pieces, at = [match[0][:start]], 0
    for index, argument in enumerate(_PRINTF_ARGUMENT.finditer(args)):
        value = argument["argument"]
        quote = value[0] if value[0] in "\"'" else ""
        if index in secret_places and not value.strip("\"'").startswith("[REDACTED"):
            inner = value[len(quote) : len(value) - len(quote)]
            if inner and not _kept_value("password", inner):
                pieces += (
                    args[at : argument.start("argument")],
                    f"{quote}[REDACTED:password]{quote}",
                )
                at = argument.end("argument")
    pieces.append(args[at:])
    return "".join(pieces)


def _ci_command_secret(match: re.Match[str]) -> str:
    """A CI runner's workflow command's value replaced: always for one that marks it secret
    (GitHub Actions' `::add-mask::`, Azure Pipelines' `setvariable … issecret=true`), for one
    that sets a named value (`::set-output name=N::`, `::set-env`, TeamCity's `setParameter
    name='N' value='…'`, Azure's `setvariable variable=N` not marked secret) when its name is
    a secret's (`deploy_token`, `env.DEPLOY_TOKEN`)."""
    name = match["name"] or match["tname"] or match["vname"]
    if name is not None and not secret_named(name.rsplit(".", 1)[-1]):
        return match[0]
    group = "value" if match["value"] is not None else "tvalue"
    start, end = match.start(group) - match.start(), match.end(group) - match.start()
    return f"{match[0][:start]}[REDACTED:password]{match[0][end:]}"


#: A value of a CI workflow command: to a space, a quote or an escaped line break.
_CI_VALUE = r"(?!\[REDACTED|\$)(?:[^\s\"'\\]|\\(?![nrt\"'\\])){1,4096}+"

#: A PowerShell here-string's body (`@"` or `@'` at a line's end, to the `"@` or `'@` that
#: starts a line): its lines, raw or inside a JSON string (`\n`).
_HERE_STRING_BODY = r"(?P<body>(?:(?!(?P=hq)@)(?:[^\r\n\\]|\\(?![nr])){0,4096}+(?:\r?\n|(?:\\r)?\\n)){1,64}?)(?=(?P=hq)@)"


#: The line break that ends a here-string's last line, raw or escaped.
_LAST_BREAK = re.compile(r"(?:\r?\n|(?:\\r)?\\n)\Z")


def _here_string_body(match: re.Match[str]) -> str:
    """A PowerShell here-string's lines replaced by one placeholder, the break before its
    closing quote kept, when its variable's name is a secret's (`$password`, `$env:API_TOKEN`);
    else the match unchanged."""
    body = match["body"]
    if not secret_named(match["name"].rsplit(":", 1)[-1]) or body.startswith("[REDACTED"):
        return match[0]
    last_break = _LAST_BREAK.search(body)
    return f"{match[1]}[REDACTED:password]{last_break[0] if last_break else ''}"


# --- a secret fed to a command on its input, or set by one -------------------------------------

#: A value echoed or printed into a pipe (`echo X |`, `echo -n 'X' |`, `printf '%s' X |`); a
#: reference (`$PW`, `"$PW"`) says where the value comes from, and is not matched.
_ECHOED_INTO = (
    # Each word first, then the edge before it: the engine jumps to the words' letters.
    r"(?:echo(?<![\w./-]echo)(?:[ \t]{1,3}-[neE]{1,3}+){0,3}+"
    r"|printf(?<![\w./-]printf)(?:[ \t]{1,3}\\?[\"']%s(?:\\n)?\\?[\"'])?)[ \t]{1,3}"
    rf"(?!\\?[\"']?\$)(?P<value>{_WORD_VALUE})[ \t]{{0,8}}\|[ \t]{{0,8}}"
    rf"(?P<reader>(?:(?!\\n){_ARGS_CHAR}){{1,256}}+)"
)
#: A command that stores the secret it reads from its input whatever its name: a secret
#: store's `secret put`, `secrets set`, `secret create` given no value (wrangler, gh, glab, fly,
#: firebase's `functions:secrets:set`), `dotnet user-secrets set` (a JSON of them), a
#: keystore's `add` (Elasticsearch's, Kibana's, Logstash's `…-keystore add -x NAME`).
_SECRET_STORE = re.compile(
    r"(?<![\w-])(?:secrets?[ \t:]{1,3}(?:put|set|add|create|import|update)"
    r"|user-secrets[ \t]{1,3}set|[\w-]{0,32}keystore(?:\.bat)?[ \t]{1,3}add(?:-file)?)(?![\w-])",
    re.IGNORECASE,
)
#: A verb of a command that stores its input under a name (`vercel env add NAME`, `pass
#: insert -e NAME`, `ansible-vault encrypt_string --stdin-name NAME`): the input is a secret
#: when the name is a secret's.
_STORING_VERB = re.compile(
    r"(?<![\w-])(?:add|set|put|create|insert|import|update|encrypt_string)(?![\w-])",
    re.IGNORECASE,
)
#: A word of a command line, its quotes and an `=` aside.
_COMMAND_LINE_WORD = re.compile(r"[^\s=\"'`\\]{1,256}+")


def _stores_secret(command: str) -> bool:
    """Whether a command line that reads its input stores that input as a secret: a secret
    store's or a keystore's command (`_SECRET_STORE`), or a storing verb (`_STORING_VERB`)
    with a word named like a secret (`vercel env add DB_PASSWORD production`). A filter
    (`grep password`, `jq .token`) stores nothing, and its input stays."""
    if _SECRET_STORE.search(command) is not None:
        return True
    return _STORING_VERB.search(command) is not None and any(
        secret_named(word.strip("-.").rsplit("/", 1)[-1])
        for word in _COMMAND_LINE_WORD.findall(command)
    )


def _value_group_replaced(match: re.Match[str]) -> str:
    """The match with its `value` group replaced, its quotes (group `q`) kept, and what
    follows the value kept."""
    quote = match["q"] or ""
    start, end = match.start("value") - match.start(), match.end("value") - match.start()
    return f"{match[0][:start]}{quote}[REDACTED:password]{quote}{match[0][end:]}"


#: A word of a command line: quoted, or a run of non-space.
_WORD = r"""(?:'[^'\r\n]{0,256}+'|"[^"\r\n]{0,256}+"|[^\s'"]{1,256}+)"""
#: radtest's command line: its options (`-t pap`, `-x`, `-4`), the user, the password, the
#: server and the NAS port, then the shared secret (an alert may cut the line before it).
_RADTEST = (
    rf"(?<![\w.-])radtest[ \t]{{1,3}}(?:-[\w-]{{1,16}}+(?:[ \t]{{1,3}}(?:pap|chap|mschap|eap-md5))?"
    rf"[ \t]{{1,3}}){{0,6}}+{_WORD}[ \t]{{1,3}}(?P<pw>{_WORD})"
    rf"(?:(?:[ \t]{{1,3}}{_WORD}){{2}}[ \t]{{1,3}}(?P<secret>{_WORD}))?"
)


#: A proxychains `[ProxyList]` row with credentials: `type host port user password`.
_PROXY_ROW = re.compile(
    r"(?m:^)([ \t]{0,16}+(?:http|socks[45]|raw)[ \t]{1,16}+[^\s]{1,253}+[ \t]{1,16}+[0-9]{1,5}"
    r"[ \t]{1,16}+[^\s#]{1,256}+[ \t]{1,16}+)(?!\[REDACTED)([^\s#]{1,256}+)"
)


def _proxy_rows_blanked(match: re.Match[str]) -> str:
    """A proxychains `[ProxyList]` section with each row's password replaced (`_PROXY_ROW`)."""
    return _PROXY_ROW.sub(r"\1[REDACTED:password]", match[0])


def _radtest_secrets(match: re.Match[str]) -> str:
    """radtest's password and shared secret (`_RADTEST`) replaced, their quotes kept."""
    text = match[0]
    for name in ("secret", "pw"):  # from the right, so the left one's offsets hold
        if match[name] is None or match[name].strip("'\"").startswith("[REDACTED"):
            continue
        start, end = match.start(name) - match.start(), match.end(name) - match.start()
        quote = _quote_mark(match[name])
        text = f"{text[:start]}{quote}[REDACTED:password]{quote}{text[end:]}"
    return text


def _piped_into_store(match: re.Match[str]) -> str:
    """A value piped into a command that stores it as a secret (`_stores_secret`) replaced;
    else the match unchanged."""
    if not _stores_secret(match["reader"]):
        return match[0]
    return _value_group_replaced(match)


#: A MySQL client's `-p` given no value and psql's `-W`: the client asks for the password,
#: and reads it from its input when that is no terminal (a heredoc's first line).
_ASKS_FOR_PASSWORD = (
    rf"(?:mysql(?:dump|admin|import|check|show|slap)?|mariadb(?:-dump|-admin)?){_COMMAND_END}"
    r"(?:[ \t]{1,3}(?!<)[^\s|;&]{1,256}+){0,16}?[ \t]{1,3}-p(?=[ \t])"
    rf"|(?:psql|pg_dump(?:all)?|pg_restore){_COMMAND_END}"
    r"(?:[ \t]{1,3}(?!<)[^\s|;&]{1,256}+){0,16}?[ \t]{1,3}-W(?=[ \t])"
)
#: A command that reads a password from its input (`_ASKS_FOR_PASSWORD`, and those
#: `positional` reads a piped value into: `--password-stdin`, `sudo -S`, `chpasswd`).
_HEREDOC_READER = re.compile(rf"(?<![\w./-])(?:{_ASKS_FOR_PASSWORD}|{_STDIN_READER})")
#: What ends a pipeline's step or a command in a list (the heredoc feeds the last), and a
#: JSON string's member before the string holding the command (`"log": "`).
_COMMAND_BEFORE = re.compile(r"[|;&]|(?<!\\)\"[ \t]{0,8}[,:\[\]{}]")


def _command_before(text: str, at: int) -> str:
    """The command whose line runs to `at`: from its line's start (a line break, raw or
    escaped inside a JSON string), after the last pipeline step, list and JSON member."""
    escaped = text.rfind("\\n", 0, at)
    start = max(text.rfind("\n", 0, at) + 1, escaped + 2 * (escaped >= 0))
    return _COMMAND_BEFORE.split(text[start:at])[-1]


#: The readers whose input is `user:password` lines (`positional._USER_PASSWORD_READERS`).
_LOGIN_LINES_READERS = ("chpasswd", "base64")


def _heredoc_secret(brk: str) -> Callable[[re.Match[str]], str]:
    """The replacement of a heredoc (`<<TAG`, its lines `body` broken by `brk`), when the
    command before it on its line reads a password from its input (`_HEREDOC_READER`): its
    first line replaced (the password a prompt reads; a reference, `$PW`, stays), or for
    `chpasswd` and `base64` each line's part after its `:` (`user:password` lines)."""
    breaks = re.compile(f"({brk})")

    def replaced(match: re.Match[str]) -> str:
        text = match.string
        command = _command_before(text, match.start())
        reader = _HEREDOC_READER.search(command)
        if reader is None:
            return match[0]
        pieces = breaks.split(match["body"])  # line, break, line …
        logins = any(name in reader[0] for name in _LOGIN_LINES_READERS)
        for at in range(0, len(pieces) if logins else 1, 2):
            line = pieces[at]
            indent = line[: len(line) - len(line.lstrip())]
            bare = line.strip()
            if not bare or bare.startswith(("$", "[REDACTED")):
                continue
            if logins:
                user, colon, password = line.partition(":")
                if colon and password.strip() and not password.startswith("[REDACTED"):
                    pieces[at] = f"{user}:[REDACTED:password]"
            else:
                pieces[at] = f"{indent}[REDACTED:password]"
        head = match[0][: match.start("body") - match.start()]
        return head + "".join(pieces)

    return replaced


#: A value a CI runner's step debug log shows an expression evaluating to (GitHub Actions'
#: `ACTIONS_STEP_DEBUG`, Azure Pipelines' `system.debug`): `##[debug]=> '…'`, at any depth
#: (`..=> '…'`), and the `##[debug]Result: '…'` that ends the evaluation.
_EVALUATED = re.compile(
    r"(##\[debug\]\.{0,32}+(?:=>|Result:)[ \t]{1,3})'((?:[^'\r\n]|''){1,4096}+)'"
)
#: A name an expression reads (`secrets.API_TOKEN`, `variables['dbPassword']`), and a
#: string literal in it (`'dbPassword'`).
_EXPRESSION_WORD = re.compile(r"[A-Za-z_][\w-]{0,127}+")
_EXPRESSION_LITERAL = re.compile(r"'((?:[^']|''){0,256}+)'")


def _debug_evaluation(match: re.Match[str]) -> str:
    """A CI runner's debug evaluation of an expression (`expr`) that reads a secret (the
    `secrets` context, or a name named like a secret: `variables['dbPassword']`,
    `env.DB_PASSWORD`) with each string it evaluated to (`_EVALUATED`) replaced, up to its
    `Result:` line; the names the expression spells (the index `'API_TOKEN'`) stay."""
    expression = match["expr"]
    names = set(_EXPRESSION_WORD.findall(expression))
    if not any(secret_named(name) for name in names):
        return match[0]
    names.update(_EXPRESSION_LITERAL.findall(expression))
    head = match[0][: match.start("lines") - match.start()]
    lines = match["lines"]
    result = lines.find("##[debug]Result:")
    end = len(lines) if result < 0 else result + len(lines[result:].split("\n", 1)[0])

    def value(evaluated: re.Match[str]) -> str:
        if evaluated[2] in names or evaluated[2].startswith("[REDACTED"):
            return evaluated[0]
        return f"{evaluated[1]}'[REDACTED:password]'"

    return head + _EVALUATED.sub(value, lines[:end]) + lines[end:]


#: The arguments of a store's `set` (`_stored_values`): words to the line's or the command's
#: end, a quoted one (`"NAME=a b"`) whole.
_STORE_ARGS = (
    r"(?:[ \t]{1,3}(?:\"[^\"\r\n]{0,1024}+\"|'[^'\r\n]{0,1024}+'|[^\s|;&\"']){1,1024}+){1,32}+"
)
#: One `NAME=VALUE` of a secret store's `secrets set`, its value quoted or bare.
_STORED_PAIR = re.compile(
    # The pair itself may be quoted (`--settings "NAME=VALUE"`), raw or inside a JSON string.
    r"(?<![^\s])(?:\\?[\"'])?(?P<name>[A-Za-z_]\w{0,127}+)="
    r"(?:\"(?P<dq>[^\"\n]{1,1024}+)\"|'(?P<sq>[^'\n]{1,1024}+)'"
    # … its value in a JSON string's escaped quotes (`A=\"…\"`).
    r"|\\\"(?P<edq>(?:[^\"\\\n]|\\[^\"\n]){1,1024}+)\\\""
    r"|(?P<bare>(?:[^\s\"'\\]|\\(?![\"'])){1,1024}+))"
)


#: A Secret's key that names who or where, not a credential: a user's name, a host, a port,
#: a database (`--from-literal=username=app`).
_ACCOUNT_KEY = re.compile(
    r"(?:(?:db|database|postgres|mysql|redis|smtp|mongo)[_.-]?)?"
    r"(?:user(?:name)?|login|host(?:name)?|port|database|db(?:name)?|schema)",
    re.IGNORECASE,
)
#: A value such a key holds: a name, an address or a number, no quote or space in it.
_ACCOUNT_VALUE = re.compile(r"[\w.@:-]{1,253}")


def _literal_value(match: re.Match[str]) -> str:
    """A Secret's literal (`kubectl create secret … --from-literal=KEY=VALUE`) replaced, unless
    its key names an account or an address (`_ACCOUNT_KEY`: `user`, `host`, `port`) and the
    value is such a word and looks no random: the responder needs which account and which
    server. Any other key's value goes, as a store's do: a Secret's keys are free names
    (`config`, `creds`) that say nothing of what they hold."""
    value = match["value"]
    if (
        _ACCOUNT_KEY.fullmatch(match["key"]) is not None
        and _ACCOUNT_VALUE.fullmatch(value) is not None
        and not _random_looking(value)
    ):
        return match[0]
    return f"{match[1]}[REDACTED:password]"


def _stored_values(match: re.Match[str]) -> str:
    """A secret store's `secrets set NAME=VALUE …` (Fly's, Supabase's, Doppler's, Infisical's,
    Render's; Azure's secure environment variables) with every value replaced, its quotes kept: the store holds secrets, so each
    value is one whatever its name (`MY_CONF=…`); a variable's reference (`$X`) stays."""

    def replaced(pair: re.Match[str]) -> str:
        group = next(g for g in ("dq", "sq", "edq", "bare") if pair[g] is not None)
        value = pair[group]
        if value.startswith(("$", "[REDACTED")):
            return pair[0]
        start, end = pair.start(group) - pair.start(), pair.end(group) - pair.start()
        return f"{pair[0][:start]}[REDACTED:password]{pair[0][end:]}"

    head = match[0][: match.start("args") - match.start()]
    return head + _STORED_PAIR.sub(replaced, match["args"])


#: One `NAME=VALUE` of a comma-separated list, its value to the next comma.
_LISTED_PAIR = re.compile(r"(?P<name>[A-Za-z_]\w{0,127}+=)(?P<value>[^,]{0,1024}+)")


def _listed_values(match: re.Match[str]) -> str:
    """A list of `NAME=VALUE` pairs (`A=x,B=y`, group `pairs`) with every value replaced: a
    function's environment holds its secrets whatever their names; an empty value and a
    reference (`$X`) stay."""

    def replaced(pair: re.Match[str]) -> str:
        value = pair["value"]
        if not value or value.startswith(("$", "[REDACTED")):
            return pair[0]
        return f"{pair['name']}[REDACTED:password]"

    head = match[0][: match.start("pairs") - match.start()]
    return head + _LISTED_PAIR.sub(replaced, match["pairs"])


COMMAND_RULES: tuple[
    _Rule, ...
] = (  # MySQL's clients take the password glued to -p (mysql -uroot -pSecret, -p'Secret'); sshpass
    # -p takes it as the next word. The command must start a word (`_COMMAND_START`: not
    # inside a path or a name, `my-mysql`), and a MySQL one be followed by an option; a
    # port after -p is none (`--name mysql -p3306:3306` stays).
    _rule(
        rf"({_COMMAND_START}{_COMMAND_PATH}(?:mysql(?:dump|admin|import|check|show|slap|sh)?"
        rf"|mariadb(?:-dump|-admin)?){_COMMAND_END}[ \t]{{1,20}}(?=-)"
        + _up_to("-p", 300)
        + r"(?<![\w-])-p(?P<q>\\?[\"'])?)"
        r"(?![\s-])(?!\[REDACTED)(?![0-9:.]{1,32}(?:[\s|;&]|$))"
        # Nor a reference (`-p"$(aws ssm get-parameter …)"`, `-p$MYSQL_PWD`).
        + _TEMPLATE_VALUE
        # Quoted, it goes to its closing quote (`-p"it's…"`); else to a space or a quote.
        + rf"(?(q){_QUOTED_CHAR}{{1,256}}+|(?:[^\s\"'|;&\\]|\\(?![\"'])){{1,256}})",
        _replaced_value("[REDACTED:password]"),
        "mysql",
        "mariadb",
    ),
    # Commands that take a password as a short option's value, each its own option
    # (`_PASSWORD_OPTIONS`: redis-cli's -p is a port, its -a the password).
    _rule(
        rf"({_COMMAND_START}{_COMMAND_PATH}"
        rf"(?P<command>{'|'.join(commands for commands, _ in _PASSWORD_OPTIONS)}){_COMMAND_END}[ \t])"
        rf"(?P<args>(?:(?!\\n){_ARGS_CHAR}){{1,512}}+)",
        _command_passwords,
        # Whole command words (a space or a tab after them): `7z`, `zip` and `bcp` are in many
        # a base64 run or a word, which would each send the text through the pattern.
        *(f"{word}{gap}" for word in ("login", "7z", "7za", "zip", "bcp", "rar") for gap in " \t"),
        *("ldap", "plink", "pscp", "psftp", "psexec", "openssl", "influx", "racadm"),
        *("rdesktop", "keytool", "PsExec", "7z.exe", "7za.exe", "zip.exe", "rar.exe"),
        *("doctl", "flyctl", "fly ", "fly\t", "useradd", "usermod"),
        *("mongo", "redis-cli", "sqlcmd", "ipmitool", "ssh-keygen", "snmp", "twine"),
        # Valkey's by its `lkey-cli`, vsce by its `sce` and the gap after it, Chocolatey by
        # its `hoco`: `v` and `c` start no other needle looked for as written.
        *("lkey-cli", "keydb-cli", "sce ", "sce\t", "ovsx", "hoco"),
        # cqlsh by its `lsh` and the gap after it: the letter `c` starts no other needle looked
        # for as written, and would add to the positions every text's search tries.
        *("lsh ", "lsh\t", "rabbitmqadmin", "mosquitto_", "ncftp", "isql", "osql", "tsql"),
        "add-generic-password",
        "add-internet-password",
        # cypher-shell, codecov and crackmapexec by a later letter: a `c` starts no other
        # needle looked for as written.
        *("ypher-shell", "smbpasswd", "esxcli", "slappasswd", "doveadm", "odecov"),
        *("evil-winrm", "rackmapexec", "netexec", "nxc ", "nxc\t", "hydra", "medusa"),
        *("smbmap", "bloodhound-python", "ldapdomaindump", "enum4linux"),
        *("mssql-cli", "nuget", "onan remote", "onan user", "-hashes", "-aesKey"),
        *("signtool", "-keychain", "security import", "security\timport", "knife", "ossutil"),
        # Vertica's vsql by its `sql` and the gap after it: a `v` starts no other needle.
        *("hdbsql", "beeline", "sql ", "sql\t", "kadmin", "ipa-", "p4 ", "p4\t"),
        # Couchbase's shells and vmrun by a later letter: a `c` or `v` starts no other needle
        # looked for as written.
        *("ouchbase-cli", "bq ", "bq\t", "mrun", "sendemail", "sendEmail", "gobuster"),
        # Consul by a later letter too; Poetry's publish; Nomad; HPE's iLO tools.
        *("onsul", "poetry publish", "poetry\tpublish", "nomad", "ilorest", "hponcfg"),
        # Azure's database servers by their subcommand.
        *("server create", "server update"),
        # OpenSearch's hasher, lego, altool.
        *("hash.sh", "lego", "altool", "tctl"),
    ),
    # HTTPie's and xh's query items named like a secret (`token==…`), and their `-a` after
    # `-A bearer` (`_httpie_secrets`).
    _rule(
        rf"({_COMMAND_START}{_COMMAND_PATH}(?P<command>https?|xhs?){_COMMAND_END}[ \t])"
        rf"(?P<args>(?:(?!\\n){_ARGS_CHAR}){{1,512}}+)",
        _httpie_secrets,
        *(f"{word}{gap}" for word in ("http", "https", "xh", "xhs") for gap in " \t"),
    ),
    # Netlify's CLI takes its token as `--auth` (elsewhere `--auth user:password`, below).
    _rule(
        rf"({_COMMAND_START}{_COMMAND_PATH}netlify{_COMMAND_END}[ \t]"
        + _up_to("--auth[ \t=]", 512)
        + r"(?<![\w-])--auth(?:=|[ \t]{1,3})(?P<q>\\?[\"'])?)"
        rf"(?![\s-])(?!\[REDACTED|\$|{_PROSE_AFTER_OPTION})"
        rf"(?(q){_QUOTED_CHAR}{{1,512}}+|(?:[^\s\"'|;&\\]|\\(?![\"'])){{1,512}})",
        _replaced_value("[REDACTED:password]"),
        "netlify",
    ),
    # smbclient's (and rpcclient's, net's) -U user%password; lftp's -u user,password; the
    # password quoted or not, or the pair quoted whole (`-U 'bob%…'`).
    _rule(
        r"((?:(?<![\w-])(?:-U[ \t]{0,3}|--user(?:name)?=)(?P<uq>\\?[\"'])?[^\s%\"']{1,256}+%"
        r"|(?<![\w-])lftp[ \t]"
        + _up_to(r"-u[ \t]{1,3}[^\s,\"']{1,256}+,", 300)
        + r"(?<![\w-])-u[ \t]{1,3}[^\s,\"']{1,256}+,)"
        # Quoted, the password goes to its closing quote (`bob%"it's…"`).
        r"(?P<q>\\?[\"'])?)(?!\[REDACTED)"
        rf"(?(uq){_quoted_char('uq')}{{1,256}}+(?=(?P=uq))"
        rf"|(?(q){_QUOTED_CHAR}{{1,256}}+|(?:[^\s\"'\\]|\\(?![\"'])){{1,256}}))",
        _replaced_value("[REDACTED:password]"),
        "-U",
        "--user",
        "lftp",
    ),
    # A password by its place after a command's words: rabbitmqctl add_user|change_password|
    # authenticate_user <user> <password>; MinIO's mc alias set <alias> <url> <access key>
    # <secret key>; poetry config http-basic.<repo> <user> <password> and pypi-token.<repo>
    # <token>; wpa_passphrase <ssid> <passphrase>; curl's client certificate with its pass
    # phrase after a colon (`-E cert.pem:pw`, `--cert cert.pem:pw`: a Windows drive's `C:\`
    # and a PKCS#11 URI hold none); NetworkManager's secrets on nmcli's command line
    # (`wifi-sec.psk …`, `802-1x.password …`, `wifi-sec.wep-key0 …`).
    _rule(
        r"((?:(?<![\w-])(?:rabbitmqctl[ \t](?:[^\n|;&]{0,200}?[ \t])?"
        r"(?:add_user|change_password|authenticate_user)[ \t]{1,3}[^\s]{1,256}+"
        r"|mc[ \t]{1,3}alias[ \t]{1,3}set"
        r"(?:[ \t]{1,3}[^\s]{1,2048}+){3}"
        # … and a secret a store or an identity admin takes by its place (never an option):
        # `mc admin user add <alias> <user> <secret key>`, `hdbuserstore SET <key> <host>
        # <user> <password>`, `bw unlock <master password>`, `samba-tool user create <user>
        # <password>`, `net rpc password <user> <password>`.
        r"|mc[ \t]{1,3}admin[ \t]{1,3}user[ \t]{1,3}add(?:[ \t]{1,3}[^\s]{1,2048}+){2}"
        r"|hdbuserstore(?:[ \t]{1,3}-[\w-]{1,16}+){0,8}+[ \t]{1,3}(?i:set)(?:[ \t]{1,3}[^\s]{1,2048}+){3}"
        r"|bw[ \t]{1,3}unlock(?=[ \t]{1,3}[^\s-])"
        r"|(?:samba-tool[ \t]{1,3}user[ \t]{1,3}(?:create|add)|net[ \t]{1,3}rpc[ \t]{1,3}password)"
        r"[ \t]{1,3}[^\s-][^\s]{0,255}+(?=[ \t]{1,3}[^\s-])"
        r"|poetry[ \t]{1,3}config[ \t]{1,3}(?:http-basic\.[^\s]{1,256}+[ \t]{1,3}[^\s]{1,256}+"
        r"|pypi-token\.[^\s]{1,256}+)"
        r"|wpa_passphrase[ \t]{1,3}(?:\"[^\"\n]{1,64}+\"|'[^'\n]{1,64}+'|[^\s\"']{1,256}+)"
        # XMPP servers' accounts: `ejabberdctl register|change_password <user> <host> <pw>`,
        # `prosodyctl register <user> <host> <pw>`; libvirt's `virsh secret-set-value <uuid>
        # <base64>` (its `--base64` below).
        r"|(?:ejabberdctl[ \t]{1,3}(?:register|change_password)|prosodyctl[ \t]{1,3}register)"
        r"(?:[ \t]{1,3}[^\s]{1,256}+){2}"
        r"|secret-set-value[ \t]{1,3}(?:--secret[ \t]{1,3})?(?!-)[^\s]{1,64}+"
        r"(?![ \t]{1,3}--(?!base64))(?:[ \t]{1,3}--base64)?+"
        # wpa_supplicant's control: `wpa_cli set_network <id> psk|password|sae_password <value>`.
        r"|wpa_cli[^\n|;&]{0,64}?[ \t]set_network[ \t]{1,3}[0-9]{1,4}+[ \t]{1,3}"
        r"(?:psk|password|sae_password|wep_key[0-3]|private_key_passwd)"
        # Windows' `ldifde … -b <user> <domain> <password>` and Sysinternals' `autologon <user>
        # <domain> <password>`.
        r"|ldifde(?:\.exe)?[ \t][^\n|;&]{0,256}?(?<![\w-])-b(?:[ \t]{1,3}[^\s-][^\s]{0,255}+){2}"
        # (ldifde's `*` asks for the password.)
        r"(?![ \t]{1,3}\*(?!\S))"
        r"|autologon(?:64)?(?:\.exe)?(?:[ \t]{1,3}(?!-)[^\s]{1,256}+){2})[ \t]{1,3}"
        rf"|{_COMMAND_START}{_COMMAND_PATH}curl[ \t]"
        + _up_to(r"(?:-E|--cert)[ \t=]", 256)
        + r"(?<![\w-])(?:-E|--cert)[ \t=]{1,3}\\?[\"']?(?![A-Za-z]:[\\/]|pkcs11:)"
        r"(?:[^\s:\"'\\]|\\:){1,1024}+:"
        rf"|{_COMMAND_START}{_COMMAND_PATH}nmcli[ \t]"
        + _up_to(_NMCLI_SECRET, 256)
        + rf"(?<![\w.-]){_NMCLI_SECRET}[ \t]{{1,3}})"
        r"(?P<q>\\?[\"'])?)(?!\[REDACTED)"
        # Quoted, to its closing quote (`"it's…"`); else to a space or a quote.
        rf"(?(q){_QUOTED_CHAR}{{1,256}}+|(?:[^\s\"'\\]|\\(?![\"'])){{1,256}})",
        _replaced_value("[REDACTED:password]"),
        *("rabbitmqctl", "alias", "http-basic.", "pypi-token.", "wpa_passphrase"),
        *("curl", "nmcli", "ser add", "hdbuserstore", "nlock", "samba-tool", "rpc"),
        *("ejabberdctl", "prosodyctl", "secret-set-value", "ldifde", "autologon", "wpa_cli"),
        fold_needles=True,
    ),
    # rclone's remote created or updated from the command line (`rclone config create s3r s3
    # secret_access_key X`): each secret option's value (`_rclone_secrets`).
    _rule(
        rf"{_COMMAND_START}{_COMMAND_PATH}rclone{_COMMAND_END}[ \t]{{1,3}}config[ \t]{{1,3}}"
        rf"(?P<verb>create|update)(?P<args>(?:[ \t]{_ARGS_CHAR}{{0,4096}}+)?)",
        _rclone_secrets,
        "rclone",
    ),
    # radtest (`radtest [options] user password server[:port] nas-port secret`): the user's
    # password and the NAS's shared secret, each by its place (`_radtest_secrets`).
    _rule(_RADTEST, _radtest_secrets, "radtest"),
    # proxychains' `[ProxyList]`: each proxy's row, its password last (`_proxy_rows_blanked`).
    _rule(r"\[ProxyList\][^\[]{0,8192}+", _proxy_rows_blanked, "[ProxyList]"),
    # Teradata BTEQ's logon (`.logon tdpid/user,password`, `.LOGON …;`): the password after
    # the comma, to a space or the `;`.
    _rule(
        r"((?<![\w.])\.logon[ \t]{1,3}(?:[^\s/,;]{1,253}+/)?[^\s/,;]{1,128}+,(?:\\?[\"'])?)"
        r"(?!\[REDACTED)[^\s;\"'\\]{1,256}+",
        r"\1[REDACTED:password]",
        ".logon",
        flags=re.IGNORECASE,
    ),
    # A TSIG key given on the command line (`nsupdate -y [alg:]name:secret`, dig's `-y`): the
    # key's secret, which signs zone updates and transfers; its algorithm and name stay.
    _rule(
        r"((?<![\w.-])(?:nsupdate|dig)[ \t](?:[^\r\n|;&]{0,256}?[ \t])?-y[ \t]{1,3}\\?[\"']?"
        r"(?:hmac-[\w-]{1,16}+:)?[^\s:\"']{1,253}+:)(?!\[REDACTED)[A-Za-z0-9+/]{8,512}+={0,2}",
        r"\1[REDACTED:password]",
        "nsupdate",
        "dig",
    ),
    _rule(
        rf"({_COMMAND_START}{_COMMAND_PATH}sshpass{_COMMAND_END}[ \t]"
        + _up_to(r"-p[ \t]{0,3}", 100)
        + r"(?<![\w-])-p[ \t]{0,3}"
        rf"(?P<q>\\?[\"'])?)(?![\s-])(?!\[REDACTED|{_PROSE_AFTER_OPTION}){_TEMPLATE_VALUE}"
        rf"(?(q){_QUOTED_CHAR}{{1,256}}+|(?:[^\s\"'|;&\\]|\\(?![\"'])){{1,256}})",
        _replaced_value("[REDACTED:password]"),
        "sshpass",
    ),
    # impacket's scripts take their target as `[domain/]user[:password]@host`
    # (`secretsdump.py corp/admin:pw@10.0.0.5`, `impacket-psexec admin:'pw'@dc01`); the
    # password runs to the `@`, as impacket reads it.
    _rule(
        rf"({_COMMAND_START}{_COMMAND_PATH}(?i:impacket-[\w-]{{1,40}}+|{_IMPACKET_SCRIPTS}\.py)"
        r"(?:[ \t]{1,3}[^\s@]{1,256}+(?=[ \t])){0,12}+[ \t]{1,3}(?:[\w.-]{1,64}+/)?[\w.$-]{1,64}+:"
        r"(?P<q>\\?[\"'])?)(?!\[REDACTED)"
        rf"(?(q){_QUOTED_CHAR}{{1,256}}+(?=(?P=q)@)|[^\s@\"'\\]{{1,256}}+(?=@))",
        _replaced_value("[REDACTED:password]"),
        *("impacket-", "secretsdump", "psexec.py", "wmiexec", "smbexec", "atexec", "dcomexec"),
        *("getuserspns", "getnpusers", "gettgt", "getst.py", "mssqlclient", "smbclient.py"),
        *("lookupsid", "ticketer", "addcomputer", "dacledit", "changepasswd", "rpcdump"),
        *("samrdump", "reg.py", "services.py", "wmiquery", "getadusers", "finddelegation"),
        fold_needles=True,
    ),
    # The plaintext `openssl passwd` and `mkpasswd` hash: their first argument that is no
    # option (`-salt`, `-in`, mkpasswd's `-m`, `-S`, `-R`, `-P` take a value; `-stdin`, `-in`
    # and `-P` read it from elsewhere, and leave none on the line).
    _rule(
        r"(?:openssl(?<![\w./-]openssl)[ \t]{1,3}passwd|mkpasswd(?<![\w./-]mkpasswd))"
        r"(?:[ \t]{1,3}(?:-(?:salt|in|m|S|R|P)[ \t]{1,3}[^\s]{1,256}+"
        r"|--?[\w-]{1,32}+(?:=[^\s]{1,256}+)?)){0,8}+[ \t]{1,3}"
        rf"(?![-$]|{_PROSE_AFTER_OPTION})(?P<value>{_WORD_VALUE})",
        _word_replaced,
        "passwd",
    ),
    # SonarScanner's `-Dsonar.login=` holds a user's login or, since SonarQube 9, the token
    # (`squ_…`, or 40 hex): the value goes when it is no name.
    _rule(
        r"((?<![\w-])-Dsonar\.login=(?P<q>\\?[\"'])?)(?!\[REDACTED)"
        r"(?=(?:sq[upa]_)?[0-9a-f]{40}(?![\w-])|[^\s\"'\\]{0,256}?[A-Z][^\s\"'\\]{0,256}?[0-9]"
        r"|[^\s\"'\\]{0,256}?[0-9][^\s\"'\\]{0,256}?[A-Z])"
        r"[^\s\"'\\]{1,256}+",
        _replaced_value("[REDACTED:password]"),
        "sonar.login",
    ),
    # A password given to a command: curl -u user:pass (also glued, -uuser:pass; not -u
    # scheme://…, a URL with its own rule; not docker's -u 1000:1000, a user and a group id),
    # --password value, --db-password value.
    _rule(
        # Not a Windows tool's user (`winrs -u:admin`, `-user:admin`, `-username:admin`): its
        # password is an option of its own.
        r"((?<![\w-])(?:-[uU](?!:|ser(?:name)?:)[ \t=]{0,3}|--(?:proxy-)?user[ \t=]{1,3}"
        # curl's -u after its short flags that take no value (`curl -su`, `-fsSLku`; curl
        # before it on the line: `_user_password`).
        r"|-(?P<cluster>[sSfLkvigIN46jOqR]{1,8}+)[uU][ \t=]{1,3}"
        # ncat's and socat's proxy credentials (`--proxy-auth user:password`).
        r"|--proxy-?auth[ \t=]{1,3}"
        # jenkins-cli's `-auth user:token` too (its `-auth @file` names a file).
        r"|--?auth[ \t=]{1,3}"
        # HTTPie's (and xh's) -a user:password; elsewhere -a is any option.
        rf"|{_COMMAND_START}(?:https?|xhs?)[ \t]{_up_to('-a', 200)}(?<![\w-])-a[ \t]{{1,3}}"
        # Load testers' basic auth: hey's and oha's -a user:password, Apache Bench's -A (and
        # its proxy's -P) user:password.
        rf"|{_COMMAND_START}{_COMMAND_PATH}(?:(?:hey|oha){_COMMAND_END}[ \t]{_up_to('-a', 200)}"
        rf"(?<![\w-])-a|ab{_COMMAND_END}[ \t]{_up_to('-[AP]', 200)}(?<![\w-])-[AP])[ \t]{{1,3}}"
        # Web scanners' host logins: nikto's `-id user:password`, wfuzz's `--basic`, `--digest`
        # and `--ntlm user:password`.
        rf"|{_COMMAND_START}{_COMMAND_PATH}nikto(?:\.pl)?{_COMMAND_END}[ \t]{_up_to('-id', 200)}"
        r"(?<![\w-])-id[ \t]{1,3}|--(?:basic|digest|ntlm)[ \t=]{1,3})"
        r"(?P<uq>\\?[\"'])?"
        # A Windows user may name its domain (`CORP\bob`, `CORP\\bob` escaped): a backslash
        # before no quote is the user's.
        r"(?P<user>(?:[^\s:\"'\[\\]|\\(?![\"'])){0,256}+))"
        r":(?!//)(?!(?:\\?[\"'])?\[REDACTED)"
        # `user:password` quoted whole: the password goes to that closing quote, over a quote
        # of the other kind (`"admin:it's…"`).
        rf"(?(uq)(?P<whole>{_quoted_char('uq')}{{1,256}}+)"
        # The password quoted on its own (`bob:"…"`, `\"…\"` inside a JSON string), or not.
        rf"|(?:(?P<pq>\\?[\"'])(?P<quoted>{_quoted_char('pq')}{{1,256}}+)(?P=pq)"
        # A password ends before the host of a DSN glued to it (`app:pw@db/app`: `_HOST`).
        rf"|(?P<pw>(?:[^\s\"'\\@]|\\(?![\"'])|@(?!{_HOST})){{1,256}}+)))",
        _user_password,
        "-u",
        "-U",
        # … curl's clustered flags: `curl` then a space (a needle starting `c` would be new).
        *("rl ", "rl\t"),
        "--user",
        "--proxy-user",
        *("--proxy-auth", "--proxyauth"),
        "-auth",
        "-a ",
        "-a\t",
        *("-A ", "-A\t", "-P ", "-P\t"),
        *("nikto", "--basic", "--digest", "--ntlm"),
    ),
    # Azure Container Instances' `--secure-environment-variables NAME=VALUE …`: secure, so
    # each value is a secret whatever its name (`_stored_values`).
    _rule(
        r"(?<![\w-])--secure-environment-variables"
        r"(?P<args>(?:[ \t]{1,3}(?!-)[^\s|;&]{1,1024}+){1,32}+)",
        _stored_values,
        "--secure-environment-variables",
    ),
    # A secret store's `secrets set NAME=VALUE …` (`_stored_values`), after the tool's options.
    _rule(
        r"(?<![\w./-])(?:fly(?:ctl)?|supabase|doppler|infisical|render)"
        r"(?:[ \t]{1,3}-[\w-]{1,32}+(?:[ \t=]{1,3}[^\s-][^\s]{0,255}+)?){0,4}?"
        r"[ \t]{1,3}secrets[ \t]{1,3}set(?P<args>(?:[ \t]{1,3}[^\s|;&]{1,1024}+){1,32}+)",
        _stored_values,
        "secrets",
    ),
    # A platform's config vars, which hold an app's secrets whatever their names: Heroku's and
    # Dokku's `config:set NAME=VALUE …` (Dokku's app and options before them stay), Azure App
    # Service's and Functions' `appsettings set --settings NAME=VALUE …` and `connection-string
    # set --settings NAME=VALUE` (`_stored_values`; a quoted pair's value goes to its quote).
    _rule(
        r"(?<![\w./-])(?:heroku|dokku)(?:[ \t]{1,3}-[\w-]{1,32}+(?:[ \t=]{1,3}[^\s-][^\s]{0,255}+)?){0,4}?"
        rf"[ \t]{{1,3}}config:set(?P<args>{_STORE_ARGS})",
        _stored_values,
        # `onfig:set`: no needle looked for as written starts with a `c`.
        "onfig:set",
    ),
    _rule(
        r"(?<![\w-])(?:appsettings|connection-string)[ \t]{1,3}set(?![\w-])"
        rf"(?P<args>{_STORE_ARGS})",
        _stored_values,
        "appsettings",
        "onnection-string",
    ),
    # … and the same stores of other platforms: Railway's `variables --set "NAME=VALUE"`,
    # Elastic Beanstalk's `eb setenv NAME=VALUE …`, Render's `env set NAME=VALUE`, and a
    # Kubernetes Secret made from literals (`kubectl create secret … --from-literal=NAME=VALUE`).
    _rule(
        r"(?<![\w./-])(?:railway[ \t]{1,3}variables?|eb[ \t]{1,3}setenv"
        r"|render[ \t]{1,3}env[ \t]{1,3}set)(?![\w-])"
        rf"(?P<args>{_STORE_ARGS})",
        _stored_values,
        "railway",
        "setenv",
        "render",
    ),
    _rule(
        r"(--from-literal(?:=|[ \t]{1,3})(?P<q>\\?[\"'])?(?P<key>[\w.-]{1,253}+)=)"
        r"(?!\[REDACTED|\$)(?P<value>(?(q)(?:(?!(?P=q))[^\r\n]){1,1024}+|[^\s\"'\\]{1,1024}+))",
        _literal_value,
        "--from-literal",
    ),
    # A function's or a service's environment given as a list: Cloud Run's and Cloud
    # Functions' `--set-env-vars`/`--update-env-vars` (`A=x,B=y`), Lambda's `--environment
    # Variables={A=x,B=y}`: each value, whatever its name (`_listed_values`), as the platforms'
    # config stores above.
    _rule(
        r"(?<![\w-])(?:--(?:set|update)-(?:build-)?env-vars(?:=|[ \t]{1,3})(?P<q>\\?[\"']?)"
        r"|--environment(?:=|[ \t]{1,3})(?P<lq>\\?[\"']?)Variables=\{)"
        r"(?P<pairs>[A-Za-z_]\w{0,127}+=[^\s\"'\\}]{0,1024}+"
        r"(?:,[A-Za-z_]\w{0,127}+=[^\s\"'\\}]{0,1024}+){0,63}+)",
        _listed_values,
        "-env-vars",
        "--environment",
    ),
    # Cloud Foundry's `cf set-env APP NAME VALUE` (`se`), Netlify's `env:set NAME VALUE` and
    # GitLab's `glab variable set NAME VALUE`: the value by its place, whatever the name.
    _rule(
        r"(?<![\w./-])(?:cf[ \t]{1,3}(?:set-env|se)[ \t]{1,3}[^\s\"'-][^\s]{0,255}+"
        r"|glab[ \t]{1,3}variable[ \t]{1,3}(?:set|update))[ \t]{1,3}"
        r"\\?[\"']?[A-Za-z_][\w.-]{0,127}+\\?[\"']?[ \t]{1,3}"
        rf"(?![-$]|\\?[\"']\$)(?P<value>{_WORD_VALUE})",
        _value_group_replaced,
        "set-env",
        "f se ",
        "f se\t",
        "glab",
    ),
    # Netlify's `env:set NAME VALUE` (the CLI's store of an app's variables): the value by its
    # place, whatever the name; a reference (`$X`) stays.
    _rule(
        r"(?<![\w./-])netlify(?:[ \t]{1,3}-[\w-]{1,32}+){0,4}?[ \t]{1,3}env:set[ \t]{1,3}"
        r"(?:-[\w-]{1,32}+[ \t]{1,3}[^\s-][^\s]{0,255}+[ \t]{1,3}){0,4}?"
        r"\\?[\"']?[A-Za-z_][\w.-]{0,127}+\\?[\"']?[ \t]{1,3}"
        rf"(?!\\?[\"']?\$)(?P<value>{_WORD_VALUE})",
        _value_group_replaced,
        "env:set",
    ),
    # … and the answer to Vercel's own question for it (`? What's the value of MYVAR? …`), to
    # the line's end (a JSON string's too); a masked answer (`****`) stays as it is.
    _rule(
        r"(\?[ \t]{1,3}What(?:'|\u2019|\\u2019)s[ \t]the[ \t]value[ \t]of[ \t][\w.-]{1,128}+\?[ \t]{1,3})"
        r"(?!\[REDACTED|\*{1,64}+(?:[ \t]|$|\r?\n|\\n))(?:[^\r\n\\\"]|\\[^nr\"]){1,4096}+",
        r"\1[REDACTED:password]",
        "s the value of",
        fold_needles=True,
    ),
    # PowerShell's environment drive (`Set-Item -Path Env:DB_PASSWORD -Value X`, `New-Item
    # Env:API_TOKEN X`): the value, when the variable's name is a secret's.
    _rule(
        r"(?i:(?:set|new)-item)(?:[ \t]{1,3}-(?i:literalpath|path))?[ \t]{1,3}\\?[\"']?"
        r"(?i:env):(?P<name>[\w.-]{1,128}+)\\?[\"']?(?:[ \t]{1,3}-(?i:value))?[ \t]{1,3}"
        rf"(?!-|\$)(?P<value>{_WORD_VALUE})",
        lambda m: _value_group_replaced(m) if secret_named(m["name"]) else m[0],
        "-item",
        fold_needles=True,
    ),
    # QEMU's secret object given inline (`-object secret,id=sec0,data=X`, its `format=base64`
    # too): the data is the secret (a disk's passphrase, a TLS key's, an iSCSI password); a
    # `file=` reads it from a file, and stays.
    _rule(
        r"(-object[ \t]{1,3}\\?[\"']?secret,(?:(?!data=)[^\s,=\"']{1,32}+=[^\s,\"']{0,256}+,){0,8}+data=)"
        r"(?!\[REDACTED)[^\s,\"'\\]{1,4096}+",
        _replaced_value("[REDACTED:password]"),
        "secret,",
    ),
    # A mail client's command that prints its password, when it only echoes it: msmtp's
    # `--passwordeval 'echo X'` (msmtprc's `passwordeval "echo X"`, `printf '%s' X` alike),
    # isync's `PassCmd "echo X"` (`+` runs it in a shell). A command that reads a store (`gpg -d …`, `pass show …`)
    # and a variable's reference stay.
    _rule(
        r"((?<![\w-])(?:--)?(?:passwordeval|passcmd)(?:[ \t]{1,3}|=)\+?(?:\\?[\"'])?\+?[ \t]{0,3}"
        r"(?:echo(?:[ \t]{1,3}-[neE]{1,3})?+|printf(?:[ \t]{1,3}(?:\\?[\"'])?%s(?:\\?[\"'])?)?+)"
        r"[ \t]{1,3}(?P<iq>\\?[\"'])?)(?!\[REDACTED|\$)"
        r"(?(iq)[^\"'\r\n\\]{1,512}+|[^\s\"'\\;|&]{1,512}+)",
        _replaced_value("[REDACTED:password]"),
        "passwordeval",
        "passcmd",
        flags=re.IGNORECASE,
    ),
    # Single-dash options that take a password: keytool's -storepass, -keypass, -srcstorepass,
    # -deststorepass; openssl's -passin, -passout, -pass, whose `pass:` gives it in clear
    # (`env:VAR`, `file:path`, `fd:N` and `stdin` say where it is read from, and stay).
    _rule(
        r"(-(?<![\w-]-)(?:(?:src|dest)?(?:store|key)pass|pass(?:word|phrase|in|out)?)"
        r"(?:[ \t]{1,3}|=)(?P<q>\\?[\"'])?(?:pass:)?+)(?!\[REDACTED|-)(?!(?:env|file|fd):|stdin\b)"
        rf"(?!(?<=[ \t]){_PROSE_AFTER_OPTION})"
        rf"(?(q){_QUOTED_CHAR}{{1,512}}+|(?:[^\s\"'\\]|\\(?![\"'])|{_INNER_QUOTE}){{1,512}}+)",
        _replaced_value("[REDACTED:password]"),
        "pass",
    ),
    # A command that sets a named value with a space between (`set password X`, fish's `set
    # -gx API_TOKEN X`, `setx`, `launchctl setenv`, `git config --global user.password X`,
    # `npm config set _authToken X`, Redis's `config set masterauth X`): the value, when it
    # ends the command (its line, a `;`, `|`, `&` or an option after it), so prose's "set
    # the token ttl to 3600" stays; inside a JSON string, its escaped line break or the string's
    # end ends the command too.
    _rule(
        # Its first letter read first (a class the engine jumps to), then the edge before it.
        r"(?-i:[sScC])(?<![\w./-].)(?:(?<=[sS])et(?:x|env)?|(?<=[cC])onfig)"
        r"(?:[ \t]{1,3}(?:set|--?[A-Za-z][\w-]{0,20}+)){0,8}+"
        # The name may be quoted (`dotnet user-secrets set "Db:Password" X`), and a spaced
        # `=` stand between it and the value (muttrc's `set smtp_pass = "X"`): the `=` is no
        # value.
        rf"[ \t]{{1,3}}(?P<nq>\\?[\"']?)(?P<name>[\w.:/@-]{{0,128}}?{_SECRET_NAME})(?P=nq)"
        # An option after the name is none of its value (`gh secret set NAME -b …`), nor is a
        # CLI's verb before its options (Azure's `config connection-string set -n app`).
        r"[ \t]{1,3}(?:=[ \t]{1,3})?+(?!-)"
        r"(?!(?:set|show|list|delete|add|remove|update|get|create|reset|unset)[ \t]{1,3}-)"
        rf"(?P<value>{_WORD_VALUE})(?=[ \t]{{0,64}}+(?:$|[\r\n;|&#]|-|\\[nr]|(?<!\\)\"))",
        lambda m: m[0] if _kept_value(m["name"], m["value"].strip("\"'\\")) else _word_replaced(m),
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # PowerShell's parameters, in any case, `-Password X` or `-Password:X` (`-ApiKey`,
    # `-ClientSecret`, `-AccessToken`, `-HmacKey`); a variable (`$pw`), an expression
    # (`(Get-Secret)`), a switch or a word of prose after a space ("the -Password option")
    # stays.
    _rule(
        r"-(?<![\w-]-)(?P<name>[A-Za-z]{0,40}?(?:password|passphrase|secret|token"
        rf"|(?:api|access|private|account|storage|hmac|signing|encryption)key))"
        rf"(?:[ \t]{{1,3}}|:){_CONTINUATION}?"
        rf"(?![-$(@\[{{]|\[REDACTED|{_CONTINUATION}|(?<=[ \t]){_PROSE_AFTER_OPTION})"
        rf"(?P<value>{_WORD_VALUE})",
        lambda m: m[0] if _kept_value(m["name"], m["value"].strip("\"'\\")) else _word_replaced(m),
        *("pass", "secret", "token", "apikey", "accesskey", "privatekey", "accountkey"),
        *("storagekey", "hmackey", "signingkey", "encryptionkey"),
        flags=re.IGNORECASE,
    ),
    # PowerShell's plain text made secure: `ConvertTo-SecureString 'X' -AsPlainText`, its
    # switches before the text too (`-AsPlainText -Force 'X'`).
    _rule(
        r"ConvertTo-SecureString(?:[ \t]{1,3}-(?:String|AsPlainText|Force)){0,3}+[ \t]{1,3}"
        r"(?![-$(]|\[REDACTED)"
        rf"(?P<value>{_WORD_VALUE})",
        _word_replaced,
        "convertto-securestring",
        flags=re.IGNORECASE,
    ),
    # htpasswd's batch mode (-b) takes the password as its last argument (`_htpasswd`).
    _rule(
        rf"((?<![\w./-])htpasswd[ \t]{{1,3}})(?P<args>-{_ARGS_CHAR}{{1,512}}+)",
        _htpasswd,
        "htpasswd",
    ),
    # The option's last words name the secret as `names` does (`--routing-key`, `--dd-app-key`,
    # `--ngrok-authtoken`, `--azure-devops-pat`; az's `--account-key`, `--sas-token`); a word
    # under a vendor's key stays (`--routing-key orders`, `--service-key payments`:
    # `_option_value`).
    _rule(
        # jq's `--arg NAME VALUE` (`--argjson`) under a secret's name too. The option may be
        # glued to the word before it (`…/5d2f--api-key X`): a rule before this one may not
        # have replaced that word yet, and after it does (`[REDACTED:token]--api-key`) the
        # next pass would read the option, so both passes read it now.
        r"((?<!-)--(?:arg(?:json)?[ \t]{1,3}[A-Za-z0-9]{0,20}[_-]?|(?:[A-Za-z0-9]{1,20}-){0,4})"
        r"(?:password|passwd|passphrase|secret|pass|pat|apikey"
        r"|(?:(?:auth|access|refresh|session)_?)?token"
        # curl's `--oauth2-bearer X` (the Authorization header's bearer token).
        r"|bearer"
        # A key's name joins its words with `-` or `_` (`--private_key`, `--hmac_key`).
        r"|(?:api|access|private|signing|encryption|hmac|routing|service|integration|license"
        r"|insert|master|auth|subscription|functions|app|application|sdk|account"
        # NetBird's `--setup-key` (a peer's enrolment key).
        r"|setup)[-_]key"
        # A secret store's value (aws secretsmanager's --secret-string and --secret-binary).
        r"|secret-(?:string|binary|value))"
        # A value that is wholly a placeholder (`$DD_APP_KEY`, `${{ secrets.X }}`) says where
        # the secret comes from, and stays, as after `name=`. A quoted value goes whole, to its
        # closing quote (`--password "it's a b"`; one never closed, to the line's end), its
        # quotes kept.
        # Its value may stand on the next line, after a line continuation (`--password \`).
        # s3cmd's `--secret_key X` (and `--access_token X`, above) joins its words with `_`.
        r"(?:[-_](?:access[-_])?key)?[ \t=]{1,3}"
        + _CONTINUATION
        + r"?(?P<q>\\?[\"'])?)(?!(?:\\?[\"'])?\[REDACTED|-|[<>|]|"
        + _CONTINUATION
        # Nor a word of prose after a space: the option talked about ("the --password flag").
        + rf"|(?<=[ \t]){_PROSE_AFTER_OPTION})"
        rf"{_TEMPLATE_VALUE}(?(q){_QUOTED_CHAR}{{1,512}}+(?P<closed>(?P=q))?"
        rf"""|(?:[^\s"'&;]|{_INNER_QUOTE}){{1,512}})""",
        _option_value,
        "--",
        flags=re.IGNORECASE,
    ),
    # The output line of a command that prints a secret (`PRINTED_RULES`).
    *PRINTED_RULES,
    # The Windows registry's value named like a secret (Winlogon's `DefaultPassword`):
    # `reg add <key> /v <name> … /d X`, PowerShell's `Set-ItemProperty … -Name <name> -Value X`
    # (`New-ItemProperty`); a value of another name (`AutoAdminLogon`) stays. PowerShell's
    # `Set-Variable -Name password -Value X` (`New-Variable`) names its variable so too.
    _rule(
        r"(?:reg(?<![\w.-]reg)(?:\.exe)?[ \t]{1,3}add[ \t][^\n|;&]{0,512}?[ \t]/v"
        r"|(?:set|new)-itemproperty(?<![\w.-](?:set|new)-itemproperty)[ \t][^\n|;&]{0,512}?"
        r"[ \t]-name"
        r"|(?:set|new)-variable(?<![\w.-](?:set|new)-variable)(?:[ \t][^\n|;&]{0,512}?)?"
        r"[ \t]-name)[ \t]{1,3}(?P<nq>\\?[\"']?)(?P<name>[^\s\"'/\\]{1,128}+)(?P=nq)"
        r"[^\n|;&]{0,256}?[ \t](?:/d|-value)[ \t]{1,3}(?![$(]|\[REDACTED)"
        rf"(?P<value>{_WORD_VALUE})",
        lambda m: _word_replaced(m) if secret_named(m["name"]) else m[0],
        *("reg add", "reg.exe add", "set-itemproperty", "new-itemproperty"),
        *("set-variable", "new-variable"),
        flags=re.IGNORECASE,
    ),
    # … and `reg query`'s row of such a value: `    DefaultPassword    REG_SZ    X`, the
    # value to its line's end.
    _rule(
        r"(?:(?<=\n)|(?<=\\n)|(?<=\A))[ \t]{1,16}+(?P<name>[^\s\\]{1,128}+)[ \t]{1,16}+"
        r"REG_(?:SZ|EXPAND_SZ|MULTI_SZ)[ \t]{1,16}+"
        r"(?P<value>(?!\[REDACTED)(?:[^\r\n\\]|\\(?![nr])){1,1024}+)",
        lambda m: (
            m[0]
            if not secret_named(m["name"]) or _kept_value(m["name"], m["value"].strip())
            else m[0][: m.start("value") - m.start()] + "[REDACTED:password]"
        ),
        # Looked for in the folded text: an `R` starts no needle looked for as written.
        *("reg_sz", "reg_expand_sz", "reg_multi_sz"),
        fold_needles=True,
    ),
    # A shell `printf` whose format writes a secret's name before a conversion (`printf
    # "[client]\\npassword=%s" "…"`, a config written on the fly): the argument for it
    # (`_printf_secrets`).
    _rule(
        r"(?<![\w.-])printf[ \t]{1,3}(?:-v[ \t]{1,3}\w{1,64}+[ \t]{1,3})?"
        r"(?P<fq>[\"'])(?P<format>(?:(?!(?P=fq))[^\r\n]){1,1024}+)(?P=fq)"
        r"""(?P<args>(?:[ \t]{1,3}(?:"(?:[^"\\\r\n]|\\.){0,1024}+"|'[^'\r\n]{0,1024}+'"""
        r"""|[^\s"'|;&<>()]{1,1024}+)){1,16}+)""",
        _printf_secrets,
        "printf",
    ),
    # CI runners' workflow commands that carry a secret (`_ci_command_secret`), as a job's log
    # echoes them under `set -x`.
    _rule(
        r"(?:::add-mask::"
        r"|##vso\[task\.setvariable(?=[^\]\r\n]{0,512}?;[ \t]{0,3}issecret=true)[^\]\r\n]{0,512}+\]"
        # … and one not marked secret, by its variable's name (`variable=dbPassword`).
        r"|##vso\[task\.setvariable[ \t](?:[^\]\r\n;]{0,256}+;){0,8}?[ \t]{0,3}"
        r"variable=(?P<vname>[^;\]\s]{1,128}+)[^\]\r\n]{0,512}+\]"
        r"|::set-(?:output|env)[ \t]{1,3}name=(?P<name>[^:\s]{1,128}+)::)"
        rf"(?P<value>{_CI_VALUE})"
        r"|##teamcity\[setParameter[ \t]{1,3}name='(?P<tname>[^'\r\n]{1,128}+)'[ \t]{1,3}value='"
        r"(?P<tvalue>(?!\[REDACTED)(?:[^'|\r\n]|\|.){1,4096}+)'",
        _ci_command_secret,
        *("::add-mask::", "##vso[task.setvariable", "::set-output", "::set-env"),
        "##teamcity[setParameter",
    ),
    # A password command that echoes the password itself (restic's `--password-command 'echo
    # X'`, borg's `BORG_PASSCOMMAND="echo X"`, impala-shell's `--ldap_password_cmd`, git's and
    # ssh's `GIT_ASKPASS="echo X"`, `SSH_ASKPASS=echo X`), and a
    # password or key file made by process substitution from a literal (`--password-file
    # <(echo X)`, `sshpass -f <(echo X)`, `wg set wg0 private-key <(echo X)`).
    _rule(
        r"((?:(?:pass(?:word|phrase)?[-_]?(?:command|cmd)|_askpass)(?:=|[ \t]{1,3})(?P<q>\\?[\"'])?"
        r"|(?:(?:pass(?:word|phrase)?|secret|token|key)[-_]?file|sshpass[ \t]{1,3}-f|private-key"
        # OpenVPN's `--askpass` (the private key's passphrase).
        r"|askpass)"
        r"(?:=|[ \t]{1,3})<\()"
        r"(?:echo(?:[ \t]{1,3}-[neE]{1,3}+){0,3}+|printf(?:[ \t]{1,3}%s)?)[ \t]{1,3}\\?[\"']?)"
        r"(?!\[REDACTED|\$)(?:[^\s\"'\\)]|\\(?![nrt\"'\\])){1,512}+",
        _replaced_value("[REDACTED:password]"),
        *("passcommand", "password-command", "password_command", "passphrase-command"),
        *("passphrase_command", "pass-command", "pass_command", "password_cmd", "password-cmd"),
        "_askpass",
        "<(",
        flags=re.IGNORECASE,
    ),
    # … and OpenVPN's `--auth-user-pass` file made from a literal: its first line the user,
    # the second the password (`<(printf 'bob\nX\n')`, `<(echo -e "bob\nX")`).
    _rule(
        r"(auth-user-pass(?:=|[ \t]{1,3})<\((?:printf|echo(?:[ \t]{1,3}-[neE]{1,3}+){1,3}+)"
        r"[ \t]{1,3}\\?[\"'][^\s\"'\\]{1,256}+\\n)"
        r"(?!\[REDACTED)(?:[^\s\"'\\]|\\(?![nrt\"'\\])){1,512}+",
        _replaced_value("[REDACTED:password]"),
        "auth-user-pass",
    ),
    # A PowerShell here-string assigned to a variable named like a secret (`$password = @"`,
    # its lines, `"@`); the `@` may already be a placeholder (a pair's rule took it as the value).
    _rule(
        r"(\$(?P<name>[\w:]{1,128}+)[ \t]{0,3}=[ \t]{0,3}(?:@|\[REDACTED:password\])"
        r"(?P<hq>\\?[\"'])[ \t]{0,8}(?:\r?\n|(?:\\r)?\\n))" + _HERE_STRING_BODY,
        _here_string_body,
        *('@"', "@'", '@\\"', "[REDACTED:password]"),
    ),
    # A password a service generated and printed in its own words (`_GENERATED`).
    _rule(
        rf"{_GENERATED}(?P<value>(?!\[REDACTED)(?:[^\s\"'\\]|\\(?![nrt\"'])){{1,512}}+)",
        lambda m: f"{m[0][: m.start('value') - m.start()]}[REDACTED:password]",
        *("temporary password is generated", "to proceed to installation", "PASSWORD "),
        *("New value:", "(reset with ", "built-in superuser is"),
    ),
    # … and `New value: X` alone, the line before it cut (`_NEW_VALUE_LINE`).
    _rule(_NEW_VALUE_LINE, _new_value_line, "New value:"),
    # A value piped into a command that stores it as a secret (`_piped_into_store`: `echo X |
    # npx wrangler secret put NAME`, `printf X | vercel env add DB_PASSWORD production`).
    _rule(_ECHOED_INTO, _piped_into_store, "echo", "printf"),
    # A heredoc fed to a command that reads a password from its input: a MySQL client's bare
    # `-p` (`mysql -u root -p <<EOF`), psql's `-W`, and those `positional` reads a piped value
    # into (`--password-stdin`, `sudo -S`, `chpasswd`); `<<<` is a here-string (`positional`).
    *(
        _rule(
            rf"<<(?<!<<<)(?!<)-?[ \t]{{0,3}}(?P<tq>\\?[\"']?)"
            rf"(?P<tag>[A-Za-z_][\w-]{{0,31}}+)(?P=tq){char}{{0,256}}+{brk}"
            rf"(?P<body>(?![ \t]{{0,8}}(?P=tag)(?![\w-])){char}{{1,4096}}+"
            rf"(?:{brk}(?![ \t]{{0,8}}(?P=tag)(?![\w-])){char}{{0,4096}}+){{0,63}}+)",
            _heredoc_secret(brk),
            # Looked for in the folded text, where other rules' needles start with a `<`.
            "<<",
            fold_needles=True,
        )
        for brk, char in _LINES
    ),
    # A value given to a secret store's `set` by its place: `dotnet user-secrets set NAME
    # VALUE` (after its options: `--project`, `--id`), whatever the name; and gh's `secret
    # set NAME -bVALUE`, the value glued to the short option (`positional` reads `-b VALUE`).
    _rule(
        r"user-secrets(?<![\w.-]user-secrets)"
        r"(?:[ \t]{1,3}(?:(?:-p|--project|--id|-c|--configuration)(?:=|[ \t]{1,3})[^\s]{1,256}+"
        r"|-v|--verbose)){0,4}+[ \t]{1,3}set"
        r"(?:[ \t]{1,3}(?:(?:-p|--project|--id|-c|--configuration)(?:=|[ \t]{1,3})[^\s]{1,256}+"
        r"|-v|--verbose)){0,4}+[ \t]{1,3}"
        r"(?:(?P<nq>\\?[\"'])(?:(?!(?P=nq))[^\r\n]){1,256}+(?P=nq)|[^\s\"'\\-][^\s]{0,255}+)"
        r"[ \t]{1,3}"
        rf"(?!\\?[\"']?\$)(?P<value>{_WORD_VALUE})",
        _value_group_replaced,
        "user-secrets",
    ),
    _rule(
        r"secret(?<![\w-]secret)s?[ \t]{1,3}(?:set|create|put|add|update)(?![\w-])[^\n|;&]{0,512}?"
        rf"(?<![\w-])-b(?![\s=]|\\?[\"']?\$)(?P<value>{_WORD_VALUE})",
        _value_group_replaced,
        "secret",
    ),
    # unixODBC's `isql DSN USER PASSWORD` (iusql's too), after its options, each glued to its
    # value (`-v`, `-b`, `-d,`, `-w`); Sybase's `isql -U user -P …` has its own rule above.
    _rule(
        rf"{_COMMAND_START}{_COMMAND_PATH}iu?sql{_COMMAND_END}"
        r"(?:[ \t]{1,3}-[^\s]{1,64}+){0,8}+"
        rf"[ \t]{{1,3}}(?!{_PROSE_AFTER_OPTION})[^\s\"'\\$-][^\s]{{0,255}}+"
        r"[ \t]{1,3}[^\s\"'\\$-][^\s]{0,255}+[ \t]{1,3}"
        rf"(?![-$]|{_PROSE_AFTER_OPTION})(?P<value>{_WORD_VALUE})",
        _value_group_replaced,
        "isql",
        "iusql",
    ),
    # ZooKeeper's digest login, `user:password`: zkCli's `addauth digest user:pw`, and the Java
    # client's `addAuthInfo("digest", "user:pw".getBytes())` (Curator's `.authorization(…)`).
    _rule(
        r"(?:addauth(?<![\w-]addauth)[ \t]{1,3}digest[ \t]{1,3}(?P<q>\\?[\"']?)"
        r"|(?:addAuthInfo|\.authorization)[ \t]{0,3}\([ \t]{0,3}"
        r"(?P<dq>\\?\")digest(?P=dq)[ \t]{0,3},"
        r"[ \t]{0,3}(?P<lq>\\?\"))"
        r"[^\s:\"'\\]{1,256}+:(?P<value>(?!\[REDACTED)(?:[^\s\"'\\]|\\(?![\"'nrt])){1,256}+)",
        lambda m: f"{m[0][: m.start('value') - m.start()]}[REDACTED:password]",
        "addauth",
        "addAuthInfo",
        ".authorization",
    ),
    # A CI runner's step debug log evaluating an expression that reads a secret
    # (`_debug_evaluation`): its lines to the next `Evaluating:` one.
    *(
        _rule(
            rf"##\[debug\]Evaluating:[ \t]{{1,3}}(?P<expr>{char}{{1,1024}}+)"
            rf"(?P<lines>(?:{brk}(?:(?!##\[debug\]){char}){{0,128}}+##\[debug\]"
            rf"(?!Evaluating(?: condition for step)?:){char}{{0,4096}}+){{1,64}}+)",
            _debug_evaluation,
            "##[debug]Evaluating:",
        )
        for brk, char in _LINES
    ),
)
