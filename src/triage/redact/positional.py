"""Rules for a password known by its place, not by a name beside it: Oracle's `user/pw@db`,
Windows' slash options (`/p:pw`, `/RP pw`) and `net use`/`net user`, a value piped into a
command that reads a password from its input (`--password-stdin`, `chpasswd`, `sudo -S`,
`kinit`; piped or as a here-string), `vault login <token>`, `cargo login <token>`, NuGet's
`setapikey <key>` and `push <package> <key>`, a value
echoed into a file named like a secret, Go's MySQL DSN (`user:pw@tcp(host)`), a secret
store's command line setting a value, a multipart form's field, and a call's argument as a
stack trace prints it (`PDO->__construct(…, 'pw')`), as code logs in with it
(`HTTPBasicAuth('u', 'pw')`, `smtp.login('u', 'pw')`, `conn.bind_s('cn=…', 'pw')`,
`new NetworkCredential("u", "pw")`) or a setter takes it (`setPassword("pw")`), and the item after
an option named like a secret in a printed argument vector (`sys.argv`, kubectl's Args).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from triage.redact.names import _SECRET_NAME, _SECRET_NAME_NEEDLES, _kept_value, secret_named
from triage.redact.rule import (
    _ESCAPED_QUOTED_CHAR,
    _INNER_QUOTE,
    _LINES,
    _PROSE_AFTER_OPTION,
    _QUOTED_CHAR,
    _quoted_char,
    _Rule,
    _rule,
    _token_like,
)

_PLACEHOLDER = "[REDACTED:password]"

#: A value given as one word: quoted whole (`q`), or a run of non-space; not a placeholder
#: already, nor a variable (`$PW`, `%PW%`), which says where the value comes from.
_VALUE = (
    rf"""(?!\\?["']?\[REDACTED|\$|%[A-Za-z_])(?:(?P<q>\\?["']){_QUOTED_CHAR}{{1,512}}+(?P=q)"""
    r"""|(?:[^\s"'|;&<>\\]|\\(?!["'])|""" + _INNER_QUOTE + r"){1,512}+)"
)


def _value_replaced(match: re.Match[str]) -> str:
    """The match with its `value` group replaced, its quotes kept, unless a name's value would
    keep it (`_kept_value`: a state word, a masked one)."""
    value = match["value"]
    quote = match["q"] or ""
    if _kept_value("password", value.strip("\"'`\\")):
        return match[0]
    start, end = match.start("value") - match.start(), match.end("value") - match.start()
    return f"{match[0][:start]}{quote}{_PLACEHOLDER}{quote}{match[0][end:]}"


#: A single-dash option that spells a secret's name out (Go's and Java's `-password`,
#: `-api-key`, `-db_password`): never a short option with its value glued to it (`-ps3cret`,
#: mysql's `-p` and its password), whose letters run on without a separator.
_SINGLE_DASH_NAME = (
    r"(?:password|passwd|passphrase|token|secret|apikey|[a-z]{1,32}[-_][a-z_-]{1,64})"
    r"(?![\w.-])"
)


def _flag_item_value(match: re.Match[str]) -> str:
    """An argument list's item after an option named like a secret (`name`, or `single`
    after one dash) replaced, its quotes kept, unless a name's value would keep it
    (`_kept_value`: a path under `--token-file`, a state word)."""
    name, bare = match["name"] or match["single"], match["value"].strip("\"'\\")
    if not secret_named(name) or _kept_value(name, bare):
        return match[0]
    return _value_replaced(match)


def _described_args(brk: str) -> Callable[[re.Match[str]], str]:
    """The replacement of `kubectl describe`'s Args block (`items`, its lines broken by `brk`):
    the line after an option's line (`--db-password`, no `=`) named like a secret replaced,
    its indentation kept, unless it is an option too or a name's value would keep it."""
    breaks = re.compile(f"({brk})")

    def replaced(match: re.Match[str]) -> str:
        pieces = breaks.split(match["items"])  # "", break, line, break, line …
        for at in range(2, len(pieces) - 2, 2):
            option = _LONE_OPTION.fullmatch(pieces[at].strip())
            value = pieces[at + 2].strip()
            if option is None or value.startswith(("-", "[REDACTED")):
                continue
            if secret_named(option["name"]) and not _kept_value(option["name"], value):
                indent = pieces[at + 2][: len(pieces[at + 2]) - len(pieces[at + 2].lstrip())]
                pieces[at + 2] = f"{indent}{_PLACEHOLDER}"
        head = match[0][: match.start("items") - match.start()]
        return head + "".join(pieces)

    return replaced


#: An option alone on its line, its value on the next (`--db-password`).
_LONE_OPTION = re.compile(r"--?(?P<name>[A-Za-z][\w.-]{0,127}+)")


#: glab's option that marks a variable's value a secret (masked in job logs).
_MASKED = re.compile(r"(?<![\w-])--masked(?![\w-])")


def _glab_variable(match: re.Match[str]) -> str:
    """A `glab variable set|update NAME --value X` with X replaced when NAME is a secret's or
    `--masked` stands on the command's line; else unchanged (`PORT --value 8080`)."""
    text = match.string
    line_end = min(
        (at for at in (text.find("\n", match.start()), text.find("\\n", match.start())) if at >= 0),
        default=len(text),
    )
    masked = _MASKED.search(text, match.start(), line_end) is not None
    return _value_replaced(match) if secret_named(match["name"]) or masked else match[0]


def _oracle_password(match: re.Match[str]) -> str:
    """An Oracle `user/password` with its password (`value`) replaced, its quotes kept."""
    quote = match["q"] or ""
    start, end = match.start("value") - match.start(), match.end("value") - match.start()
    return f"{match[0][:start]}{quote}{_PLACEHOLDER}{quote}{match[0][end:]}"


#: A command that reads a password from its input: docker's (podman's, helm's …)
#: --password-stdin, chpasswd (user:password), passwd --stdin, gh's --with-token, sudo -S (its
#: `-S` in capitals, alone or among other letters: `-kS`) or --stdin.
_STDIN_READER = (
    r"(?:--pass(?:word)?-stdin|chpasswd|passwd[^\n|;&]{0,64}--stdin|--with-token"
    r"|sudo(?:[ \t]{1,3}[^\s|;&]{1,64}+){0,4}?[ \t]{1,3}(?:(?-i:-[A-Za-z]{0,8}S[A-Za-z]{0,8})|--stdin)"
    # A secret store's value read from the input: gcloud's `--data-file=-`, docker's and
    # podman's `secret create NAME -`.
    r"|secrets?[ \t]{1,3}(?:versions[ \t]{1,3}add|create)[^\n|;&]{0,256}?"
    r"(?:--data-file[ \t=]{1,3}-|[ \t]-)"
    # vncpasswd's, gpg's `--passphrase-fd 0`, cryptsetup's `--key-file=-`.
    r"|vncpasswd|--pass(?:phrase|word)-fd[ \t=]{1,3}0|--key-file[ \t=]{1,3}-"
    # kinit (it reads the password from its input when that is no terminal), sshfs's `-o
    # password_stdin` (among other mount options: `-o reconnect,password_stdin`).
    r"|kinit|password_stdin"
    # `vault login -` (the token), smbpasswd's `-s`, openssl's `-pass stdin` (`-passin`),
    # a password file that is the input (`--vault-password-file=/dev/stdin`), cryptsetup (its
    # passphrase), and passwd itself heading the pipeline's command (`yes … | passwd bob`;
    # not `/etc/passwd` read by another command).
    r"|vault[ \t]{1,3}login(?:[ \t]{1,3}-[\w=.:/-]{1,64}+){0,4}?[ \t]{1,3}-(?![\w=-])"
    r"|smbpasswd[^\n|;&]{0,64}?[ \t]-[A-Za-z]{0,4}s(?![\w-])"
    r"|-pass(?:in)?[ \t]{1,3}stdin(?![\w-])"
    r"|--[\w-]{0,40}?pass(?:word|phrase)?-file[ \t=]{1,3}(?:/dev/stdin|-)(?![\w/-])"
    r"|cryptsetup(?![\w-])"
    # A secret store's new value read from the input: Cloudflare's `wrangler secret put NAME`,
    # Vercel's `env add NAME [env]` (its variables are an app's secrets, encrypted at rest,
    # whatever their names), the desktop keyring's `secret-tool store` and Python's `keyring
    # set`; and OpenLDAP's tools given their password file as the input (`-y /dev/stdin`).
    r"|(?:wrangler[^\n|;&]{0,64}?[ \t]secret[ \t]{1,3}put|secret-tool[ \t]{1,3}store"
    r"|vercel[^\n|;&]{0,64}?[ \t]env[ \t]{1,3}add"
    r"|keyring[ \t]{1,3}set)(?![\w-])"
    r"|ldap[a-z]{2,12}[^\n|;&]{0,256}?[ \t]-y[ \t]{1,3}(?:/dev/stdin|-)(?![\w/-])"
    r"|(?:(?<=\|)|(?<=\|[ \t])|(?<=\|[ \t]{2}))(?:sudo[ \t]{1,3})?passwd(?![\w.-])"
    # An option named like a secret that is given no value on the line (`databricks configure
    # --token`, `login --password --user bob`): the tool asks for it, and reads the input.
    r"|--(?:[\w-]{0,40}?-)?(?:token|password|passwd|passphrase|secret|api-key)"
    r"(?=[ \t]{0,3}(?:$|\r?\n|\\n|-|<|\||;|&))"
    r"(?![\w-])"
    # base64 encoding a `user:password` for a Basic header (not decoding: `base64 -d`); as
    # for chpasswd, only what follows the colon goes (`_piped_value`).
    r"|base64(?![\w-])(?![ \t]{1,3}(?:-[A-Za-z0-9]{0,4}[dD]|--decode)))"
)
#: The readers whose input is `user:password`: only its password goes.
_USER_PASSWORD_READERS = ("chpasswd", "base64")


#: A setting's plain value piped into Vercel's `env add`, which holds settings beside secrets:
#: words without digits (`production`, `true`) or a number.
_PLAIN_SETTING = re.compile(r"[A-Za-z_.-]{1,64}+|[0-9.]{1,16}+")


def _piped_value(match: re.Match[str], reader: str | None = None) -> str:
    """A value piped into a command that reads a password (`reader`, else the match's group
    of that name): replaced, but for `chpasswd` and `base64` (`_USER_PASSWORD_READERS`), whose
    input is `user:password`, only the part after the colon (base64 given no colon encodes no
    login, and the value stays); a plain setting piped into Vercel's `env add`
    (`_PLAIN_SETTING`: `echo production | vercel env add NODE_ENV`) stays."""
    reader = (reader or match["reader"]).lower()
    if "vercel" in reader and _PLAIN_SETTING.fullmatch(match["value"].strip("\\\"'")):
        return match[0]
    if not any(name in reader for name in _USER_PASSWORD_READERS):
        return _value_replaced(match)
    value = match["value"]
    colon = value.find(":")
    if colon < 0:
        return _value_replaced(match) if "chpasswd" in reader else match[0]
    if value.startswith("[REDACTED", colon + 1):
        # Its password is gone already (a group's echo: `(echo bob:…) | chpasswd`).
        return match[0]
    quote = match["q"] or ""
    start = match.start("value") - match.start() + colon + 1
    end = match.end("value") - match.start()
    return f"{match[0][:start]}{_PLACEHOLDER}{quote}{match[0][end:]}"


#: An echo or a printf of a value among a group's commands (`(echo X; sleep 1; echo X)`): after
#: the group's bracket, a `;` or a space.
_GROUP_ECHO = re.compile(
    r"(?<![^\s({;])(?:echo(?:[ \t]{1,3}-[neE]{1,3}+){0,3}+"
    # printf's format taken whole (`'%s\n'`), never read as the value it formats.
    r"|printf(?:[ \t]{1,3}(?P<f>[\"']?)%s(?:\\n)?(?P=f))?+)"
    rf"[ \t]{{1,3}}(?P<value>{_VALUE})",
    re.IGNORECASE,
)


def _grouped_echoes(match: re.Match[str]) -> str:
    """A subshell's or a `{ …; }` group's echoes piped into a command that reads a password
    (`(echo X; echo X) | passwd bob`: the password and its confirmation) with each echoed
    value replaced as `_piped_value` replaces one echo's."""
    reader, group = match["reader"], match["group"]
    # Inside its brackets: the closing one is none of the last echo's value.
    inside = _GROUP_ECHO.sub(lambda echo: _piped_value(echo, reader), group[1:-1])
    return f"{group[0]}{inside}{match[0][len(group) - 1 :]}"


#: What a command line before a here-string says of the value it is given: a silent read
#: (`read -s`, `read -rs`), an option reading a secret from the input (`--pw-stdin`,
#: `--passphrase-stdin`), a disk's key (`cryptsetup`), a password store's insert (`pass
#: insert`, `gopass insert`).
_SECRET_INPUT = re.compile(
    r"(?<![\w-])(?:read(?:[ \t]{1,3}-[A-Za-z]{0,8}s[A-Za-z]{0,8}(?![\w-]))"
    r"|--[\w-]{0,40}?-stdin|cryptsetup|(?:go)?pass[ \t]{1,3}(?:insert|edit|add))(?![\w-])"
)
#: The words of a command line, split where a shell or an option would split them.
_COMMAND_WORD = re.compile(r"[^\s=\"'`:]{1,256}+")


def _user_password(match: re.Match[str]) -> str:
    """A registry credential's value replaced: after the colon of a `user:password`, or whole
    when it is one random word (`_token_like`: a token alone) or Terraform's token for a
    host (`TF_TOKEN_<host>`, group `tf`); else the match unchanged
    (`BUNDLE_GEMS__CORP__COM=vendor/cache` is no credential)."""
    value = match["value"]
    quote = match["q"] or ""
    head = match[0][: match.start("value") - match.start()]
    if match["tf"]:
        return f"{head}{_PLACEHOLDER}{quote}"
    user, colon, password = value.partition(":")
    if colon and user and password and not password.startswith("//"):
        return f"{head}{user}:{_PLACEHOLDER}{quote}"
    return f"{head}{_PLACEHOLDER}{quote}" if _token_like(value) else match[0]


#: A JSON string's value in a Composer auth.json section that maps hosts to tokens.
_HOST_TOKEN = re.compile(
    r"(?P<head>(?P<q>\\?\")[^\"\\\n]{1,253}+(?P=q)[ \t]{0,8}:[ \t]{0,8}(?P=q))"
    r"(?!\[REDACTED)(?P<value>(?:[^\"\\\n]|\\(?!\"|\\\")){1,512}+)(?=(?P=q))"
)


def _host_tokens(match: re.Match[str]) -> str:
    """Each host's token in a Composer auth.json section (`"github-oauth": {"github.com":
    "…"}`) replaced, its quotes kept."""
    members = _HOST_TOKEN.sub(lambda m: f"{m['head']}{_PLACEHOLDER}", match["members"])
    start, end = match.start("members") - match.start(), match.end("members") - match.start()
    return f"{match[0][:start]}{members}{match[0][end:]}"


def _here_string(match: re.Match[str]) -> str:
    """A here-string's value replaced (`_value_replaced`) when the command line before it says
    it reads a secret (`_SECRET_INPUT`, or a word named like one: `vercel env add DB_PASSWORD`,
    `read DB_PASS`), or the value is random text by itself (`_token_like`): a command's input
    that looks like a key is one whatever reads it. A word, a name or a sentence given to
    another command (`bc <<< 2+2`, `tr a-z A-Z <<< Version2Build`) stays."""
    command = match["command"]
    told = _SECRET_INPUT.search(command) is not None or any(
        secret_named(word.strip("-")) for word in _COMMAND_WORD.findall(command)
    )
    return _value_replaced(match) if told or _token_like(match["value"]) else match[0]


#: A file name's extensions (`.txt`, `.pass`), which do not say what it holds.
_EXTENSION = re.compile(r"(?<=.)\.[A-Za-z0-9]{1,8}\Z")


#: The system's account list (`/etc/passwd`, its backup `passwd-`, a chroot's copy): named
#: like a password file, it holds users, their ids and shells, and no password.
_ACCOUNT_LIST = re.compile(r"(?:\A|/)etc/passwd-?\Z")


def _into_secret_file(match: re.Match[str]) -> str:
    """A value written into a file replaced (`_value_replaced`) when the file's name, its
    leading dots and its extension aside, names a secret (`.vault_pass`, `api_token`,
    `vault_password.txt`) and it is not the account list (`_ACCOUNT_LIST`); else the match
    unchanged (`echo hello > greeting.txt`, `echo done | tee -a /etc/passwd`)."""
    if _ACCOUNT_LIST.search(match["file"]) is not None:
        return match[0]
    name = match["file"].rstrip("/").rsplit("/", 1)[-1].lstrip(".")
    if not secret_named(name) and not secret_named(_EXTENSION.sub("", name)):
        return match[0]
    return _value_replaced(match)


#: Functions whose arguments a stack trace prints, and which of them is the password (from 0):
#: PHP's PDO and mysqli, mysql_connect, oci_connect, ldap_bind, ftp_login, ssh2_auth_password,
#: imap_open (in any case, as PHP calls them).
_CALLS = (
    (r"PDO(?:->|::)__construct|new[ \t]{1,3}PDO|mysqli(?:->|::)(?:__construct|real_connect)", 2),
    (r"new[ \t]{1,3}mysqli|mysqli_connect|mysql_p?connect|ldap_bind|ftp_login", 2),
    (r"ssh2_auth_password|imap_open", 2),
    (r"mysqli_real_connect", 3),
    (r"oci_(?:p|new_)?connect", 1),
    # SQL's crypto functions, as a slow query log quotes them: pgcrypto's pgp_sym_encrypt(data,
    # key) and its decrypt, MySQL's AES_ENCRYPT(data, key) and DES_ENCRYPT, SQL Server's
    # ENCRYPTBYPASSPHRASE(passphrase, data), crypt(password, salt).
    (r"pgp_sym_(?:en|de)crypt(?:_bytea)?|(?:aes|des)_(?:en|de)crypt", 1),
    (r"(?:en|de)cryptbypassphrase|(?<![\w$])crypt", 0),
)
#: … and code that logs in with a user and a password by their place, in its own case (read
#: as written, the engine skips to a name's first letter): Python's requests, httpx and
#: aiohttp auth classes and a `(user, password)` tuple after `auth =`, smtplib's, ftplib's and
#: imaplib's `.login`, python-ldap's simple_bind, PyMySQL's connect; .NET's NetworkCredential;
#: ftplib's FTP, pymssql's connect, poplib's pass_;
#: Java's PasswordAuthentication, HttpClient's UsernamePasswordCredentials, Spring's
#: UsernamePasswordAuthenticationToken, Shiro's UsernamePasswordToken, BasicCredentials, DriverManager.getConnection; Go's SetBasicAuth,
#: smtp.PlainAuth and CRAMMD5Auth, gomail's NewDialer.
_AUTH_CALLS = (
    (r"(?:HTTP)?(?:Basic|Digest|Proxy)Auth|auth(?<!\wauth)[ \t]{0,16}+=[ \t]{0,16}+|\.login", 1),
    # … a bare `login(user, password)` (a helper imported by its name, a test's fixture) and a
    # client's `setAuth(user, password)` (`SetAuth` in Go's and C#'s case); Sequelize's `new
    # Sequelize(database, user, password, options)`. A bare name's bracket follows it after
    # any run of spaces or tabs (`_BRACKET_GAP`), which the rule's needles spell out
    # (`_bracketed`); `\Z` is the name alone, as `_secret_place` reads it.
    (r"(?<![\w$.])login(?=[ \t]{0,16}+\(|\Z)|(?<![\w$])[sS]etAuth", 1),
    (r"(?<![\w$.])Sequelize(?=[ \t]{0,16}+\(|\Z)", 2),
    # .NET's NetworkCredential, also as PowerShell makes one: `[…NetworkCredential]::new(u, pw)`.
    (r"simple_bind(?:_s)?|NetworkCredential(?:\]::new)?|PasswordAuthentication|CRAMMD5Auth", 1),
    # … Shiro's UsernamePasswordToken, Dropwizard's and Jetty's BasicCredentials.
    (r"UsernamePassword(?:Credentials|AuthenticationToken|Token)|(?<![\w$])BasicCredentials", 1),
    # .NET's AuthenticationHeaderValue(scheme, token): the token after its scheme.
    (r"AuthenticationHeaderValue", 1),
    (r"(?:pymysql|MySQLdb)\.connect|DriverManager\.getConnection|PlainAuth", 2),
    (r"NewDialer", 3),
    # RabbitMQ's pika, Oracle's Python drivers, the AWS SDKs' static credentials (the secret
    # key after the key id), an `authenticate(user, password)` call.
    (r"PlainCredentials|(?:cx_Oracle|oracledb)\.connect|authenticate(?<![\w$]authenticate)", 1),
    (r"(?:Basic(?:Session)?AWS|AwsBasic)Credentials(?:\.create)?", 1),
    # MongoDB's Java driver: createCredential(user, database, password), the SCRAM and PLAIN ones.
    (r"MongoCredential\.create\w{0,32}Credential", 2),
    # Python's ftplib.FTP(host, user, passwd) and FTP_TLS, pymssql.connect(server, user,
    # password), poplib's pass_(password).
    (r"(?<![\w$])FTP(?:_TLS)?|pymssql\.connect", 2),
    (r"\.pass_", 0),
    # sbt's Credentials(realm, host, user, password) (one argument, a file's path, has none).
    (r"(?<![\w$])Credentials", 3),
    # The mongo shell's db.auth(user, password) and db.changeUserPassword(user, password).
    (r"\.auth|changeUserPassword", 1),
    # Perl's DBI->connect(dsn, user, password); Ruby's Net::FTP.open|new(host, user, password)
    # and Net::SMTP.start(address, port, helo, user, secret, authtype).
    (r"DBI->connect|Net::FTP\.(?:open|new)", 2),
    (r"Net::SMTP\.start", 4),
    # The AWS SDKs' static credentials by another name (Go's NewStaticCredentials(id, secret,
    # token), JavaScript's v2 AWS.Credentials(id, secret)); Azure's shared key credentials
    # (StorageSharedKeyCredential(account, key), AzureNamedKeyCredential(name, key)).
    (
        r"NewStaticCredentials|AWS\.Credentials|StorageSharedKeyCredential|AzureNamedKeyCredential",
        1,
    ),
    # Azure's ClientSecretCredential(tenant, client, secret), AzureKeyCredential(key), Java's
    # builder's .clientSecret(secret); Python's keyring.set_password(service, user, password),
    # also imported bare or a backend's (`keyring.get_keyring().set_password(…)`).
    (r"ClientSecretCredential|(?<![\w$])set_password", 2),
    (r"AzureKeyCredential|\.clientSecret", 0),
    # Azure Key Vault's SecretClient.set_secret(name, value): the name says what it is for.
    (r"(?<![\w$])set_secret", 1),
)
#: … and clients that take a password by its place after a host and a port: redis-py's
#: Redis(host, port, db, password) and StrictRedis (aioredis' and redis.asyncio's too), Jedis'
#: JedisPool(config, host, port, timeout, password). Their own rule, looked for by `redis(`
#: and `jedispool(`: `redis` alone is in most of a Redis alert's texts.
_CLIENT_CALLS = (
    (r"(?<![\w$])(?:Strict)?Redis", 3),
    (r"(?<![\w$])JedisPool", 4),
)
#: LDAP's binds, whose first argument is a DN (`cn=admin,dc=x`), a UPN or a DOMAIN\\user:
#: python-ldap's bind and bind_s, ldap3's Connection(server, user, password).
_BIND_CALLS = (
    (r"\.bind(?:_s)?", 1),
    (r"Connection", 2),
)
#: The space between a call's name and its bracket: any run of spaces or tabs, as code
#: aligned by hand or a formatter's style (`login  (u, pw)`) writes it.
_BRACKET_GAP = r"[ \t]{0,16}+"
#: The gaps a needle spells out between a name and its bracket (`_bracketed`): the needles are
#: literals, and a bare name alone (`login`) is in too many texts to be one.
_NEEDLE_GAPS = ("", *(" " * n for n in range(1, 17)), *("\t" * n for n in range(1, 5)))


def _bracketed(*names: str, bracket: str = "(") -> tuple[str, ...]:
    """Needles for each of `names` followed by its bracket after each gap `_BRACKET_GAP`
    allows of one kind of space (`login(`, `login  (`, `login\t(`)."""
    return tuple(f"{name}{gap}{bracket}" for name in names for gap in _NEEDLE_GAPS)


#: The space around a call's arguments, which may put each on a line of its own: spaces, tabs
#: and line breaks, raw or escaped inside a JSON string (`\\n`), as deep as code indents them.
_ARGUMENT_GAP = r"(?:[ \t\r\n]|\\[nrt]){0,256}+"
#: A call's argument (`argument`): quoted (PHP's trace writes strings so; `\\"…\\"` inside a
#: JSON string), or anything else up to a comma, on its line; the space around it
#: (`_ARGUMENT_GAP`) its lines' breaks too.
_ARGUMENT = re.compile(
    _ARGUMENT_GAP
    + rf"""(?P<argument>\\"{_ESCAPED_QUOTED_CHAR}{{0,4096}}+\\"|'(?:[^'\\\n]|\\.){{0,4096}}+'"""
    r"""|"(?:[^"\\\n]|\\.){0,4096}+"|`(?:[^`\\\n]|\\.){0,4096}+`"""
    r"""|[^,()'"`\n]{0,1024}+(?:\([^()\n]{0,1024}+\))?)""" + _ARGUMENT_GAP
)

#: A call's parenthesised arguments (quoted strings read whole, `\\"…\\"` inside a JSON
#: string too; one level of nested parentheses), over lines as code breaks a long call (a
#: quoted string or a nested call still on one line): the arguments stop at the first bracket
#: that is not their own, so each call's are read once.
_CALL_ARGUMENTS = (
    _BRACKET_GAP + r"\("
    rf"""(?P<args>(?:\\"{_ESCAPED_QUOTED_CHAR}{{0,4096}}+\\"|[^()'"\\]|\\(?!")"""
    r"""|'(?:[^'\\\n]|\\.){0,4096}+'|"(?:[^"\\\n]|\\.){0,4096}+\""""
    r"|`(?:[^`\\\n]|\\.){0,4096}+`"
    r"|\([^()\n]{0,1024}+\)){1,8192}+)\)"
)


def _secret_place(function: str) -> int | None:
    """The place (from 0) of the password among the arguments of `function` (a call's name as
    `_CALLS`, `_AUTH_CALLS`, `_BIND_CALLS` or `_CLIENT_CALLS` spell it); None for another."""
    return next(
        (
            i
            for table, flags in (
                *((_AUTH_CALLS, 0), (_BIND_CALLS, 0), (_CLIENT_CALLS, 0)),
                (_CALLS, re.IGNORECASE),
            )
            for name, i in table
            if re.fullmatch(name, function, flags)
        ),
        None,
    )


def _argument_start(args: str, index: int) -> int | None:
    """Where the argument at `index` (from 0) starts in `args` (a call's arguments, read by
    `_ARGUMENT`); None when the call has fewer arguments."""
    position = 0
    for _ in range(index):
        argument = _ARGUMENT.match(args, position)
        if argument is None or argument.end() >= len(args) or args[argument.end()] != ",":
            return None
        position = argument.end() + 1
    return position


def _call_argument(match: re.Match[str]) -> str:
    """A call's arguments with the password's (its place from `_CALLS` or `_AUTH_CALLS`)
    replaced, when it is a quoted string; else the match unchanged."""
    index = _secret_place(match["function"])
    args = match["args"]
    position = None if index is None else _argument_start(args, index)
    if position is None:
        return match[0]
    argument = _ARGUMENT.match(args, position)
    if argument is None:
        return match[0]
    value = argument["argument"]
    quote = _literal_quote(value)
    if quote is None or len(value) < 2 * len(quote) + 1:
        return match[0]
    if value[len(quote) :].startswith("[REDACTED"):
        return match[0]
    start = match.start("args") - match.start() + argument.start("argument")
    replaced = f"{quote}{_PLACEHOLDER}{quote}"
    return f"{match[0][:start]}{replaced}{match[0][start + len(value) :]}"


#: A call of code that logs in (`_AUTH_CALLS`) and its arguments.
_AUTH_CALL = re.compile(
    rf"(?P<function>{'|'.join(name for name, _ in _AUTH_CALLS)}){_CALL_ARGUMENTS}"
)


def _auth_call_argument(match: re.Match[str]) -> str:
    """A login call's arguments with its password replaced (`_call_argument`), and those of
    such a call among them (Spring's `authenticate(new UsernamePasswordAuthenticationToken(u,
    "…"))`, Shiro's `subject.login(new UsernamePasswordToken(u, "…"))`): the outer call's
    match holds the inner one, where the rule does not look again."""
    done = _call_argument(match)
    head = match.start("args") - match.start()
    return done[:head] + _AUTH_CALL.sub(_call_argument, done[head:])


#: A setter's name and its arguments' opening bracket (the setter rule's match, from its start).
_SETTER_CALL = re.compile(r"(?P<function>[^(]{1,256}?)" + _BRACKET_GAP + r"(?=\()")
_SETTER_ARGUMENTS = re.compile(_CALL_ARGUMENTS)


def _setter_value(match: re.Match[str]) -> str:
    """A setter's first literal replaced (`_value_replaced`), unless the setter is a call whose
    password is known by a later place (`_secret_place`: keyring's `set_password(service,
    username, password)`) and has an argument there: that argument is the secret (the
    positional rules read it), and the first names what it is for; nor when the call, read
    whole, has more than one literal: `_setter_literals` chose which of them go."""
    setter = _SETTER_CALL.match(match[0])
    if setter is None:
        return _value_replaced(match)
    call = _SETTER_ARGUMENTS.match(match.string, match.start() + setter.end())
    if call is None:
        return _value_replaced(match)
    index = _secret_place(setter["function"])
    if index and _argument_start(call["args"], index) is not None:
        return match[0]
    arguments = _arguments(call["args"])
    if len(arguments) == 2 and _USER_THEN_SECRET.search(setter["function"]):
        # A user then its secret (`setCredentials("bob", pw)`): the user stays, and
        # `_setter_literals` took the secret when it was a literal.
        return match[0]
    literals = [a for a in arguments if _literal_quote(a["argument"])]
    return match[0] if len(literals) > 1 else _value_replaced(match)


def _arguments(args: str) -> list[re.Match[str]]:
    """Each argument of a call's `args` (read by `_ARGUMENT`), in order; none when they do not
    read as a list of arguments split by commas (a bracket or a quote `_ARGUMENT` cannot
    read)."""
    arguments: list[re.Match[str]] = []
    position = 0
    while (argument := _ARGUMENT.match(args, position)) is not None:
        arguments.append(argument)
        if argument.end() >= len(args):
            return arguments
        if args[argument.end()] != ",":
            return []
        position = argument.end() + 1
    return []


def _literal_quote(argument: str) -> str | None:
    """The quote of `argument` when it is a whole quoted literal (`'…'`, `"…"`, `\\"…\\"`
    inside a JSON string, JavaScript's `` `…` `` without a `${…}` in it); None for any other
    argument (a variable, a call, a template that reads one)."""
    quote = '\\"' if argument.startswith('\\"') else argument[:1]
    if quote not in ("'", '"', '\\"', "`") or len(argument) < 2 * len(quote):
        return None
    if quote == "`" and "${" in argument:
        return None
    return quote if argument.endswith(quote) else None


#: A setter whose name says it takes a user and then that user's secret: a credentials setter
#: (`setCredentials(user, password)`, `withCredentials`, `.credentials`), passlib's
#: `HtpasswdFile.set_password(user, password)` (keyring's three are `_AUTH_CALLS`').
_USER_THEN_SECRET = re.compile(r"(?:credentials?|\Aset_password)\Z", re.IGNORECASE)


def _setter_literals(match: re.Match[str]) -> str:
    """A secret-named setter's call (`function`, `args`) with its secret's literals replaced:
    the second of two arguments when its name says they are a user and a password
    (`_USER_THEN_SECRET`), else, given more than one literal, every one, as the call's shape
    says not which is the secret (`setPassword("pw", "pw")` and its confirmation,
    `setApiKey(key, secret)`): a name lost beside a secret is better than a secret kept. A
    call whose secret has its place (`_secret_place`) and an argument there is the positional
    rules', and stays."""
    arguments = _arguments(match["args"])
    literals = [a for a in arguments if _literal_quote(a["argument"])]
    index = _secret_place(match["function"])
    if index is not None and index < len(arguments):
        return match[0]
    if len(arguments) == 2 and _USER_THEN_SECRET.search(match["function"]):
        # The user may be a variable (`setCredentials(user, "pw")`): its password still goes.
        literals = [arguments[1]] if _literal_quote(arguments[1]["argument"]) else []
    elif len(literals) < 2:
        return match[0]
    text, offset = match[0], match.start("args") - match.start()
    for argument in reversed(literals):
        value = argument["argument"]
        quote = _literal_quote(value) or ""
        inner = value[len(quote) : len(value) - len(quote)]
        if not inner or inner.startswith("[REDACTED") or _kept_value("password", inner):
            continue
        start = offset + argument.start("argument")
        text = f"{text[:start]}{quote}{_PLACEHOLDER}{quote}{text[start + len(value) :]}"
    return text


#: A JAAS login module's `user_<name>="…"` option: the password of user <name> (ZooKeeper's
#: DigestLoginModule, Kafka's PlainLoginModule list their users so), quoted or not. A quote an
#: alert cut before it closed (`open`) holds the value to its line's end, or its JSON string's.
_JAAS_USER_OPTION = re.compile(
    r"(?<![\w.-])user_[\w.@-]{1,128}+[ \t]{0,3}=[ \t]{0,3}"
    rf"""(?P<value>(?P<q>\\?["'])(?!\[REDACTED)(?:(?!(?P=q)){_QUOTED_CHAR}){{1,512}}+"""
    r"""(?:(?P=q)|(?P<open>(?=[ \t]{0,64}+(?:[\r\n]|"|\Z))))"""
    r"|(?!\[REDACTED|\$)[^\s;\"'\\]{1,512}+)"
)


def _jaas_value_replaced(match: re.Match[str]) -> str:
    """A `user_<name>` option with its value replaced (`_value_replaced`); a quote left open
    stays open, so the placeholder claims no closing quote the text never had."""
    if match["open"] is None:
        return _value_replaced(match)
    value = match["value"][len(match["q"]) :]
    if _kept_value("password", value.strip()):
        return match[0]
    return match[0][: match.start("value") - match.start()] + match["q"] + _PLACEHOLDER


def _jaas_users_blanked(match: re.Match[str]) -> str:
    """A JAAS login module's entry with each `user_<name>` option's value replaced: only
    inside a module's options is `user_<name>` a password (elsewhere `user_name`, `user_id`
    and `user_agent` are not)."""
    options = _JAAS_USER_OPTION.sub(_jaas_value_replaced, match["options"])
    return match[0][: match.start("options") - match.start()] + options


def _oracle_or_db2(match: re.Match[str]) -> str:
    """An Oracle user/password's password replaced (`_oracle_password`, or after CONNECT's
    user), or DB2's after USING, its quotes kept."""
    if match["value"]:
        return _oracle_password(match)
    group = "connected" if match["connected"] else "using"
    start, end = match.start(group) - match.start(), match.end(group) - match.start()
    return f"{match[0][:start]}{_PLACEHOLDER}{match[0][end:]}"


#: `_VALUE`, ending at an escaped line break or tab too (a script's line inside a JSON string).
_LINE_VALUE = (
    rf"""(?!\\?["']?\[REDACTED|\$|%[A-Za-z_])(?:(?P<q>\\?["']){_QUOTED_CHAR}{{1,512}}+(?P=q)"""
    r"""|(?:[^\s"'|;&<>\\]|\\(?![nrt"'])|""" + _INNER_QUOTE + r"){1,512}+)"
)
#: An ftp client's session or script before a `user NAME PASSWORD` line: lftp named, ftp
#: given a script (`ftp -n host <<EOF`, `ftp -inv host`), or an `open host [port]` line of
#: its own (after a line's start, a string's quote, a prompt's `>` or a log's `: `); "open
#: file failed" is no session.
_FTP_CONTEXT = re.compile(
    r"(?<![\w-])lftp(?![\w-])"
    r"|(?<![\w-])s?ftp(?:\.exe)?(?:[ \t]{1,3}-[A-Za-z:]{1,16}+)*+[ \t]{1,3}[^\s<>|;&]{1,253}+"
    r"[ \t]{0,3}<<"
    r"|(?<![\w-])s?ftp(?:\.exe)?[ \t]{1,3}-[A-Za-z]{0,8}[ngiv]"
    r'|(?:^|[\n>"]|\\n|: )[ \t]{0,8}open[ \t]{1,3}[\w.:-]{1,253}+(?:[ \t]{1,3}[0-9]{1,5})?'
    r"[ \t]{0,8}(?=\r?\n|\\[nr]|$|\")"
)
#: The FTP protocol's USER command (a client's debug output, a server's log) before `PASS`.
_FTP_USER = re.compile(r"(?<![\w-])USER[ \t]{1,3}[^\s\\]")
#: IRC's registration after its `PASS`: `NICK` or `USER` on the next lines.
_IRC_AFTER = re.compile(r"(?<![\w-])(?:NICK|USER)[ \t]{1,3}[^\s\\]")
#: How far after a `PASS` line IRC's registration is looked for.
_IRC_AFTER_CHARS = 512
#: A server's reply about a login on a line of its own, maybe after a transcript's marker
#: (curl -v's `<`/`>`, `S:`/`C:`): FTP's 331 (password required), 230 (logged in) and 530
#: (login incorrect), POP3's `+OK`. Beside a `PASS` line, it says the line is the protocol's.
_LOGIN_REPLY = re.compile(
    r"(?:^|\n)[ \t]{0,8}+(?:[<>][ \t]|[SC]:[ \t])?(?:331[ -][^\r\n]{0,128}?(?i:password)"
    r"|230[ -][^\r\n]{0,128}?(?i:log|user)|530[ -][^\r\n]{0,128}?(?i:login|incorrect)|\+OK)"
)
#: How far around a `PASS` line a server's reply is looked for.
_LOGIN_REPLY_CHARS = 512
#: How far before an ftp line its context is looked for.
_FTP_CONTEXT_CHARS = 4096


def _net_or_ftp(match: re.Match[str]) -> str:
    """`net use`'s or `net user`'s password replaced (`_value_replaced`); an ftp `user NAME
    PASSWORD` line's or the protocol's `PASS` line's only when the text before it is an ftp
    session's (`_FTP_CONTEXT`; a `USER` command before `PASS`, `_FTP_USER`) or a prompt says
    so (`ftp>`, `quote`), or, for `PASS`, it is IRC's (`_irc_pass`), a server's reply about a
    login stands beside it (`_login_replied`) or it is random text by itself (`_token_like`:
    a buffer an strace shows alone): prose that says `user alice …` stays."""
    if match["ftp"] is not None and not match["prompt"]:
        before = match.string[max(0, match.start() - _FTP_CONTEXT_CHARS) : match.start()]
        context = _FTP_USER if match["pass"] else _FTP_CONTEXT
        alone = match["pass"] and (
            _irc_pass(match) or _token_like(match["value"]) or _login_replied(match)
        )
        if context.search(before) is None and not alone:
            return match[0]
    return _value_replaced(match)


def _login_replied(match: re.Match[str]) -> bool:
    """Whether a server's reply about a login (`_LOGIN_REPLY`) stands on a line near a `PASS`
    line: an FTP or POP3 transcript whose `USER` line was cut off or never logged."""
    start = max(0, match.start() - _LOGIN_REPLY_CHARS)
    around = match.string[start : match.end() + _LOGIN_REPLY_CHARS]
    return _LOGIN_REPLY.search(around) is not None


def _irc_pass(match: re.Match[str]) -> bool:
    """Whether a `PASS` line is IRC's: a Twitch chat token (`oauth:…`), or `NICK` or `USER`
    (`_IRC_AFTER`) on the lines after it."""
    if match["value"].startswith("oauth:"):
        return True
    after = match.string[match.end() : match.end() + _IRC_AFTER_CHARS]
    return _IRC_AFTER.search(after) is not None


#: A setter's or a builder's method named like a secret (`setPassword`, `with_api_key`,
#: `.password`): its first character read first (`s`, `w` or a `.`), so the engine skips to
#: the next.
_SETTER_NAME = (
    rf"(?:(?-i:[sSwW])(?<![\w$].)(?:et|ith)_?[A-Za-z0-9_]{{0,64}}?|(?-i:\.)){_SECRET_NAME}"
)
#: Calls that only wrap the literal they are given (`_rule`'s setter, below).
_LITERAL_WRAPPERS = (
    r"(?:Some|String::from|(?:Secret(?:String|Box)?|Zeroizing)::(?:new|from)"
    r"|Optional\.of(?:Nullable)?|Option\.of|SecretStr)"
)

#: libcurl's options that take a credential (PHP's `curl_setopt($ch, CURLOPT_…, …)`, pycurl's
#: `c.setopt(pycurl.…, …)`): a password, a key's passphrase, an OAuth 2 token, or `user:password`.
_CURL_SECRET_OPTION = (
    r"(?:PROXY)?(?:USERPWD|PASSWORD|KEYPASSWD|SSLKEYPASSWD|SSLCERTPASSWD|XOAUTH2_BEARER"
    r"|TLSAUTH_PASSWORD|(?:PROXY_)?TLSAUTH_PASSWORD|PROXY_KEYPASSWD|PROXY_SSLCERT_PASSWD)"
)


def _curl_option_value(match: re.Match[str]) -> str:
    """A libcurl option's literal replaced (`_CURL_SECRET_OPTION`): `USERPWD`'s after its user
    (`bob:…`), any other's whole; a placeholder stays."""
    value = match["value"]
    start = match.start("value") - match.start()
    if "USERPWD" in match["option"].upper() and ":" in value:
        start += value.index(":") + 1
        value = value[value.index(":") + 1 :]
    if not value or value.startswith("[REDACTED"):
        return match[0]
    end = match.end("value") - match.start()
    return f"{match[0][:start]}{_PLACEHOLDER}{match[0][end:]}"


POSITIONAL_RULES: tuple[_Rule, ...] = (
    # libcurl's credential options set in code (`_curl_option_value`).
    _rule(
        # PHP's handle first (`$ch,`); pycurl's method has none.
        r"(?:curl_setopt|\.setopt)[ \t]{0,3}\((?:[^,()\r\n]{1,128}+,)?[ \t]{0,3}"
        rf"(?:CURLOPT_|pycurl\.|[A-Za-z_]\w{{0,31}}+\.)?(?P<option>{_CURL_SECRET_OPTION})[ \t]{{0,3}},"
        r"[ \t]{0,3}(?P<q>\\?[\"'])(?P<value>(?:(?!(?P=q))[^\r\n]){1,1024}+)(?P=q)",
        _curl_option_value,
        "setopt",
    ),
    # Oracle's tools take user/password[@database] (sqlplus, sqlldr, expdp, impdp, exp, imp,
    # rman's target and catalog, dgmgrl; `userid=`), as does SQL*Plus' CONNECT with an `@`,
    # `AS SYSDBA` or after its prompt.
    # `sqlplus / as sysdba` has no user, and no password. DB2's CONNECT TO <db> USER <user>
    # USING <password> too.
    _rule(
        r"(?<![\w./-])(?:(?:sqlplus|sqlldr|expdp|impdp|exp|imp|rman|dgmgrl)"
        r"(?:[ \t]{1,3}(?:-[A-Za-z]{1,10}+|target|catalog|auxiliary)){0,4}+[ \t]{1,3}"
        # `userid=` may be quoted twice (`userid=\\"sys/… as sysdba\\"`, `"'sys/… as sysdba'"`).
        r"(?:(?:userid|target|catalog)=)?(?:\\?[\"']){0,2}+[A-Za-z_][\w$#]{0,127}+/"
        # The password quoted (`scott/"it's…"@db`, Oracle's way to a password with a special
        # character), to its closing quote, or a run to the `@`, a space or a quote.
        rf"(?P<value>(?!\\?[\"']?\[REDACTED)(?:(?P<q>\\?[\"']){_QUOTED_CHAR}{{1,256}}+(?P=q)"
        r"|[^\s@\"'/]{1,256}+))(?=@|[\s\"']|\\|$)"
        # CONNECT's: before an `@`, before `AS SYSDBA` (or another admin privilege), or
        # anywhere after SQL*Plus' prompt.
        r"|(?P<sql_prompt>SQL>[ \t]{1,3})?conn(?:ect)?[ \t]{1,3}[A-Za-z_][\w$#]{0,127}+/"
        r"(?P<connected>(?!\[REDACTED)[^\s@\"'/]{1,256}+)"
        r"(?=@|[ \t]{1,3}as[ \t]{1,3}sys(?:dba|oper|asm|backup|dg|km|rac)(?![\w])"
        r"|(?(sql_prompt)(?:[\s\"';]|\\|$)|(?!)))"
        r"|connect[ \t]{1,3}to[ \t]{1,3}[^\s]{1,256}+[ \t]{1,3}user[ \t]{1,3}[^\s]{1,256}+"
        r"[ \t]{1,3}using[ \t]{1,3}(?P<uq>\\?[\"'])?(?!\[REDACTED)"
        rf"(?P<using>(?(uq){_quoted_char('uq')}{{1,256}}+"
        r"|[^\s\"'\\]{1,256}+)))",
        _oracle_or_db2,
        *(
            f"{word}{gap}"
            for word in ("sqlplus", "sqlldr", "expdp", "impdp", "exp", "imp")
            for gap in " \t"
        ),
        *(f"{word}{gap}" for word in ("rman", "dgmgrl", "conn", "connect") for gap in " \t"),
        flags=re.IGNORECASE,
    ),
    # Oracle's `CREATE [SHARED] [PUBLIC] DATABASE LINK name CONNECT TO user IDENTIFIED BY pw`
    # (ALTER too), its password unquoted or quoted (`_quoted_password` in markup reads only
    # `IDENTIFIED BY '…'`).
    _rule(
        r"(?<![\w])DATABASE[ \t]{1,3}LINK[ \t]{1,3}[^\s;]{1,256}+[ \t]{1,3}CONNECT[ \t]{1,3}TO"
        r"[ \t]{1,3}[^\s;]{1,256}+[ \t]{1,3}IDENTIFIED[ \t]{1,3}BY[ \t]{1,3}"
        rf"(?!VALUES(?![\w$#]))(?P<value>{_VALUE})",
        _value_replaced,
        "database",
        flags=re.IGNORECASE,
    ),
    # Windows' options: /p:pw, /pass:pw, /password:pw, /pwd:pw (cmdkey, xfreerdp, wmic,
    # msdeploy), netdom's /PasswordD: and /PasswordO:, schtasks' /RP pw, ksetup's
    # /SetComputerPassword pw; with a dash and a colon too (winrs -p:pw, -pass:pw). A lone `*`
    # asks for the password, and stays.
    _rule(
        r"(?<=[ \t])(?:/(?:(?:p|pass|password[do]?|pwd|pw)[:=]"
        r"|(?:rp|setcomputerpassword)[ \t]{1,3}(?![/*]))"
        r"|-(?:p|pass|password|pwd|pw):)" + rf"(?!\*(?:[\s\"]|$))(?P<value>{_VALUE})",
        _value_replaced,
        "/p",
        "/rp",
        "/setcomputerpassword",
        "-p",
        flags=re.IGNORECASE,
    ),
    # net use [drive] \\server\share [/user:name] <password> …, net user <name> <password> …; `*` asks.
    # smbclient //server/share <password>, ansible-vault encrypt_string <password>.
    # An ftp client's `user NAME PASSWORD` (its script after `open host`, at its `ftp>`
    # prompt), and the FTP protocol's `PASS password` (after `USER name`, or sent by `quote`
    # or `literal`), when the text says it is an ftp session's (`_net_or_ftp`).
    _rule(
        r"(?:(?<![\w-])net[ \t]{1,3}(?:use(?:[ \t]{1,3}(?:[A-Za-z]:|\*))?[ \t]{1,3}\\\\[^\s]{1,256}+"
        # Its switches may come first (`/user:me pw`, `/persistent:no`).
        r"(?:[ \t]{1,3}/[A-Za-z]{1,16}+(?::[^\s]{1,256}+)?){0,4}+"
        r"|user[ \t]{1,3}(?![/\\])[^\s/]{1,64}+)"
        # smbclient's password after the service (`smbclient //server/share pw -U alice`).
        r"|(?<![\w-])smbclient(?:[ \t]{1,3}-[^\s]{1,64}+(?:[ \t]{1,3}(?![/\\-])[^\s]{1,64}+)?){0,8}+"
        r"[ \t]{1,3}(?://|\\\\)[^\s]{1,256}+"
        # ansible-vault's string to encrypt (`encrypt_string 'pw' --name 'db_password'`), after
        # its options: given with `=`, or with a space when the option takes a value (the
        # password file's name is no password), or a switch that takes none (`-J`).
        r"|(?<![\w-])encrypt_string(?:[ \t]{1,3}(?:--?[\w-]{1,64}+=[^\s]{1,256}+"
        r"|(?:--(?:vault-id|vault-pass(?:word)?-file|encrypt-vault-id|output|name|stdin-name)"
        r"|-n)[ \t]{1,3}[^\s]{1,256}+"
        r"|--(?:ask-vault-pass(?:word)?|prompt|show-input|verbose)|-[Jpv]{1,6}+)(?![^\s])){0,8}+"
        r"|(?:(?<![^\s|;&(\[\"'`=>])|(?<=\\[nt]))(?P<ftp>(?P<prompt>(?:ftp>|quote|literal)[ \t]{1,3})?"
        r"(?:user[ \t]{1,3}[^\s\\\"']{1,256}+|(?P<pass>(?-i:PASS)))))"
        # An ftp line's password is the rest of its word, a shell's operators too (`pa|ss`: no
        # shell reads the script's line; lftp's `;` ends a command), and ends the line ("user
        # alice not found" is prose).
        r"[ \t]{1,3}(?![/*-])(?P<value>(?(ftp)(?!\[REDACTED)"
        # A `;` before a space or a quote ends an lftp command; one inside a word is the
        # password's own (`pa;ss`).
        r"(?:[^\s\\;\"']|;(?![ \t]|\\?[\"'])|\\(?![nrt\"'])){1,512}+"
        # Nor a word of prose (`encrypt_string is the way`, `net user bob is locked`).
        rf"|(?!{_PROSE_AFTER_OPTION}){_LINE_VALUE}))"
        r"""(?(ftp)(?=[ \t]{0,8}(?:\r?\n|\\[rn]|$|["';])))""",
        _net_or_ftp,
        "net ",
        "net\t",
        "smbclient",
        "encrypt_string",
        # An ftp session names its client or opens a host first, or sends `PASS`.
        "ftp",
        "open ",
        "open\t",
        "pass ",
        "pass\t",
        flags=re.IGNORECASE,
    ),
    # A group's echoes into a command that reads a password (`(echo X; echo X) | passwd bob`, `{ echo X; echo X; } |
    # smbpasswd -s -a bob`): `_grouped_echoes`. Before
    # the single echo's rule, whose value would take the group's closing bracket.
    _rule(
        r"(?P<group>(?<![\w$])[({](?=[^\n(){}|]{0,1024}?(?:echo|printf))[^\n(){}|]{1,1024}?[)}])"
        rf"[ \t]{{0,8}}\|[ \t]{{0,8}}(?P<reader>[^\n|;&]{{0,256}}?{_STDIN_READER})",
        _grouped_echoes,
        *("echo", "printf"),
        flags=re.IGNORECASE,
    ),
    # A value echoed, printed or given as a here-string (`cat <<< …`) into a command that reads
    # a password from its input (`_STDIN_READER`).
    _rule(
        r"(?<![\w-])(?:echo(?:[ \t]{1,3}-[neE]{1,3}+){0,3}+|printf(?:[ \t]{1,3}(?P<f>[\"']?)%s(?:\\n)?(?P=f))?"
        r"|cat[ \t]{1,3}<<<)"
        rf"[ \t]{{1,3}}(?P<value>{_VALUE})[ \t]{{0,8}}\|[ \t]{{0,8}}"
        rf"(?P<reader>[^\n|;&]{{0,256}}?{_STDIN_READER})",
        _piped_value,
        # Its first words: rarer than the readers' (`token`, `pass`).
        *("echo", "printf", "<<<"),
        flags=re.IGNORECASE,
    ),
    # … and `yes X` into one, which answers a password prompt and its confirmation alike
    # (`yes X | passwd bob`). Its needle looked for as written: no folded needle starts with
    # a `y`.
    _rule(
        rf"(?<![\w-])yes[ \t]{{1,3}}(?P<value>{_VALUE})[ \t]{{0,8}}\|[ \t]{{0,8}}"
        rf"(?P<reader>(?i:[^\n|;&]{{0,256}}?{_STDIN_READER}))",
        _piped_value,
        "yes ",
        "yes\t",
    ),
    # … and a here-string after the command (`docker login --password-stdin <<< …`, `sudo -S
    # cmd <<< …`).
    _rule(
        rf"(?<![\w-])(?P<reader>{_STDIN_READER})[^\n|;&<]{{0,256}}?<<<[ \t]{{0,3}}"
        rf"(?P<value>{_VALUE})",
        _piped_value,
        "<<<",
        flags=re.IGNORECASE,
    ),
    # … and any other command's here-string, when its line or the value says it is a secret
    # (`_here_string`: `read -rs PW <<< …`, `cryptsetup luksOpen dev name <<< …`).
    _rule(
        r"(?:(?<![^\s|;&(\[\"'`=])|(?<=\\[nt]))(?P<command>[A-Za-z][^\n|;&<>]{0,256}?)"
        rf"[ \t]{{1,3}}<<<[ \t]{{0,3}}(?P<value>{_VALUE})",
        _here_string,
        "<<<",
        flags=re.IGNORECASE,
    ),
    # mosquitto_passwd's batch mode (`-b [-c] file user password`) and `travis encrypt
    # <value>` (a `NAME=value` keeps its name), after their options.
    _rule(
        r"mosquitto_passwd(?<![\w.-]mosquitto_passwd)(?=[^\n|;&]{0,128}?[ \t]-[cDU]{0,3}b)"
        r"(?:[ \t]{1,3}(?:-[HI][ \t]{1,3}[^\s]{1,64}+|-[bcDU]{1,4}+)){1,4}+"
        r"[ \t]{1,3}[^\s-][^\s]{0,255}+[ \t]{1,3}[^\s-][^\s]{0,63}+[ \t]{1,3}"
        rf"(?!{_PROSE_AFTER_OPTION})(?P<value>{_VALUE})",
        _value_replaced,
        "mosquitto_passwd",
    ),
    _rule(
        r"travis(?<![\w.-]travis)[ \t]{1,3}encrypt"
        r"(?:[ \t]{1,3}(?:-(?:r|-repo|e|-api-endpoint)[ \t]{1,3}[^\s]{1,256}+|--?[\w-]{1,32}+(?:=[^\s]{1,256}+)?)){0,8}+"
        rf"[ \t]{{1,3}}(?!-|{_PROSE_AFTER_OPTION})(?:[A-Za-z_][\w.]{{0,63}}+=)?+(?P<value>{_VALUE})",
        _value_replaced,
        "travis",
    ),
    # Package registries' credentials: Bundler's `BUNDLE_<HOST>=user:token` (a host's dots
    # spelled `__`; not its BUILD__ or MIRROR__ settings) and `bundle config [set] <host>
    # user:token` (`_user_password`); Composer's `config http-basic.<host> user password`,
    # `github-oauth.<host> token` (GitLab's, Bitbucket's and bearer's alike). Terraform CLI's
    # token for a host, `TF_TOKEN_<host>` (its dots as `_`, its dashes as `__`; no secret's
    # word ends the name), set in a shell, an env dump, YAML or JSON: the value goes whole.
    _rule(
        r"(?:(?<![\w-])BUNDLE_(?!BUILD__|MIRROR__)(?:[A-Z0-9-]{1,63}+__){1,8}+[A-Z0-9-]{1,63}+="
        r"|(?<![\w-])(?P<tf>TF_TOKEN_)[A-Za-z0-9_-]{1,253}+(?:[\"'])?[ \t]{0,3}[=:][ \t]{0,3}"
        r"|bundle(?<![\w.-]bundle)[ \t]{1,3}config(?:[ \t]{1,3}(?:set|--global|--local)){0,3}+"
        r"[ \t]{1,3}(?:https?://)?[\w-]{1,63}+(?:\.[\w-]{1,63}+){1,8}+/?[ \t]{1,3})"
        r"(?!\[REDACTED|\$)(?P<q>[\"']?)(?P<value>[^\s\"']{1,512}+)(?P=q)",
        _user_password,
        "bundle",
        "tf_token_",
        fold_needles=True,
    ),
    _rule(
        r"composer(?<![\w.-]composer)(?:\.phar)?[ \t]{1,3}config"
        r"(?:[ \t]{1,3}-[\w-]{1,16}+){0,4}+[ \t]{1,3}"
        r"(?:(?:http-basic|bitbucket-oauth)\.[^\s]{1,253}+[ \t]{1,3}[^\s]{1,256}+"
        r"|(?:github-oauth|gitlab-oauth|gitlab-token|bearer)\.[^\s]{1,253}+)[ \t]{1,3}"
        rf"(?!-|{_PROSE_AFTER_OPTION})(?P<value>{_VALUE})",
        _value_replaced,
        "composer",
        fold_needles=True,
    ),
    # … and Composer's auth.json: each host's token under `github-oauth`, `gitlab-oauth`,
    # `gitlab-token` or `bearer` (`_host_tokens`); http-basic's `password` goes by its name.
    _rule(
        r"(?P<q>\\?\")(?:github-oauth|gitlab-oauth|gitlab-token|bearer)(?P=q)[ \t]{0,8}:[ \t]{0,8}"
        r"\{(?P<members>[^{}]{1,8192}+)\}",
        _host_tokens,
        *("github-oauth", "gitlab-oauth", "gitlab-token", "bearer"),
    ),
    # vault login <token> (not an option, nor a method's key=value); cargo login <token>, after
    # its options (`--registry <name>`); rclone obscure <password>; snyk auth <token>. Not a
    # word of prose.
    _rule(
        # Each word first, then the edge before it: the engine jumps to the words' letters.
        r"(?:vault(?<![\w-]vault)[ \t]{1,3}login(?:[ \t]{1,3}-[\w=-]{1,64}+){0,4}+"
        r"|cargo(?<![\w-]cargo)[ \t]{1,3}login(?:[ \t]{1,3}(?:--(?:registry|config|color)[ \t]{1,3}[^\s-][^\s]{0,255}+"
        r"|-Z[ \t]{1,3}[^\s]{1,64}+|--?[\w-]{1,64}+(?:=[^\s]{1,256}+)?)){0,8}+"
        r"|rclone(?<![\w-]rclone)[ \t]{1,3}obscure"
        # Snyk's CLI takes its API token as `snyk auth <token>` (alone, it opens a browser).
        r"|snyk(?<![\w-]snyk)[ \t]{1,3}auth)[ \t]{1,3}"
        rf"(?![\w.-]{{1,64}}=|-|{_PROSE_AFTER_OPTION})(?P<value>{_VALUE})",
        _value_replaced,
        "vault",
        "cargo",
        "obscure",
        "snyk",
        flags=re.IGNORECASE,
    ),
    # NuGet takes its API key by its place: `nuget setapikey <key> -Source <feed>` (its options
    # before the key too) and nuget.exe's `nuget push <package> <key>`, the package a .nupkg.
    # Not a variable's, nor a word of prose (`nuget push failed for …`).
    _rule(
        r"nuget(?<![\w-]nuget)(?:\.exe)?[ \t]{1,3}"
        r"(?:setapikey(?:[ \t]{1,3}-{1,2}(?:source|configfile|verbosity)[ \t]{1,3}[^\s-][^\s]{0,255}+"
        r"|[ \t]{1,3}-{1,2}(?:noninteractive|forceenglishoutput)){0,4}+"
        r"|push[ \t]{1,3}[^\s-][^\s]{0,511}?\.s?nupkg(?![^\s]))[ \t]{1,3}"
        r"(?!(?:failed|succeeded|returned|exited|errored|timed)(?![\w-]))"
        rf"(?!-|{_PROSE_AFTER_OPTION})(?P<value>{_VALUE})",
        _value_replaced,
        "nuget",
        flags=re.IGNORECASE,
    ),
    # ipmitool's `user set password <id> <password> [16|20]` and `lan set <channel> password
    # <password>` (its `-P` is a command line option: `commands`).
    _rule(
        r"ipmitool(?<![\w.-]ipmitool)[ \t][^\n|;&]{0,256}?(?<![\w-])"
        r"(?:user[ \t]{1,3}set[ \t]{1,3}password[ \t]{1,3}[0-9]{1,3}+"
        r"|lan[ \t]{1,3}set[ \t]{1,3}[0-9]{1,3}+[ \t]{1,3}password)[ \t]{1,3}"
        rf"(?P<value>{_VALUE})",
        _value_replaced,
        "ipmitool",
        flags=re.IGNORECASE,
    ),
    # A `user:password` literal handed to a base64 encoder, as code builds a Basic header:
    # `btoa('u:pw')`, Python's `b64encode(b'u:pw')`, PHP's `base64_encode`, Ruby's
    # `encode64`, Go's `EncodeToString([]byte("u:pw"))`, Java's `encodeToString("u:pw"…)`,
    # Node's `Buffer.from('u:pw').toString('base64')`; the header rules, which run first, may
    # have taken `' + btoa(` as the Basic value (`'Basic '[REDACTED:authorization]'u:pw')`).
    # The password goes, the user stays; a port (`'host:5432'`) is none.
    _rule(
        r"(?:(?<![\w$])(?:btoa|b64encode|base64_encode|(?:strict_|urlsafe_)?encode64"
        r"|EncodeToString|encodeToString|Buffer\.from(?=[^\n]{0,600}?\)\.toString\([ \t]{0,3}"
        r"\\?[\"']base64))[ \t]{0,3}\([ \t]{0,3}(?:\[\]byte\(|b(?=[\"']))?"
        r"|\[REDACTED:authorization\])"
        r"(?P<q>\\?[\"'`])[^\s:\"'`\\]{1,128}+:"
        rf"(?P<value>(?!\[REDACTED|[0-9]{{1,5}}(?P=q))(?:(?!(?P=q)){_QUOTED_CHAR}){{1,256}}+)"
        r"(?P=q)",
        lambda m: f"{m[0][: m.start('value') - m.start()]}{_PLACEHOLDER}{m['q']}",
        *("btoa", "b64encode", "base64_encode", "encode64", "encodetostring", "buffer.from"),
        # The placeholder by its word: a `[` starts no other folded needle.
        "redacted:authorization]",
        fold_needles=True,
    ),
    # Go's MySQL driver's DSN, which has no scheme for the URL rules to read: user:password@
    # tcp(host:port)/db, @unix(/path.sock)/db. The password runs to the `@` before the protocol.
    _rule(
        r"(?<![^\s\"'`=(,])(?P<user>[\w.-]{1,64}+):(?P<value>(?!\[REDACTED)[^\s\"'`]{1,256}?)"
        r"(?=@(?:tcp6?|udp6?|unix(?:gram|packet)?)\()",
        lambda m: f"{m['user']}:{_PLACEHOLDER}",
        *("@tcp(", "@tcp6(", "@udp(", "@udp6(", "@unix("),
    ),
    # A value echoed or printed into a file named like a secret (`echo … > .vault_pass`,
    # `>> ~/.ansible/vault_password.txt`, `| tee /run/secrets/api_token`): `_into_secret_file`.
    _rule(
        r"(?<![\w-])(?:echo(?:[ \t]{1,3}-[neE]{1,3}+){0,3}+|printf(?:[ \t]{1,3}(?P<f>[\"']?)%s(?:\\n)?(?P=f))?)"
        rf"[ \t]{{1,3}}(?P<value>{_VALUE})[ \t]{{0,8}}"
        r"(?:>>?|\|[ \t]{0,8}(?:sudo[ \t]{1,3})?tee(?:[ \t]{1,3}-a)?)[ \t]{0,8}"
        r"(?P<file>[^\s|;&<>\"'`]{1,256}+)",
        _into_secret_file,
        "echo",
        "printf",
        flags=re.IGNORECASE,
    ),
    # A secret store's command setting a value: gh secret set … --body|-b, az keyvault secret
    # set … --value, aws ssm put-parameter … --value, … secrets create … --data; sops' --set
    # and set, whose tree path's value is the file's, encrypted whatever its key
    # (`sops --set '["db"]["password"] "…"'`).
    _rule(
        r"(?<![\w-])(?:(?:secrets?[ \t]{1,3}(?:set|create|put|add|update)|put-parameter)"
        r"(?![\w-])[^\n|;&]{0,512}?(?<![\w-])(?:--value|--body|--data|-b)(?:[ \t]{1,3}|=)"
        r"|sops(?![\w-])[^\n|;&]{0,512}?\][ \t]{1,8}(?=\\?[\"']))"
        # Not another option: `-b -R corp/app` gives -b no value here, and keeps the option.
        f"(?!-)(?P<value>{_VALUE})",
        _value_replaced,
        "secret",
        "put-parameter",
        "sops",
        flags=re.IGNORECASE,
    ),
    # GitLab's CLI setting a CI/CD variable by option (`glab variable set NAME --value X`,
    # `-v X`; `update` too): the value goes when the name is a secret's, or `--masked` says
    # it is one (`_glab_variable`); `PORT --value 8080` stays.
    _rule(
        r"glab(?<![\w.-]glab)[ \t]{1,3}variable[ \t]{1,3}(?:set|update)[ \t]{1,3}"
        r"(?P<nq>\\?[\"']?)(?P<name>[\w.-]{1,128}+)(?P=nq)[^\n|;&]{0,512}?"
        r"(?<![\w-])(?:--value|-v)(?:[ \t]{1,3}|=)(?!-)(?P<value>" + _VALUE + ")",
        _glab_variable,
        "glab",
    ),
    # A multipart form's field named like a secret: its value, the line after the part's
    # headers and their blank line.
    _rule(
        r"Content-Disposition:[ \t]{0,8}form-data;[^\r\n]{0,512}?(?<=[ \t;])name=(?P<nq>\"?)"
        r"(?P<name>[^\"\r\n;]{1,128}+)(?P=nq)[^\r\n]{0,512}+(?:\r?\n[^\r\n]{1,1024}+){0,8}?"
        r"\r?\n\r?\n(?P<value>(?!\[REDACTED)[^\r\n]{1,65536}+)",
        lambda m: (
            m[0][: m.start("value") - m.start()] + _PLACEHOLDER
            if secret_named(m["name"]) and not _kept_value(m["name"], m["value"])
            else m[0]
        ),
        "form-data",
        flags=re.IGNORECASE,
    ),
    # A stack trace's call of a function that takes a password (`_CALLS`), its arguments
    # printed: PDO->__construct('mysql:…', 'root', 'pw'); code logging in (`_AUTH_CALLS`):
    # HTTPBasicAuth('u', 'pw'), smtp.login("u", "pw").
    _rule(
        rf"(?P<function>{'|'.join(name for name, _ in _CALLS)}){_CALL_ARGUMENTS}",
        _call_argument,
        *("pdo", "mysql", "oci_", "ldap_", "ftp_login", "ssh2_auth", "imap_open"),
        *("pgp_sym_", "aes_", "des_", "bypassphrase", "crypt"),
        flags=re.IGNORECASE,
    ),
    _rule(
        _AUTH_CALL.pattern,
        _auth_call_argument,
        # Looked for in the folded text, beside other rules' `auth`, `.key` and `pass`: as
        # written, their first letters would add to the positions every text's search tries.
        *("basicauth", "digestauth", "proxyauth", "crammd5auth", "plainauth"),
        *_bracketed("auth", bracket="="),
        *(".login", "simple_bind", "networkcredential", "passwordauthentication"),
        # A bare `login` by its bracket: folded, `login` alone is in most sign-in alerts.
        *_bracketed("login", "sequelize"),
        "setauth",
        "authenticationheadervalue",
        # UsernamePassword… by its `namepassword`: `u` starts no other folded needle.
        *("namepassword", "pymysql", "mysqldb", "getconnection", "newdialer"),
        *("plaincredentials", "cx_oracle", "oracledb", "authenticate", "awscredentials"),
        *("awsbasiccredentials", "mongocredential", "ftp", "pymssql", ".pass_"),
        *(".auth", "changeuserpassword", "credentials("),
        *("dbi->connect", "net::ftp", "net::smtp", "newstaticcredentials", "aws.credentials"),
        *("keycredential", "clientsecretcredential", ".clientsecret", "set_password"),
        "set_secret",
        fold_needles=True,
    ),
    _rule(
        rf"(?P<function>{'|'.join(name for name, _ in _CLIENT_CALLS)})(?={_BRACKET_GAP}\()"
        + _CALL_ARGUMENTS,
        _call_argument,
        *_bracketed("redis", "jedispool"),
        fold_needles=True,
    ),
    # An LDAP bind (`_BIND_CALLS`), when the user argument is a quoted DN, UPN or
    # DOMAIN\\user: `.bind(` alone is also JavaScript's and a socket's.
    _rule(
        r"(?P<function>\.bind(?:_s)?|(?<![\w$])Connection)"
        rf"(?={_BRACKET_GAP}\({_ARGUMENT_GAP}(?:[^,()'\"\n]{{1,256}}+,)?{_ARGUMENT_GAP}"
        r"\\?[\"'][^\"'\n]{0,256}?[=@\\])" + _CALL_ARGUMENTS,
        _call_argument,
        ".bind",
        "connection",
        fold_needles=True,
    ),
    # SQL Server's procedures that take a password by its place: sp_addlogin <login>,
    # <password> and sp_password <old>, <new> (each may be named: `@passwd = N'…'`, `@new =`).
    _rule(
        r"(?<![\w@])(?:sp_addlogin[ \t]{1,3}(?:@loginame[ \t]{0,3}=[ \t]{0,3})?N?'[^'\n]{0,256}+'"
        r"|sp_password[ \t]{1,3}(?:@old[ \t]{0,3}=[ \t]{0,3})?(?:NULL|N?'[^'\n]{0,256}+'))"
        r"[ \t]{0,3},[ \t]{0,3}(?:@(?:passwd|new)[ \t]{0,3}=[ \t]{0,3})?N?"
        r"(?P<value>(?P<q>')(?!\[REDACTED)[^'\n]{1,512}+')",
        _value_replaced,
        "sp_addlogin",
        "sp_password",
        flags=re.IGNORECASE,
    ),
    # A JAAS login module's entry (`…LoginModule required` and its options up to the `;`):
    # the `user_<name>="…"` options, each the password of a user (`_jaas_users_blanked`).
    _rule(
        r"LoginModule[ \t\r\n]{1,16}+(?i:required|requisite|sufficient|optional)(?![\w-])"
        r"(?P<options>[^;]{1,8192}+)",
        _jaas_users_blanked,
        "loginmodule",
        fold_needles=True,
    ),
    # An argument vector printed as a list (Python's `sys.argv`, Node's `process.argv`, a
    # container's args as JSON): an item that is an option named like a secret
    # (`'--api-key'`) and the item after it, its value (`_flag_item_value`).
    _rule(
        r"(?<![^\s\[,(])(?P<fq>\\?[\"'])"
        rf"(?:--(?P<name>[A-Za-z][\w.-]{{0,127}}+)|-(?P<single>{_SINGLE_DASH_NAME}))(?P=fq)"
        r"[ \t]{0,3},[ \t\r\n]{0,16}"
        r"(?P<value>(?P<q>(?P=fq))(?!\[REDACTED|-)(?:(?!(?P=q))"
        rf"{_QUOTED_CHAR}){{1,512}}+(?P=q))",
        _flag_item_value,
        *_SECRET_NAME_NEEDLES,
        fold_needles=True,
    ),
    # … and a YAML list of them (a pod's `args:`, a compose file's `command:`), an item to a
    # line: an item that is an option named like a secret (`- --api-key`) and the next item at
    # the same indentation, its value, to its line's end (`_flag_item_value`).
    *(
        _rule(
            rf"(?:(?<=\n)|(?<=\A)|(?<=\\n)|(?<=\"))(?P<indent>[ \t]{{0,32}}+)-[ \t]{{1,8}}(?P<fq>\\?[\"']?)"
            rf"(?:--(?P<name>[A-Za-z][\w.-]{{0,127}}+)|-(?P<single>{_SINGLE_DASH_NAME}))(?P=fq)"
            rf"[ \t]{{0,8}}{brk}(?P=indent)-[ \t]{{1,8}}(?!-)"
            rf"(?!\\?[\"']?\[REDACTED)(?P<value>(?P<q>\\?[\"'])?+{char}{{1,512}}+)(?={brk}|\"|$)",
            _flag_item_value,
            "- --",
            "- -",
        )
        for brk, char in _LINES
    ),
    # … and `kubectl describe pod`'s Args (and Command), an item to a line, more indented
    # than the heading: an option's line named like a secret, and the value's line after it.
    *(
        _rule(
            rf"(?:(?<=\n)|(?<=\A)|(?<=\\n)|(?<=\"))(?P<indent>[ \t]{{0,32}}+)(?:Args|Command):"
            rf"[ \t]{{0,8}}(?P<items>(?:{brk}(?P=indent)[ \t]{{1,32}}+{char}{{1,1024}}+){{1,256}}+)",
            _described_args(brk),
            "args:",
            "command:",
            fold_needles=True,
        )
        for brk, char in _LINES
    ),
    # A setter named like a secret called with more than one literal (`set_password("bob",
    # "pw")`, `setCredentials("bob", "pw")`): its secret's literals (`_setter_literals`),
    # before the rule below reads the first literal alone.
    _rule(
        rf"(?P<function>{_SETTER_NAME}){_CALL_ARGUMENTS}",
        _setter_literals,
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
    # A setter or a builder's method named like a secret, with a literal in any quotes (also
    # `\\"…\\"` inside a JSON string, JavaScript's `` `…` ``): setPassword("pw"),
    # set_api_key('pw'), withClientSecret("pw"), .password("pw") (not getPassword("db"), whose
    # argument names the secret; nor the first of a call whose secret has a later place:
    # keyring's set_password("service", "user", "pw"), `_setter_value`).
    _rule(
        rf"{_SETTER_NAME}{_BRACKET_GAP}\("
        # The literal may be wrapped once: Rust's `Some("…")`, `String::from("…")`, a secret
        # type's constructor, Java's `Optional.of("…")`; on the next line too.
        rf"{_ARGUMENT_GAP}(?:{_LITERAL_WRAPPERS}[ \t]{{0,3}}\({_ARGUMENT_GAP})?"
        rf"(?P<value>(?P<q>\\?[\"'`])(?!\[REDACTED){_QUOTED_CHAR}{{1,512}}+(?P=q))",
        _setter_value,
        *_SECRET_NAME_NEEDLES,
        flags=re.IGNORECASE,
    ),
)
