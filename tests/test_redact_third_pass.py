"""Redaction's third pass of leftovers: passwords given to a command quoted whole (holding the
other kind of quote), curl's proxy credentials, `net use … /user:me pw`, smbclient's and
Oracle's quoted passwords, a literal before a fallback to a secret, a password told in prose or
to Redis's AUTH, and JSON quoted inside a JSON string with an escaped quote in a value. Each is
checked as written, inside a JSON string, and as a JSON string's text alone."""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

#: A made-up password of no known shape: only the text around it says it is one.
PASSWORD = "Zq7xK9pL2vWm"


def _forms(text: str) -> list[str]:
    """`text` as written, as a JSON string's inside, as a JSON string, and inside an object."""
    quoted = json.dumps(text)
    return [text, quoted[1:-1], quoted, json.dumps({"d": text})]


def _assert_redacted(text: str) -> None:
    for form in _forms(text):
        redacted = Redactor().text(form)
        assert PASSWORD not in redacted, (form, redacted)
        assert "[REDACTED" in redacted, (form, redacted)


@pytest.mark.parametrize(
    "command",
    [
        f'curl -u "admin:it\'s{PASSWORD}" https://api.example.com',
        f"curl --user 'admin:pa\"ss{PASSWORD}' https://api.example.com",
        f"curl -U 'admin:it\"s{PASSWORD}' https://api.example.com",
        f'curl --proxy-user "admin:it\'s{PASSWORD}" https://api.example.com',
        f"curl -U admin:{PASSWORD} https://api.example.com",
        f"curl --proxy-user admin:{PASSWORD} https://api.example.com",
        f'sshpass -p "it\'s{PASSWORD}" ssh db-1',
        f"sshpass -p 'pa\"ss{PASSWORD}' ssh db-1",
        f'mysql -u root -p"it\'s{PASSWORD}" orders',
        f"mysql -u root -p'pa\"ss{PASSWORD}' orders",
    ],
)
def test_a_quoted_command_password_goes_whole(command: str) -> None:
    """A command's password quoted whole, holding the other kind of quote, or given to curl's
    proxy options, is redacted to its closing quote, in every form."""
    _assert_redacted(command)


@pytest.mark.parametrize(
    "command",
    [
        f"net use \\\\host\\share /user:me {PASSWORD}",
        f"net use Z: \\\\host\\share /user:CORP\\me /persistent:no {PASSWORD}",
        f'smbclient -U bob%"{PASSWORD}" //host/share',
        f"smbclient -U bob%'it\"s{PASSWORD}' //host/share",
        f"lftp -u bob,'it\"s{PASSWORD}' sftp://host",
        f'sqlplus scott/"{PASSWORD}"@db',
        f'sqlplus scott/"it\'s{PASSWORD}"@db',
    ],
)
def test_a_password_known_by_its_place_goes_quoted_or_after_switches(command: str) -> None:
    """`net use`'s password after its `/user:` switch, smbclient's `user%"pw"` and Oracle's
    `user/"pw"@db` lose the password, in every form."""
    _assert_redacted(command)


@pytest.mark.parametrize(
    "command",
    [
        'docker run -u "1000:1000" alpine',
        "net use \\\\host\\share /user:me /persistent:no",
        "net use \\\\host\\share /user:me *",
        "sqlplus / as sysdba",
    ],
)
def test_what_is_no_password_stays(command: str) -> None:
    """A user and group id quoted, a `net use` with switches only or `*` (asks), and Oracle's
    `/ as sysdba` are left as they are."""
    assert Redactor().text(command) == command


@pytest.mark.parametrize(
    "code",
    [
        f'"{PASSWORD}" || process.env.DB_PASSWORD',
        f'"{PASSWORD}" ?? process.env.DB_PASSWORD',
        f"'{PASSWORD}' || process.env.DB_PASSWORD",
        f"`{PASSWORD}` ?? process.env.DB_PASSWORD",
        f"'{PASSWORD}' if debug else os.environ['DB_PASSWORD']",
    ],
)
def test_a_literal_heading_a_fallback_to_a_secret_goes_at_a_strings_start(code: str) -> None:
    """A literal in any quotes before an operator and a read of a secret's name is redacted
    when it opens the text, a JSON string, or that string's inside."""
    _assert_redacted(code)


def test_a_literal_before_a_read_of_no_secret_stays() -> None:
    """A literal before a fallback to a setting of no secret's name is kept, in every form."""
    for form in _forms("'us-east-1' || process.env.AWS_REGION"):
        assert Redactor().text(form) == form


@pytest.mark.parametrize(
    "text",
    [
        'the password is "s3cr3t-literal-42"',
        "the password is 'it's-literal-42'",
        f"the password is 'it's-{PASSWORD}'",
        f'the password was set to "pa"ss{PASSWORD}"',
        f"password for admin is it's{PASSWORD}",
        'AUTH "s3cr3t-literal-42"',
        f'AUTH "{PASSWORD}"',
        'redis-cli AUTH default "s3cr3t-literal-42"',
        f"redis-cli -h db-1 AUTH default '{PASSWORD}'",
    ],
)
def test_a_password_told_in_words_or_to_redis_goes_alike_in_every_form(text: str) -> None:
    """A password told in prose or given to Redis's AUTH (alone on its line, or on
    redis-cli's command line) is redacted whole, quoted identifiers and quotes inside it too,
    as written and inside a JSON string alike."""
    for form in _forms(text):
        redacted = Redactor().text(form)
        assert "literal-42" not in redacted and PASSWORD not in redacted, (form, redacted)
        assert "[REDACTED:password]" in redacted, (form, redacted)


@pytest.mark.parametrize(
    "text",
    [
        "the password is incorrect",
        "the password is db01.example.com",
        "password expired on 2026-12-01",
        "auth failed",
        "AUTH rotation-job-7",
    ],
)
def test_prose_about_a_password_stays(text: str) -> None:
    """A word, a date, or a bare lower-case identifier after a password's name is no password,
    in every form."""
    for form in _forms(text):
        assert Redactor().text(form) == form


@pytest.mark.parametrize(
    "inner",
    [
        {"password": f'pa"ss{PASSWORD}'},
        {"api_token": f'a"b{PASSWORD}'},
        {"client_secret": f'x\\y"{PASSWORD}'},
    ],
    ids=["quote", "quote-under-a-token", "backslash-and-quote"],
)
def test_json_quoted_in_a_json_string_loses_a_value_holding_an_escaped_quote(
    inner: dict[str, str],
) -> None:
    """JSON written into a JSON string (once or twice over), its secret's value holding a quote
    (escaped twice: `\\\\\\"`) or a backslash: no part of the value is left."""
    once = json.dumps(json.dumps(inner))
    twice = json.dumps(once)
    for form in (once[1:-1], once, json.dumps({"d": json.loads(once)}), twice):
        redacted = Redactor().text(form)
        assert PASSWORD not in redacted, (form, redacted)
        assert "[REDACTED:password]" in redacted, (form, redacted)


def test_json_quoted_in_a_json_string_keeps_its_other_values() -> None:
    """The value after a secret's (a plain one, holding escaped quotes too) stays whole."""
    text = json.dumps(json.dumps({"password": f'pa"ss{PASSWORD}', "note": 'say "hi"'}))
    redacted = Redactor().text(text)
    assert PASSWORD not in redacted
    assert json.loads(json.loads(redacted))["note"] == 'say "hi"'


@pytest.mark.parametrize(
    "command",
    [
        f'rabbitmqctl add_user bob "it\'s{PASSWORD}"',
        f"rabbitmqctl change_password bob 'pa\"ss{PASSWORD}'",
        f'mc alias set s3 https://s3.example.com AKIAEXAMPLE "it\'s{PASSWORD}"',
    ],
)
def test_a_positional_command_password_quoted_whole_goes_whole(command: str) -> None:
    """rabbitmqctl's and mc's positional password, quoted and holding the other kind of quote,
    is redacted to its closing quote, in every form."""
    _assert_redacted(command)


def test_json_quoting_json_that_quotes_text_loses_the_password_without_its_outer_quotes() -> None:
    """A JSON string's inside (no outer quotes) whose JSON holds text quoting a password with
    an escaped quote in it (three levels of escapes): the whole password goes, the rest stays
    readable JSON."""
    inner = json.dumps({"msg": f'password="pa\\"ss{PASSWORD}" end', "host": "db-1"})
    text = json.dumps(inner)[1:-1]
    redacted = Redactor().text(text)
    assert PASSWORD not in redacted
    assert json.loads(json.loads(f'"{redacted}"'))["host"] == "db-1"
