"""Round 14 (helper 450): what round 13 left (a short random value after a secret's name and a
space, a short key under any `<VENDOR>_KEY`, `PGPASS=`, a bare `login(u, pw)` and `setAuth`)
and the neighbours that only look random, which must stay."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

SHORT = "q7Wz2Lk9Xa"
FIFTEEN = "Xk9vQ2mZp7Lw4Rt"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- a short random value after a secret's name and a space -----------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'api_key "{SHORT}"', f'api_key "{P}"'),
        (f"api_key {SHORT}", f"api_key {P}"),
        (f'api_key "{FIFTEEN}";', f'api_key "{P}";'),
        (f'secret_key "{SHORT}";', f'secret_key "{P}";'),
        (f"token {SHORT};", f"token {P};"),
        (f'  client_secret "{SHORT}"', f'  client_secret "{P}"'),
        (f'SecretString "{SHORT}"', f'SecretString "{P}"'),
        ('SecretString "hunter2x"', f'SecretString "{P}"'),
        (f'password "{SHORT}";', f'password "{P}";'),
    ],
)
def test_short_random_value_after_a_name_and_a_space_is_redacted(text: str, expected: str) -> None:
    """A config format's `name "value"` (nginx, HCL, Apache) under 16 characters goes when it is
    random by its shape; `SecretString`'s value goes whatever it is, as a password's does."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "api_key Report2024Q1",
        'token "OPS-1234"',
        "token expired",
        "secret 3f2a9c1",
        "token getUserById2",
        "api_key 0d4f5e6a-1b2c-4d3e-8f90-a1b2c3d4e5f6",
        'SecretString "invalid"',
        "the api key iPhone12Pro",
    ],
)
def test_word_shaped_value_after_a_name_and_a_space_stays(text: str) -> None:
    """A name's words, an issue's key, a short hash, a uuid and CamelCase stay."""
    assert _text(text) == text


# --- a short key under any `<VENDOR>_KEY` -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"STRIPE_KEY={FIFTEEN}", f"STRIPE_KEY={P}"),
        (f"SENDGRID_KEY={FIFTEEN}", f"SENDGRID_KEY={P}"),
        (f"MAILGUN_KEY={SHORT}", f"MAILGUN_KEY={P}"),
        (f"STRIPE_KEY={FIFTEEN}Ab", f"STRIPE_KEY={P}"),
        (f"STRIPE_KEY={FIFTEEN}Abc9", f"STRIPE_KEY={P}"),
        (f'STRIPE_KEY "{FIFTEEN}"', f'STRIPE_KEY "{P}"'),
        (f'stripeKey: "{SHORT}"', f'stripeKey: "{P}"'),
        (f"stripe.key: {SHORT}", f"stripe.key: {P}"),
    ],
)
def test_short_random_vendor_key_is_redacted(text: str, expected: str) -> None:
    """A key under any `<VENDOR>_KEY` name goes under 20 characters too: random by its shape
    under 16, key-shaped from 16."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "cache_key=user:42",
        "sort_key=createdAt",
        "object_key=Report2024Q1",
        "issue_key=OPS-1234",
        "partition_key=customerId2",
        "commit_key=3f2a9c1b7e",
        "STRIPE_KEY=${STRIPE_KEY}",
    ],
)
def test_word_shaped_value_under_a_key_name_stays(text: str) -> None:
    """An object's, a sort's, an issue's key, a short hash and a reference stay."""
    assert _text(text) == text


# --- libpq's PGPASS and its neighbours ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"PGPASS={FIFTEEN}", f"PGPASS={P}"),
        ("PGPASS=hunter2", f"PGPASS={P}"),
        ("export PGPASS='hunter2'", f"export PGPASS='{P}'"),
        ("SMBPASS=hunter2", f"SMBPASS={P}"),
    ],
)
def test_glued_pass_variable_is_redacted(text: str, expected: str) -> None:
    """`PGPASS` (and Samba's `SMBPASS`), a password's variable glued to its client, go."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["PGPASSFILE=/home/u/.pgpass", "pgpass: not found", "chmod 0600 ~/.pgpass"],
)
def test_pgpass_file_and_its_word_stay(text: str) -> None:
    """The password file's variable and path, and the word in lower case, stay."""
    assert _text(text) == text


# --- a user and a password by their place -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'setAuth("u", "{FIFTEEN}")', f'setAuth("u", "{P}")'),
        ("client.setAuth('bob', 'hunter2')", f"client.setAuth('bob', '{P}')"),
        ("setAuth(`bob`, `hunter2`)", f"setAuth(`bob`, `{P}`)"),
        (f'login("u", "{FIFTEEN}")', f'login("u", "{P}")'),
        ("login('bob', 'hunter2')", f"login('bob', '{P}')"),
        ('await login(\\"bob\\", \\"hunter2\\")', f'await login(\\"bob\\", \\"{P}\\")'),
    ],
)
def test_user_then_password_call_keeps_the_user(text: str, expected: str) -> None:
    """`setAuth(u, pw)` and a bare `login(u, pw)` lose the password by its place; the user
    and the call stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "login(user, password)",
        'login("bob", process.env.PW)',
        'setAuth("bob")',
        'logging.info("login", "ok")',
        'blogin("a", "b")',
    ],
)
def test_user_then_password_call_without_a_literal_stays(text: str) -> None:
    """A call given variables, one argument, or another function's name stays whole."""
    assert _text(text) == text


# --- probes: an ORM's connection by its place ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "const sequelize = new Sequelize('orders', 'app', 'hunter2x', { host: 'db' })",
            f"const sequelize = new Sequelize('orders', 'app', '{P}', {{ host: 'db' }})",
        ),
        (
            f'new Sequelize("orders", "app", "{FIFTEEN}")',
            f'new Sequelize("orders", "app", "{P}")',
        ),
    ],
)
def test_sequelize_password_by_its_place_is_redacted(text: str, expected: str) -> None:
    """Sequelize's `new Sequelize(database, user, password, options)` loses the password; the
    database and the user stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "new Sequelize('orders', 'app', null, { dialect: 'sqlite' })",
        "new Sequelize(process.env.DB, process.env.USER, process.env.PW)",
        "Sequelize.literal('a', 'b', 'c')",
    ],
)
def test_sequelize_without_a_password_literal_stays(text: str) -> None:
    """No literal at the password's place, or another of Sequelize's functions, stays."""
    assert _text(text) == text


# --- probes: a name/value pair as Python prints it (Ansible's loop items) ----------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "ok: [web1] => (item={'key': 'db_password', 'value': 'hunter2x'})",
            f"ok: [web1] => (item={{'key': 'db_password', 'value': '{P}'}})",
        ),
        (
            "{'Name': 'DB_PASSWORD', 'Type': 'SecureString', 'Value': 'hunter2x'}",
            f"{{'Name': 'DB_PASSWORD', 'Type': 'SecureString', 'Value': '{P}'}}",
        ),
        (
            "{'value': \"it's-Xk9vQ2mZp7\", 'name': 'API_TOKEN'}",
            f"{{'value': \"{P}\", 'name': 'API_TOKEN'}}",
        ),
    ],
)
def test_python_printed_name_value_pair_loses_its_value(text: str, expected: str) -> None:
    """A name/value dict as Python prints it (single quotes; double where the value holds one)
    loses the value when the name says secret, as its JSON does."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ok: [web1] => (item={'key': 'db_host', 'value': 'db01'})",
        "{'name': 'DB_PASSWORD', 'valueFrom': 'arn:aws:ssm:us-east-1:1:parameter/db'}",
        "changed: [web1] => (item={'name': 'api_token_ttl', 'value': '3600'})",
    ],
)
def test_python_printed_name_value_pair_of_no_secret_stays(text: str) -> None:
    """A pair whose name says no secret, or that reads its value from a store, stays."""
    assert _text(text) == text


# --- probes: Terraform's plan -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "  + password = (known after apply)",
        '  + "DB_PASSWORD" = (known after apply)',
        "      + api_token          = (known after apply)",
    ],
)
def test_terraform_value_known_after_apply_stays(text: str) -> None:
    """Terraform's `(known after apply)` in a secret's place is its remark, no value: the plan's
    line stays whole instead of losing the remark's first half."""
    assert _text(text) == text
