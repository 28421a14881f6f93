"""Redaction of passwords given to commands on their command line (curl, openssl, keytool,
htpasswd, az), and of what such commands' look-alikes say without a secret."""

from __future__ import annotations

import pytest

from scaling import assert_linear
from triage.redact import redact

GIVEN = [
    # curl's -u glued to its value, as curl takes it.
    ("curl -uadmin:hunter2pass https://x", "curl -uadmin:[REDACTED:password] https://x"),
    # openssl's pass phrase arguments: `pass:` gives it in clear; the scheme word stays.
    (
        "openssl pkcs12 -export -passout pass:hunter2pass -out x.p12",
        "openssl pkcs12 -export -passout pass:[REDACTED:password] -out x.p12",
    ),
    (
        "openssl rsa -in key.pem -passin pass:hunter2pass",
        "openssl rsa -in key.pem -passin pass:[REDACTED:password]",
    ),
    (
        "openssl enc -aes256 -pass pass:hunter2pass",
        "openssl enc -aes256 -pass pass:[REDACTED:password]",
    ),
    # keytool's and Java tools' single-dash options.
    (
        "keytool -list -storepass hunter2pass -keypass hunter3pass",
        "keytool -list -storepass [REDACTED:password] -keypass [REDACTED:password]",
    ),
    (
        "keytool -importkeystore -srcstorepass hunter2pass -deststorepass=hunter3pass",
        "keytool -importkeystore -srcstorepass [REDACTED:password] -deststorepass=[REDACTED:password]",
    ),
    # htpasswd's batch mode takes the password as its last argument.
    (
        "htpasswd -b /etc/nginx/.htpasswd admin hunter2pass",
        "htpasswd -b /etc/nginx/.htpasswd admin [REDACTED:password]",
    ),
    ("htpasswd -nbB admin hunter2pass", "htpasswd -nbB admin [REDACTED:password]"),
    (
        "sudo htpasswd -cb .htpasswd ops 'a b c'",
        "sudo htpasswd -cb .htpasswd ops '[REDACTED:password]'",
    ),
    # The Azure CLI's login takes -p like docker login.
    (
        "az login --service-principal -u http://app -p hunter2pass --tenant t",
        "az login --service-principal -u http://app -p [REDACTED:password] --tenant t",
    ),
    # Each command's own password option, and only that command's: redis-cli's -p is a port.
    ("redis-cli -h r -p 6379 -a hunter2pass", "redis-cli -h r -p 6379 -a [REDACTED:password]"),
    (
        "sqlcmd -S db -U sa -P hunter2pass -Q 'x'",
        "sqlcmd -S db -U sa -P [REDACTED:password] -Q 'x'",
    ),
    (
        "ipmitool -I lanplus -H 10.0.0.1 -U admin -P hunter2pass power status",
        "ipmitool -I lanplus -H 10.0.0.1 -U admin -P [REDACTED:password] power status",
    ),
    ("zip -P hunter2pass out.zip a", "zip -P [REDACTED:password] out.zip a"),
    ("7z a -phunter2pass x.7z a", "7z a -p[REDACTED:password] x.7z a"),
    ("ssh-keygen -N hunter2pass -f key", "ssh-keygen -N [REDACTED:password] -f key"),
    (
        "snmpwalk -v3 -u ops -A hunter2pass -X hunter3pass host",
        "snmpwalk -v3 -u ops -A [REDACTED:password] -X [REDACTED:password] host",
    ),
    (
        "smbclient //srv/share -U admin%hunter2pass",
        "smbclient //srv/share -U admin%[REDACTED:password]",
    ),
    (
        "lftp -u admin,hunter2pass ftp.example.com",
        "lftp -u admin,[REDACTED:password] ftp.example.com",
    ),
    (
        "rabbitmqctl change_password admin hunter2pass",
        "rabbitmqctl change_password admin [REDACTED:password]",
    ),
    (
        "mc alias set minio http://minio:9000 admin hunter2pass",
        "mc alias set minio http://minio:9000 admin [REDACTED:password]",
    ),
    # SQL: a password unquoted (Oracle), after a plugin, or as PASSWORD('…').
    (
        "CREATE USER app IDENTIFIED BY hunter2pass;",
        "CREATE USER app IDENTIFIED BY [REDACTED:password];",
    ),
    (
        "ALTER USER 'app'@'%' IDENTIFIED WITH mysql_native_password BY 'hunter2pass';",
        "ALTER USER 'app'@'%' IDENTIFIED WITH mysql_native_password BY '[REDACTED:password]';",
    ),
    (
        "SET PASSWORD FOR 'app'@'%' = PASSWORD('hunter2pass');",
        "SET PASSWORD FOR 'app'@'%' = PASSWORD('[REDACTED:password]');",
    ),
]


@pytest.mark.parametrize(("text", "expected"), GIVEN)
def test_a_password_on_a_command_line_is_redacted(text: str, expected: str) -> None:
    """A password a command takes as an argument becomes a placeholder; the command stays."""
    assert redact(text) == expected


@pytest.mark.parametrize("expected", [e for _, e in GIVEN])
def test_a_redacted_command_line_redacts_to_itself(expected: str) -> None:
    """Redacting again changes nothing."""
    assert redact(expected) == expected


KEPT = [
    # A user and group id, not a user and password.
    "docker run -u 1000:1000 app; docker exec -u0:0 app sh",
    # Pass phrases read from elsewhere: the variable's or the file's name stays.
    "openssl rsa -passin env:KEY_PASS -passout file:/run/secrets/pw -pass stdin",
    "keytool -storepass:env STORE_PASS -keypass:file /run/secrets/kp",
    # htpasswd without -b asks for the password; a flag or a bypass is no password.
    "htpasswd -c /etc/nginx/.htpasswd admin",
    "nginx -bypass on; compass -keypass-file /x",
    # A token read from a file by the shell, a passphrase left empty, a port.
    "gh auth login --with-token < token.txt; ssh-keygen -N '' -f key; mongo -port 27017",
    "ipmitool -I lanplus -p 623 -H host; zip -r out.zip dir; snmpwalk -v2c -X",
    # A value that says what state the password is in.
    "nginx: [warn] the ssl directive is deprecated (password: hidden)",
    "db password: masked, api token: redacted, secret: not provided",
    # Prose that reads like SQL's clause.
    "every alert, identified by its labels; the host is identified by hostname",
]


@pytest.mark.parametrize("text", KEPT)
def test_command_lines_without_a_password_stay(text: str) -> None:
    """Ids, pass phrase sources and commands that prompt keep their text."""
    assert redact(text) == text


HOSTILE = [
    "htpasswd -b " * 20_000,  # batch mode, never a password
    "htpasswd -" + "b" * 200_000,  # one flag cluster past any bound
    "-storepass -keypass " * 10_000,  # options that take an option
    "-passin pass:" * 20_000,  # a pass phrase that is the next option's name
    "curl -u" * 30_000,  # a glued user never ended by a colon
    "-U " + "a" * 200_000,  # a user never ended by a `%`
    "rabbitmqctl add_user " * 10_000,  # users without a password
    "mc alias set a b c " * 10_000,  # … and aliases
    "IDENTIFIED BY " * 15_000,  # a password that is the next statement's words
    "snmpwalk -A -X " * 10_000 + "\nredis-cli -a " * 10_000,  # options without values
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=[repr(h[:20]) for h in HOSTILE])
def test_command_lines_are_redacted_in_linear_time(hostile: str) -> None:
    """Near-miss command lines cost time in proportion to their length."""
    assert_linear(lambda n: redact(hostile[:n]), 16_384)


def test_a_placeholder_after_a_secret_option_stays() -> None:
    """`--dd-app-key $DD_APP_KEY` and `--password ${DB_PASSWORD}` say where the secret comes
    from, as `name=$VAR` does: they stay; a literal after the option goes."""
    kept = "deploy --dd-app-key $DD_APP_KEY --password ${DB_PASSWORD} --api-key %s"
    assert redact(kept) == kept
    assert redact("deploy --dd-app-key 0123abcd") == "deploy --dd-app-key [REDACTED:password]"
