"""Secrets known by their place on a command line or in code (round 5, red team 285, part A):
a password option of more commands (InfluxDB 1.x's `-password`, cypher-shell, jenkins-cli's
`-auth`, smbpasswd, esxcli, attack tools, impacket's target, `openssl passwd`, `mkpasswd`), a
password a service printed at its setup, a CI tool's token, the Windows registry's auto-logon
password, PowerShell's `Get-Secret -AsPlainText` output; IRC's `PASS oauth:`, ipmitool's
`user set password`, a `user:password` literal handed to a base64 encoder, more calls that take
a password by its place, Perl's `$ENV{X} = '…'`. Each is blanked, the words beside it stay,
a second pass changes nothing, and the innocent text near each shape is kept whole.
"""

from __future__ import annotations

import json

from case_chunks import assert_each
from triage.redact import Redactor

PW = "Qz8vN3kW5yHb2Lp"
UUID = "d330912c-c10f-4c13-a6ec-7c53b9bd467b"
HEX40 = "9f3c2a71e04b8d56c1a7f09e3b2d4c6a8e1f7b05"

#: A text, the secret it holds, and words of it that must stay.
Case = tuple[str, str, tuple[str, ...]]


def _redacted(text: str) -> str:
    """One pass of a fresh redactor."""
    return Redactor().text(text)


def _blanked(case: Case) -> tuple[object, object]:
    """For `assert_each`: whether a run of the secret is left, which kept words are gone, and
    whether a second pass changes the text."""
    text, secret, kept = case
    out = _redacted(text)
    left = any(secret[i : i + 8] in out for i in range(len(secret) - 7))
    gone = [word for word in kept if word not in out]
    return (left, gone, _redacted(out) == out, out), (False, [], True, out)


def _unchanged(text: str) -> tuple[str, str]:
    return _redacted(text), text


OPTIONS: list[Case] = [
    (f"influx -username bob -password {PW} -host db", PW, ("-username bob", "-host db")),
    (f"influx -password '{PW}' -database metrics", PW, ("-database metrics",)),
    (f"cypher-shell -u neo4j -p {PW} -a bolt://db:7687", PW, ("-u neo4j", "bolt://db:7687")),
    (f"cypher-shell -a neo4j://db -u neo4j -p '{PW}'", PW, ("neo4j://db",)),
    (
        f"java -jar jenkins-cli.jar -s http://ci:8080/ -auth bob:{PW} build x",
        PW,
        ("bob:", "build x"),
    ),
    (f"smbpasswd -a bob -w {PW}", PW, ("smbpasswd -a bob",)),
    (f"smbpasswd -w '{PW}'", PW, ("smbpasswd",)),
    (f"esxcli system account set -i root -p {PW} -c {PW}", PW, ("-i root",)),
    (f"esxcli system account add -i ops -d 'ops' -p {PW} -c {PW}", PW, ("-i ops",)),
    (f"slappasswd -s {PW}", PW, ("slappasswd",)),
    (f"doveadm pw -s SHA512-CRYPT -p {PW}", PW, ("SHA512-CRYPT",)),
    (f"codecov -t {UUID} -f coverage.xml", UUID, ("-f coverage.xml",)),
    (f"snyk auth {UUID}", UUID, ("snyk auth",)),
    (f"codecovcli upload-process -t {UUID}", UUID, ("upload-process",)),
    (f"sonar-scanner -Dsonar.login={HEX40} -Dsonar.projectKey=x", HEX40, ("projectKey=x",)),
    (f"mvn sonar:sonar -Dsonar.login=squ_{HEX40}", HEX40, ("mvn sonar:sonar",)),
]

#: Runtime security alerts quote an attacker's command line.
ATTACKS: list[Case] = [
    (f"cmdline=evil-winrm -i 10.0.0.5 -u admin -p {PW}", PW, ("-i 10.0.0.5", "-u admin")),
    (f"crackmapexec smb 10.0.0.0/24 -u admin -p {PW}", PW, ("10.0.0.0/24",)),
    (f"netexec smb 10.0.0.5 -u admin -p '{PW}' --shares", PW, ("--shares",)),
    (f"nxc winrm 10.0.0.5 -u admin -p {PW}", PW, ("nxc winrm",)),
    (f"hydra -l admin -p {PW} ssh://10.0.0.5", PW, ("-l admin", "ssh://10.0.0.5")),
    (f"medusa -h 10.0.0.5 -u admin -p {PW} -M ssh", PW, ("-M ssh",)),
    (f"smbmap -H 10.0.0.5 -u admin -p {PW}", PW, ("-H 10.0.0.5",)),
    (f"bloodhound-python -d corp.local -u bob -p {PW} -c All", PW, ("-c All",)),
    (f"secretsdump.py corp/admin:{PW}@10.0.0.5", PW, ("secretsdump.py corp/admin:", "@10.0.0.5")),
    (f"impacket-psexec admin:'{PW}'@10.0.0.5 cmd.exe", PW, ("@10.0.0.5 cmd.exe",)),
    (f"GetUserSPNs.py -request corp.local/svc:{PW}@dc01", PW, ("@dc01",)),
    (f"openssl passwd -6 {PW}", PW, ("openssl passwd -6",)),
    (f"openssl passwd -6 -salt abc '{PW}'", PW, ("-salt abc",)),
    (f"mkpasswd -m sha-512 {PW}", PW, ("mkpasswd -m sha-512",)),
    (f"mkpasswd --method=sha-512 {PW} saltsalt", PW, ("--method=sha-512",)),
]


def test_a_password_option_of_more_commands_is_blanked() -> None:
    """InfluxDB 1.x's `-password`, cypher-shell's `-p`, jenkins-cli's `-auth u:X`, smbpasswd's
    `-w`, esxcli's `-p`/`-c`, slappasswd's `-s`, doveadm pw's `-p`, codecov's `-t`, `snyk
    auth`'s and SonarScanner's `-Dsonar.login=` token are blanked; the other options stay."""
    assert_each(OPTIONS, _blanked)


def test_a_password_on_an_attack_tools_command_line_is_blanked() -> None:
    """evil-winrm's, crackmapexec's, netexec's, hydra's, medusa's, smbmap's and
    bloodhound-python's `-p`, impacket's `dom/user:X@host` target and the plaintext given to
    `openssl passwd` or `mkpasswd` are blanked; the host and user stay."""
    assert_each(ATTACKS, _blanked)


OPTIONS_KEPT = [
    "influx -username bob -password -host db",
    "influx -execute 'show databases' -precision rfc3339",
    "docker run -p 7474:7474 -p 7687:7687 neo4j",
    "cypher-shell -u neo4j -a bolt://db:7687",
    "java -jar jenkins-cli.jar -auth @/run/creds build x",
    "Xvfb :99 -auth /tmp/xauth -screen 0 1280x1024x24",
    "smbpasswd -a bob",
    "esxcli network ip interface ipv4 set -i vmk0 -c static",
    "hydra -l admin -P /usr/share/wordlists/rockyou.txt ssh://10.0.0.5",
    "crackmapexec smb 10.0.0.0/24 --gen-relay-list relay.txt",
    "image nginx/nginx:1.25@sha256 pulled",
    "openssl passwd -stdin -6",
    "openssl passwd -in /root/passwords.txt",
    "mkpasswd -m help",
    "sonar-scanner -Dsonar.login=ci-bot -Dsonar.password=$SONAR_PW",
    "codecov -f coverage.xml -F unit",
    "snyk auth",
    "snyk auth is needed before snyk test",
    "curl -u admin:$DB_PW https://db.internal/health",
    'curl -u "admin:${DB_PW}" https://db.internal/health',
    "curl --user deploy:%DEPLOY_PW% https://ci.internal/",
]


def test_near_command_lines_without_a_password_stay() -> None:
    """Command lines beside those shapes that give no password (an option without a value, a
    password file, a relay list, a port mapping, a docker image digest, a variable given as the
    password: `curl -u admin:$DB_PW`) are kept whole."""
    assert_each(OPTIONS_KEPT, _unchanged)


PRINTED: list[Case] = [
    (
        "[Note] [MY-010454] [Server] A temporary password is generated for root@localhost: " + PW,
        PW,
        ("[MY-010454]", "root@localhost"),
    ),
    (
        "Jenkins initial setup is required. An admin user has been created and a password "
        "generated.\nPlease use the following password to proceed to installation:\n\n"
        f"{PW}\n\nThis may also be found at: /var/jenkins_home/secrets/initialAdminPassword",
        PW,
        ("/var/jenkins_home/secrets/initialAdminPassword",),
    ),
    (
        f"$ argocd admin initial-password -n argocd\n{PW}\n\n This password must be only used "
        "for first time login.",
        PW,
        ("argocd admin initial-password -n argocd", "first time login"),
    ),
    (
        f"Changed password for user [elastic]\nPASSWORD elastic = {PW}\n"
        f"Changed password for user [kibana_system]\nPASSWORD kibana_system = {PW}",
        PW,
        ("[kibana_system]", "PASSWORD elastic = "),
    ),
    (
        "$ elasticsearch-reset-password -u elastic\nPassword for the [elastic] user "
        f"successfully reset.\nNew value: {PW}",
        PW,
        ("successfully reset.",),
    ),
    (f"PS> Get-Secret -Name db -AsPlainText\n{PW}", PW, ("Get-Secret -Name db",)),
    (
        f"PS> Get-AzKeyVaultSecret -VaultName kv -Name db -AsPlainText\n{PW}",
        PW,
        ("-VaultName kv",),
    ),
]


def test_a_password_a_service_or_command_printed_is_blanked() -> None:
    """The password MySQL, Jenkins, Argo CD and Elasticsearch print at their setup, and the
    output of PowerShell's `Get-Secret -AsPlainText`, are blanked; the lines around stay."""
    assert_each(PRINTED, _blanked)


PRINTED_KEPT = [
    "A temporary password is required for the reset link",
    "Please use the following password policy:\n\nmin length 12",
    "PASSWORD elastic = [REDACTED:password]",
    "New value: 42 (was 40)",
    "PS> Get-Secret -Name db\nSystem.Security.SecureString",
    "$ argocd app list\nguestbook  Synced  Healthy",
]


def test_near_setup_lines_without_a_password_stay() -> None:
    """Setup lines that only talk about a password, a setting's new value outside a password
    reset, and a secret read as a SecureString are kept whole."""
    assert_each(PRINTED_KEPT, _unchanged)


REGISTRY: list[Case] = [
    (
        'reg add "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon" '
        f"/v DefaultPassword /t REG_SZ /d {PW} /f",
        PW,
        ("/v DefaultPassword /t REG_SZ /d ", " /f"),
    ),
    (f'reg.exe add HKLM\\SOFTWARE\\App /v ApiToken /d "{PW}" /f', PW, ("/v ApiToken",)),
    (
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\n"
        f"    DefaultUserName    REG_SZ    admin\n    DefaultPassword    REG_SZ    {PW}",
        PW,
        ("DefaultUserName    REG_SZ    admin", "DefaultPassword    REG_SZ    "),
    ),
]


def test_a_registry_password_is_blanked() -> None:
    """`reg add … /v <secret's name> … /d X` and reg query's `<secret's name>  REG_SZ  X` row
    show X nowhere; the key, the value's name and its type stay."""
    assert_each(REGISTRY, _blanked)


REGISTRY_KEPT = [
    'reg add "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon" /v AutoAdminLogon /t REG_SZ /d 1 /f',
    "    DefaultUserName    REG_SZ    admin",
    "    PasswordExpiryWarning    REG_DWORD    0xe",
]  # fmt: skip


def test_near_registry_values_stay() -> None:
    """A registry value not named like a secret, and a number under a password's setting, are
    kept whole."""
    assert_each(REGISTRY_KEPT, _unchanged)


TWITCH = "oauth:rml3pfa44bwus6al0mljcbp76c6h41"

POSITIONAL: list[Case] = [
    (f"> PASS {TWITCH}\n> NICK alertbot", TWITCH[6:], ("NICK alertbot",)),
    (f"< PASS {PW}\n< NICK bot\n< USER bot 0 * :bot", PW, ("NICK bot",)),
    (f"ipmitool -I lanplus -H bmc user set password 2 {PW}", PW, ("user set password 2",)),
    (f"ipmitool user set password 3 '{PW}' 20", PW, ("user set password 3",)),
    (f"headers.Authorization = 'Basic ' + btoa('bob:{PW}')", PW, ("bob:",)),
    (f"const header = btoa(`bob:{PW}`)", PW, ("bob:",)),
    (f"Buffer.from('bob:{PW}').toString('base64')", PW, ("toString('base64')",)),
    (f"auth=$(echo -n 'bob:{PW}' | base64)", PW, ("| base64)",)),
    (f"printf '%s' bob:{PW} | base64 -w0", PW, ("bob:",)),
    (f"basic = base64.b64encode(b'bob:{PW}').decode()", PW, ("b'bob:",)),
    (f'encoded := base64.StdEncoding.EncodeToString([]byte("bob:{PW}"))', PW, ('"bob:',)),
    (f"ftplib.FTP('ftp.example.com', 'bob', '{PW}')", PW, ("ftp.example.com", "'bob'")),
    (f"ftp = FTP_TLS('ftp.example.com', 'bob', '{PW}')", PW, ("'bob'",)),
    (f"pymssql.connect('db', 'sa', '{PW}', 'app')", PW, ("'sa'", "'app'")),
    (f"pop.pass_('{PW}')", PW, ("pop.pass_(",)),
    (f"EXEC sp_addlogin 'app', '{PW}'", PW, ("'app'",)),
    (f"EXEC sp_addlogin @loginame = N'app', @passwd = N'{PW}'", PW, ("N'app'",)),
    (f"EXEC sp_password NULL, '{PW}', 'app'", PW, ("'app'",)),
    (f'.username("app").password(Some("{PW}"))', PW, ('.username("app")',)),
    (f'builder.password(String::from("{PW}"))', PW, ("builder.password(",)),
    (f'cfg.setPassword(Optional.of("{PW}"))', PW, ("cfg.setPassword(",)),
    (f"$ENV{{DB_PASSWORD}} = '{PW}';", PW, ("$ENV{DB_PASSWORD}",)),
    (f"local $ENV{{'API_TOKEN'}} = \"{PW}\";", PW, ("API_TOKEN",)),
    (f"$config{{password}} = '{PW}';", PW, ("$config{password}",)),
]


def test_a_password_by_its_place_is_blanked() -> None:
    """IRC's `PASS` before `NICK`, ipmitool's `user set password <id> X`, a `user:password`
    literal handed to a base64 encoder, ftplib's and pymssql's password argument, poplib's
    `pass_`, sp_addlogin's and sp_password's, a builder's wrapped `.password(Some(…))` and
    Perl's `$ENV{X} = '…'` show the password nowhere."""
    assert_each(POSITIONAL, _blanked)


POSITIONAL_KEPT = [
    "> PASS\n> NICK alertbot",
    "tests PASS: 42, FAIL: 0",
    "ipmitool user set name 2 admin",
    "ipmitool user list 1",
    "btoa('hello world')",
    "Buffer.from('host:5432').length",
    "echo -n 'dXNlcjpwdw==' | base64 -d",
    "echo -n hello | base64",
    "base64.b64encode(data).decode()",
    "ftplib.FTP('ftp.example.com')",
    "ftp = FTP(host, user, password)",
    "EXEC sp_addlogin @loginame, @passwd",
    '.password(Some(env::var("DB_PASSWORD")?))',
    'cfg.setPassword(Optional.of(System.getenv("DB_PASSWORD")))',
    "$ENV{DB_PASSWORD} = $ARGV[0];",
    "$ENV{PATH} = '/usr/bin:/bin';",
    "$config{host} = 'db.internal';",
]


def test_near_calls_and_commands_without_a_password_stay() -> None:
    """A `PASS` with no value, a test summary's `PASS:`, ipmitool's other user commands, an
    encoder given no `user:password`, a decode, a call given variables, a secret read from the
    environment and a Perl hash key not named like a secret are kept whole."""
    assert_each(POSITIONAL_KEPT, _unchanged)


def _blanked_in_json(case: Case) -> tuple[object, object]:
    """For `assert_each`: `_blanked`'s check of the case's text as a JSON string's value (line
    breaks and quotes escaped), its kept words aside."""
    text, secret, _ = case
    return _blanked((json.dumps({"log": text}), secret, ()))


def test_each_shape_inside_a_json_string_is_blanked() -> None:
    """Every case above, as the value of a JSON log line (escaped line breaks and quotes),
    shows its secret nowhere, and a second pass changes nothing."""
    assert_each([*OPTIONS, *ATTACKS, *PRINTED, *REGISTRY, *POSITIONAL], _blanked_in_json)
