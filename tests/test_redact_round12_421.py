"""Round 12 (helper 421): what round 11 left (a pipeline's grouped echoes into passwd, wfuzz's
domain login, FortiOS' remote PSK, an alerting vendor's key, a key written in spaced groups)
and what it changed that should stay (`/etc/passwd` appended to, a libvirt secret's uuid, a
token's `@file`); each with the neighbours that must stay."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

PASSWORD = "Xk9vQ2mZp7Lw4Rt"
P = "[REDACTED:password]"
UUID = "3f1c2a4b-5d6e-4f70-8a9b-0c1d2e3f4a5b"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- what the redactor changed that should stay ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "echo done | tee -a /etc/passwd",
        "echo 'bob:x:1001:1001::/home/bob:/bin/bash' >> /etc/passwd",
        "virsh attach-disk vm1 /dev/rbd0 vdb --secret 5d5a9c1e-6b7a-4c4e-9c2b-2f1d3e4a5b6c",
        "virsh secret-undefine --secret 5d5a9c1e-6b7a-4c4e-9c2b-2f1d3e4a5b6c",
        "curl --token @file https://api.example.com",
        "tool --token @/run/secrets/api_token.txt",
    ],
)
def test_account_file_libvirt_uuid_and_file_reference_stay(text: str) -> None:
    """A line appended to /etc/passwd (an account list: its passwords live elsewhere), the uuid
    naming a libvirt secret, and a token option's `@file` (where the token is) stay."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"echo {PASSWORD} > ~/.vault_pass", f"echo {P} > ~/.vault_pass"),
        (f"echo {PASSWORD} | tee /etc/app/passwd.txt", f"echo {P} | tee /etc/app/passwd.txt"),
        (f"some-tool --secret {UUID}", f"some-tool --secret {P}"),
        (f"curl --token @{PASSWORD}9x", f"curl --token {P}"),
    ],
)
def test_secret_file_other_tools_secret_and_at_password_still_go(text: str, expected: str) -> None:
    """A value written into a password file, another tool's `--secret <uuid>`, and a random
    word after `@` (no file's name) still go."""
    assert _text(text) == expected


# --- leaks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"(echo {PASSWORD}; echo {PASSWORD}) | passwd bob",
            f"(echo {P}; echo {P}) | passwd bob",
        ),
        (
            f"(echo {PASSWORD}; sleep 1; echo '{PASSWORD}') | smbpasswd -s -a bob",
            f"(echo {P}; sleep 1; echo '{P}') | smbpasswd -s -a bob",
        ),
        (
            f"{{ echo {PASSWORD}; echo {PASSWORD}; }} | sudo passwd root",
            f"{{ echo {P}; echo {P}; }} | sudo passwd root",
        ),
        (
            f"(printf '%s\\n' {PASSWORD}; echo -n {PASSWORD}) | vncpasswd -f > passwd",
            f"(printf '%s\\n' {P}; echo -n {P}) | vncpasswd -f > passwd",
        ),
        ("(echo bob:" + PASSWORD + ") | chpasswd", f"(echo bob:{P}) | chpasswd"),
    ],
)
def test_grouped_echoes_into_a_password_reader_are_redacted(text: str, expected: str) -> None:
    """`(echo X; echo X) | passwd` answers the prompt and its confirmation from a subshell's
    (or a `{ …; }` group's) echoes: every echoed value goes (chpasswd's after its colon)."""
    assert _text(text) == expected


def test_grouped_echoes_into_another_command_stay() -> None:
    """A group's echoes into a command that reads no password stay."""
    text = "(echo hello; echo world) | sort -u"
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"wfuzz --ntlm 'CORP\\bob:{PASSWORD}' http://web01/",
            f"wfuzz --ntlm 'CORP\\bob:{P}' http://web01/",
        ),
        (
            f"wfuzz --ntlm CORP\\\\bob:{PASSWORD} http://web01/",
            f"wfuzz --ntlm CORP\\\\bob:{P} http://web01/",
        ),
        (
            f"curl --ntlm -u 'CORP\\bob:{PASSWORD}' http://h/",
            f"curl --ntlm -u 'CORP\\bob:{P}' http://h/",
        ),
    ],
)
def test_domain_user_login_password_is_redacted(text: str, expected: str) -> None:
    """A Windows login `DOMAIN\\user:password` (wfuzz's `--ntlm`, curl's `-u`) loses its
    password; the domain and the user stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"set psksecret-remote {PASSWORD}", f"set psksecret-remote {P}"),
        (f'    set psksecret-remote "{PASSWORD}"', f'    set psksecret-remote "{P}"'),
    ],
)
def test_fortios_remote_psk_without_enc_is_redacted(text: str, expected: str) -> None:
    """FortiOS' `set psksecret-remote X` given in clear (no `ENC`) loses X."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"OPSGENIE_KEY={UUID}", "OPSGENIE_KEY=[REDACTED:password]"),
        (f"opsgenie_api_key: {UUID}", "opsgenie_api_key: [REDACTED:password]"),
        (f"GENIE_KEY: {UUID}", "GENIE_KEY: [REDACTED:password]"),
        (f"SQUADCAST_KEY={UUID}", "SQUADCAST_KEY=[REDACTED:password]"),
    ],
)
def test_alerting_vendor_key_is_redacted(text: str, expected: str) -> None:
    """An alerting vendor's key named by its vendor (`OPSGENIE_KEY`, `GENIE_KEY`, `SQUADCAST_KEY`) goes
    even when it is a uuid, the shape Opsgenie issues."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [f"OPSGENIE_TEAM={UUID}", "opsgenie_key: $OPSGENIE_KEY", f"request_id={UUID}"],
)
def test_alerting_vendor_other_values_stay(text: str) -> None:
    """A vendor's other ids, a reference and another name's uuid stay."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AKIA IOSF ODNN 7EXA MPLE", "[REDACTED:aws-key]"),
        ("key is AKIA IOSF ODNN 7EXA MPLE ok", "key is [REDACTED:aws-key] ok"),
        ("ASIAIOSF ODNN7EXA MPLE.", "[REDACTED:aws-key]."),
        (
            "token ghp_ aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A",
            "token [REDACTED:github-token]",
        ),
        (
            "token ghp_aB3d E5fG 7hJ9 kL1m N3pQ 5rS7 tU9v W1xY 3z5A then",
            "token [REDACTED:github-token] then",
        ),
    ],
)
def test_known_prefix_key_written_in_groups_is_redacted(text: str, expected: str) -> None:
    """An AWS key id or a GitHub token written spaced or in groups after its known prefix
    (as a person or a model writes it) goes whole, when its groups add up to the key's length."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "AKIA KEYS ARE ROTATED DAILY",
        "the AKIA prefix marks a long-term key",
        "ghp_ tokens are classic PATs and expire",
    ],
)
def test_prose_after_a_known_prefix_stays(text: str) -> None:
    """Words after a prefix that do not add up to a key's length stay."""
    assert _text(text) == text


# --- new classes: secret stores fed and read at a prompt ---------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"supabase secrets set STRIPE_WEBHOOK={PASSWORD}",
            f"supabase secrets set STRIPE_WEBHOOK={P}",
        ),
        (
            f"flyctl -a web secrets set MY_CONF={PASSWORD} OTHER='{PASSWORD}'",
            f"flyctl -a web secrets set MY_CONF={P} OTHER='{P}'",
        ),
        (f"doppler secrets set MY_CONF={PASSWORD}", f"doppler secrets set MY_CONF={P}"),
    ],
)
def test_secret_store_set_values_are_redacted(text: str, expected: str) -> None:
    """A secret store's `secrets set NAME=VALUE` stores secrets: each value goes, whatever
    its name."""
    assert _text(text) == expected


def test_secret_store_set_reference_stays() -> None:
    """A variable's reference given to `secrets set` holds no secret and stays."""
    text = "fly secrets set MY_CONF=$MY_CONF"
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"printf %s {PASSWORD} | wrangler secret put API_TOKEN",
            f"printf %s {P} | wrangler secret put API_TOKEN",
        ),
        (
            f"secret-tool store --label=x svc y <<< {PASSWORD}",
            f"secret-tool store --label=x svc y <<< {P}",
        ),
        (f"keyring set svc bob <<< {PASSWORD}", f"keyring set svc bob <<< {P}"),
        (
            f"echo {PASSWORD} | ldapsearch -x -D cn=admin,dc=x -y /dev/stdin",
            f"echo {P} | ldapsearch -x -D cn=admin,dc=x -y /dev/stdin",
        ),
    ],
)
def test_value_fed_to_a_secret_store_is_redacted(text: str, expected: str) -> None:
    """A value piped or given as a here-string to a command that stores it as a secret
    (`wrangler secret put`, `secret-tool store`, `keyring set`) or reads it
    as a password file (`ldapsearch -y /dev/stdin`) goes; printf's bare `%s` is its format."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "printf %s hello | sort",
        "echo hello | ldapsearch -x -b dc=x -y /etc/ldap.pw",
        "echo production | vercel env add NODE_ENV preview",
    ],
)
def test_value_fed_to_other_commands_stays(text: str) -> None:
    """A value fed to a command that stores or reads no secret stays."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"$ secret-tool lookup svc y\n{PASSWORD}", f"$ secret-tool lookup svc y\n{P}"),
        (f"$ pwgen -s 16 1\n{PASSWORD}", f"$ pwgen -s 16 1\n{P}"),
        (
            f'$ sops -d --extract \'["db"]["password"]\' s.yaml\n{PASSWORD}',
            f'$ sops -d --extract \'["db"]["password"]\' s.yaml\n{P}',
        ),
    ],
)
def test_secret_printed_at_a_prompt_is_redacted(text: str, expected: str) -> None:
    """What `secret-tool lookup`, `pwgen` and a SOPS field named like a secret print below
    their prompt's line is a secret, and goes."""
    assert _text(text) == expected


def test_sops_field_not_named_like_a_secret_stays() -> None:
    """A SOPS field whose key names no secret (`host`) is printed as it is."""
    text = '$ sops -d --extract \'["db"]["host"]\' s.yaml\ndb.internal'
    assert _text(text) == text


@pytest.mark.parametrize(
    "text",
    ["wg genkey: failed\nno space left", "wg genkey failed\nno space left on the device"],
)
def test_key_command_that_says_it_failed_keeps_the_next_line(text: str) -> None:
    """A key-printing command whose own line says it failed printed no key: the line after
    it (the failure's reason) stays."""
    assert _text(text) == text


def test_failure_word_in_a_path_still_prints_a_secret() -> None:
    """A failure's word inside a path (`secret/failed`) says nothing of the command: what it
    prints still goes."""
    text = f"$ vault kv get -field=password secret/failed\n{PASSWORD}"
    assert _text(text) == f"$ vault kv get -field=password secret/failed\n{P}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"openvpn --askpass <(echo {PASSWORD})", f"openvpn --askpass <(echo {P})"),
        (
            f"openvpn --auth-user-pass <(printf 'bob\\n{PASSWORD}\\n') --config c",
            f"openvpn --auth-user-pass <(printf 'bob\\n{P}\\n') --config c",
        ),
        (
            f'openvpn --auth-user-pass <(echo -e "bob\\n{PASSWORD}")',
            f'openvpn --auth-user-pass <(echo -e "bob\\n{P}")',
        ),
    ],
)
def test_openvpn_literal_password_file_is_redacted(text: str, expected: str) -> None:
    """OpenVPN's `--askpass` and `--auth-user-pass` given a file made from a literal: the
    password (the second line of the user's file) goes, the user stays."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "openvpn --auth-user-pass /etc/openvpn/creds.txt",
        "openvpn --config c.ovpn --auth-user-pass creds.txt --daemon",
    ],
)
def test_openvpn_password_file_path_stays(text: str) -> None:
    """`--auth-user-pass` names a file: its path or name is where the login is, and stays."""
    assert _text(text) == text


# --- new classes: Hadoop's Azure storage secrets, Azure's secure variables ----------------------

AZURE_KEY = "Xk9vQ2mZp7Lw4Rt" * 5 + "Xk9vQ2mZp7Lw4==="


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"fs.azure.account.key.acct.blob.core.windows.net={AZURE_KEY}",
            f"fs.azure.account.key.acct.blob.core.windows.net={P}",
        ),
        (
            f"--conf spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net={PASSWORD} -v",
            f"--conf spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net={P} -v",
        ),
        (
            "<name>fs.azure.account.key.acct.dfs.core.windows.net</name>\n"
            f"  <value>{PASSWORD}</value>",
            f"<name>fs.azure.account.key.acct.dfs.core.windows.net</name>\n  <value>{P}</value>",
        ),
        (
            f"fs.azure.account.oauth2.client.secret.acct.dfs.core.windows.net: {PASSWORD}",
            f"fs.azure.account.oauth2.client.secret.acct.dfs.core.windows.net: {P}",
        ),
        (
            f"fs.azure.sas.logs.acct.blob.core.windows.net=sv=2020-08-04&sig={PASSWORD}",
            f"fs.azure.sas.logs.acct.blob.core.windows.net={P}",
        ),
    ],
)
def test_hadoop_azure_storage_secret_is_redacted(text: str, expected: str) -> None:
    """Hadoop's per-account Azure properties (`fs.azure.account.key.<host>`, the OAuth
    client's secret, a container's SAS) end in a host, not a secret's word: the value goes."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "fs.azure.account.auth.type.acct.dfs.core.windows.net=OAuth",
        "fs.azure.account.key.acct.dfs.core.windows.net=${AZURE_KEY}",
        "the fs.azure.account.key.acct.dfs.core.windows.net property is missing",
    ],
)
def test_hadoop_azure_other_properties_stay(text: str) -> None:
    """Another property of the account, a reference, and prose naming the property stay."""
    assert _text(text) == text


def test_azure_secure_environment_variables_are_redacted() -> None:
    """`az container create --secure-environment-variables NAME=VALUE …`: each value goes,
    the options after it stay."""
    text = (
        f"az container create --secure-environment-variables MYCONF={PASSWORD} B='{PASSWORD}' -g rg"
    )
    expected = f"az container create --secure-environment-variables MYCONF={P} B='{P}' -g rg"
    assert _text(text) == expected


# --- new class: SDK calls that take a credential by its place ----------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"my $dbh = DBI->connect('dbi:Pg:dbname=x', 'app', '{PASSWORD}') or die;",
            f"my $dbh = DBI->connect('dbi:Pg:dbname=x', 'app', '{P}') or die;",
        ),
        (
            f"Net::SMTP.start('smtp', 587, 'x', 'bob', '{PASSWORD}', :login)",
            f"Net::SMTP.start('smtp', 587, 'x', 'bob', '{P}', :login)",
        ),
        (f"Net::FTP.open('h', 'bob', '{PASSWORD}')", f"Net::FTP.open('h', 'bob', '{P}')"),
        (
            f'credentials.NewStaticCredentials("AKIAIOSFODNN7EXAMPLE", "{PASSWORD}", "")',
            f'credentials.NewStaticCredentials("[REDACTED:aws-key]", "{P}", "")',
        ),
        (
            f'new AWS.Credentials("AKIAIOSFODNN7EXAMPLE", "{PASSWORD}")',
            f'new AWS.Credentials("[REDACTED:aws-key]", "{P}")',
        ),
        (
            f'StorageSharedKeyCredential("acct", "{PASSWORD}")',
            f'StorageSharedKeyCredential("acct", "{P}")',
        ),
        (
            f'ClientSecretCredential("tenant", "client", "{PASSWORD}")',
            f'ClientSecretCredential("tenant", "client", "{P}")',
        ),
        (
            f'new ClientSecretCredentialBuilder().clientSecret("{PASSWORD}")',
            f'new ClientSecretCredentialBuilder().clientSecret("{P}")',
        ),
        (f'AzureKeyCredential("{PASSWORD}")', f'AzureKeyCredential("{P}")'),
    ],
)
def test_sdk_credential_by_its_place_is_redacted(text: str, expected: str) -> None:
    """Perl's DBI->connect, Ruby's Net::SMTP and Net::FTP, the AWS SDKs' static credentials
    and Azure's key and client-secret credentials take the secret by its place: it goes, the
    account, user and tenant stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    ['AzureKeyCredential(os.environ["KEY"])', "DBI->connect($dsn, $user, $pass)"],
)
def test_sdk_credential_from_a_variable_stays(text: str) -> None:
    """A credential read from the environment or a variable holds no secret: it stays."""
    assert _text(text) == text
