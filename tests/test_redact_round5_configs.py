"""Redaction of secrets in device and daemon configs (red team 285, part C), each as a class
with its siblings: a network device's passwords and keys (IOS, Junos, FortiOS, net-snmp); a
value after a name and a space longer than 128 characters; Terraform's new value after a
`(sensitive value)`. Each is blanked, the words around it stay, a second pass changes
nothing, and the config words beside them that hold no secret stay whole.
"""

from __future__ import annotations

import base64

from case_chunks import assert_each
from triage.redact import Redactor

PW = "Qz8vN3kW5yHb2Lp"
TYPE7 = "0822455D0A165B1E1F0B1E2A3F3B"

#: A text, the secret it holds, and words of it that must stay.
Case = tuple[str, str, tuple[str, ...]]


def _redacted(text: str) -> str:
    """One pass of a fresh redactor (no memo of short texts shared between cases)."""
    return Redactor().text(text)


def _blanked(case: Case) -> tuple[object, object]:
    """For `assert_each`: whether the secret is left, which kept words are gone, and whether a
    second pass changes the text."""
    text, secret, kept = case
    out = _redacted(text)
    again = _redacted(out)
    gone = [word for word in kept if word not in out]
    return (secret in out, gone, again == out, out), (False, [], True, out)


def _unchanged(text: str) -> tuple[str, str]:
    return _redacted(text), text


# --- 1. network devices --------------------------------------------------------------------------

DEVICES: list[Case] = [
    (f"username admin privilege 15 password 0 {PW}", PW, ("username admin privilege 15",)),
    (f"+username ops secret 0 {PW}", PW, ("+username ops secret 0",)),
    (f"line vty 0 4\n password 7 {TYPE7}", TYPE7, ("line vty 0 4", "password 7")),
    (f"username admin password 6 {PW}KTXKbUFB", PW, ("password 6",)),
    (f"tacacs server T1\n address ipv4 10.0.0.1\n key 7 {TYPE7}", TYPE7, ("address ipv4",)),
    (f"radius-server key {PW}", PW, ("radius-server key",)),
    (f"crypto isakmp key 0 {PW} address 10.0.0.1", PW, ("address 10.0.0.1",)),
    (f"crypto keyring K\n  pre-shared-key address 10.0.0.1 key {PW}", PW, ("10.0.0.1",)),
    (f"  pre-shared-key remote {PW}", PW, ("pre-shared-key remote",)),
    (f" wpa-psk ascii 0 {PW}", PW, ("wpa-psk ascii 0",)),
    (f" ip ospf message-digest-key 2 md5 7 {TYPE7}", TYPE7, ("message-digest-key 2 md5",)),
    (f"ntp authentication-key 42 md5 {PW} 7", PW, ("ntp authentication-key 42 md5",)),
    (f'createUser bob SHA "{PW}" AES "{PW}x"', PW, ("createUser bob SHA",)),
    (f"snmp-server user mon grp v3 auth sha256 {PW} priv aes 256 {PW}x", PW, ("grp v3",)),
    (
        'set security ike policy p pre-shared-key ascii-text "$9$Hk5FCtu0IcrvLxNdsYGUjHm"',
        "Hk5FCtu0IcrvLxNdsYGUjHm",
        ("ike policy p",),
    ),
    (
        'set system radius-server 10.0.0.5 secret "$9$Hk5FCtu0IcrvLxNdsYGUjHm"',
        "Hk5FCtu0IcrvLxNdsYGUjHm",
        ("radius-server 10.0.0.5",),
    ),
    (f"    set passwd ENC {PW}", PW, ("set passwd ENC",)),
    (f"radius server R1\n address ipv4 10.0.0.1\n key {PW}", PW, ("address ipv4 10.0.0.1",)),
    (f"key config-key password-encrypt {PW}", PW, ("password-encrypt",)),
    (f" vrrp 1 authentication text {PW}", PW, ("vrrp 1 authentication text",)),
    (f"password manager user-name admin plaintext {PW}", PW, ("user-name admin plaintext",)),
    (f" local-user admin password simple {PW}", PW, ("local-user admin password simple",)),
    (f" local-user admin password cipher %^%#{PW}%^%#", PW, ("password cipher",)),
    # One-way hashes are blanked as a hash is elsewhere: crackable offline.
    ("enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7q", "X.HsgL6x1il0", ()),
    ("username a secret 8 $8$dsYGNam3K1SIJO$7nv/35M/qr6t.dVc7UY9zr", "7nv/35M/qr6t", ()),
]


def test_a_devices_password_or_key_is_blanked() -> None:
    """An IOS password or secret after its type digit, a TACACS+/RADIUS, OSPF, NTP, IKE or WLAN
    key, an SNMPv3 user's passphrases, Junos' `$9$` and FortiOS' `ENC` value are blanked."""
    assert_each(DEVICES, _blanked)


def test_a_devices_one_way_hash_is_named_a_hash() -> None:
    """IOS's type 8 and 9 secrets (PBKDF2, scrypt) read as password hashes, not passwords."""
    out = _redacted("enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQY")
    assert out == "enable secret 9 [REDACTED:password-hash]"


DEVICE_KEPT = [
    "retry the password 7 times",
    "the password 0 chars long is rejected",
    "password encryption aes",
    "key chain OSPF\n key 1\n key 0",
    "SET key value",
    "hex key value pairs",
    "radius-server timeout 5",
    "tacacs-server directed-request",
    "snmp-server user mon grp v3 priv",
    "crypto isakmp policy 10",
    "set system login user ops class super-user",
    "the authentication-key is rotated monthly",
    "set a pre-shared-key for each peer",
    "set psksecret ENC is used on FortiOS",
    "the password simple enough",
    "items:\n  key value",
    "map:\n  key ${KEY}",
]


def test_device_config_words_without_a_secret_stay() -> None:
    """Prose with a type-like digit, a key's number, Redis' `SET key` and settings that only
    name a password's or key's option are not redacted."""
    assert_each(DEVICE_KEPT, _unchanged)


# --- 2. a long value after a name and a space ----------------------------------------------------

LONG = base64.b64encode(bytes(range(7, 250))).decode()


def test_a_long_value_told_after_a_name_goes_whole() -> None:
    """A 324-character value after `TUNNEL_TOKEN `, `DB_PASSWORD ` or `the token is ` leaves
    none of its end."""
    cases = [
        (f"{form}{LONG} next", LONG[-40:], ("next",))
        for form in ("TUNNEL_TOKEN ", "DB_PASSWORD ", "the token is ")
    ]
    assert_each(cases, _blanked)


# --- 3. Terraform's plan ------------------------------------------------------------------------


def test_a_new_value_after_terraforms_sensitive_value_is_blanked() -> None:
    """`~ x = (sensitive value) -> "new"` blanks the new value whatever the attribute's name."""
    cases: list[Case] = [
        (f'  ~ password = (sensitive value) -> "{PW}"', PW, ("~ password = (sensitive value) ->",)),
        (f'  ~ custom_data = (sensitive value) -> "{PW}"', PW, ("custom_data",)),
    ]
    assert_each(cases, _blanked)


# --- 4. daemons' and installers' config lines ---------------------------------------------------

DAEMONS: list[Case] = [
    (
        f"vrrp_instance VI_1 {{\n  authentication {{\n    auth_pass {PW}\n  }}\n}}",
        PW,
        ("authentication {",),
    ),
    (f'rootpw "{PW}"', PW, ("rootpw",)),
    (f"bindpw {PW}\nbase dc=example,dc=com", PW, ("base dc=example,dc=com",)),
    (f"userlist admins\n  user ops insecure-password {PW}", PW, ("user ops",)),
    (f"rootpw --plaintext {PW}\nauth --useshadow", PW, ("auth --useshadow",)),
    (f"listen stats\n  stats auth admin:{PW}\n  stats uri /s", PW, ("admin:", "stats uri /s")),
    (f"cache_peer p.example.com parent 3128 0 login=bob:{PW} no-query", PW, ("no-query",)),
    (f"smtp_sasl_password_maps = static:bob:{PW}", PW, ("static:bob:",)),
    (f"bob:{{CLEARTEXT}}{PW}:1000:1000::/home/bob", PW, ("bob:{CLEARTEXT}", ":1000:1000")),
    (f"bob:{{SHA512-CRYPT}}$6$abcdefgh${PW}::", PW, ("bob:{SHA512-CRYPT}",)),
    (f'"bob" "pppd" "{PW}" 10.0.0.2', PW, ('"bob" "pppd"', "10.0.0.2")),
    (f"d-i passwd/user-password-again password {PW}", PW, ("d-i passwd/user-password-again",)),
    (f"slapd slapd/password1 password {PW}", PW, ("slapd slapd/password1",)),
    (f"API_TOKEN ?= {PW}\nHOST ?= db", PW, ("HOST ?= db",)),
    (
        f"CEF:0|V|P|1.0|100|Login|5|cs2=bob cs2Label=user cs3Label=API Token cs3={PW} dst=10.0.0.5",
        PW,
        ("cs2=bob", "dst=10.0.0.5"),
    ),
]


def test_a_daemons_or_installers_config_password_is_blanked() -> None:
    """keepalived, OpenLDAP, ldap.conf, HAProxy, kickstart, squid, Postfix, Dovecot, ppp,
    debconf, Make's `?=` and a CEF field labelled a secret lose the password, nothing else."""
    assert_each(DAEMONS, _blanked)


DAEMONS_KEPT = [
    "rootpw --lock",
    "rootpw --iscrypted",
    "the rootpw is set by kickstart",
    "auth_pass for vrrp is in keepalived.conf",
    "stats auth enabled on listener 8404",
    "transport_maps = static:smtp:[relay.example.com]:25",
    "cache_peer p.example.com parent 3128 0 login=PASSTHRU",
    "d-i passwd/make-user boolean false",
    "CC ?= gcc\nPREFIX ?= /usr/local",
    "TOKEN_URL ?= https://auth.example.com/token",
    "CEF:0|V|P|1.0|100|Login|5|cs1Label=user cs1=bob dst=10.0.0.5",
    '"bob" "srv" "x"',
    "regex (?=password) here",
]


def test_daemon_config_words_without_a_secret_stay() -> None:
    """A flag after `rootpw`, a stats setting, a transport's static map, squid's PASSTHRU, a
    debconf boolean, Make's ordinary defaults and a CEF field labelled no secret stay."""
    assert_each(DAEMONS_KEPT, _unchanged)


# --- 5. a secret's name dressed in Markdown or inline HTML --------------------------------------

DRESSED: list[Case] = [
    (f"**API token**: {PW} (rotate monthly)", PW, ("**API token**:", "(rotate monthly)")),
    (f"__Password:__ {PW}", PW, ("__Password:__",)),
    (f"_client secret_: {PW}", PW, ("_client secret_:",)),
    (f"`DB_PASSWORD`: `{PW}`", PW, ("`DB_PASSWORD`: `", "`")),
    (f"<b>Password:</b> <code>{PW}</code>", PW, ("<b>Password:</b> <code>", "</code>")),
    (f"<em>secret</em>: {PW}", PW, ("<em>secret</em>:",)),
    (f'{{"text": "*Password:* {PW}", "n": 1}}', PW, ('", "n": 1}',)),
    (f"**Password**:\n`{PW}`", PW, ("**Password**:\n`",)),
    (f'{{"t": "Runbook\\n*Password:* {PW}"}}', PW, ("Runbook\\n*Password:* ",)),
    (f"| User | `app` |\n| **Password** | **{PW}** |", PW, ("`app`", "| **Password** | **")),
    (f"| Host | **Token** |\n|---|---|\n| db | `{PW}` |", PW, ("| db | `",)),
    (f"<tr><th><strong>Password</strong></th><td><kbd>{PW}</kbd></td></tr>", PW, ("<kbd>",)),
    (
        f'<dt class="k">API key</dt>\n<dd><code>{PW}</code></dd>',
        PW,
        ('<dt class="k">API key</dt>',),
    ),
]


def test_a_secret_under_a_dressed_name_is_blanked() -> None:
    """A value after a secret's name in bold, italics, code marks or an inline tag, in text,
    a Markdown table (its header or a row's first cell) or HTML, goes; its marks stay."""
    assert_each(DRESSED, _blanked)


DRESSED_KEPT = [
    "**Note**: see the runbook",
    "**Password rotation:** done",
    "*Token expiry*: 5m",
    "`password`: `********`",
    "**password**: <redacted>",
    "| **Password** | |",
    "<dt>Password</dt><dd>********</dd>",
    "**Password** reset needed: yes",
    "*password* and *token* are both required",
    "**Password**:\nThe password is in the vault",
]


def test_dressed_words_without_a_secret_stay() -> None:
    """A dressed name that is no secret's, a masked or empty value, and prose that only
    emphasises a secret's word stay."""
    assert_each(DRESSED_KEPT, _unchanged)


# --- 6. an XML secret's `<Value>` child, a `<value>` after its `<name>` -------------------------

XML_VALUES: list[Case] = [
    (
        f"<UserAccounts><LocalAccounts><LocalAccount><Password>\n<Value>{PW}</Value>\n"
        "<PlainText>false</PlainText></Password><Name>ops</Name>",
        PW,
        ("<PlainText>false</PlainText>", "<Name>ops</Name>"),
    ),
    (f'<DomainPassword wcm:action="add"><Value>{PW}</Value></DomainPassword>', PW, ()),
    (
        f"<property>\n  <name>javax.jdo.option.ConnectionPassword</name>\n  <value>{PW}</value>\n</property>",
        PW,
        ("javax.jdo.option.ConnectionPassword",),
    ),
    (
        f'"<property><name>fs.s3a.secret.key</name>\\n<value>{PW}</value></property>"',
        PW,
        ("fs.s3a.secret.key",),
    ),
]


def test_an_xml_secrets_value_child_is_blanked() -> None:
    """unattend.xml's `<Password><Value>…`, a `<…Password>` element's `<Value>` and a Hadoop
    property's `<value>` after a `<name>` naming a secret go; the other elements stay."""
    assert_each(XML_VALUES, _blanked)


XML_KEPT = [
    "<property><name>fs.defaultFS</name><value>hdfs://nn:8020</value></property>",
    "<Setting><Value>42</Value></Setting>",
    "<Password><Value></Value></Password>",
    "<PasswordExpires><Value>false</Value></PasswordExpires>",
]


def test_xml_values_under_other_names_stay() -> None:
    """A `<value>` under a name that is no secret's, an empty one and a state word stay."""
    assert_each(XML_KEPT, _unchanged)


# --- 7. a value continued over lines; a name cut by a quoted-printable soft break ----------------

QP = "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
QP_IN_JSON = QP.replace("\n", "\\n")

CONTINUED: list[Case] = [
    (f"db.password={PW[:6]}\\\n    {PW[6:]}\nnext=1", PW[6:], ("db.password=", "next=1")),
    (f"api.token={PW[:4]}\\\n  {PW[4:9]}\\\n  {PW[9:]}\nhost=db", PW[9:], ("host=db",)),
    (
        f'{{"log": "db.password={PW[:6]}\\\\\\n    {PW[6:]}\\nhost=db"}}',
        PW[6:],
        ("db.password=", "host=db"),
    ),
    (f"{QP}The new passw=\nord is {PW}, see you", PW, ("The new passw=\nord is", "see you")),
    (f"{QP}api_to=\nken: {PW}", PW, ("api_to=\nken:",)),
    (f'{{"body": "{QP_IN_JSON}secr=\\net={PW}"}}', PW, ("secr=\\net=",)),
]


def test_a_continued_value_and_a_soft_broken_name_are_read_through() -> None:
    """Every piece of a .properties value continued with `\\` goes (raw and inside a JSON
    string), and a secret's name a quoted-printable soft break cut still names its value."""
    assert_each(CONTINUED, _blanked)


CONTINUED_KEPT = [
    "classpath=lib/a.jar\\\n    lib/b.jar",
    f"{QP}The pass=\nenger list is attached",
    f"{QP}See the docu=\nmentation for password rules",
    "no header: passw=\nord is Xk7pL2mR9tQwE4rT",
]


def test_continued_lines_and_soft_breaks_without_a_secret_stay() -> None:
    """A continued value under no secret's name, a soft break that makes no secret's name, and a soft break in a text that says nothing of
    quoted-printable stay."""
    assert_each(CONTINUED_KEPT, _unchanged)


# --- 8. an object a Terraform call wraps, after a section's name --------------------------------

WRAPPED_OBJECTS: list[Case] = [
    (
        f'  secure_json_data_encoded = jsonencode({{\n    password = "{PW}"\n    tlsClientKey = "{PW}x"\n  }})',
        PW,
        ("secure_json_data_encoded = jsonencode({", "tlsClientKey = "),
    ),
    (f'  secrets = jsonencode({{\n    db = "{PW}"\n  }})', PW, ("secrets = jsonencode({", "db = ")),
    (
        f'  secure_json_data = jsonencode({{ basicAuthPassword = "{PW}x", extra = "{PW}" }})',
        PW,
        ("extra = ",),
    ),
    (f'credentials = yamlencode({{\n  db = "{PW}"\n}})', PW, ("yamlencode({",)),
]


def test_a_sections_object_inside_jsonencode_is_blanked() -> None:
    """Every value of an object Terraform's `jsonencode`/`yamlencode` wraps after a section's
    name (`secure_json_data`, `secrets`, `credentials`) goes; the call and the keys stay."""
    assert_each(WRAPPED_OBJECTS, _blanked)


def test_an_ordinary_object_inside_jsonencode_stays() -> None:
    """A wrapped object under a name that is no section's keeps its values."""
    assert_each(['labels = jsonencode({\n  team = "payments"\n})'], _unchanged)
