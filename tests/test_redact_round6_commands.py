"""Round 6 command, call and positional fixes: CI workflow commands that carry a secret, a
here-string given to a command that reads a secret, a backup tool's echoing password command,
more passwords by their place (mosquitto_passwd -b, mssql-cli -P, travis encrypt), PowerShell's
own forms, the mongo shell's and Oracle's statements, SQL crypto functions' keys, package
registries' credentials and pass-the-hash options. Each case checks that redaction is a fixed
point, and each class has near misses that must stay as they are."""

from __future__ import annotations

import json

import pytest

from triage.redact import redact

PASSWORD = "Xk7pL2mR9tQwE4rT"
TOKEN = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY"
NT_HASH = "8846f7eaee8fb117ad06bdd830b7586c"
PW = "[REDACTED:password]"


def _fixed(text: str) -> str:
    """`text` redacted, after checking that redacting the result changes nothing more."""
    once = redact(text)
    assert redact(once) == once
    return once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"+ echo ::add-mask::{TOKEN}", f"+ echo ::add-mask::{PW}"),
        (
            f"##vso[task.setvariable variable=deployToken;issecret=true]{TOKEN}",
            f"##vso[task.setvariable variable=deployToken;issecret=true]{PW}",
        ),
        (
            f"##teamcity[setParameter name='env.DEPLOY_TOKEN' value='{TOKEN}']",
            f"##teamcity[setParameter name='env.DEPLOY_TOKEN' value='{PW}']",
        ),
        (
            f'echo "::set-output name=deploy_token::{TOKEN}"',
            f'echo "::set-output name=deploy_token::{PW}"',
        ),
    ],
    ids=["add-mask", "vso-issecret", "teamcity", "set-output"],
)
def test_a_ci_workflow_command_carrying_a_secret_is_blanked(text: str, expected: str) -> None:
    """A CI workflow command that marks its value secret, or names it like one, shows only a
    placeholder where the value was."""
    assert _fixed(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "::set-output name=image_tag::v1.2.3",
        "##teamcity[setParameter name='env.BUILD_NUMBER' value='42']",
        "##vso[task.setvariable variable=tag]v1.2.3",
        "echo ::add-mask::$TOKEN",
    ],
    ids=["set-output-tag", "teamcity-build-number", "vso-not-secret", "add-mask-variable"],
)
def test_a_ci_workflow_commands_plain_value_stays(text: str) -> None:
    """A workflow command's value neither marked secret nor named like one, and a variable
    reference given to `::add-mask::`, stay."""
    assert _fixed(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"read -rs DB_PASS <<< '{PASSWORD}'", f"read -rs DB_PASS <<< '{PW}'"),
        (
            f"keepassxc-cli open vault.kdbx --pw-stdin <<< {PASSWORD}",
            f"keepassxc-cli open vault.kdbx --pw-stdin <<< {PW}",
        ),
        ("cryptsetup open /dev/sdb data <<< hunter2", f"cryptsetup open /dev/sdb data <<< {PW}"),
        (f"pass insert -e prod/db <<< {PASSWORD}", f"pass insert -e prod/db <<< {PW}"),
        (
            f"vercel env add DB_PASSWORD production <<< {PASSWORD}",
            f"vercel env add DB_PASSWORD production <<< {PW}",
        ),
        (f"some-tool import <<< {TOKEN}", f"some-tool import <<< {PW}"),
    ],
    ids=["read-silent", "pw-stdin", "cryptsetup", "pass-insert", "named-secret", "random-value"],
)
def test_a_here_string_a_command_reads_as_a_secret_is_blanked(text: str, expected: str) -> None:
    """A here-string goes when the command line says it reads a secret (a silent read, a
    `-stdin` option, a disk's key, a password store, a secret's name) or the value is random
    text by itself."""
    assert _fixed(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "bc <<< 2+2",
        'grep -c x <<< "a b c"',
        "read -r line <<< hello",
        "tr a-z A-Z <<< Version2Build",
        "jq . <<< '{\"a\": 1}'",
    ],
    ids=["bc", "grep-sentence", "read-not-silent", "camel-case-word", "jq"],
)
def test_an_ordinary_here_string_stays(text: str) -> None:
    """A word, a name or a sentence given to a command that reads no secret stays."""
    assert _fixed(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"restic -r s3:backups --password-command 'echo {PASSWORD}' backup /data",
            f"restic -r s3:backups --password-command 'echo {PW}' backup /data",
        ),
        (
            f'BORG_PASSCOMMAND="echo {PASSWORD}" borg create ::nightly /data',
            f'BORG_PASSCOMMAND="echo {PW}" borg create ::nightly /data',
        ),
        (
            f"mosquitto_passwd -b /etc/mosquitto/passwd sensor {PASSWORD}",
            f"mosquitto_passwd -b /etc/mosquitto/passwd sensor {PW}",
        ),
        (f"mssql-cli -S db -U sa -P {PASSWORD}", f"mssql-cli -S db -U sa -P {PW}"),
        (f"travis encrypt {PASSWORD} --add", f"travis encrypt {PW} --add"),
        (
            f"travis encrypt -r org/app DB_PASS={PASSWORD}",
            f"travis encrypt -r org/app DB_PASS={PW}",
        ),
    ],
    ids=["restic", "borg", "mosquitto-passwd", "mssql-cli", "travis", "travis-named"],
)
def test_a_password_a_command_is_given_is_blanked(text: str, expected: str) -> None:
    """An echoing password command's password, and the password mosquitto_passwd's batch mode,
    mssql-cli's -P and travis encrypt take by their place, go."""
    assert _fixed(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "restic --password-command 'pass show restic' backup",
        "mosquitto_passwd -c /etc/mosquitto/passwd alice",
        "mosquitto_passwd -U /etc/mosquitto/passwd",
        "travis encrypt is slow",
        "travis encrypt --help",
        "mssql-cli -S db -U sa -P",
    ],
    ids=["restic-pass-show", "mosquitto-ask", "mosquitto-upgrade", "travis-prose", "travis-help",
         "mssql-cli-prompts"],
)  # fmt: skip
def test_a_command_given_no_password_stays(text: str) -> None:
    """A password command that reads a store, and commands that ask for the password or are
    talked about, stay."""
    assert _fixed(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"$cred = [System.Net.NetworkCredential]::new('svc-backup', '{PASSWORD}')",
            f"$cred = [System.Net.NetworkCredential]::new('svc-backup', '{PW}')",
        ),
        (
            f'$password = @"\n{PASSWORD}\nsecond line\n"@\nWrite-Host ok',
            f'$password = {PW}"\n{PW}\n"@\nWrite-Host ok',
        ),
        (
            f"Set-Variable -Name password -Value {PASSWORD}",
            f"Set-Variable -Name password -Value {PW}",
        ),
    ],
    ids=["networkcredential-new", "here-string", "set-variable"],
)
def test_a_password_in_powershells_forms_is_blanked(text: str, expected: str) -> None:
    """PowerShell's `::new(user, password)`, a here-string assigned to `$password` (all its
    lines) and `Set-Variable -Name password -Value` show only placeholders."""
    assert _fixed(text) == expected


def test_a_powershell_here_string_inside_a_json_string_is_blanked() -> None:
    """The here-string's lines go also when the script is a JSON string's (`\\n`, `\\"`)."""
    out = _fixed(json.dumps({"script": f'$password = @"\n{PASSWORD}\n"@\nexit 1'}))
    assert PASSWORD not in out
    assert json.loads(out)["script"].endswith('\n"@\nexit 1')


@pytest.mark.parametrize(
    "text",
    ['$greeting = @"\nhello\n"@', "Set-Variable -Name count -Value 5"],
    ids=["here-string", "set-variable"],
)
def test_a_powershell_value_of_another_name_stays(text: str) -> None:
    """A here-string or a variable not named like a secret stays."""
    assert _fixed(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'db.getSiblingDB("admin").auth("root", "{PASSWORD}")',
            f'db.getSiblingDB("admin").auth("root", "{PW}")',
        ),
        (f'db.changeUserPassword("app", "{PASSWORD}")', f'db.changeUserPassword("app", "{PW}")'),
        (
            f"CREATE DATABASE LINK sales CONNECT TO scott IDENTIFIED BY {PASSWORD} USING 'orcl';",
            f"CREATE DATABASE LINK sales CONNECT TO scott IDENTIFIED BY {PW} USING 'orcl';",
        ),
        (
            f"SELECT pgp_sym_encrypt(card_number, '{PASSWORD}') FROM cards",
            f"SELECT pgp_sym_encrypt(card_number, '{PW}') FROM cards",
        ),
        (
            f"SELECT AES_ENCRYPT(ssn, '{PASSWORD}') FROM people",
            f"SELECT AES_ENCRYPT(ssn, '{PW}') FROM people",
        ),
        (
            f"UPDATE users SET hash = crypt('{PASSWORD}', gen_salt('bf'))",
            f"UPDATE users SET hash = crypt('{PW}', gen_salt('bf'))",
        ),
    ],
    ids=["mongo-auth", "mongo-change", "oracle-link", "pgp-sym", "aes", "crypt"],
)
def test_a_password_in_a_database_statement_is_blanked(text: str, expected: str) -> None:
    """The mongo shell's auth calls, Oracle's database link and SQL crypto functions show the
    password or key nowhere; the user and the data's column stay."""
    assert _fixed(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "db.auth(user, pwd)",
        "crypt($pw, $salt)",
        "SELECT pgp_sym_decrypt(data, current_setting('app.key'))",
        "CREATE DATABASE LINK sales CONNECT TO scott IDENTIFIED BY VALUES 'S:abc' USING 'orcl'",
        "SELECT my_decrypt('label', 'x')",
    ],
    ids=["variables", "php-variables", "key-from-setting", "by-values", "other-decrypt"],
)
def test_a_database_statement_without_a_literal_secret_stays(text: str) -> None:
    """Variables, a key read from a setting, a hash given `BY VALUES` and a function merely
    ending in `crypt` stay."""
    assert _fixed(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"BUNDLE_GEMS__CORP__COM=ci-bot:{TOKEN}", f"BUNDLE_GEMS__CORP__COM=ci-bot:{PW}"),
        (
            f"bundle config set --global gems.corp.com ci-bot:{TOKEN}",
            f"bundle config set --global gems.corp.com ci-bot:{PW}",
        ),
        (
            f"composer config --global http-basic.repo.corp.com ci-bot {TOKEN}",
            f"composer config --global http-basic.repo.corp.com ci-bot {PW}",
        ),
        (
            f"composer config -g github-oauth.github.com {TOKEN}",
            f"composer config -g github-oauth.github.com {PW}",
        ),
        (
            f'{{"github-oauth": {{"github.com": "{TOKEN}"}}}}',
            f'{{"github-oauth": {{"github.com": "{PW}"}}}}',
        ),
        (
            f"dotnet nuget add source https://nuget.corp/v3 -n corp -u ci-bot -p {TOKEN}",
            f"dotnet nuget add source https://nuget.corp/v3 -n corp -u ci-bot -p {PW}",
        ),
        (
            f"conan remote login corp ci-bot -p {TOKEN}",
            f"conan remote login corp ci-bot -p {PW}",
        ),
        (
            f'Credentials("Artifactory Realm", "repo.corp", "ci-bot", "{TOKEN}")',
            f'Credentials("Artifactory Realm", "repo.corp", "ci-bot", "{PW}")',
        ),
    ],
    ids=["bundler-env", "bundle-config", "composer-http-basic", "composer-github-oauth",
         "auth-json", "nuget", "conan", "sbt"],
)  # fmt: skip
def test_a_package_registry_credential_is_blanked(text: str, expected: str) -> None:
    """A package registry's token or password goes; its host and user stay."""
    assert _fixed(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "BUNDLE_BUILD__NOKOGIRI=--use-system-libraries",
        "BUNDLE_PATH=vendor/bundle",
        "bundle config set --local path vendor/bundle",
        "composer config --global process-timeout 600",
        'Credentials(Path.userHome / ".sbt" / ".credentials")',
        "conan install . -pr default",
    ],
    ids=["bundler-build", "bundler-path", "bundle-path", "composer-setting", "sbt-file",
         "conan-profile"],
)  # fmt: skip
def test_a_package_managers_setting_stays(text: str) -> None:
    """Settings that are no credential (a build flag, a path, a timeout, a credentials file's
    path, a profile) stay."""
    assert _fixed(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"evil-winrm -i 10.0.0.5 -u admin -H {NT_HASH}",
            f"evil-winrm -i 10.0.0.5 -u admin -H {PW}",
        ),
        (
            f"impacket-psexec -hashes :{NT_HASH} admin@10.0.0.5",
            f"impacket-psexec -hashes {PW} admin@10.0.0.5",
        ),
        (
            f"secretsdump.py -hashes aad3b435b51404eeaad3b435b51404ee:{NT_HASH} corp/admin@dc01",
            f"secretsdump.py -hashes {PW} corp/admin@dc01",
        ),
    ],
    ids=["evil-winrm", "impacket-psexec", "secretsdump"],
)
def test_an_nt_hash_given_to_a_command_is_blanked(text: str, expected: str) -> None:
    """An NT hash given to log in with (pass-the-hash) goes as a password does."""
    assert _fixed(text) == expected


@pytest.mark.parametrize(
    "text",
    ["smbmap -H 10.0.0.5 -u bob", "evil-winrm -i 10.0.0.5 -u admin -H"],
    ids=["smbmap-host", "evil-winrm-no-hash"],
)
def test_a_host_option_stays(text: str) -> None:
    """smbmap's -H is its host, and a -H given nothing hides nothing."""
    assert _fixed(text) == text
