"""Names that say a value is a secret (`password`, `DB_PASSWORD`, `x-api-key`, `clientSecret`),
and the values under such a name that are none (a template's placeholder, a word saying the
secret's state, a plural name's count, a bare `PWD`'s path). Shared by the rules that read a
value by its name and by `Redactor.value`, which blanks a JSON key's value by its name, so that
both keep the same values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from triage.redact.disguises import _unmasked, _visible
from triage.redact.logins import _session_shaped
from triage.redact.pem import public_pem_base64
from triage.redact.rule import (
    _START,
    _file_path,
    _key_shaped,
    _LazyPattern,
    _random_looking,
    _spellings,
    _wrapper_start,
)
from triage.redact.words import (
    FOREIGN_GROUPS,
    FOREIGN_KEY_WORDS,
    FOREIGN_NEEDLES,
    SECTION_FIRST_META,
    SECTION_META,
    SECTION_NEEDLES,
    SECTION_WORD,
)

#: JSON keys whose values are secrets whatever they look like (compared lower-case, and
#: ignoring `-` and `_`, so `api-key`, `API_KEY` and `apiKey` all match `apikey`). Keys that
#: merely end in such a name (`DB_PASSWORD`, `x-api-key`, `clientSecret`) count too.
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pw",
        "secret",
        "clientsecret",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "apikey",
        "authorization",
        "auth",
        "cookie",
        "cookies",
        "setcookie",
        "proxyauthorization",
        "sessionid",
        "csrftoken",
        "privatekey",
        "secretaccesskey",
        "awssecretaccesskey",
        "sessiontoken",
        "awssessiontoken",
        "dsn",
        "connectionstring",
        "credentials",
        "signingkey",
        "encryptionkey",
        "clientkeydata",
        "routingkey",
        "servicekey",
        "integrationkey",
        "licensekey",
        "insertkey",
        "masterkey",
        "authkey",
        "sentrykey",
    }
)


_API_KEY_NEEDLES = (*_spellings("api", "key"), "api key")
#: Terraform's reference to a resource's or a data source's attribute, by name, index or key
#: (`data.vault_generic_secret.db.data["password"]`), maybe passed through a function that
#: decodes or unwraps it (`jsondecode(…)["password"]`, `lookup(var.passwords, "db")`, one
#: key or index at most beside it: a third argument is a default, a literal).
_TERRAFORM_PATH = (
    r"[A-Za-z_][\w-]{0,63}+(?:\.[\w-]{1,64}+|\[(?:\"[\w./:-]{1,128}+\"|[0-9]{1,6}+)\]){1,16}+"
)
_TERRAFORM_REFERENCE = (
    r"|\$\{(?:(?:jsondecode|base64decode|nonsensitive|sensitive|trimspace|tostring|one|lookup"
    rf"|element)\(){{0,3}}+{_TERRAFORM_PATH}"
    rf"(?:,[ \t]{{0,3}}(?:\"[\w./:-]{{1,128}}+\"|[0-9]{{1,6}}+|{_TERRAFORM_PATH}))?\){{0,3}}+"
    r"(?:\.[\w-]{1,64}+|\[(?:\"[\w./:-]{1,128}+\"|[0-9]{1,6}+)\]){0,8}+\}"
)

#: A value that is wholly a reference to a secret, quoted or not, says where the secret comes
#: from, not what it is, and stays; a literal goes. References: GitHub Actions' `${{
#: secrets.X }}`, Helm's and Jinja's `{{ .Values.x }}` (no quoted literal inside), the shell's
#: `${DB_PASSWORD}` and `$DB_PASSWORD` (one case only: `$Tr0ngPa55` is a password), printf's
#: `%s` and `%(pw)s`; SQL's positional parameters (`?`, `$1`, `:1`) and the shell's (`$1`);
#: a command's output (`$(cat /run/secrets/pg)`; not echo's or printf's,
#: which only repeat a literal; in backticks only a command that reads a secret, `` `vault
#: read …` ``, as JavaScript's and Go's backticks quote a literal), also as a shell's default
#: (`${X:-$(cat f)}`, `${X:-$Y}`); Windows' `%DB_PASSWORD%`, PowerShell's `$env:X`; Serverless'
#: `${ssm:/db/pw}`, `${file(s.json):pw}`; Terraform's `${data.x.db.data["pw"]}`
#: (`_TERRAFORM_REFERENCE`); CloudFormation's `!Ref DbPassword`; a placeholder
#: in angle brackets, words without digits (`<redacted>`, `<your-api-token>`, `<PASSWORD>`;
#: `<Zq7xK9pL>` is a password); a CI runner's mask (GitLab's `[MASKED]`, GitHub's `***`).
#: `_TEMPLATE_VALUE` is a lookahead: the value is kept.
_PLACEHOLDER = (
    r"(?:\$?\{\{[\w.$| \t-]{1,256}+\}\}"
    r"|\$\{[A-Za-z_][\w.]{0,127}+(?::?[-=]|:?\?[^{}\r\n]{0,256}+)?\}"
    r"|(?-i:\$(?:[A-Z_][A-Z0-9_]{0,127}+|[a-z_][a-z0-9_]{0,127}+))"
    r"|%(?:\([A-Za-z_]\w{0,63}+\))?[sdr]"
    r"|\?|[$:][0-9]{1,4}+"
    r"|\$\{[A-Za-z_][\w.]{0,127}+:?[-=](?:\$\((?![ \t]{0,8}+(?:echo|printf)(?![\w-]))"
    r"[^()\r\n]{1,256}+\)|\$\{?[A-Za-z_]\w{0,127}+\}?)\}"
    r"|(?-i:%(?:[A-Z_][A-Z0-9_]{0,127}+|[a-z_][a-z0-9_]{0,127}+)%)"
    r"|\$\{?env:[A-Za-z_]\w{0,127}+\}?"
    r"|\$\{(?:env|self|opt|ssm|cf|s3|sls|aws|file|param)[:(][^{}\r\n]{1,256}+\}"
    + _TERRAFORM_REFERENCE
    + r"|(?-i:!(?:Ref|GetAtt|ImportValue)[ \t]{1,3}[A-Za-z0-9_.:-]{1,255}+)"
    r"|\$\((?![ \t]{0,8}+(?:echo|printf)(?![\w-]))[^()\r\n]{1,256}+\)"
    r"|`[ \t]{0,8}+(?:cat|head|tail|vault|aws|gcloud|az|kubectl|op|pass|security|sops|jq|yq"
    r"|openssl|base64|gpg|credstash|chamber|doppler|bw|lpass|secret-tool|keyring|awk|sed|grep"
    r"|cut|tr|docker|pwgen)[ \t][^`\r\n]{1,256}+`"
    r"|(?-i:<(?:[a-z]{1,32}+|[A-Z]{1,32}+|[A-Z][a-z]{1,31}+)"
    r"(?:[ _-](?:[a-z]{1,32}+|[A-Z]{1,32}+|[A-Z][a-z]{1,31}+)){0,7}+>)"
    # A CI runner's mask where it hid a secret: GitLab's `[MASKED]`, GitHub's `***`.
    r"|(?-i:\[MASKED\])|\*{3,64}+)"
)
_TEMPLATE_VALUE = r"""(?!\\?["']?""" + _PLACEHOLDER + r"""\\?["']?(?:[\s&;,"'}\\]|$))"""
#: … the same, for a JSON value (`Redactor.value`): the whole string is the placeholder.
_PLACEHOLDER_VALUE = re.compile(_PLACEHOLDER, re.IGNORECASE)

#: The letters beyond ASCII that IGNORECASE matches to an ASCII letter of a name: long s,
#: dotted and dotless I, the Kelvin sign (`scrub._FOLD_ODD`).
_FOLDS_TO = {"s": "\u017f", "i": "\u0130\u0131", "k": "\u212a"}
_ODD_FOLDS = "".join(_FOLDS_TO.values())


def _by_first_letter(*alternatives: str) -> str:
    """`alternatives` (each starting with a lower-case letter) as one group per first letter,
    behind a case-sensitive class of it (`(?-i:[pP])(?:ass…|wd?)`): under IGNORECASE the
    engine enters every alternative of a group to test its first letter, but skips one that
    starts with a class the character is not in without entering it."""
    return "(?:" + "|".join(group for _, group in _letter_groups(*alternatives)) + ")"


def _letter_groups(*alternatives: str) -> list[tuple[str, str]]:
    """`_by_first_letter`'s groups, each with its first letter, in the order the letters
    first come."""
    groups: dict[str, list[str]] = {}
    for alternative in alternatives:
        groups.setdefault(alternative[0], []).append(alternative[1:])
    return [
        (first, f"(?-i:[{first}{first.upper()}{_FOLDS_TO.get(first, '')}])(?:{'|'.join(rests)})")
        for first, rests in groups.items()
    ]


def _beyond_ascii(first: str) -> bool:
    """Whether a group's letter and its upper case are both beyond ASCII (a letter whose
    upper case is ASCII stays with the ASCII ones)."""
    return not any(letter.isascii() for letter in first + first.upper())


def _by_first_letter_ascii_first(*alternatives: str) -> str:
    """`_by_first_letter`, with the groups whose letter is beyond ASCII behind one class of
    such letters: a word's start in ASCII, most of them, costs one test in place of one per
    such group. No two groups' classes share a letter (an ASCII letter's folds are in its
    own group's), so a text matches them in any order alike."""
    groups = _letter_groups(*alternatives)
    ascii_led = "|".join(group for first, group in groups if not _beyond_ascii(first))
    beyond = "|".join(group for first, group in groups if _beyond_ascii(first))
    return rf"(?:{ascii_led}|(?=(?-i:[\u0080-\U0010ffff]))(?:{beyond}))"


#: A name whose value is a secret: one of these words, alone or as the last part of a longer
#: name (`DB_PASSWORD`, `x-api-key`, `clientSecret`, `aws.secret.key`), optionally followed by
#: `key`/`access_key`/`value`. Not after `<12 digits>:`, where `secret:` is part of an ARN.
#: Alternatives, each starting with its lower-case first letter (`_WORD` groups them by it).
_SECRET_WORDS = (
    # A token's kind may be glued to it: ngrok's authtoken, an ACCESSTOKEN, Django's X-CSRFToken.
    # Its words apart too (an INI's or .env's `pass_word`, `pass-word`, `PASS_WORD`).
    *(
        r"pass(?:[_.-]?word|wd|[_.-]?phrase|[_.-]?code)s?",
        "pwd?",
        "secrets?",
        "tokens?",
        "authtoken",
    ),
    *("accesstoken", "refreshtoken", "sessiontoken", "csrftoken", "xsrftoken"),
    # Vault's AppRole secret_id (AWS's SecretId, a secret's name or ARN, stays:
    # `_secret_reference`); a wallet's mnemonic; a Wi-Fi or IPsec pre-shared key (`psk`,
    # FortiOS' `psksecret`).
    *(r"secret[_.-]?id", "mnemonic", "psk(?:secret)?"),
    # PAM's and SSSD's authentication token (`ldap_default_authtok`: the LDAP bind password,
    # plain or in SSSD's reversible obfuscation; its `_authtok_type` says which, and stays).
    r"authtok",
    # Redis' own names for its passwords (`--requirepass X` in a container's args, a
    # replica's `masterauth`).
    *("requirepass", "masterauth"),
    # Memorystore for Redis' `authString` (`gcloud redis instances get-auth-string` prints it).
    r"auth[_.-]?string",
    # SQL Server's setup's `SAPWD` (the sa login's password: `setup.exe /SAPWD=…`).
    "sapwd",
    # Yarn's `npmAuthIdent` (`user:password` for a registry) and npm's `_authIdent`.
    r"auth[_.-]?ident",
    # An SSH key file's name as a key's (`id_rsa: <key>`; its path stays, `_key_file`).
    r"id[_.-](?:rsa|dsa|ecdsa|ed25519)",
    # Collective names, whose one word is the credential itself (`credentials: <password>`);
    # a sentence, a plain word or a count after them stays (`_collective_prose`, `_counted`).
    *("credentials?", "creds"),
    # A connection string, and .NET's section of them (ConnectionStrings__Default in the
    # environment, ConnectionStrings:Default in a flattened JSON configuration).
    r"conn(?:ection)?[ _.-]?str(?:ing)?s?(?:(?:__|:)[A-Za-z0-9]{1,64}+)?",
    r"api[ _.-]?keys?",
    *(rf"{word}[_.-]?key" for word in ("access", "signing", "encryption", "hmac")),
    # A private key, as a tool's summary labels it too, words apart (`Private key: …`).
    r"private[ _.-]?key",
    # Key material by its role: envelope encryption's key-encryption and data keys (`kek`,
    # `dek`, `KMS_KEK`), a JWT's or a MAC's key (`jwt_key`, `mac_key`; a glued `mackey` is a
    # name), a password hash's pepper (`PASSWORD_PEPPER`: the salt's secret half).
    *("kek", "dek", r"jwt[_.-]?key", r"mac[_.-]key", "pepper"),
    # Keys by what they unlock or protect: Vault's unseal and recovery keys (BitLocker's too),
    # a TLS or SSH client's key file's content, a deploy key, a cipher's key, a shared one.
    *(
        rf"{word}[_.-]?key"
        for word in (
            *("priv", "unseal", "recovery", "deploy", "tls", "ssl", "client", "enc", "aes"),
            *("shared", r"pre[_.-]?shared"),
        )
    ),
    # Vendors' own names for a key: PagerDuty's routing/service/integration key, New Relic's
    # license/insert key, Rails' master key, Cloudflare's X-Auth-Key, Azure's subscription and
    # functions keys, Datadog's and Algolia's application key, LaunchDarkly's SDK key, Azure
    # Storage's account key (AZURE_STORAGE_KEY: a bare storage key is an object's path). As a
    # label writes them too, a space between ("License key: …", "Routing Key: …").
    *(
        rf"{word}[ _.-]?key"
        for word in (
            *("routing", "service", "integration", "license", "insert", "master", "auth"),
            *("subscription", "functions", "app(?:lication)?", "sdk"),
        )
    ),
    r"azure[_.-]?storage(?:[_.-]?account)?[_.-]?key",
    # Alerting vendors' keys by the vendor's name (`OPSGENIE_KEY`, its header's `GenieKey`,
    # `SQUADCAST_KEY`): Opsgenie issues a uuid, which under a bare `key` reads as an id.
    *(rf"{vendor}[_.-]?key" for vendor in ("opsgenie", "genie", "squadcast")),
    # Honeycomb's `x-honeycomb-team` header, whose value is the API key (also inside
    # OTEL_EXPORTER_OTLP_HEADERS' list: `x-honeycomb-team=<key>,…`).
    r"honeycomb[_.-]?team",
    # Secrets Manager's answer to GetSecretValue (and PutSecretValue's argument): the secret's
    # own value, plain or JSON.
    r"secret[_.-]?(?:string|binary)",
    # Django's session key ("Session Key" as a form or a report labels it), and a session's id.
    r"session[ _.-]?(?:key|id)",
    "sessid",
    # One-time codes and PINs (`otp`, `sms_otp`, `pin_code`): a value of no code's shape stays
    # (`_not_a_code`). A seed phrase.
    r"otp(?:[_.-]?codes?)?",
    r"pin(?:[_.-]?codes?)?",
    r"seed[ _.-]?phrase",
    # … and the same phrase by a wallet's other names (`recovery_phrase`, `mnemonic_phrase`),
    # each also as a label writes them, words apart (`recovery phrase: …`, `seed phrase`).
    *(r"recovery[ _.-]?phrase", r"mnemonic[ _.-]?phrase"),
    # A Wi-Fi network's passphrase as `netsh wlan show profile key=clear` prints it
    # (`Key Content            : …`).
    r"key[ _.-]?content",
    # Consul's and Nomad's gossip encryption key (`encrypt = "…"`, `-encrypt=…`); a bare
    # `encrypt` also switches encryption on (`encrypt: true`), which stays (`_encrypt_setting`).
    "encrypt",
    # JFrog Artifactory's API key header (`X-JFrog-Art-Api`), whatever the key's shape.
    r"jfrog[_.-]?art[_.-]?api",
    # EC2's `PasswordData` (`aws ec2 get-password-data`): the Windows administrator's
    # password, encrypted to the key pair, which whoever holds the key's file decrypts.
    r"password[_.-]?data",
    # An application's `SALT` named alone in an environment (hashids', a framework's, which
    # keys or signs as WordPress's `NONCE_SALT` does): upper case only, as SaltStack's `salt`
    # and a hash's own salt beside it (public with the hash) are lower case.
    "s(?-i:ALT(?<=SALT))",
)
#: Names glued to what they are for, with no separator (`dbpass`, `ROOTPWD`, `apitoken`,
#: `clientsecret`): each word only after one of these, as `bypass` and `compass` hold `pass`
#: and `nexttoken` is a page's cursor.
_GLUED_BEFORE = {
    ("pass", "pw", "pwd"): (
        "db|root|admin|user|smtp|imap|mail|ftp|ldap|bind|sql|redis|mongo|rabbit|mq|app|api|web"
        "|vnc|rdp|wifi|proxy|login|master|sys|server|client|store|key"
        # OfflineIMAP's `remotepass` (the IMAP account's password).
        "|remote"
    ),
    ("token",): (
        "identity|registry|api|bot|user|app|service|deploy|runner|id|bearer|oauth|client|device"
        "|admin|git|hub|lab|slack|vault|npm|personal|private|webhook|hook|push|sso|jwt"
    ),
    ("secret",): "client|app|api|db|jwt|webhook|hook|consumer|shared|signing|cookie|session|oauth",
}


def _after(word: str, *befores: str) -> str:
    """`word`, then a look-behind for each of `befores` with the word (`pass(?:(?<=dbpass)|…)`):
    read at a position only once the word is there, so a position without it costs one
    letter's test, not one look-behind for each of `befores`."""
    return word + "(?:" + "|".join(f"(?<={before}{word})" for before in befores) + ")"


#: Alerting and on-call vendors whose key a bare `key` names after the vendor's name
#: (`VICTOROPS_KEY`, `PAGERDUTY_KEY`, `ZENDUTY_KEY`, Splunk On-Call's `ONCALL_KEY`): such a key
#: pages people, and is often short or a uuid, which under a bare `key` reads as an id. (Opsgenie
#: and Squadcast are whole secret words, `_SECRET_WORDS`.) As the last part `key` looks behind,
#: the vendor may start with any letter.
_ALERTING_VENDORS = (
    *("victorops", "oncall", "pagerduty", "ilert", "zenduty", "xmatters", "signl4"),
    *("firehydrant", "rootly", "pushover", "betteruptime", "spikesh", "alertops"),
)
_VENDOR_BEFORE_KEY = tuple(
    f"{vendor}{sep}" for vendor in _ALERTING_VENDORS for sep in ("[_.-]", "")
)


#: What comes before a word that names a secret only after it (`_LAST_PART`): an MFA seed
#: (`totp_seed`, `mfa_seed`), a code that logs in once (`recovery_codes`, `auth_code`, a card's
#: `security_code`). (WordPress's salts, `NONCE_SALT`, are any name's last part `salt`.)
_SEED_BEFORE = (
    *(f"{word}[_.-]" for word in ("otp", "mfa", "2fa")),
    # … and a crypto wallet's seed, which spends its funds (`wallet_seed`, `walletSeed`, an HD
    # wallet's `hd_seed`, BIP-39's and BIP-32's, a `master_seed`); a `random_seed` stays.
    *("wallet[_.-]", "wallet", "hd[_.-]", "bip3[29][_.-]", "master[_.-]", "mnemonic[_.-]"),
)
_CODE_BEFORE = (
    *(f"{word}[_.-]" for word in ("recovery", "backup", "mfa", "2fa", "verification", "auth")),
    *("recovery", "backup", "security[_.-]"),
    # An OAuth access code, a door's or a portal's (`access_code`, `accessCode`).
    *("access[_.-]", "access"),
)


def _glued(word: str) -> str:
    """The look-behinds that follow `word` glued to what it is for (`_GLUED_BEFORE`)."""
    befores = next(b for words, b in _GLUED_BEFORE.items() if word in words)
    return _after(word, *befores.split("|"))[len(word) :]


#: A word after another part and a separator (`REDIS_PASS`, `X-Sentry-Auth`).
_SEP = "[A-Za-z0-9][_.-]"
#: The words that name a secret only as a name's last part or glued to another word, each read
#: first and then asked what comes before it (a look-behind that holds it), and grouped by
#: their first letter: a position where none starts costs a letter's test or two.
_LAST_PART = _by_first_letter(
    # Glued to what it is for (PGPASSWORD, dbpassword, DBPASSWORT; 数据库密码 needs no glue:
    # no ASCII letter comes before it), a short last part (REDIS_PASS), or glued to one of
    # `_GLUED_BEFORE` (`dbpass`, `ROOTPWD`, `userpw`).
    rf"p(?:ass(?:(?:[_.-]?word|wd|wort|[_.-]?phrase|[_.-]?code)s?|(?:(?<={_SEP}pass)|{_glued('pass')})(?![A-Za-z]))"
    # A personal access token's short name (GITHUB_PAT, AZURE_DEVOPS_EXT_PAT).
    rf"|at(?<={_SEP}pat)(?![A-Za-z0-9])"
    rf"|w(?:d{_glued('pwd')}|{_glued('pw')})(?![A-Za-z]))",
    # X-Sentry-Auth, client_credentials, SENTRY_DSN (a key's camel case, basicAuth, is
    # `_CAMEL_TAIL`'s), which alone also name a setting or a state (`auth: ldap`,
    # "credentials: timeout"; an `auth` naming a method keeps its value, `_auth_method`);
    # a webhook's signature header (X-Hub-Signature-256, X-Slack-Signature, Stripe-Signature:
    # an HMAC of the body, which a replay with it passes), where a bare `Signature` is often
    # public (SNS's RSA signature of its message, a crash's signature).
    rf"auth(?<={_SEP}auth)(?![A-Za-z])",
    rf"c(?:redential(?<={_SEP}credential)s?|ode{_after('code', *_CODE_BEFORE)[4:]}s?)"
    r"(?![A-Za-z])",
    rf"dsn(?<={_SEP}dsn)(?![A-Za-z])",
    rf"s(?:ignature(?<={_SEP}signature)s?|eed{_after('seed', *_SEED_BEFORE)[4:]}"
    rf"|alt(?<={_SEP}salt)|ecret{_glued('secret')})(?![A-Za-z])",
    rf"token{_glued('token')}(?![A-Za-z])",
    # WordPress's keys (`NONCE_KEY`, `LOGGED_IN_KEY`), and an alerting vendor's key by the
    # vendor's name (`_ALERTING_VENDORS`: `VICTOROPS_KEY`, `pagerduty.key`).
    rf"key{_after('key', 'nonce[_.-]', 'logged[_.-]in[_.-]', *_VENDOR_BEFORE_KEY)[3:]}(?![A-Za-z])",
)
# … and, case-sensitive: sshpass's variable SSHPASS, libpq's PGPASS and Samba's SMBPASS, upper
# case (`sshpass: command not found`, `~/.pgpass` stay); a camel case's short `Pass` (`smtpPass`).
_LAST_PART += (
    r"|(?-i:P(?:ASS(?:(?<=(?<![A-Za-z0-9])SSHPASS)|(?<=(?<![A-Za-z0-9])SMBPASS)"
    r"|(?<=(?<![A-Za-z0-9])PGPASS))(?![A-Za-z])"
    r"|ass(?<=[a-z0-9]Pass)(?![a-z])))"
)
#: The end of a name's part: no letter, digit or joiner of another part after it.
_PART_END = r"(?![A-Za-z0-9]|__|[:.-][A-Za-z0-9]|_[A-Za-z0-9])"
#: A child of a section of secrets, by its path (`Secrets__Db`, `Credentials:Db:Value`,
#: `secrets.db.value`, `SECRETS_DB`, `api_keys.maps`): any path below the section's word,
#: unless its first part or its last says something about the secrets (`SECTION_FIRST_META`,
#: `SECTION_META`: `tokens_per_minute`, `secrets.provider`, `SECRETS_DB_HOST`).
_SECTION_CHILD = (
    rf"{SECTION_WORD}(?=(?:__|[:._-])(?!(?:{SECTION_FIRST_META})(?![A-Za-z0-9])))"
    r"(?:(?:__|[:._-])[A-Za-z0-9]{1,64}+){0,6}?"
    rf"(?:__|[:._-])(?!(?:{SECTION_META}){_PART_END})[A-Za-z0-9]{{1,64}}+{_PART_END}"
)
#: A secret's word (`_SECRET_WORD`) or its name in another language (`FOREIGN_GROUPS`): one
#: group per first letter, so that a word's start costs a test of its letter per group (per
#: ASCII letter's group: `_by_first_letter_ascii_first`).
_WORD = _by_first_letter_ascii_first(
    *_SECRET_WORDS, *(f"{first}(?:{rest})" for first, rest in FOREIGN_GROUPS)
)


def _first_letters(letters: str, beyond_ascii: str = "") -> str:
    """A look-ahead for one of `letters` in either case (and `beyond_ascii`, a class's ranges),
    case-sensitive: under IGNORECASE the engine folds each character it tests against a class,
    which made this one test, made at most positions of a text, the costliest of the rule."""
    return f"(?=(?-i:[{letters}{letters.upper()}{beyond_ascii}]))"


#: A form's array index after a name (`password[]`, `token[0]`): the name's value all the same.
_FORM_INDEX = r"(?:\[[0-9]{0,6}+\])?"

_SECRET_NAME = (
    # One class of every name's first letter first: the engine skips a position that starts
    # no name without entering the alternatives (every letter that folds to one of these is
    # beyond ASCII, in the class's range). At a word's start: a section's child, or a word
    # (`_WORD`: a name in another language, passwort, contraseña, пароль, 密码, after the
    # English ones of its first letter); else a word that counts only after another part.
    _first_letters("pstaerilmfcxdkwhjgou", r"\u0080-\U0010ffff")
    # A camel case's word: the upper-case letter is tested first, as most positions fail it.
    + rf"(?:(?:{_START}|(?-i:(?=[A-Z])(?<=[a-z0-9])))(?<![0-9]{{12}}:)"
    rf"(?:{_first_letters('scpta', _ODD_FOLDS)}{_SECTION_CHILD}|{_WORD})"
    rf"|{_first_letters('pacdstk', _ODD_FOLDS)}(?:{_LAST_PART}))"
    # What may follow the word without changing what it names: a key's kind, a value's, an
    # index, a digest or a version (X-Hub-Signature-256, password_2, token_v2), an encoding
    # (DB_PASSWORD_B64, token_base64, password_plain, secret_hex, password_b32: hex or
    # base32 is the same secret in another spelling).
    r"(?:[_.-]?(?:access[_.-]?)?key(?:[_.-]base)?|[_.-]value|[_.-](?:v|sha)?[0-9]{1,6}+"
    r"|[_.-](?:b(?:ase)?(?:64(?:url)?|32|58|85)|base16|hex|encoded|raw|plain(?:text)?)"
    # A key's file inlined as base64 (kubeconfig's `client-key-data`, `ssh_key_data`).
    r"|(?<=key)[_.-]data)?"
    # … and a form's array index (PHP's and Rails' `password[]=`, `api_key[0]=`).
     + _FORM_INDEX
)
_SECRET_NAME_NEEDLES = (
    "pass",
    "masterauth",
    *_spellings("auth", "string"),
    "pw",
    "secret",
    "token",
    "_signature",
    "-signature",
    ".signature",
    *_spellings("conn", "str"),
    *_spellings("connection", "str"),
    "conn str",
    "connection str",
    "session key",
    *(sep + word for word in ("auth", "credential", "dsn") for sep in "_-."),
    *_spellings("session", "key"),
    *_spellings("signing", "key"),
    "_pat",
    "-pat",
    ".pat",
    *(
        spelling
        for word in (
            *("routing", "service", "integration", "license", "insert", "master", "auth"),
            *("app", "application", "sdk"),
        )
        for spelling in (*_spellings(word, "key"), f"{word} key")
    ),
    *_spellings("storage", "key"),
    *(spelling for vendor in ("genie", "squadcast") for spelling in _spellings(vendor, "key")),
    # An alerting vendor's key by its name (`zenduty` by its `enduty`: a `z` starts no needle).
    *(
        spelling
        for vendor in _ALERTING_VENDORS
        for spelling in _spellings(vendor.removeprefix("z"), "key")
    ),
    *_spellings("honeycomb", "team"),
    *_spellings("account", "key"),
    *_spellings("subscription", "key"),
    *_spellings("functions", "key"),
    "subscription key",
    "functions key",
    *_spellings("encryption", "key"),
    *_spellings("hmac", "key"),
    *_API_KEY_NEEDLES,
    *_spellings("access", "key"),
    *_spellings("private", "key"),
    "private key",
    *_spellings("auth", "ident"),
    *(
        spelling
        for word in ("priv", "recovery", "deploy", "tls", "ssl", "client", "enc", "aes")
        for spelling in _spellings(word, "key")
    ),
    # (`unseal_key` by its `nseal`: a `u` would start a needle no other one starts.)
    *(spelling[1:] for spelling in _spellings("unseal", "key")),
    *_spellings("shared", "key"),
    *(f"id{sep}{kind}" for sep in "_-." for kind in ("rsa", "dsa", "ecdsa", "ed25519")),
    *("credential", "mnemonic", "psk", "authtok"),
    *FOREIGN_NEEDLES,
    *SECTION_NEEDLES,
    # One-time codes and PINs (`pin` with what may follow a name: `ping` and `mapping` hold
    # none of these), seeds, sessions' ids, salts and WordPress's keys.
    "otp",
    *(f"pin{after}" for after in "=:\"' \t_-.\\]"),
    *(f"fa{sep}" for sep in "_-."),  # mfa_, 2fa_ (a digit starts no other needle)
    # (`salt` alone: a bare SALT, and `_salt`, `-salt`, `.salt` after another part.)
    "salt",
    *(f"in{sep}key" for sep in "_-."),
    *("sessid", "session id"),
    *_spellings("seed", "phrase"),
    *_spellings("art", "api"),
    *(spelling for word in ("recovery", "mnemonic") for spelling in _spellings(word, "phrase")),
    *("recovery phrase", "mnemonic phrase", "seed phrase"),
    *_spellings("key", "content"),
    "key content",
    "encrypt",
    # Key material (`kek`, `dek`, `jwt_key`, `mac_key`, `pepper`), a wallet's seed.
    *("kek", "dek", "pepper", *_spellings("jwt", "key"), "mac_key", "mac-key", "mac.key"),
    *_spellings("wallet", "seed"),
    *(
        f"{word}{sep}seed"
        for word in ("hd", "bip39", "bip32", "master", "mnemonic")
        for sep in "_-."
    ),
    *_spellings("session", "id"),
    *_spellings("nonce", "key"),
    *(
        s
        for word in ("recovery", "backup", "verification", "auth", "security", "access")
        for s in _spellings(word, "code")
    ),
)


#: An absolute path, quoted or not: the value of a bare `PWD` (the working directory).
_PATH_VALUE = re.compile(r"""(\\?["']?)/[\w.~@+:/-]{0,1024}\1""")


def _working_directory(match: re.Match[str]) -> bool:
    """A bare `pwd`/`PWD` (no prefix: not `db_pwd`) whose value is an absolute path: the
    shell's working directory, not a password."""
    start = match.start("name")
    before = match.string[start - 1 : start]
    return (
        match["name"].lower() == "pwd"
        and not (before.isalnum() or before in ("_", ".", "-"))
        and _PATH_VALUE.fullmatch(match["value"]) is not None
    )


def _kept_value(name: str, value: object) -> bool:
    """True for a JSON value under a secret's name (`name`) that the text rules keep too: a
    bare `pwd`'s absolute path (`_working_directory`), a value that is wholly a template's
    placeholder with no literal (`_TEMPLATE_VALUE`), a boolean or a word saying the secret's
    state (`_STATE_WORDS`, masked `****`), a plural name's count (`_counted`), a type
    (`_TYPE_VALUE`: a schema's or a declaration's `string`), a `pin` or `otp` that has no
    code's shape (`_not_a_code`), a bare `pepper` that has no secret's shape (`_plain_pepper`);
    under a collective name, prose (`_collective_prose`); any
    value under a public key's name (`public_named`: `public_signing_key`); a connection
    string whose password is taken already (`connection_string_redacted`); base64 of a
    certificate (`public_pem_base64`: a Secret's `tls.crt`, public by design)."""
    if isinstance(value, bool) or public_named(name):
        return True
    if isinstance(value, int):
        return (
            _counted_value(name, value)
            or _collective_count(name, value)
            or _numeric_session(name, str(value))
        )
    if not isinstance(value, str):
        return False
    if name.lower() == "pwd" and _PATH_VALUE.fullmatch(value) is not None:
        return True
    if _counted_value(name, value) or _collective_count(name, value):
        return True
    if _auth_method(name, value) or _not_a_code(name, value) or _named_thing(name, value):
        return True
    if _plain_pepper(name, value):
        return True
    if _key_file(name, value) or _secret_reference(name, value) or _keystore_default(name, value):
        return True
    if _collective_prose(name, value):
        return True
    if _encrypt_setting(name, value) or _secret_object(name, value):
        return True
    if _numeric_session(name, value) or _passwd_report(name, value):
        return True
    if connection_string_redacted(value) or public_pem_base64(value):
        return True
    return (
        _PLACEHOLDER_VALUE.fullmatch(value) is not None
        or _STATE_VALUE.fullmatch(value) is not None
        or _TYPE_VALUE.fullmatch(value) is not None
    )


#: An ADO.NET connection string (`Server=db;Database=orders;User Id=app;Password=…;`): its
#: `key=value` pairs, `;` between them, a value holding no quote.
_CONNECTION_STRING = re.compile(
    r"[ \t]{0,8}(?P<first>[A-Za-z][A-Za-z _]{0,39}+)=[^;\"'\r\n]{0,1024}+"
    r"(?:;[ \t]{0,8}[A-Za-z][A-Za-z _]{0,39}+=[^;\"'\r\n]{0,1024}+){1,63}+;?[ \t]{0,8}"
)
_CONNECTION_PAIR = re.compile(
    r"(?:\A|;)[ \t]{0,8}(?P<key>[A-Za-z][A-Za-z _]{0,39}+)=(?P<value>[^;]{0,1024}+)"
)
#: A key that says the string reaches a database server (and not, say, a storage account).
#: What a rule left where it took a secret (or a template's reference, which names one).
_REDACTED = re.compile(r"\[REDACTED:[a-z0-9-]{1,32}\]")
_CONNECTION_SERVER_KEY = re.compile(
    r"server|data source|host|address|addr|database|initial catalog", re.IGNORECASE
)


def _connection_pairs(value: str) -> list[re.Match[str]] | None:
    """The `key=value` pairs of an ADO.NET connection string (`_CONNECTION_STRING`) that
    names a server or a database (`_CONNECTION_SERVER_KEY`); None for any other value."""
    if _CONNECTION_STRING.fullmatch(value) is None:
        return None
    pairs = list(_CONNECTION_PAIR.finditer(value))
    if not any(_CONNECTION_SERVER_KEY.fullmatch(p["key"].strip()) for p in pairs):
        return None
    return pairs


def _redacted_or_reference(held: str) -> bool:
    """A connection string's value a rule took already, or a reference to where it is."""
    held = held.strip()
    return _PLACEHOLDER_VALUE.fullmatch(held) is not None or _REDACTED.fullmatch(held) is not None


def connection_string_redacted(value: str) -> bool:
    """True for an ADO.NET connection string (`_connection_pairs`) whose every key named like
    a secret (`Password`, `Pwd`) holds a placeholder already: the rule for `Password=` took
    the secret, and the server, the database and the user, which the responder needs, stay.
    One with a secret's key still holding a value is not, and goes whole."""
    pairs = _connection_pairs(value)
    return pairs is not None and all(
        _redacted_or_reference(p["value"]) for p in pairs if secret_named(p["key"].strip())
    )


def connection_string_passwords_redacted(value: str) -> str | None:
    """An ADO.NET connection string (`_connection_pairs`) with the value of each key named
    like a secret replaced (a placeholder or a reference stays), the rest as it was: a
    section's child that is one loses its password, not its server. None for any other
    value."""
    pairs = _connection_pairs(value)
    if pairs is None:
        return None
    pieces: list[str] = []
    last = 0
    for pair in pairs:
        if secret_named(pair["key"].strip()) and not _redacted_or_reference(pair["value"]):
            pieces += (value[last : pair.start("value")], "[REDACTED:password]")
            last = pair.end("value")
    pieces.append(value[last:])
    return "".join(pieces)


#: The first words of the `passwd` program's own reports after its name (`passwd: password
#: updated successfully`, `passwd: all authentication tokens updated successfully.`,
#: `passwd: Authentication token manipulation error`).
_PASSWD_REPORT = re.compile(
    r"(?:password|all|authentication|changing|unchanged|user|expiry)(?![\w-])", re.IGNORECASE
)


def _passwd_report(name: str, value: str) -> bool:
    """Whether a value under `passwd` (the program's name before its message, lower case) is
    the program's report (`_PASSWD_REPORT`), which holds no password."""
    return name == "passwd" and _PASSWD_REPORT.match(value) is not None


#: A type, as code declares a secret's variable or field with it (`token: str`, `password:
#: Optional[str]`, TypeScript's `token: string`, Kotlin's `String?`): what the name holds, not
#: a value. A module's prefix, a subscript and a union with another type may go with it.
_TYPE = (
    r"(?:(?:typing|t|pydantic|builtins)\.)?"
    r"(?:str|int|bool|bytes|float|string|number|boolean|object|unknown|SecretStr|SecretBytes"
    r"|Optional|Union|Final|ClassVar|Annotated|list|dict|char|CharArray|ByteArray|\[\]byte)"
    r"(?:\[[\w., |\[\]]{0,128}\]|\?)?"
    r"(?:[ \t]{0,3}\|[ \t]{0,3}(?:[A-Za-z_][\w.]{0,64}(?:\[[\w., |\[\]]{0,128}\])?)){0,4}"
)
#: … as a whole value (a TypeScript field's `;` or an argument's `,` or `)` may end it).
_TYPE_VALUE = re.compile(rf"{_TYPE}[;,)]?", re.IGNORECASE)

#: A name for a code that logs in once or unlocks a card (`pin`, `otp`, `sms_otp`, `pin_code`),
#: and a value of such a code's shape: digits (in groups too, `482 913`), or letters and
#: digits mixed. `pin` also names a CPU pinning (`pin: 0-3`) and `otp` a feature (`otp:
#: disabled`): under these names, only a code's shape is a secret.
_CODE_NAME = re.compile(
    r"(?:\A|[^A-Za-z0-9]|(?-i:(?<=[a-z0-9])(?=[A-Z])))(?:pin|otp)(?:[_.-]?codes?)?\Z",
    re.IGNORECASE,
)
_CODE_SHAPE = re.compile(
    r"[0-9]{3,12}|[0-9]{2,8}(?:[ -][0-9]{2,8}){1,3}|(?=[A-Za-z]{0,31}[0-9])(?=[0-9]{0,31}[A-Za-z])"
    r"[A-Za-z0-9]{4,32}"
)


def _not_a_code(name: str, value: str) -> bool:
    """A `pin` or `otp` name (`_CODE_NAME`) whose value (its quotes aside) has no code's shape
    (`_CODE_SHAPE`): `pin: 3 cores`, `otp: disabled`."""
    return (
        _CODE_NAME.search(name) is not None and _CODE_SHAPE.fullmatch(value.strip("\\\"' ")) is None
    )


#: A bare `pepper` (no prefix before it: `PASSWORD_PEPPER`, `devise.pepper` say what it
#: seasons) also names a recipe's or a label's pepper (`pepper: 3 jalapeno`, `Pepper: red`).
#: Written in upper case it is an environment variable's name (`PEPPER=…`).
_BARE_PEPPER = re.compile(r"(?<![\w.-])pepper[\"' \t:=]*\Z", re.IGNORECASE)


def _plain_pepper(name: str, value: str) -> bool:
    """A bare `pepper` in lower or title case (`_BARE_PEPPER`; `name` with what stands before
    it) whose value has no secret's shape: one word, random-looking (`_random_looking`) or a
    key's (`_key_shaped`: a generated pepper's hex). A pepper is generated, as a `pass=`'s
    random value is: a word, a count or a phrase under the name is an ingredient."""
    found = _BARE_PEPPER.search(name)
    if found is None or found[0].startswith("PEPPER"):
        return False
    word = value.strip("\\\"' ")
    return not (word.split() == [word] and (_random_looking(word) or _key_shaped(word)))


#: A value that code passes on under a secret's name rather than holds: another variable
#: (`password=password`, `token=self.token`, `password=args.password`, `api_key=settings.api_key`,
#: `password=db_password`) or a call without arguments (`password = get_password()`). No
#: digits: a password is often a word with digits, a variable seldom.
_REFERENCE = re.compile(r"[A-Za-z_$][A-Za-z_$]{0,64}(?:\.[A-Za-z_$][A-Za-z_$]{0,64}){0,8}(\(\))?")


def _code_reference(name: str, value: str) -> bool:
    """Whether `value`, under the secret's name `name`, is code's reference to it (`_REFERENCE`):
    a call; a variable of the same name (any part of a dotted path); a dotted or snake-case
    path whose last part names a secret."""
    value = value[: _wrapper_start(value)]
    reference = _REFERENCE.fullmatch(value)
    if reference is None:
        return False
    if reference[1]:
        return True
    own = name.rsplit(".", 1)[-1].lower()
    parts = value.lower().split(".")
    if own in parts:
        return True
    return ("." in value or "_" in value) and secret_named(parts[-1])


#: Values that say what state a secret is in, not what it is (MySQL's "(using password: YES)",
#: "password: null", "token: expired"), as a pattern's alternatives.
_STATE_WORDS = (
    "YES|NO|null|nil|undefined|none|true|false|rotated|expired|required|changed|missing|invalid|empty|unset"
    "|hidden|masked|redacted|omitted|incorrect|wrong"
    # Whether it is there at all: a config report's `api_key: set`, `| api_key | set |`.
    "|set|not[ \t](?:set|provided|configured|found|required|available|present)"
    # A marker for no value, or for one shown elsewhere: `(empty)`, `(none)`, `N/A`,
    # `(hidden)`, `(masked)`.
    r"|\((?:empty|none|null|unset|set|not[ \t]set|hidden|masked|redacted|omitted)\)|N/A|n/a"
    # Ansible's markers where it hid a `no_log` value.
    "|VALUE_SPECIFIED_IN_NO_LOG_PARAMETER|NOT_LOGGING_PARAMETER"
)

#: A masked token: its prefix and asterisks (`gh auth status` prints its token as `gho_` and 36
#: of them): the prefix says which kind of token is in use, and nothing of the token.
_MASKED_TOKEN = r"[a-z]{2,12}(?:_pat)?[_-]\*{8,255}"
_STATE_VALUE = re.compile(rf"{_STATE_WORDS}|\*{{3,64}}|{_MASKED_TOKEN}", re.IGNORECASE)
_MASKED_TOKEN_VALUE = re.compile(_MASKED_TOKEN, re.IGNORECASE)
#: How a plural secret name ends (`passwords`, `DB_PASSWDS`, `passphrases`, `secrets`,
#: `max_tokens`, `api_keys`, `connection_strings`).
_PLURALS = (
    *("words", "wds", "phrases", "codes", "secrets", "signatures", "credentials", "creds"),
    *("tokens", "keys", "strings"),
)
#: A count of tokens as an LLM's usage states it: digits (`total_tokens=12345678`), thousands
#: grouped (`1,024`), or cut short with a unit (`12.5k`, `4M`). A plural name's other counts
#: have 6 digits at most (`passwords: 3 rotated`): more is a numeric secret's length.
_TOKEN_COUNT = re.compile(
    r"[0-9]{1,12}|[0-9]{1,3}(?:,[0-9]{3}){1,4}|[0-9]{1,6}(?:\.[0-9]{1,3})?[kKmM]"
)
#: The end of a name as a rule or a key holds it, after its last word: an index, quotes,
#: spaces, a separator (`tokens[3]`, `"tokens"`, `tokens: `).
_NAME_END = re.compile(r"(?:\[[^\[\]]{0,64}+\]|[\"' \t:=\\])+\Z")


def _counted_value(name: str, value: str | int) -> bool:
    """True for a plural name (`passwords`, `secrets`, `tokens[3]`) whose value is a count
    (up to 6 digits; a count of tokens, `_TOKEN_COUNT`), not a secret."""
    bare = name.lower()
    if not bare.endswith(_PLURALS):
        bare = _NAME_END.sub("", bare)
        if not bare.endswith(_PLURALS):
            return False
    tokens = bare.endswith("tokens")
    if isinstance(value, int):
        return 0 <= value < (10**12 if tokens else 1_000_000)
    if tokens:
        return _TOKEN_COUNT.fullmatch(value) is not None
    return len(value) <= 6 and value.isdigit()


def _counted(match: re.Match[str]) -> bool:
    """A plural name's count (`_counted_value`) as a text rule read it."""
    return _counted_value(match["name"], match["value"])


#: A collective name written alone (`credentials`, `creds`, `tokens`, `api keys`): its one
#: word is a credential, but it also heads a sentence in logs ("credentials: could not be
#: loaded", "tokens: prompt=1200 completion=300").
_COLLECTIVE_NAME = re.compile(r"(?:credentials?|creds|tokens|api[ _.-]?keys)", re.IGNORECASE)
#: What a sentence after one is: lower-case words (one alone too: "loaded"), or the next
#: pair, which the rules read by its own name.
_PROSE = re.compile(
    r"[a-z]{2,32}+(?:[ \t]{1,4}+[a-z][a-z'-]{0,31}+){0,64}+[.!,]?|[a-z][a-z_]{0,31}+[=:].{0,4096}",
    re.DOTALL,
)


def _collective_count(name: str, value: int | str) -> bool:
    """True for a collective name written alone (`_COLLECTIVE_NAME`: `credential` too) whose
    value is a count (6 digits at most): how many, as a kind's count in a log event
    (`{"credential": 1}`), or a status ("is a credential: 202"), as `_counted` keeps one
    under a plural name."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit() and len(value) <= 6):
            return False
        value = int(value)
    return (
        0 <= value < 1_000_000
        and _COLLECTIVE_NAME.fullmatch(name.strip(_KEY_AROUND + "\\")) is not None
    )


def _collective_prose(name: str, value: str) -> bool:
    """True for a collective name written alone (`_COLLECTIVE_NAME`) whose value is prose
    (`_PROSE`): a sentence or a lower-case word says something about the credentials, where
    a password has a capital, a digit or a symbol. (Under `db_credentials` or `secrets`, it
    is a password all the same.)"""
    return (
        _COLLECTIVE_NAME.fullmatch(name.strip(_KEY_AROUND + "\\")) is not None
        and _PROSE.fullmatch(value) is not None
    )


#: Names that say a secret only when the value has one's shape (`_shape_kept`): a bare `pass`
#: (also a test's result: `pass: 142`), a `session` (also a class or a shift:
#: `session: morning`), a bare `jwt` or `bearer` (also a setting: `jwt: enabled`), and
#: `kubeconfig` and `ssh_key` (most often a path: `~/.kube/config`). A bare `signature` or
#: `sig` keeps its value whatever it is: most often public (SNS's signature of its message, a
#: crash's), and a webhook's signature header is a secret's name of its own (`_LAST_PART`).
_SHAPED_NAME = re.compile(
    r"(?:\A(?:pass|jwt|bearer)"
    r"|(?:\A|[^A-Za-z0-9]|(?-i:(?<=[a-z0-9])(?=S)))session"
    r"|(?:\A|[_.-])(?:kube[_.-]?config|ssh[_.-]?key))\Z",
    re.IGNORECASE,
)
#: How those names end, for a cheap test before the pattern's.
_SHAPED_ENDS = ("pass", "jwt", "bearer", "session", "config", "key")
#: A path, which a `kubeconfig` or an `ssh_key` names most often: absolute, from home, relative
#: to here, a Windows drive's.
_PATH_START = re.compile(r"[/~]|\.{1,2}[/\\]|[A-Za-z]:[/\\]")


#: The session cookies a framework names (PHP's, a Java servlet's, Express's, Laravel's,
#: GitHub's, ASP.NET's forms login, ColdFusion's), as a pattern's alternatives: `web` reads
#: them as `name=value` and as a JSON member, `shape_named_value` as a JSON key.
SESSION_COOKIE_NAMES = (
    r"PHPSESSID|JSESSIONID|connect\.sid|laravel_session|_gh_sess|\.ASPXAUTH|CFTOKEN"
)
_SESSION_COOKIE_NAME = re.compile(SESSION_COOKIE_NAMES, re.IGNORECASE)
#: Such a cookie's value: a login whatever its length from 8 characters with a digit (a
#: custom id, or one a log cut short); `deleted`, the word a cookie is deleted with, stays.
SESSION_COOKIE_VALUE = r"""(?=[^\s;,&"'<>\\]{0,4095}?[0-9])[^\s;,&"'<>\\]{8,4096}+"""
_SESSION_COOKIE_VALUE = re.compile(SESSION_COOKIE_VALUE)


#: An Azure resource's access key: 32 hex (Cognitive Services'), 84 letters and digits (its
#: newer keys), or base64 of 32 or 64 bytes (Service Bus', a storage account's), or a run of
#: base64 as long holding a digit.
AZURE_KEY = (
    r"(?:[0-9a-fA-F]{32}|[A-Za-z0-9]{84}|[A-Za-z0-9+/]{43}=|[A-Za-z0-9+/]{86}=="
    r"|(?=[A-Za-z0-9+/]{0,127}[0-9])[A-Za-z0-9+/]{32,128}+={0,2})(?![A-Za-z0-9+/=_-])"
)
#: A bare `key1` or `key2` (Cognitive Services' `keys list`), which names a key only when its
#: value has an Azure key's shape (`AZURE_KEY`): `key1: region` is a map's first key.
_NUMBERED_KEY_NAME = re.compile(r"(?:\A|[^A-Za-z0-9])key[12]\Z", re.IGNORECASE)
_AZURE_KEY_VALUE = re.compile(AZURE_KEY)


def shape_named_value(name: str, value: object) -> bool:
    """True for a value under a name of `_SHAPED_NAME` that has a secret's shape: one word;
    under `session`, a session id's (`logins._session_shaped`); under a framework's session
    cookie (`PHPSESSID`, `connect.sid`: a browser's cookie jar as JSON), 8 characters with a
    digit (`_SESSION_COOKIE_VALUE`); under the others, six characters or more, upper and lower
    case and digits, no path (`_random_looking`: `pass: 142`, `jwt: RS256`, `ssh_key:
    ~/.ssh/id_rsa` stay); under a bare `encrypt`, a key's (`_encrypt_setting`: `encrypt:
    true` stays); under a bare `key1` or `key2`, an Azure key's (`AZURE_KEY`). These names are
    no `secret_named`: a rule that asks only the name
    (a table's column, PHP's var_dump) keeps their values."""
    if not isinstance(value, str) or value.split() != [value] or value.startswith("[REDACTED"):
        return False
    bare = name.strip(_KEY_AROUND)
    if _SESSION_COOKIE_NAME.fullmatch(bare) is not None:
        return _SESSION_COOKIE_VALUE.fullmatch(value) is not None
    if bare.lower().endswith("encrypt") and _ENCRYPT_NAME.search(bare) is not None:
        return not _encrypt_setting(bare, value)
    if bare[-4:-1].lower() == "key" and _NUMBERED_KEY_NAME.search(bare) is not None:
        return _AZURE_KEY_VALUE.fullmatch(value) is not None
    if not bare.lower().endswith(_SHAPED_ENDS) or _SHAPED_NAME.search(bare) is None:
        return False
    if bare.lower().endswith("session"):
        return _session_shaped(value)
    return len(value) >= 6 and _random_looking(value) and _PATH_START.match(value) is None


#: An `auth` name (no `key` or `token` after it) says how a client logs in as often as with
#: what: a method's name is no secret (`ssh_auth: publickey`, `mongo.auth=scram-sha-256`,
#: `basic_auth: disabled`). A whole value; a person's password that is one of these words is
#: one a scanner finds first.
_AUTH_NAME = re.compile(r"(?:\A|[^A-Za-z])auth\Z|(?-i:[a-z0-9]Auth\Z)", re.IGNORECASE)
_AUTH_METHOD = re.compile(
    r"none|basic|bearer|digest|ntlm|negotiate|kerberos|gssapi|ldap|saml|oauth2?|oidc|sso|sasl"
    r"|plain|scram(?:-sha-(?:1|256|512))?|md5|trust|peer|ident|password|publickey|keyboard-"
    r"interactive|token|jwt|iam|mtls|tls|cert(?:ificate)?|api[_-]?key|hmac|sigv4|anonymous"
    r"|enabled|disabled|on|off|optional|[01]",
    re.IGNORECASE,
)


#: The name of a key a vendor issues: PagerDuty's routing, service and integration keys, New
#: Relic's license and insert keys, Datadog's application key, LaunchDarkly's SDK key, Azure's
#: subscription and functions keys. The vendor generates each (32 hex, letters and digits, a
#: prefix and a uuid), so a plain word under such a name is no key but what the name also
#: says: a message broker's routing key (RabbitMQ's `orders`, `orders.created`, a topic
#: exchange's `logs.*.error`), a service's or an app's name (`service_key: payments`). Keys a
#: person may choose are not among them (Meilisearch's master key, WordPress's AUTH_KEY
#: phrase, an API key, a signing or encryption passphrase): a word under those goes.
_ISSUED_KEY_NAME = re.compile(
    r"(?:routing|service|integration|license|insert|app(?:lication)?|sdk|subscription"
    r"|functions"
    # … and keys a program generates, whose value is a key file's content or random bytes,
    # never a word: a deploy key's (`deploy_key=github-actions-deploy` names one), a TLS or
    # SSH client's, Vault's unseal and recovery keys, a cipher's.
    r"|deploy|tls|ssl|client|priv|unseal|recovery|aes|enc"
    # … and an alerting vendor's key (`VICTOROPS_KEY`, `OPSGENIE_KEY`): the vendor issues it.
    rf"|{'|'.join(_ALERTING_VENDORS)}|opsgenie|genie|squadcast)[ _.-]?key[\"' \t]*\Z",
    re.IGNORECASE,
)
#: A thing's name or a topic: a word (letters, `_`, `-`; no digit, which a key cut short
#: holds), or dotted words.
_TOPIC = re.compile(
    r"[A-Za-z_*#-]{1,64}+|[A-Za-z0-9_*#-]{1,64}+(?:\.[A-Za-z0-9_*#-]{1,64}+){1,16}+"
)


def _named_thing(name: str, value: str) -> bool:
    """True for the name of a key a vendor issues (`_ISSUED_KEY_NAME`) whose value names a
    thing or a topic (`_TOPIC`: words, no digit in a single one) and is no key
    (`_key_shaped`)."""
    return (
        _ISSUED_KEY_NAME.search(name) is not None
        and _TOPIC.fullmatch(value) is not None
        and not _key_shaped(value)
    )


#: A key's name: its last word `key` (`private_key`, `--signing-key`, `sshKey`), or an SSH key
#: file's (`id_rsa`, `id_ed25519`); or a collective name for credentials (`creds`,
#: `db_credentials`, GOOGLE_APPLICATION_CREDENTIALS), whose value is often their file's place.
_KEY_NAME = re.compile(
    r"(?:key|id[_.-](?:rsa|dsa|ecdsa|ed25519)|creds?|credentials?)[\"' \t=]*\Z", re.IGNORECASE
)
#: A URL whose scheme names a store of files (the local file system, an object store, a
#: distributed file system), with no user info: a host (a bucket, a container) and its port
#: at most, then a path. A password in it (`s3://id:secret@bucket`) is the URL rule's to take.
_STORE_URL = re.compile(
    r"(?:file|s3[an]?|gs|gcs|r2|b2|oss|cos|obs|az|abfss?|wasbs?|adls?|hdfs|webhdfs|swift|minio)"
    r"://(?P<host>[\w.-]{0,255}+)(?::[0-9]{1,5})?(?P<path>(?:/[\w.@+-]{1,255}+){0,32}+/?)",
    re.IGNORECASE,
)


def _key_file(name: str, value: str) -> bool:
    """True for a key's or credentials' name (`_KEY_NAME`) whose value is their file's place:
    a path (`_file_path`) or a store's URL (`_stored_at`). Where the key is, not the key."""
    return _KEY_NAME.search(name) is not None and (_file_path(value) or _stored_at(value))


def _stored_at(value: str) -> bool:
    """Whether `value` is a file's URL in a store (`_STORE_URL`) whose host and path hold
    words, not a key's pieces (`_file_path`'s test: `s3://bucket/<40 random characters>` may
    be a secret written after a scheme)."""
    url = _STORE_URL.fullmatch(value)
    if url is None:
        return False
    place = f"/{url['host']}{url['path']}".rstrip("/")
    return place == "" or _file_path(place)


#: A `secret_id` or AWS's `SecretId` (`--secret-id`) …
_SECRET_ID_NAME = re.compile(r"secret[_.-]?id[\"' \t=]*\Z", re.IGNORECASE)
#: … whose value says where a secret is, not what it is: Secrets Manager's ARN, a secret's
#: path (`prod/orders/db`), or a name of words without a digit (`OrdersDatabase`). Vault's
#: AppRole secret_id, a uuid, and a random value go.
_SECRET_ADDRESS = re.compile(
    r"arn:aws[\w-]{0,16}:secretsmanager:[\w:/+=,.@-]{1,512}+"
    r"|[\w+=,.@-]{0,256}+/[\w/+=,.@-]{1,512}+|[A-Za-z_-]{1,128}+"
)


def _secret_reference(name: str, value: str) -> bool:
    """True for a `secret_id` name (`_SECRET_ID_NAME`) whose value is a secret's address in
    Secrets Manager (`_SECRET_ADDRESS`), not the secret."""
    return _SECRET_ID_NAME.search(name) is not None and _SECRET_ADDRESS.fullmatch(value) is not None


#: A Java keystore's password name (keytool's `-storepass`, `-keypass`) …
_KEYSTORE_PASS_NAME = re.compile(r"(?:store|key)[_.-]?pass(?:word)?[\"' \t=]*\Z", re.IGNORECASE)


#: … and its values that are no password: the JDK's documented default for its `cacerts`
#: (public knowledge, which a log quoting keytool shows), and keytool's `-storepass:env VAR`
#: and `-storepass:file PATH`, which say where the password is read from.
_KEYSTORE_KEPT = frozenset({"changeit", "env", "file"})


def _keystore_default(name: str, value: str) -> bool:
    """True for a keystore's password name whose value is no password (`_KEYSTORE_KEPT`)."""
    return value in _KEYSTORE_KEPT and _KEYSTORE_PASS_NAME.search(name) is not None


#: A name saying its key is public (`PublicKey`, `public_key`, `VAPID_PUBLIC_KEY`, `pubkey`,
#: `publicSigningKey`): a peer's, a signer's or a subscriber's key, no secret.
_PUBLIC_NAME = re.compile(
    r"(?:public|(?<![A-Za-z])pub|(?-i:(?<=[a-z0-9])Pub))"
    r"(?:[_.-][A-Za-z0-9]{1,16}?|(?-i:[A-Z][a-z0-9]{0,15}))?[_.-]?keys?"
    r"(?:[_.-]?(?:pem|der|b64|base64|data|hex|value|token))?[\"' \t=:]*\Z",
    re.IGNORECASE,
)


#: A name saying its token is a request's idempotency id (CloudFormation's
#: `ClientRequestToken`, `IdempotencyToken`): the caller makes it up so that a retry is not
#: done twice, and it names the request (`Console-CreateStack-<uuid>`), granting nothing.
_REQUEST_TOKEN_NAME = re.compile(
    r"(?:client[_.-]?request|idempotency)[_.-]?token[\"' \t=:]*\Z", re.IGNORECASE
)


def public_named(name: str) -> bool:
    """True if `name` says its value is a public key (`_PUBLIC_NAME`) or a request's
    idempotency token (`_REQUEST_TOKEN_NAME`): no rule reads a secret by such a name,
    whatever its last word (`key`, `token`) says."""
    lowered = name.lower()
    if "pub" in lowered and _PUBLIC_NAME.search(name) is not None:
        return True
    return "token" in lowered and _REQUEST_TOKEN_NAME.search(name) is not None


#: A bare `encrypt` (no other word before it: `-encrypt`, `"encrypt"`, `agent.encrypt`), which
#: names Consul's and Nomad's gossip key and, as often, a switch (`encrypt: true`, `encrypt =
#: "aes256"`).
_ENCRYPT_NAME = re.compile(
    r"(?:\A|[^A-Za-z0-9]|(?-i:(?<=[a-z0-9])(?=E)))encrypt[\"' \t=:]*\Z", re.IGNORECASE
)


def _encrypt_setting(name: str, value: str) -> bool:
    """True for a bare `encrypt` (`_ENCRYPT_NAME`) whose value is a setting, not a key: a word
    or a number, neither random-looking nor key-shaped (a gossip key is 32 bytes in base64:
    `_key_shaped`)."""
    return (
        _ENCRYPT_NAME.search(name) is not None
        and not _random_looking(value)
        and not _key_shaped(value)
    )


#: A name whose value names a Kubernetes Secret, not a secret's value: Helm's values
#: (`existingSecret`, `auth.existingSecretPasswordKey`, `imagePullSecret`, `imagePullSecrets`),
#: each with a word or two after it that says which of the Secret's parts it names
#: (`existingSecretName`, `existing_secret_key`).
_SECRET_OBJECT_NAME = re.compile(
    r"(?:(?<![A-Za-z0-9])existing|(?<![A-Za-z0-9])image[_.-]?pull|(?-i:(?<=[a-z0-9])Existing)"
    r"|(?-i:(?<=[a-z0-9])ImagePull))[_.-]?secrets?(?:[_.-]?[A-Za-z]{1,24}+){0,3}"
    r"[\"' \t=:]*\Z",
    re.IGNORECASE,
)


def secret_object_named(name: str) -> bool:
    """True for a name whose value names a Kubernetes Secret (`_SECRET_OBJECT_NAME`:
    `imagePullSecrets`, `existingSecret`): its children name Secrets too, none is a secret."""
    return _SECRET_OBJECT_NAME.search(name) is not None


#: … and a name for the key in such a Secret that holds a password or a user (Grafana's
#: `admin.passwordKey`, Bitnami's `secretKeys.adminPasswordKey`): its value is that key's
#: name when it is words that say so (`admin-password`, `redis-password`, `password`).
_PASSWORD_KEY_NAME = re.compile(
    r"(?:pass(?:word|wd)?|pwd|user(?:name)?)[_.-]?key[\"' \t=:]*\Z", re.IGNORECASE
)
_PASSWORD_KEY_VALUE = re.compile(
    r"(?:[a-z0-9]{1,32}+[_.-])*(?:pass(?:word|wd)?|pwd|user(?:name)?)(?:[_.-][a-z0-9]{1,32}+)*"
)
#: A Kubernetes object's name (a DNS subdomain: lower case, digits, `-`, `.`) or a key of a
#: Secret's data (also `_`, upper case).
_OBJECT_NAME = re.compile(r"[A-Za-z0-9](?:[\w.-]{0,251}[A-Za-z0-9])?")
#: What a list of names is written with around its names: brackets, braces, quotes, and the
#: `name:` of Kubernetes' `{"name": "regcred"}` (`imagePullSecrets: [regcred, ghcr]`, JSON's
#: `[{"name": "regcred"}]`; the closing bracket left out by a rule that reads a list's items
#: from its `[`).
_LIST_PUNCTUATION = re.compile(r"""[\[\]{}"']""")
_NAME_FIELD = re.compile(r"(?<![\w-])name[ \t]{0,8}:")
_LIST_SEPARATOR = re.compile(r"[ \t]{0,8}(?:,|\A|\Z)[ \t]{0,8}")


#: A bare `secret` (no word glued before it: not `client_secret`), as Kubernetes' events and
#: `kubectl describe` name the Secret a pod mounts (`Secret: db-password`) …
_BARE_SECRET_NAME = re.compile(r"(?<![\w.-])secret[\"' \t=:]*\Z", re.IGNORECASE)
#: … and a Secret's name there: lower-case words joined by `-`, no digit (a password is often
#: words with a digit), whose last word names a secret (`db-password`, `orders-api-token`).
_SECRET_OBJECT_WORDS = re.compile(r"[a-z]{1,32}+(?:-[a-z]{1,32}+){1,7}+")


def _named_secret_object(name: str, value: str) -> bool:
    """True for a bare `secret` name (`_BARE_SECRET_NAME`) whose value names a Secret
    (`_SECRET_OBJECT_WORDS`, its last word a secret's name): the operator needs the name to
    find the Secret a pod could not mount; `correct-horse-battery-staple` names none."""
    return (
        _BARE_SECRET_NAME.search(name) is not None
        and _SECRET_OBJECT_WORDS.fullmatch(value) is not None
        and secret_named(value.rsplit("-", 1)[-1])
    )


def _secret_object(name: str, value: str) -> bool:
    """True for a name of a Kubernetes Secret or of a key in one (`_SECRET_OBJECT_NAME`,
    `_PASSWORD_KEY_NAME`, a bare `secret`: `_named_secret_object`) whose value is such a name
    (`_OBJECT_NAME`, not random-looking; a list of them under a Secret's name,
    `_LIST_PUNCTUATION`; a password key's naming a password or a user): where the secret is,
    public in a chart's values, which the reader needs when the Secret is missing."""
    if _named_secret_object(name, value):
        return True
    if _SECRET_OBJECT_NAME.search(name) is not None:
        bare = _NAME_FIELD.sub("", _LIST_PUNCTUATION.sub("", value))
        names = [item for item in _LIST_SEPARATOR.split(bare) if item]
        return bool(names) and all(
            _OBJECT_NAME.fullmatch(item) is not None and not _random_looking(item) for item in names
        )
    if _OBJECT_NAME.fullmatch(value) is None or _random_looking(value):
        return False
    return (
        _PASSWORD_KEY_NAME.search(name) is not None
        and _PASSWORD_KEY_VALUE.fullmatch(value) is not None
    )


#: A session's id by name (`session_id`, `sessionId`, `sessid`) …
_SESSION_ID_NAME = re.compile(r"sess(?:ion[ _.-]?)?id[\"' \t=:]*\Z", re.IGNORECASE)
#: … and one that is a small number: a counter's handle (a database backend's, a game
#: server's), not a bearer token, which is long enough not to be guessed.
_SESSION_NUMBER = re.compile(r"[0-9]{1,10}")


def _numeric_session(name: str, value: str) -> bool:
    """True for a session id's name (`_SESSION_ID_NAME`) whose value is a number of ten digits
    at most (`_SESSION_NUMBER`; a sentence's or a list's `;`, `,` or `.` after it): one a
    reader looks the session up by."""
    return (
        _SESSION_NUMBER.fullmatch(value.rstrip(";,.")) is not None
        and _SESSION_ID_NAME.search(name) is not None
    )


def _auth_method(name: str, value: str) -> bool:
    """True for an `auth` name whose value names a login method, not a credential
    (`_AUTH_METHOD`)."""
    return _AUTH_NAME.search(name) is not None and _AUTH_METHOD.fullmatch(value) is not None


def _name_with_prefix(match: re.Match[str]) -> str:
    """A rule's name with up to 24 characters before it: the name holds a name's last part
    only (`pass` of `storepass`, `signing_key` of `public_signing_key`)."""
    start = match.start("name")
    return match.string[max(0, start - 24) : match.end("name")]


#: A value's line to its end or its closing quote (escaped or not).
_REST_OF_VALUE = re.compile(r"""(?:[^\r\n"'\\]|\\[^nr"'])*+""")


def _connection_string_rest(match: re.Match[str]) -> bool:
    """Whether a pair's value is the start of a connection string whose passwords a rule took
    already (`connection_string_redacted`): the pair rules end a value at its `;`, and the
    string runs on to its line's end or its closing quote. Read no further than the longest
    connection string that starts there (`_CONNECTION_STRING`, 69 KB at most, and nothing
    where no `key=value;` starts): a rest longer cannot be one, and a line of 8,000 pairs
    read each to the line's end took seconds."""
    start = match.start("value")
    text = match.string
    if text[start : start + 1] in ("'", '"'):
        start += 1
    shaped = _CONNECTION_STRING.match(text, start)
    if shaped is None:
        return False
    # Two past its end: a rest longer than `shaped` (an escape's backslash at its end read
    # with the character after it) fails the string's full match, as the whole rest would.
    rest = _REST_OF_VALUE.match(text, start, shaped.end() + 2)
    return rest is not None and connection_string_redacted(rest[0])


def _kept_match(match: re.Match[str]) -> bool:
    """A text rule's name and value that name no secret after all: a bare `PWD`'s path
    (`_working_directory`), a plural name's count (`_counted`), an `auth` name's login
    method (`_auth_method`, the value's quotes aside), a `pin` that is no code
    (`_not_a_code`), a bare `pepper` that is an ingredient (`_plain_pepper`); in code, an
    unquoted type (`token: str`) or a reference to another variable or a call
    (`_code_reference`); a masked token (`gho_****…`, `_MASKED_TOKEN`)."""
    value = match["value"].strip("\\\"'")
    return (
        _connection_string_rest(match)
        or _working_directory(match)
        or _counted(match)
        or _collective_prose(match["name"], value)
        or _collective_count(match["name"], value)
        or _auth_method(match["name"], value)
        or _not_a_code(match["name"], value)
        or _plain_pepper(_name_with_prefix(match), value)
        or _named_thing(_name_with_prefix(match), value)
        or _key_file(match["name"], value)
        or _secret_reference(match["name"], value)
        or _keystore_default(_name_with_prefix(match), value)
        or public_named(_name_with_prefix(match))
        or _encrypt_setting(match["name"], value)
        or _secret_object(_name_with_prefix(match), value)
        or _numeric_session(match["name"], value)
        or _passwd_report(match["name"], value)
        or (_TYPE_VALUE.fullmatch(value) is not None and value == match["value"])
        or _code_reference(match["name"], match["value"])
        or _described_size(match)
        or _MASKED_TOKEN_VALUE.fullmatch(value) is not None
    )


#: What follows a key's size where `kubectl describe secret` prints it: the unit, then the
#: line's end (raw, or escaped inside a JSON string).
_SIZE_UNIT = re.compile(r"[ \t]bytes[ \t]{0,64}+(?:\r?\n|\\[nr]|[\"]|\Z)")


def _described_size(match: re.Match[str]) -> bool:
    """`kubectl describe secret`'s size in a key's place (`password:  10 bytes`): the value is
    a number and the unit ends its line; it says how long the secret is, not what."""
    value = match["value"]
    return (
        value.isdigit()
        and len(value) <= 12
        and _SIZE_UNIT.match(match.string, match.end("value")) is not None
    )


#: A key that ends in a secret's name (compiled on first use: `_LazyPattern`).
_SECRET_KEY = _LazyPattern(rf"{_SECRET_NAME}\Z", re.IGNORECASE)
_SECRET_KEY_WORDS = (
    *("pass", "pw", "secret", "token", "key", "pat"),
    *("signature", "conn", "auth", "credential", "cred", "dsn", "mnemonic", "psk"),
    *("idrsa", "iddsa", "idecdsa", "ided25519"),
    *("otp", "pin", "seed", "sessionid", "sessid", "salt", "mfacode", "2facode"),
    *("recoverycode", "backupcode", "verificationcode", "authcode", "securitycode"),
    *("accesscode", "kek", "dek", "pepper", "phrase", "artapi", "keycontent", "encrypt"),
    *FOREIGN_KEY_WORDS,
)
#: Any of `_SECRET_KEY_WORDS`: one search in C for them all (most keys hold none).
_ANY_SECRET_KEY_WORD = re.compile(
    "|".join(sorted(map(re.escape, _SECRET_KEY_WORDS), key=len, reverse=True))
)


#: The fields of a name/value object: the name's, and the value's. Kubernetes' and ECS's env
#: and HAR's headers (name, value), AWS tags (Key, Value), SSM (Name, Value), CloudFormation's
#: parameters (ParameterKey, ParameterValue), Elastic Beanstalk's options (OptionName, Value),
#: EC2's filters (Name, Values), a request's headers and a validator's fields as objects, a
#: JSON Patch's operation (path, value: Kubernetes' audit log).
_NAME_KEYS = (
    *("name", "key", "Name", "Key", "ParameterKey", "OptionName", "header", "field", "path"),
)
_VALUE_KEYS = frozenset({"value", "Value", "ParameterValue", "values", "Values"})


def _object_name(obj: Mapping[Any, Any]) -> str | None:
    """The name of a name/value object (one of `_VALUE_KEYS` beside one of `_NAME_KEYS`), else
    None. An object of Azure's listKeys names a key by "keyName" (key1, kerb1): its value is
    the key, an `AccountKey`."""
    if _VALUE_KEYS.isdisjoint(obj):
        return None
    if isinstance(obj.get("keyName"), str):
        return "AccountKey"
    for field in _NAME_KEYS:
        name = obj.get(field)
        if isinstance(name, str):
            return name
    return None


def _named_secret(obj: Mapping[Any, Any]) -> str | None:
    """The name of a name/value object whose name says its value is a secret, else None."""
    name = _object_name(obj)
    return name if name is not None and secret_named(name) else None


#: A credential-carrying header's name as the last part of a longer key: CGI's, Rack's and
#: PHP's `HTTP_COOKIE` / `HTTP_AUTHORIZATION` (error trackers send the request's environment),
#: OpenTelemetry's `http.request.header.cookie`, a proxy's `X-Forwarded-Authorization`.
_HEADER_SECRET = re.compile(
    r"[_.-](?:set[_-]?)?cookies?\Z|[_.-](?:proxy[_-]?)?authorization\Z", re.I
)
#: What may follow a name without changing what it names: an index (a flattened list's
#: `cookie.0`; `x_api_key[0]` once `_BRACKETED` has read it), a digest or a version
#: (`X-Hub-Signature-256`, `token_v2`).
#: (`_SECRET_NAME` reads one such suffix, or an encoding's, after a secret's word itself.)
_NAME_SUFFIX = re.compile(r"(?:[_.-](?:v|sha)?[0-9]{1,6})+\Z", re.I)
#: Around a key, what names it without being its name: spaces, a colon or `=` a label kept,
#: quotes.
_KEY_AROUND = " \t:=\"'"
#: A bracketed part of a key: a form's nested name (Rails' and PHP's `user[password]`) or an
#: index (`cookie[0]`), read as a part after a separator.
_BRACKETED = re.compile(r"\[([^\[\]]{0,64}+)\]")


def _undisguised(key: str) -> str:
    """`key` as a reader sees it: without invisible characters (a zero-width space, a soft
    hyphen), its HTML references, escapes, full-width and look-alike letters and Unicode
    dashes undone (`_unmasked`)."""
    return _unmasked(_visible(key))


#: A key's camel-case last word that names a secret only after another (basicAuth,
#: awsCredentials, sentryDsn); text's rules read these words after a separator only, where
#: their needles are cheap to look for.
_CAMEL_TAIL = re.compile(r"[a-z0-9](?:Auth|Credentials?|Dsn|DSN)\Z")


#: Names up to this many characters are remembered with their answer (`secret_named`), this
#: many of them at most: an alert's keys repeat from alert to alert (~2 MB at most).
_REMEMBERED_NAME_CHARS = 256
_REMEMBERED_NAMES = 8192


#: Past `_REMEMBERED_NAME_CHARS` only a name's end decides (every test `_secret_named` runs on
#: such a name is anchored at its end, or is a gate for one), so a name longer than this is
#: judged by its last this many characters: a field name of a megabyte (a form or query sent
#: to the gateway) costs what one of a kilobyte does, not a second of CPU.
_JUDGED_NAME_CHARS = 1024


def secret_named(key: str) -> bool:
    """`_secret_named`, remembered for a short name, and of a long one's end."""
    if len(key) > _REMEMBERED_NAME_CHARS:
        return _secret_named(key[-_JUDGED_NAME_CHARS:])
    return _remembered_secret_named(key)


def _secret_named(key: str) -> bool:
    """True if `key` (a JSON key, a label name) says its value is a secret: `password`,
    `DB_PASSWORD`, `x-api-key`, `clientSecret`, `HTTP_COOKIE` …, whatever its value looks
    like. The last word decides, in any case and with any separators, after any prefix
    (`HTTP_`, `http.request.header.`) and before an index or a digest (`_NAME_SUFFIX`); a
    space between words is a separator too (`Session Key`), and a bracketed part is a part
    (`user[password]`, `_BRACKETED`); a disguised key is read undisguised (`_undisguised`):
    `token_count` is a count, `cookie_consent` a consent."""
    if not key.isascii() or "&" in key or "\\" in key:
        key = _undisguised(key)
    if public_named(key):
        return False
    bare = key.strip(_KEY_AROUND).replace(" ", "_") or key
    # A bare `encrypt` is a secret's name only by its value's shape (`shape_named_value`): as
    # a key it heads a section of settings as often (Spring Cloud Config's `encrypt:`).
    if bare[-7:].lower() == "encrypt" and _ENCRYPT_NAME.search(bare) is not None:
        return False
    if bare[-1:] == "]":
        bare = _BRACKETED.sub(r".\1", bare)
    if bare[-1:].isdigit():
        bare = _NAME_SUFFIX.sub("", bare) or bare
    folded = bare.lower().replace("-", "").replace("_", "")
    if folded in SECRET_KEYS:
        return True
    if folded.endswith(("cookie", "cookies", "authorization")) and _HEADER_SECRET.search(bare):
        return True
    # Most keys hold none of the words (a camel-case tail holds one too: basicAuth's auth); the
    # test for them is cheaper than the patterns' searches. A key in another script is
    # searched whole (пароль, 密码).
    if folded.isascii() and _ANY_SECRET_KEY_WORD.search(folded) is None:
        return False
    if _CAMEL_TAIL.search(bare):
        return True
    return len(key) <= 256 and _SECRET_KEY.search(bare) is not None


#: The end of a name that is a placeholder the redactor wrote (`bot [REDACTED:token]`,
#: `hmacKey=[REDACTED:password]`), a quote or spaces after it.
_PLACEHOLDER_END = re.compile(r"\[REDACTED:[\w-]{1,32}+\][\"'` \t]{0,8}+\Z")
#: … and the start of one, before a place in a text (`[REDACTED:` or `[REDACTED:api-`).
_PLACEHOLDER_START = re.compile(r"\[REDACTED:[\w-]{0,32}+\Z")


_remembered_secret_named = functools.lru_cache(maxsize=_REMEMBERED_NAMES)(_secret_named)


def placeholder_named(name: str) -> bool:
    """True if `name`, read by a rule before a value (a table's cell, a name/value object's
    name), ends in a placeholder: the redactor's own output, whose kind (`password`, `token`)
    is no name. Asked before `secret_named`, which would read that kind as the name's last
    word: a placeholder a later rule wrote (a pair's value, a base64 run's) would otherwise
    name the value after it on a second pass, which the first pass left."""
    return "[REDACTED:" in name and _PLACEHOLDER_END.search(name) is not None


def inside_placeholder(text: str, at: int) -> bool:
    """True if `text[at:]` starts inside a placeholder's kind (`password` in
    `[REDACTED:password]`): a word a rule finds there is no name (`placeholder_named`)."""
    return _PLACEHOLDER_START.search(text, max(0, at - 44), at) is not None
