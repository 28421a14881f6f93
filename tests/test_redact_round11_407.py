"""Round 11 (helper 407): secrets that still leaked through the redactor as real alerts carry
them (web scanners' logins, mail clients' echoed passwords, rclone's and Junos' command lines,
a named Ethereum key), and text it changed that should have stayed (WireGuard's public key, a
list's blanks, a loguru trace's other values); each with the neighbours that must stay."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

PASSWORD = "Xk9vQ2mZp7Lw4Rt"
P = "[REDACTED:password]"
#: An Ethereum private key (a well-known test vector), and a transaction hash of its shape.
ETH_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
TX_HASH = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- web scanners' host logins ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"nikto -h 10.0.0.5 -id admin:{PASSWORD}", f"nikto -h 10.0.0.5 -id admin:{P}"),
        (
            f"nikto.pl -h web01 -Display 1 -id 'admin:{PASSWORD}' -port 443",
            f"nikto.pl -h web01 -Display 1 -id 'admin:{P}' -port 443",
        ),
        (
            f"wfuzz -c --basic admin:{PASSWORD} -z file,words.txt http://web01/FUZZ",
            f"wfuzz -c --basic admin:{P} -z file,words.txt http://web01/FUZZ",
        ),
        (
            f"wfuzz --digest=admin:{PASSWORD} http://web01/FUZZ",
            f"wfuzz --digest=admin:{P} http://web01/FUZZ",
        ),
        (f"wfuzz --ntlm bob:{PASSWORD} http://web01/", f"wfuzz --ntlm bob:{P} http://web01/"),
    ],
)
def test_web_scanner_login_password_is_redacted(text: str, expected: str) -> None:
    """nikto's `-id user:X` and wfuzz's `--basic|--digest|--ntlm user:X` log in with X: it
    goes, the user stays."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "wfuzz --basic FUZZ:FUZ2Z -z file,users.txt -z file,words.txt http://web01/",
        "wfuzz --basic admin:FUZZ -z file,words.txt http://web01/",
        "nikto -h web01 -id $NIKTO_CREDS",
        "grep -id foo:bar notes.txt",
    ],
)
def test_web_scanner_payload_markers_and_other_tools_stay(text: str) -> None:
    """wfuzz's payload markers (no password, a word list's place), a variable, and another
    tool's `-id` stay as written."""
    assert _text(text) == text


# --- a mail client's command that echoes its password -----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"msmtp --passwordeval 'echo {PASSWORD}' -a default",
            f"msmtp --passwordeval 'echo {P}' -a default",
        ),
        (f'msmtp --passwordeval="echo {PASSWORD}"', f'msmtp --passwordeval="echo {P}"'),
        (f'passwordeval "echo -n {PASSWORD}"', f'passwordeval "echo -n {P}"'),
        (f"passwordeval printf '%s' {PASSWORD}", f"passwordeval printf '%s' {P}"),
        (f'PassCmd "echo {PASSWORD}"', f'PassCmd "echo {P}"'),
        (f'PassCmd +"echo {PASSWORD}"', f'PassCmd +"echo {P}"'),
        (
            f'{{"cmd": "msmtp --passwordeval \\"echo {PASSWORD}\\""}}',
            f'{{"cmd": "msmtp --passwordeval \\"echo {P}\\""}}',
        ),
    ],
)
def test_mail_client_echoed_password_is_redacted(text: str, expected: str) -> None:
    """msmtp's `passwordeval` and isync's `PassCmd` run a command for the password: one that
    only echoes it (`echo X`, `printf '%s' X`) gives it in clear, and X goes."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'passwordeval "gpg -q --for-your-eyes-only -d ~/.msmtp-password.gpg"',
        'PassCmd "pass show mail/work"',
        'passwordeval "echo $SMTP_PASSWORD"',
        "the passwordeval option runs a command",
    ],
)
def test_mail_client_password_command_that_reads_a_store_stays(text: str) -> None:
    """A password command that reads a store, echoes a variable, or prose about the option
    stays as written."""
    assert _text(text) == text


# --- rclone's remote on the command line --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"rclone config update s3r secret_access_key {PASSWORD}",
            f"rclone config update s3r secret_access_key {P}",
        ),
        (
            f"rclone config create s3r s3 provider AWS secret_access_key '{PASSWORD}' region eu",
            f"rclone config create s3r s3 provider AWS secret_access_key '{P}' region eu",
        ),
        (
            f'rclone config create x s3 secret_access_key {PASSWORD} sse_customer_key "{PASSWORD}"',
            f'rclone config create x s3 secret_access_key {P} sse_customer_key "{P}"',
        ),
        (
            f"rclone config create b2r b2 account 0012ab key {PASSWORD}",
            f"rclone config create b2r b2 account 0012ab key {P}",
        ),
        (
            f"rclone config create g drive client_id 123.apps client_secret {PASSWORD} scope x",
            f"rclone config create g drive client_id 123.apps client_secret {P} scope x",
        ),
        (
            f"/usr/bin/rclone config create --non-interactive sf sftp pass {PASSWORD} --obscure",
            f"/usr/bin/rclone config create --non-interactive sf sftp pass {P} --obscure",
        ),
    ],
)
def test_rclone_config_secret_option_is_redacted(text: str, expected: str) -> None:
    """`rclone config create|update` takes a remote's options as `name value` pairs: the
    value of each secret option (`secret_access_key`, `key`, `client_secret`, `pass` …)
    goes, every one on the line."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "rclone config create key pass user deploy",
        "rclone config update token user bob",
        "rclone config create s3r s3 env_auth true region eu-west-1",
    ],
)
def test_rclone_config_names_and_plain_options_stay(text: str) -> None:
    """A remote named like a secret (`key`), its type, and the values of plain options stay:
    only the value after a secret option's name goes."""
    assert _text(text) == text


# --- Junos' secrets on a `set` line ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"set snmp community {PASSWORD} authorization read-only",
            f"set snmp community {P} authorization read-only",
        ),
        (
            f'set snmp community "{PASSWORD}" clients 10.0.0.0/8',
            f'set snmp community "{P}" clients 10.0.0.0/8',
        ),
        (
            f"set system radius-server 10.0.0.1 secret {PASSWORD}",
            f"set system radius-server 10.0.0.1 secret {P}",
        ),
        (
            f'set system tacplus-server 10.0.0.1 secret "{PASSWORD}" port 49',
            f'set system tacplus-server 10.0.0.1 secret "{P}" port 49',
        ),
        (
            f"set access profile ppp client peer chap-secret {PASSWORD}",
            f"set access profile ppp client peer chap-secret {P}",
        ),
        (
            f"set protocols ospf area 0 interface ge-0/0/0 authentication md5 1 key {PASSWORD}",
            f"set protocols ospf area 0 interface ge-0/0/0 authentication md5 1 key {P}",
        ),
    ],
)
def test_junos_set_line_secret_is_redacted(text: str, expected: str) -> None:
    """Junos' SNMP community, RADIUS and TACACS+ servers' `secret`, `chap-secret` and an
    `authentication md5 <n> key` each give a shared secret in clear: it goes."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "set snmp community public authorization read-only",
        "set snmp location dc1-row4",
        "set system radius-server 10.0.0.1 port 1812",
        "the radius-server 10.0.0.1 secret is wrong",
    ],
)
def test_junos_defaults_and_other_settings_stay(text: str) -> None:
    """SNMP's published default community, other settings, and prose about a secret stay."""
    assert _text(text) == text


# --- an Ethereum private key by its name ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"privkey 0x{ETH_KEY}",
        f"Using private key 0x{ETH_KEY} for deployer",
        f"Wallet private key is {ETH_KEY}",
        f"deployerPrivateKey: 0x{ETH_KEY}",
        f"PRIVKEY {ETH_KEY}",
        f"private key for 0xabc: 0x{ETH_KEY}",
    ],
)
def test_named_ethereum_private_key_is_redacted(text: str) -> None:
    """64 hex digits (after `0x` or none) that the words before them name a private key go."""
    out = _text(text)
    assert ETH_KEY not in out
    assert P in out


@pytest.mark.parametrize(
    "text",
    [
        f"tx hash {TX_HASH} reverted",
        f"block {TX_HASH} finalized",
        f"privateKeyHash {TX_HASH}",
        "private key file /etc/ssl/private/web.key",
    ],
)
def test_transaction_hash_and_other_private_key_words_stay(text: str) -> None:
    """A transaction's or block's hash (the key's shape under another name), a name that only
    starts like one, and a key's file path stay."""
    assert _text(text) == text


# --- WireGuard's public key --------------------------------------------------------------------------

WG_PUBLIC = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="


@pytest.mark.parametrize(
    "command",
    [
        "wg genkey | tee privatekey | wg pubkey",
        "wg genkey | tee privatekey | wg pubkey | tee publickey",
        "umask 077; wg genkey | tee /etc/wireguard/priv | sudo wg pubkey",
    ],
)
def test_wireguard_public_key_printed_after_genkey_stays(command: str) -> None:
    """`wg genkey | tee f | wg pubkey` prints the public key (the private one went to the
    file): it stays."""
    text = f"$ {command}\n{WG_PUBLIC}\n"
    assert _text(text) == text


def test_wireguard_private_key_printed_by_genkey_goes() -> None:
    """`wg genkey` alone, or through `tee`, prints the private key: it goes."""
    text = f"$ wg genkey | tee privatekey\n{WG_PUBLIC}\n"
    assert _text(text) == f"$ wg genkey | tee privatekey\n{P}\n"


# --- a secret's list keeps its blanks -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"api_keys": [ "x" ]}', f'{{"api_keys": [ "{P}" ]}}'),
        ('{"api_keys": [  "a", "b"  ] }', f'{{"api_keys": [  "{P}"  ] }}'),
        (f'api_keys: [ "{PASSWORD}" ]', f'api_keys: [ "{P}" ]'),
        ("tokens = [ 'a', 'b' ]", f"tokens = [ '{P}' ]"),
        ('{"api_keys": ["x", "y"]}', f'{{"api_keys": ["{P}"]}}'),
    ],
)
def test_secret_list_keeps_the_blanks_inside_its_brackets(text: str, expected: str) -> None:
    """A secret's list on one line loses its items as one, and the blanks after `[` and
    before `]` stay as written."""
    assert _text(text) == expected


# --- a loguru trace whose tabs line up at no width ------------------------------------------------


def _trace(source: str, *annotations: str) -> str:
    """A loguru traceback whose frame shows `source` and `annotations` below it."""
    lines = (f'  File "/app/db.py", line 12, in connect\n{source}', *annotations)
    return "Traceback (most recent call last):\n" + "\n".join(lines) + "\nOperationalError"


@pytest.mark.parametrize(
    ("source", "secret_rank"),
    [
        ("    return pool.connect(user, db_password)", 3),
        ("    return pool.connect(db_password, user)", 2),
    ],
)
def test_loguru_trace_tabbed_at_no_width_loses_only_the_secret(
    source: str, secret_rank: int
) -> None:
    """Tabs that line the marks up with names at no width: the `└` with k `│`s before it is
    the (k+1)-th name, so only the value under the secret's name goes, the others stay."""
    values = ["<Pool object>", "<function Pool.connect>", "'app-user'", "'app-user'"]
    values[secret_rank] = f"'{PASSWORD}'"
    notes = ["\t│" * rank + f"\t└ {values[rank]}" for rank in range(3, -1, -1)]
    text = _trace(source, *notes)
    assert _text(text) == text.replace(PASSWORD, P)


# --- new classes: tools that take a secret on their command line -----------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"poetry publish --build -u __token__ -p {PASSWORD}",
            f"poetry publish --build -u __token__ -p {P}",
        ),
        (
            f"consul agent -server -encrypt {PASSWORD}== -bootstrap-expect 3",
            f"consul agent -server -encrypt {P} -bootstrap-expect 3",
        ),
        (f"nomad agent -encrypt {PASSWORD}==", f"nomad agent -encrypt {P}"),
        (
            f"ilorest login 10.0.0.9 -u admin -p {PASSWORD}",
            f"ilorest login 10.0.0.9 -u admin -p {P}",
        ),
        (
            f"hponcfg -f ilo.xml -u admin -p {PASSWORD}",
            f"hponcfg -f ilo.xml -u admin -p {P}",
        ),
        (
            f"ejabberdctl register bob example.com {PASSWORD}",
            f"ejabberdctl register bob example.com {P}",
        ),
        (
            f"ejabberdctl change_password bob example.com {PASSWORD}",
            f"ejabberdctl change_password bob example.com {P}",
        ),
        (
            f"prosodyctl register bob example.com '{PASSWORD}'",
            f"prosodyctl register bob example.com '{P}'",
        ),
        (
            f"virsh secret-set-value 2b7a5c3e-9f1d-4e8a-b6c2-1d3f5e7a9b0c {PASSWORD}==",
            f"virsh secret-set-value 2b7a5c3e-9f1d-4e8a-b6c2-1d3f5e7a9b0c {P}",
        ),
        (
            f"virsh secret-set-value 2b7a5c3e-9f1d-4e8a-b6c2-1d3f5e7a9b0c --base64 {PASSWORD}==",
            f"virsh secret-set-value 2b7a5c3e-9f1d-4e8a-b6c2-1d3f5e7a9b0c --base64 {P}",
        ),
        (
            f"qemu-system-x86_64 -object secret,id=sec0,data={PASSWORD},format=raw -m 2G",
            f"qemu-system-x86_64 -object secret,id=sec0,data={P},format=raw -m 2G",
        ),
        (
            f"qemu-img info --object 'secret,id=s0,format=base64,data={PASSWORD}==' d.qcow2",
            f"qemu-img info --object 'secret,id=s0,format=base64,data={P}' d.qcow2",
        ),
        (f"s3cmd --secret_key {PASSWORD} ls s3://b", f"s3cmd --secret_key {P} ls s3://b"),
        (f"tool --access_token {PASSWORD} sync", f"tool --access_token {P} sync"),
        (f"    set psksecret {PASSWORD}", f"    set psksecret {P}"),
        (f"    set auth-pwd ENC {PASSWORD}", f"    set auth-pwd ENC {P}"),
        (f"    set psksecret-remote ENC {PASSWORD}", f"    set psksecret-remote ENC {P}"),
    ],
)
def test_command_line_secret_of_more_tools_is_redacted(text: str, expected: str) -> None:
    """Poetry's `publish -p`, Consul's and Nomad's `-encrypt` gossip key, HPE iLO tools'
    `-p`, XMPP servers' registered password, libvirt's and QEMU's secret values, s3cmd's
    `--secret_key` and an `_`-joined `--access_token`, FortiOS' `psksecret` (and ENC values
    under `-pwd` and `-remote` names): each secret goes, the command's other words stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "poetry install -p x",
        "consul members -http-addr=127.0.0.1:8500",
        "virsh secret-set-value 2b7a5c3e --interactive",
        "qemu-system-x86_64 -object secret,id=sec0,file=/run/luks.key",
        "prosodyctl register",
        "ejabberdctl registered_users example.com",
        "the --secret_key option is required",
    ],
)
def test_command_line_neighbours_of_more_tools_stay(text: str) -> None:
    """Another subcommand's `-p`, a secret read from a file or a prompt, a command without
    its arguments, and prose about an option stay as written."""
    assert _text(text) == text


# --- new classes: a secret piped into what reads it --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"yes {PASSWORD} | passwd bob",
        f'echo -e "{PASSWORD}\\n{PASSWORD}" | passwd bob',
        f"echo {PASSWORD} | vault login -",
        f"echo {PASSWORD} | vault login -method=token -",
        f"echo '{PASSWORD}' | openssl enc -d -aes256 -pass stdin -in f.enc",
        f'echo "{PASSWORD}" | ansible-vault view --vault-password-file=/dev/stdin x.yml',
        f"echo -n '{PASSWORD}' | cryptsetup luksOpen /dev/sdb1 data -",
        f"echo {PASSWORD} | smbpasswd -s -a bob",
    ],
)
def test_value_piped_into_a_password_reader_is_redacted(text: str) -> None:
    """A value echoed (or answered by `yes`) into what reads a password from its input
    (passwd, `vault login -`, openssl's `-pass stdin`, a password file that is the input,
    cryptsetup, `smbpasswd -s`) is that password: it goes."""
    out = _text(text)
    assert PASSWORD not in out
    assert P in out


@pytest.mark.parametrize(
    "text",
    [
        "echo root | grep -f - /etc/passwd",
        "yes | apt-get install nginx",
        "yes y | passwd_check --all",
        "echo hello | vault login",
    ],
)
def test_value_piped_into_another_command_stays(text: str) -> None:
    """A value piped into a command that reads no password (a file named passwd read by grep,
    another command named like passwd, `vault login` asking on its terminal) stays."""
    assert _text(text) == text


# --- new classes: a printed gossip key ---------------------------------------------------------------


@pytest.mark.parametrize(
    "command", ["consul keygen", "nomad operator gossip keyring generate", "nomad operator keygen"]
)
def test_printed_gossip_key_is_redacted(command: str) -> None:
    """Consul's and Nomad's keygen print a new gossip encryption key: the line goes."""
    text = f"$ {command}\n{PASSWORD}Xk9vQ2mZp7Lw4R=\n$ ls\n"
    assert _text(text) == f"$ {command}\n{P}\n$ ls\n"


# --- new classes: a container's args as a YAML list, and more names ---------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'args:\n  - --api-key\n  - {PASSWORD}\n  - --port\n  - "8080"',
            f'args:\n  - --api-key\n  - {P}\n  - --port\n  - "8080"',
        ),
        (
            f'    command:\n    - redis-server\n    - --requirepass\n    - "{PASSWORD}"',
            f'    command:\n    - redis-server\n    - --requirepass\n    - "{P}"',
        ),
        (
            f'{{"spec": "args:\\n  - --db-password\\n  - {PASSWORD}\\n  - --x\\n"}}',
            f'{{"spec": "args:\\n  - --db-password\\n  - {P}\\n  - --x\\n"}}',
        ),
        (
            f'"command": ["redis-server", "--requirepass", "{PASSWORD}"]',
            f'"command": ["redis-server", "--requirepass", "{P}"]',
        ),
    ],
)
def test_secret_option_value_in_a_yaml_args_list_is_redacted(text: str, expected: str) -> None:
    """A pod's (or a compose file's) args as a YAML list give an option named like a secret
    (`--api-key`, Redis' `--requirepass`) and its value as the next item: the value goes, its
    quotes and the other items stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "args:\n  - --api-key\n  - $(API_KEY)\n  - --token-file\n  - /var/run/secrets/token",
        'args:\n  - --verbose\n  - --port\n  - "8080"',
    ],
)
def test_yaml_args_list_references_and_plain_options_stay(text: str) -> None:
    """A variable's reference, a token's file path and plain options' values stay."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"glab variable set TOKEN --value {PASSWORD}",
            f"glab variable set TOKEN --value {P}",
        ),
        (
            f"glab variable set SIGNER -v '{PASSWORD}' --masked",
            f"glab variable set SIGNER -v '{P}' --masked",
        ),
        (
            f"ibmcloud login --apikey {PASSWORD} -r us-south",
            f"ibmcloud login --apikey {P} -r us-south",
        ),
        (
            f"az sql server create -n s -g rg -u admin -p {PASSWORD}",
            f"az sql server create -n s -g rg -u admin -p {P}",
        ),
        (
            f"az postgres server update -n s -g rg -p {PASSWORD}",
            f"az postgres server update -n s -g rg -p {P}",
        ),
        (f"authString: {PASSWORD}", f"authString: {P}"),
    ],
)
def test_cloud_cli_secret_is_redacted(text: str, expected: str) -> None:
    """glab's secret variable by `--value`, IBM Cloud's `--apikey`, Azure database servers'
    `-p` admin password and Memorystore's `authString` each give a secret: it goes."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "glab variable set PORT --value 8080",
        "az sql server list -g rg",
        "authStringEnabled: true",
    ],
)
def test_cloud_cli_neighbours_stay(text: str) -> None:
    """A plain variable's value, another subcommand and a flag named after the auth string
    stay."""
    assert _text(text) == text


# --- new classes: a header's list of values, and databases' SQL --------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'{{"request":{{"header":{{"Authorization":["Bearer {PASSWORD}"]}}}}}}',
            '{"request":{"header":{"Authorization":["Bearer [REDACTED:authorization]"]}}}',
        ),
        (
            f"Header map[Authorization:[Bearer {PASSWORD}] Accept:[*/*]]",
            "Header map[Authorization:[Bearer [REDACTED:authorization]] Accept:[*/*]]",
        ),
        (
            f'{{"Authorization":["Token {PASSWORD}"],"Accept":["*/*"]}}',
            '{"Authorization":["Token [REDACTED:authorization]"],"Accept":["*/*"]}',
        ),
    ],
)
def test_authorization_given_as_a_list_is_redacted(text: str, expected: str) -> None:
    """Go's http.Header writes each header's values as a list (as JSON, or printed as a
    map): a short credential in Authorization's list goes as a header's does, to its `]`;
    the scheme word and the other headers stay."""
    assert _text(text) == expected


@pytest.mark.parametrize("text", ['"authorization":[]', "authorization: [REDACTED:authorization]"])
def test_authorization_empty_list_and_placeholder_stay(text: str) -> None:
    """An empty list under Authorization, and a placeholder already there, stay as written."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"ALTER CURRENT USER SET PASSWORD FROM 'a1b2c3d4' TO '{PASSWORD}'",
            f"ALTER CURRENT USER SET PASSWORD FROM '{P}' TO '{P}'",
        ),
        (
            f"CREATE SECRET (TYPE S3, KEY_ID 'k1', SECRET '{PASSWORD}', REGION 'us-east-1');",
            f"CREATE SECRET (TYPE S3, KEY_ID 'k1', SECRET '{P}', REGION 'us-east-1');",
        ),
        (
            f"CREATE PERSISTENT SECRET s3 (TYPE S3, SECRET '{PASSWORD}', SESSION_TOKEN 'abc')",
            f"CREATE PERSISTENT SECRET s3 (TYPE S3, SECRET '{P}', SESSION_TOKEN '{P}')",
        ),
        (
            f"SELECT * FROM s3('https://b.example.com/x.csv', 'k1', '{PASSWORD}', 'CSV')",
            f"SELECT * FROM s3('https://b.example.com/x.csv', 'k1', '{P}', 'CSV')",
        ),
        (
            f"SELECT count() FROM s3Cluster('c1', 'https://b/x.csv', 'k1', '{PASSWORD}')",
            f"SELECT count() FROM s3Cluster('c1', 'https://b/x.csv', 'k1', '{P}')",
        ),
    ],
)
def test_database_sql_credential_is_redacted(text: str, expected: str) -> None:
    """Neo4j's old and new passwords in `SET PASSWORD FROM … TO …`, DuckDB's `CREATE SECRET`
    parameters that hold the credential, and the secret key ClickHouse's `s3()` table
    function is given: each goes, the statement's other words stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "CREATE SECRET (TYPE S3, PROVIDER credential_chain)",
        "DROP SECRET my_s3",
        "SELECT * FROM s3('https://b.example.com/x.csv', 'CSV', 'a String, b UInt32')",
    ],
)
def test_database_sql_without_a_credential_stays(text: str) -> None:
    """A secret made from the credential chain, a drop, and `s3()` given a format and a
    structure stay as written."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"plugins/opensearch-security/tools/hash.sh -p {PASSWORD}",
            f"plugins/opensearch-security/tools/hash.sh -p {P}",
        ),
        (
            f"lego --accept-tos --eab --kid k1 --hmac {PASSWORD} run",
            f"lego --accept-tos --eab --kid k1 --hmac {P} run",
        ),
        (
            f"xcrun altool --upload-app -f a.ipa -u dev -p {PASSWORD}",
            f"xcrun altool --upload-app -f a.ipa -u dev -p {P}",
        ),
    ],
)
def test_signing_and_hashing_tools_password_is_redacted(text: str, expected: str) -> None:
    """OpenSearch's `hash.sh -p`, lego's EAB `--hmac` key and altool's `-p` app password
    go."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "xcrun altool --list-apps -u dev -p @keychain:AC_PASSWORD",
        "xcrun altool --list-apps -u dev -p @env:AC_PASSWORD",
        "lego --dns route53 run",
    ],
)
def test_stored_password_reference_stays(text: str) -> None:
    """altool's `@keychain:`/`@env:` references name where the password is kept: they stay,
    as does lego without a key."""
    assert _text(text) == text


# --- new classes: Windows' installers and account tools ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"setup.exe /quiet /ACTION=Install SAPWD={PASSWORD}",
            f"setup.exe /quiet /ACTION=Install SAPWD={P}",
        ),
        (
            f"choco install sql-server-express --params \"'/SAPWD:{PASSWORD}'\"",
            f"choco install sql-server-express --params \"'/SAPWD:{P}'\"",
        ),
        (
            f"ldifde -i -f users.ldf -b admin CORP {PASSWORD}",
            f"ldifde -i -f users.ldf -b admin CORP {P}",
        ),
        (f"autologon.exe bob CORP {PASSWORD}", f"autologon.exe bob CORP {P}"),
        (
            f"Set-Item -Path Env:DB_PASSWORD -Value {PASSWORD}",
            f"Set-Item -Path Env:DB_PASSWORD -Value {P}",
        ),
        (f"set-item env:API_TOKEN '{PASSWORD}'", f"set-item env:API_TOKEN '{P}'"),
    ],
)
def test_windows_tool_password_is_redacted(text: str, expected: str) -> None:
    """SQL Server setup's `SAPWD`, ldifde's `-b user domain password`, Autologon's password
    and a secret set on PowerShell's `Env:` drive go."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ldifde -i -f users.ldf -b admin CORP *",
        "ldifde -f out.ldf -d dc=corp",
        "autologon /delete",
        "Set-Item -Path Env:PATH -Value C:\\tools",
        "Set-Item -Path Env:DB_PASSWORD -Value $pw",
    ],
)
def test_windows_tool_prompts_and_plain_values_stay(text: str) -> None:
    """ldifde's `*` (it asks), an export, Autologon's `/delete`, a plain variable and a
    variable's reference stay."""
    assert _text(text) == text


# --- new classes: networks' and clusters' join secrets ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "netbird up --setup-key 2b7a5c3e-9f1d-4e8a-b6c2-1d3f5e7a9b0c",
            f"netbird up --setup-key {P}",
        ),
        (
            f"tctl tokens add --type=node --value {PASSWORD}",
            f"tctl tokens add --type=node --value {P}",
        ),
        (f"wpa_cli set_network 0 psk '\"{PASSWORD}\"'", f"wpa_cli set_network 0 psk '{P}'"),
        (
            f"wpa_cli -i wlan0 set_network 1 password {PASSWORD}",
            f"wpa_cli -i wlan0 set_network 1 password {P}",
        ),
        ("$ kubeadm token create\nq8r2kz.vxu7dhn4ld7dmm5a\n", f"$ kubeadm token create\n{P}\n"),
        ("$ k3s token create\nq8r2kz.vxu7dhn4ld7dmm5a\n", f"$ k3s token create\n{P}\n"),
        (
            "$ headscale preauthkeys create --user bob\n0f8c1b5e2a7d4c9e3b6a1f0d8e7c2b5a4f9e1d3c\n",
            f"$ headscale preauthkeys create --user bob\n{P}\n",
        ),
    ],
)
def test_join_secret_given_or_printed_is_redacted(text: str, expected: str) -> None:
    """NetBird's `--setup-key`, Teleport's `tctl tokens add --value`, a Wi-Fi key given to
    `wpa_cli set_network`, and the bootstrap token or pre-auth key kubeadm, k3s and Headscale
    print go."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "wpa_cli set_network 0 ssid '\"home\"'",
        "tctl tokens ls",
        "$ kubeadm token create --print-join-command\nkubeadm join 10.0.0.1:6443 --discovery-token-unsafe-skip-ca-verification\n",
    ],
)
def test_join_commands_without_a_secret_stay(text: str) -> None:
    """A network's name, a token listing, and the join command kubeadm prints (its token, when
    there, is its own rule's) stay."""
    assert _text(text) == text
