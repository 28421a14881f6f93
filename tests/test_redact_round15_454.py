"""Round 15 (helper 454): what round 14 left (an `-e "a=x b=y"` string of several pairs blanked
to its closing quote, a call by position with a run of whitespace before its bracket) and new
classes real alerts carry, with the neighbours that must stay."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

SHORT = "q7Wz2Lk9Xa"
PW = "Xk9vQ2mZp7"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- a quoted string of several `name=value` pairs -------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'ansible-playbook -e "ansible_become_password=x db_pass=y"',
            f'ansible-playbook -e "ansible_become_password={P} db_pass={P}"',
        ),
        (
            f'ansible-playbook site.yml -e "ansible_become_password={PW} db_pass={SHORT} env=prod"',
            f'ansible-playbook site.yml -e "ansible_become_password={P} db_pass={P} env=prod"',
        ),
        (
            "ansible-playbook -e 'ansible_become_password=x db_pass=y'",
            f"ansible-playbook -e 'ansible_become_password={P} db_pass={P}'",
        ),
        (
            f'--extra-vars "vault_password={PW} region=eu-west-1"',
            f'--extra-vars "vault_password={P} region=eu-west-1"',
        ),
        (
            f'{{"cmd": "ansible-playbook -e \\"db_password={PW} db_user=app\\" site.yml"}}',
            f'{{"cmd": "ansible-playbook -e \\"db_password={P} db_user=app\\" site.yml"}}',
        ),
    ],
)
def test_each_pair_of_a_quoted_string_of_pairs_loses_only_its_value(
    text: str, expected: str
) -> None:
    """A quoted string of pairs (Ansible's `-e`) loses each secret's value; the names after the
    first, and the values of names that say no secret, stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Environment="DB_PASSWORD=a b c"', f'Environment="DB_PASSWORD={P}"'),
        (f'["DB_PASSWORD={PW} with spaces", "LANG=C"]', f'["DB_PASSWORD={P}", "LANG=C"]'),
    ],
)
def test_a_string_that_is_one_pair_still_loses_its_value_to_the_quote(
    text: str, expected: str
) -> None:
    """A string that is one `NAME=value`, spaces and all, still loses the whole value."""
    assert _text(text) == expected


# --- a call by position, whitespace before its bracket ---------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        f'login  ("admin", "{PW}")',
        f'login\t("admin", "{PW}")',
        f'login      ("admin", "{PW}")',
        f'smtp.login    ("u", "{PW}")',
        f'HTTPBasicAuth      ("u", "{PW}")',
        f'SetAuth  ("u", "{PW}")',
        f'new Sequelize  ("db", "admin", "{PW}", {{}})',
        f'redis.Redis  ("h", 6379, 0, "{PW}")',
        f'JedisPool (cfg, "h", 6379, 2000, "{PW}")',
        f"PDO->__construct    ('mysql:host=x', 'root', '{PW}')",
        f'conn.bind_s    ("cn=admin,dc=x", "{PW}")',
        f'auth    =    ("u", "{PW}")',
        f'setPassword       ("{PW}")',
    ],
)
def test_call_by_position_reads_past_any_whitespace_before_its_bracket(call: str) -> None:
    """A call that takes a password by its place loses it however much space or tab stands
    between its name and its bracket (code aligned by hand, a formatter's style)."""
    out = _text(call)
    assert PW not in out
    assert P in out


# --- a JWT cut across indented lines -----------------------------------------------------------

HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
CLAIMS = "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
SIGNATURE = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"Authorization: Bearer {HEADER}.\n    {CLAIMS}.\n    {SIGNATURE}",
            "Authorization: Bearer [REDACTED:jwt]",
        ),
        (f"token: {HEADER}.\n  {CLAIMS}.\n  {SIGNATURE}", "token: [REDACTED:jwt]"),
        (f"{HEADER}\n    .{CLAIMS}\n    .{SIGNATURE}", "[REDACTED:jwt]"),
        (f"token: {HEADER}.{CLAIMS[:20]}\n  {CLAIMS[20:]}.{SIGNATURE}", "token: [REDACTED:jwt]"),
        (f"token: {HEADER}.{CLAIMS}.{SIGNATURE[:25]}\n  {SIGNATURE[25:]}", "token: [REDACTED:jwt]"),
        (
            f'{{"msg": "jwt {HEADER}.\\n    {CLAIMS}.\\n    {SIGNATURE}"}}',
            '{"msg": "jwt [REDACTED:jwt]"}',
        ),
    ],
)
def test_jwt_cut_across_indented_lines_goes_whole(text: str, expected: str) -> None:
    """A JWT whose lines after a break are indented (a folded header, a YAML value, parts
    aligned under each other) goes whole: no claims or signature are left on the next lines."""
    assert _text(text) == expected


def test_jwt_then_an_indented_line_of_words_keeps_the_line() -> None:
    """The indented line after a whole JWT is the text's own, not the signature's rest."""
    text = f"jwt: {HEADER}.{CLAIMS}.{SIGNATURE}\n  expires: soon"
    assert _text(text) == "jwt: [REDACTED:jwt]\n  expires: soon"


# --- a secret store's value printed below the command that reads it ---------------------------


@pytest.mark.parametrize(
    "command",
    [
        "buildkite-agent secret get DB_PASSWORD",
        "buildkite-agent secret get deploy_key",
        "credstash get prod.db",
        "berglas access sm://proj/db",
        "conjur variable get -i prod/db/password",
        "akeyless get-secret-value --name /prod/db",
        "kubectl view-secret db-creds password",
        "netlify env:get API_TOKEN",
        "glab variable get DEPLOY_TOKEN",
        "pulumi config get dbPassword",
        "pulumi config get --stack prod dbPassword",
    ],
)
def test_secret_printed_by_a_store_getter_is_redacted(command: str) -> None:
    """The line a secret store's getter prints (Buildkite, credstash, Berglas, Conjur, Akeyless,
    kubectl view-secret; a platform's variable named like a secret) goes; the command stays."""
    assert _text(f"$ {command}\n{PW}\n$ echo done") == f"$ {command}\n{P}\n$ echo done"


@pytest.mark.parametrize(
    "text",
    [
        "$ pulumi config get region\neu-west-1",
        "$ glab variable get IMAGE_TAG\nv1.2.3",
        "$ netlify env:get NODE_VERSION\n18",
        "buildkite-agent secret get DB_PASSWORD failed: not found",
    ],
)
def test_variable_not_named_like_a_secret_or_a_failed_get_stays(text: str) -> None:
    """A platform's variable whose name says no secret, and a getter's failure, stay whole."""
    assert _text(text) == text


# --- a Go struct printed with `%#v`: the quotes and commas stay -------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'&redis.Options{{Addr:"db:6379", Password:"{PW}", DB:0}}',
            f'&redis.Options{{Addr:"db:6379", Password:"{P}", DB:0}}',
        ),
        (
            f'config.Config{{DSN:"postgres://app:{PW}@db/app", APIKey:"{PW}"}}',
            f'config.Config{{DSN:"postgres://app:{P}@db/app", APIKey:"{P}"}}',
        ),
        (
            f'panic: config=&{{Host:db User:app Password:"{PW}" SSLMode:disable}}',
            f'panic: config=&{{Host:db User:app Password:"{P}" SSLMode:disable}}',
        ),
        (f"{{Username:app Password:{PW} x Host:db}}", f"{{Username:app Password:{P} Host:db}}"),
    ],
)
def test_go_struct_field_keeps_its_quotes_and_comma(text: str, expected: str) -> None:
    """A Go struct's secret field as `%#v` prints it loses what is inside its quotes; the
    quotes and the comma before the next field stay, so the struct still reads as Go."""
    assert _text(text) == expected


# --- pytest's explanation of a failed assertion -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"E       AssertionError: assert '{PW}' == 'x'\nE        +  where '{PW}' = s.DB_PASSWORD",
            f"E       AssertionError: assert '{P}' == 'x'\nE        +  where '{P}' = s.DB_PASSWORD",
        ),
        (
            f"E   assert '{PW}' is None\nE    +  where '{PW}' = get_token()",
            f"E   assert '{P}' is None\nE    +  where '{P}' = get_token()",
        ),
        (
            f"E        +  where \"it's {PW}\" = os.environ['API_TOKEN']",
            f"E        +  where \"{P}\" = os.environ['API_TOKEN']",
        ),
        (
            f"E        +  where '{PW}' = <Config object at 0x7f>.password",
            f"E        +  where '{P}' = <Config object at 0x7f>.password",
        ),
        (
            f"{{\"log\": \"E assert '{PW}'\\nE  +  where '{PW}' = s.DB_PASSWORD\\nE  next\"}}",
            f"{{\"log\": \"E assert '{P}'\\nE  +  where '{P}' = s.DB_PASSWORD\\nE  next\"}}",
        ),
    ],
)
def test_pytest_where_line_of_a_secret_loses_the_value(text: str, expected: str) -> None:
    """pytest's `+  where '…' = <expression>` under a failed assert loses the value when the
    expression reads a secret, on the `where` line and on the `assert` line above it."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "E        +  where 'eu-west-1' = settings.REGION",
        "E        +  where 'abc' = hashlib.sha256(password).hexdigest()",
        "E        +  where 'none' = settings.PASSWORD",
        "E   assert 3 == 4\nE    +  where 3 = len(tokens)",
    ],
)
def test_pytest_where_line_of_no_secret_stays(text: str) -> None:
    """A value from an expression whose last name says no secret, or a placeholder, stays."""
    assert _text(text) == text


# --- what names a secret's size or holds a public certificate stays --------------------------

#: `-----BEGIN CERTIFICATE-----` … `-----END CERTIFICATE-----`, base64-encoded.
CERT_B64 = (
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJzekNDQVZtZ0F3SUJBZ0lVWGs5dlEybVpwN0x3NFJ0OHNRMm1"
    "BYkNkRWZHaAotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg=="
)
#: The same certificate and then a private key, base64-encoded as one bundle.
BUNDLE_B64 = (
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJzekNDQVZtZ0F3SUJBZ0lVWGs5dlEybVpwN0x3NFJ0OHNRMm1"
    "BYkNkRWZHaAotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCi0tLS0tQkVHSU4gUFJJVkFURSBLRVktLS0tLQpNSUlFd"
    "lFJQkFEQU5CZ2txaGtpRzl3MEJBUUVGQUFTQ0JLY3dnZ1NqQWdFQUFvSUJBUUM3Ci0tLS0tRU5EIFBSSVZBVEUgS0V"
    "ZLS0tLS0K"
)


def test_kubectl_describe_secret_sizes_stay() -> None:
    """`kubectl describe secret` prints each key's size, not its value: the sizes stay."""
    text = "Name:  db\nType:  Opaque\n\nData\n====\npassword:  10 bytes\ntoken:     5 bytes"
    assert _text(text) == text


def test_a_value_before_the_word_bytes_still_goes() -> None:
    """A value that only starts with a number and the word goes, as before."""
    assert _text("password: 10 bytes hunter2") == f"password: {P}"


def test_base64_certificate_stays_and_a_bundle_with_a_key_goes() -> None:
    """A kubeconfig's base64 CA certificate stays; the same with a private key after it goes."""
    cert = f"    certificate-authority-data: {CERT_B64}"
    assert _text(cert) == cert
    bundle = f"    client-data: {BUNDLE_B64}"
    assert _text(bundle) == "    client-data: [REDACTED:private-key]"
    cut = f"    client-data: {BUNDLE_B64[:-9]}"
    assert _text(cut) == "    client-data: [REDACTED:private-key]"


# --- `user:password` after a bare `auth` ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"options: {{ hostname: 'api', port: 443, auth: 'svc:{PW}', headers: {{}} }}",
            f"options: {{ hostname: 'api', port: 443, auth: 'svc:{P}', headers: {{}} }}",
        ),
        (f'{{"auth": "elastic:{PW}"}}', f'{{"auth": "elastic:{P}"}}'),
        (f"http --auth svc:{PW} https://api", f"http --auth svc:{P} https://api"),
        (f"auth=svc:{PW}", f"auth=svc:{P}"),
    ],
)
def test_user_and_password_after_a_bare_auth_lose_the_password(text: str, expected: str) -> None:
    """Node's request options (`auth: 'user:pw'`), a client's `auth` and HTTPie's `--auth` lose
    the password after the user; the user stays."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "auth: sasl:plain",
        "auth db:5432",
        "auth: https://idp/x",
        "auth failed: invalid token",
        "auth error:retrying",
        "auth: scram-sha-256:x",
    ],
)
def test_auth_method_port_url_or_prose_stays(text: str) -> None:
    """A login method, a host's port, a URL and prose after `auth` stay."""
    assert _text(text) == text


# --- HTTP Digest's response outside an Authorization header -----------------------------------

DIGEST = "6629fae49393a05397450978507c4ef1"
H = "[REDACTED:password-hash]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'digest auth failed: username="u", realm="r", nonce="abc", response="{DIGEST}"',
            f'digest auth failed: username="u", realm="r", nonce="abc", response="{H}"',
        ),
        (
            f"proxy: Digest response={DIGEST}, nonce=dcd98b7102dd2f0e8b",
            f"proxy: Digest response={H}, nonce=dcd98b7102dd2f0e8b",
        ),
        (
            f'{{"msg": "username=\\"u\\", nonce=\\"abc\\", response=\\"{DIGEST}\\""}}',
            f'{{"msg": "username=\\"u\\", nonce=\\"abc\\", response=\\"{H}\\""}}',
        ),
    ],
)
def test_digest_response_beside_its_nonce_is_redacted(text: str, expected: str) -> None:
    """Digest's `response=` hash (crackable offline to the password) goes on a line that holds
    the challenge's `nonce=`, wherever the line is logged."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [f"response={DIGEST} status=200", f"nonce=abc\nresponse={DIGEST}"],
)
def test_response_hash_without_a_nonce_on_its_line_stays(text: str) -> None:
    """A `response=` hex with no Digest nonce on its line (a body's hash, an id) stays."""
    assert _text(text) == text


def test_pytest_and_line_of_a_secret_loses_the_value_and_the_where_of_none_keeps_its() -> None:
    """pytest's `+  and   '…' = <secret>` for a comparison's other side loses its value on
    its line and on the `assert` line; the other side's value, from no secret, stays."""
    text = (
        f"E       AssertionError: assert 'eu-west-1' == '{PW}'\n"
        "E        +  where 'eu-west-1' = settings.REGION\n"
        f"E        +  and   '{PW}' = settings.DB_PASSWORD"
    )
    assert _text(text) == text.replace(PW, P)


# --- Azure Pipelines' setvariable not marked secret, by its name ------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"##vso[task.setvariable variable=dbPassword]{PW}",
            f"##vso[task.setvariable variable=dbPassword]{P}",
        ),
        (
            f"##vso[task.setvariable variable=API_TOKEN;isOutput=true]{PW}",
            f"##vso[task.setvariable variable=API_TOKEN;isOutput=true]{P}",
        ),
        (
            f'{{"log": "##vso[task.setvariable variable=dbPassword]{PW}\\n"}}',
            f'{{"log": "##vso[task.setvariable variable=dbPassword]{P}\\n"}}',
        ),
    ],
)
def test_azure_setvariable_named_like_a_secret_loses_its_value(text: str, expected: str) -> None:
    """Azure Pipelines' `##vso[task.setvariable variable=N]` not marked `issecret` loses its
    value when N is a secret's name, as GitHub's `::set-output name=N::` does."""
    assert _text(text) == expected


def test_azure_setvariable_of_no_secret_stays() -> None:
    """A variable whose name says no secret keeps its value."""
    text = "##vso[task.setvariable variable=imageTag]v1.2.3"
    assert _text(text) == text


# --- Azure Storage's 403 echoing the request's Shared Key signature ---------------------------


def test_azure_storage_mac_signature_in_its_403_is_redacted() -> None:
    """Azure Storage's `The MAC signature found in the HTTP request '…'` loses the signature
    (an HMAC with the account key); the message around it stays."""
    signature = "Xk9vQ2mZp7Lw4Rt8sQ2mAbCdEfGhIjKlMnOpQrStUv="
    text = (
        "<AuthenticationErrorDetail>The MAC signature found in the HTTP request "
        f"'{signature}' is not the same as any computed signature.</AuthenticationErrorDetail>"
    )
    assert _text(text) == text.replace(signature, "[REDACTED:azure-sas]")


# --- a shell printf whose format names a secret before a conversion ---------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'mysql --defaults-extra-file=<(printf "[client]\\npassword=%s" "{PW}")',
            f'mysql --defaults-extra-file=<(printf "[client]\\npassword=%s" "{P}")',
        ),
        (
            f"printf 'user=%s\\ntoken: %s\\n' app {PW} > .env",
            f"printf 'user=%s\\ntoken: %s\\n' app {P} > .env",
        ),
    ],
)
def test_printf_argument_for_a_secret_conversion_is_redacted(text: str, expected: str) -> None:
    """The argument `printf` writes after a secret's name in its format goes; the others and
    the format stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'printf "host=%s port=%d\\n" db 5432',
        'printf "password=%s" "$DB_PASSWORD"',
        'printf "password=%s" none',
        f'printf "%s:%s" user {SHORT}',
    ],
)
def test_printf_of_no_secret_or_a_variable_stays(text: str) -> None:
    """A format naming no secret, a variable's reference and a placeholder word stay."""
    assert _text(text) == text
