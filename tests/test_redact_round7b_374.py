"""Round 7b's secrets, the fixes for red team 370's leaks in pairs and markup, with their
neighbours: an Erlang or Elixir term holding a password (a tuple, a binary), a property list's
`<key>` naming the `<string>` after it, a GraphQL variable bound to a secret's argument (and
the query's references and types, which stay), a value after leader dots. Each is read raw and
inside a JSON string, as a log line carries it, and the near text that must stay stays.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

PASSWORD = "Xk7pL2mR9tQwE4rT"


def _shown(text: str) -> str:
    """What the redactor lets out of `text`."""
    return Redactor().text(text)


def _hidden_raw_and_in_json(text: str) -> None:
    """`PASSWORD` is nowhere in what the redactor shows of `text`, raw or as a JSON string."""
    assert PASSWORD not in _shown(text)
    assert PASSWORD not in _shown(json.dumps({"log": text}))


def _kept_raw_and_in_json(text: str) -> None:
    """The redactor shows `text` unchanged, raw and as a JSON string."""
    assert _shown(text) == text
    wrapped = json.dumps({"log": text})
    assert _shown(wrapped) == wrapped


# --- Erlang and Elixir terms ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f'{{badauth,[{{host,"db"}},{{password,"{PASSWORD}"}}]}}',
        f'[{{username,<<"app">>}},{{password,<<"{PASSWORD}">>}},{{port,5432}}]',
        f'{{password, <<"{PASSWORD}"/utf8>>}}',
        f'[{{:hostname, "db"}}, {{:password, "{PASSWORD}"}}]',
        f'{{"db_password", <<"{PASSWORD}">>}}',
        f"{{db_password, '{PASSWORD}'}}",
        f"{{password, {PASSWORD}}}",
        f'#{{host => <<"db">>, password => <<"{PASSWORD}">>}}',
        f'%{{hostname: "db", password: <<"{PASSWORD}">>}}',
    ],
    ids=["tuple-string", "tuple-binary", "tuple-utf8-binary", "elixir-atom-key",
         "string-key", "charlist", "bare-atom", "erlang-map-binary", "elixir-map-binary"],
)  # fmt: skip
def test_an_erlang_or_elixir_term_holding_a_secret_is_blanked(text: str) -> None:
    """A crash report's term shows no password: a `{name, value}` tuple whose name (an atom,
    Elixir's `:atom`, a string) says secret, its value a string, a binary (`<<"…">>`, `/utf8`),
    a charlist or an atom; a map's `=>` or `:` before a binary."""
    _hidden_raw_and_in_json(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f'{{password,"{PASSWORD}"}}', '{password,"[REDACTED:password]"}'),
        (f'{{password,<<"{PASSWORD}">>}}', '{password,<<"[REDACTED:password]">>}'),
        (f'#{{password => <<"{PASSWORD}">>}}', '#{password => <<"[REDACTED:password]">>}'),
    ],
    ids=["tuple-string", "tuple-binary", "map-binary"],
)
def test_an_erlang_terms_shape_stays_around_the_placeholder(text: str, shown: str) -> None:
    """The term keeps its braces, quotes and `<<` `>>`: the reader still sees what it held."""
    assert _shown(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        '[{host,"db"},{port,5432},{username,<<"app">>}]',
        "{password, undefined}",
        "{error, {badmatch, password}}",
        "{password_ttl, 3600}",
        "{password, Password}",
    ],
    ids=["no-secret-name", "state-word", "password-as-a-value", "ttl", "erlang-variable"],
)
def test_an_erlang_term_naming_no_secret_value_stays(text: str) -> None:
    """A term that holds no secret's value stays: other names, a state word, a password named
    as a value, a setting about passwords, code's variable of the same name."""
    _kept_raw_and_in_json(text)


# --- Apple property lists ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"<dict>\n  <key>Password</key>\n  <string>{PASSWORD}</string>\n</dict>",
        f"<key>APIToken</key><string>{PASSWORD}</string>",
        f"<key>SharedSecret</key>\n\t<data>{PASSWORD}</data>",
        f"<key>PayloadCertificatePassword</key> <string>{PASSWORD}</string>",
    ],
    ids=["password-indented", "api-token-one-line", "vpn-shared-secret-data", "cert-password"],
)
def test_a_property_lists_secret_is_blanked(text: str) -> None:
    """A plist's `<string>` (or `<data>`) after a `<key>` naming a secret shows nothing."""
    _hidden_raw_and_in_json(text)


def test_a_property_lists_shape_stays_around_the_placeholder() -> None:
    """The key and the value's tags stay: the reader still sees which key was set."""
    text = f"<key>Password</key>\n  <string>{PASSWORD}</string>"
    assert _shown(text) == "<key>Password</key>\n  <string>[REDACTED:password]</string>"


@pytest.mark.parametrize(
    "text",
    [
        "<key>PayloadUUID</key>\n<string>9A1C-22F0</string>",
        "<key>Password</key>\n<true/>",
        "<key>PasswordPolicy</key><string>strict</string>",
        "<key>Password</key>\n<string></string>",
    ],
    ids=["other-key", "boolean", "policy-name", "empty"],
)
def test_a_property_list_naming_no_secret_value_stays(text: str) -> None:
    """A plist's other keys, a boolean, a setting about passwords and an empty string stay."""
    _kept_raw_and_in_json(text)


# --- GraphQL -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        {
            "query": "mutation Login($p: String!) { login(email: $e, password: $p) { token } }",
            "variables": {"e": "ops", "p": PASSWORD},
        },
        {
            "variables": {"np": PASSWORD, "id": 7},
            "query": "mutation($np: String!, $id: ID!) { setPassword(id: $id, newPassword: $np) }",
        },
        {
            "query": "mutation($t: String!) { connect(input: {token: $t}) { ok } }",
            "variables": {"t": PASSWORD},
        },
    ],
    ids=["login-short-variable", "variables-first", "input-object-token"],
)
def test_a_graphql_variable_bound_to_a_secret_argument_is_blanked(request_: object) -> None:
    """A GraphQL request whose query binds a secret's argument to a variable with another name
    (`password: $p`, `newPassword: $np`, `{token: $t}`) shows that variable's value nowhere, as
    JSON, as a Python dict's repr and inside a JSON string."""
    assert PASSWORD not in _shown(f"graphql error: {json.dumps(request_)}")
    assert PASSWORD not in _shown(f"graphql error: {request_!r}")
    assert PASSWORD not in _shown(json.dumps({"msg": f"graphql error: {json.dumps(request_)}"}))


def test_a_graphql_variable_bound_to_no_secret_stays() -> None:
    """The other variables stay: only the one bound to a secret's argument goes."""
    request = {
        "query": "mutation L($u: String!, $p: String!) { login(user: $u, password: $p) { ok } }",
        "variables": {"u": "ops-team", "p": PASSWORD},
    }
    shown = _shown(json.dumps(request))
    assert '"u": "ops-team"' in shown
    assert '"p": "[REDACTED:password]"' in shown


@pytest.mark.parametrize(
    "text",
    [
        "mutation Login($pw: String!) { login(user: $u, password: $pw) { token } }",
        "mutation($newPassword: String!) { change(newPassword: $newPassword) { ok } }",
        "mutation($token: [String!]!) { revoke(tokens: $token, token: $token) }",
        "mutation($secret: SecretInput!) { store(secret: $secret) }",
        "input LoginInput { email: String! password: String! }",
        "type Login { token: ID! }",
    ],
    ids=["short-variable", "camel-case-variable", "list-type", "input-type", "sdl-input",
         "sdl-id"],
)  # fmt: skip
def test_a_graphql_querys_references_and_types_stay(text: str) -> None:
    """A query's variable declarations (`$pw: String!`, an input type, a list) and references
    (`password: $pw`, declared in the same query) and a schema's field types stay: they are
    the query's shape; the value lives in `variables`."""
    _kept_raw_and_in_json(text)


@pytest.mark.parametrize(
    "text",
    [
        f"login(password: ${PASSWORD})",
        f"password: Hunter2{PASSWORD}!",
    ],
    ids=["mixed-case-dollar-value-undeclared", "value-ending-in-bang"],
)
def test_a_graphql_look_alike_value_is_blanked(text: str) -> None:
    """A value that only looks like a reference or a type (a `$` password no query declares,
    a password ending in `!`) still goes."""
    assert PASSWORD not in _shown(text)


# --- leader dots ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"HikariPool-1 - password........................{PASSWORD}",
        f'HikariConfig - password........................"{PASSWORD}"',
        f"DEBUG dataSource.password ........ {PASSWORD}",
        f"Password . . . . . . . . : {PASSWORD}",
        f"api_token.............{PASSWORD}   \nuser..........app",
        f"password.......: {PASSWORD}",
    ],
    ids=[
        "hikari-bare",
        "hikari-quoted",
        "spaced-dots",
        "windows-leaders",
        "trailing-spaces",
        "colon-after-dots",
    ],
)
def test_a_value_after_leader_dots_is_blanked(text: str) -> None:
    """A config dump that lines values up with leader dots shows a secret's value nowhere."""
    _hidden_raw_and_in_json(text)


def test_a_value_after_leader_dots_keeps_the_dots_and_the_next_line() -> None:
    """The name, its dots (and a `:` after them) and the lines after stay, and the text
    redacts to itself."""
    text = f"password........{PASSWORD}\nusername........app\ntoken ....: {PASSWORD}"
    shown = (
        "password........[REDACTED:password]\nusername........app\ntoken ....: [REDACTED:password]"
    )
    assert _shown(text) == shown
    assert _shown(shown) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Checking password... done",
        "Setting root password .......... [ OK ]",
        "Resetting password........failed",
        "Resetting password.... please wait",
        "password........................<masked>",
        "password.......................null",
        "username........................app",
    ],
    ids=[
        "ellipsis-prose",
        "init-status",
        "outcome",
        "ellipsis-before-words",
        "masked",
        "null",
        "other-name",
    ],
)
def test_leader_dots_naming_no_secret_value_stay(text: str) -> None:
    """Prose's ellipsis, an installer's status after leader dots, a masked or null value and
    other names stay."""
    _kept_raw_and_in_json(text)
