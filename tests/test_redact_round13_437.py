"""Round 13 (helper 437): what round 12 left (a vendor's key by the vendor's name, the values of
a platform's config and secret-store commands whatever their names, a short random `?key=`,
HTTPBasicAuth's call blanked from its name on) and new classes real alerts carry; each with the
neighbours that must stay."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

PASSWORD = "Xk9vQ2mZp7Lw4Rt"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- what round 12 left -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"VICTOROPS_KEY={PASSWORD}", f"VICTOROPS_KEY={P}"),
        (f"victorops.key: {PASSWORD}", f"victorops.key: {P}"),
        (f"SPLUNK_ONCALL_KEY={PASSWORD}", f"SPLUNK_ONCALL_KEY={P}"),
        (f"PAGERDUTY_KEY={PASSWORD}", f"PAGERDUTY_KEY={P}"),
        (f"ILERT_KEY={PASSWORD}", f"ILERT_KEY={P}"),
    ],
)
def test_alerting_vendor_key_by_its_name_is_redacted(text: str, expected: str) -> None:
    """A key under an alerting vendor's name and a bare `key` goes (VictorOps', PagerDuty's)."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["VICTOROPS_KEY=routing", "pagerduty_key: ${PD_KEY}", "victorops_key_file=/etc/vo.key"],
)
def test_alerting_vendor_key_word_or_reference_stays(text: str) -> None:
    """A plain word, a reference and a key file's path under such a name stay."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"heroku config:set STRIPE_THING={PASSWORD} -a myapp",
            f"heroku config:set STRIPE_THING={P} -a myapp",
        ),
        (
            f"heroku config:set FOO={PASSWORD} BAR='{PASSWORD}' --app x",
            f"heroku config:set FOO={P} BAR='{P}' --app x",
        ),
        (
            f"dokku config:set --no-restart myapp MYVAR={PASSWORD}",
            f"dokku config:set --no-restart myapp MYVAR={P}",
        ),
        (
            f"az webapp config appsettings set -g rg -n app --settings MYVAR={PASSWORD} B={PASSWORD}",
            f"az webapp config appsettings set -g rg -n app --settings MYVAR={P} B={P}",
        ),
        (
            f'az functionapp config appsettings set --name app --settings "MYVAR={PASSWORD}"',
            f'az functionapp config appsettings set --name app --settings "MYVAR={P}"',
        ),
        (f"netlify env:set MYVAR {PASSWORD}", f"netlify env:set MYVAR {P}"),
        (
            f"netlify env:set MYVAR '{PASSWORD}' --context production",
            f"netlify env:set MYVAR '{P}' --context production",
        ),
        (
            f"echo {PASSWORD} | vercel env add MYVAR production",
            f"echo {P} | vercel env add MYVAR production",
        ),
        (
            f"printf '%s' {PASSWORD} | npx vercel env add MYVAR preview",
            f"printf '%s' {P} | npx vercel env add MYVAR preview",
        ),
        (
            f"$ vercel env add MYVAR production\n{PASSWORD}\n",
            f"$ vercel env add MYVAR production\n{P}\n",
        ),
        (f"fly secrets set MYVAR={PASSWORD} -a app", f"fly secrets set MYVAR={P} -a app"),
    ],
)
def test_platform_config_values_are_redacted_whatever_their_names(text: str, expected: str) -> None:
    """A platform's config or secret-store command's values go whatever their names say."""
    assert _text(text) == expected


def test_connection_string_settings_value_is_redacted_and_the_verb_stays() -> None:
    """Azure's `connection-string set --settings NAME=VALUE` loses the value whatever its name,
    and its verb `set` (before options) is no connection string's value."""
    text = f"az webapp config connection-string set -n app -t SQLAzure --settings DB='{PASSWORD}'"
    expected = f"az webapp config connection-string set -n app -t SQLAzure --settings DB='{P}'"
    assert _text(text) == expected


def test_connection_string_delete_stays() -> None:
    """`connection-string delete -n app` names a verb, not a value, and stays."""
    text = "az webapp config connection-string delete -n app --setting-names DB"
    assert _text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "heroku config:set MYVAR=$MYVAR -a myapp",
        "heroku config:get MYVAR -a myapp",
        "dokku config:show myapp",
        "az webapp config appsettings list -g rg -n app",
        "netlify env:set MYVAR $MYVAR",
        "netlify env:list",
        "vercel env ls production",
    ],
)
def test_platform_config_references_and_listings_stay(text: str) -> None:
    """A variable's reference and the commands that only list or read keep their text."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://api.example.com/v1/x?key=Qw3rTy9zLp8K", f"https://api.example.com/v1/x?key={P}"),
        ("GET /maps?key=q7Wz2Lk9Xa HTTP/1.1", f"GET /maps?key={P} HTTP/1.1"),
        ("https://h/a?fmt=json&key=Qw3rTy9zLp8Kx&z=1", f"https://h/a?fmt=json&key={P}&z=1"),
    ],
)
def test_short_random_url_key_is_redacted(text: str, expected: str) -> None:
    """A `key=` value under 16 characters goes when its shape is random (case and digits mixed
    every few characters)."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://s3.example.com/b?key=Report2024Q1",
        "https://jira.example.com/browse?key=OPS-1234",
        "https://h/a?key=UserName&code=200",
        "https://h/list?key=createdAt",
        "https://h/a?key=v2Release",
    ],
)
def test_url_key_of_words_stays(text: str) -> None:
    """An object's key, an issue's key or a field's name under `key=` (words) stays."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'auth = HTTPBasicAuth("bob", "{PASSWORD}")',
            f'auth = HTTPBasicAuth("bob", "{P}")',
        ),
        (
            f"auth: HTTPDigestAuth('bob', '{PASSWORD}')",
            f"auth: HTTPDigestAuth('bob', '{P}')",
        ),
    ],
)
def test_basic_auth_call_keeps_its_name(text: str, expected: str) -> None:
    """`auth = HTTPBasicAuth(u, pw)` loses the password only: the call and the user stay."""
    assert _text(text) == expected


def test_basic_auth_from_variables_stays() -> None:
    """`auth = HTTPBasicAuth(user, password)` (variables) stays whole."""
    text = "auth = HTTPBasicAuth(user, password)"
    assert _text(text) == text


def test_redis_auth_still_loses_its_password() -> None:
    """Redis's `AUTH user pw` after its prompt still loses the password."""
    assert _text(f"127.0.0.1:6379> auth default {PASSWORD}") == f"127.0.0.1:6379> auth default {P}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"client.setCredentials(`bob`, `{PASSWORD}`)", f"client.setCredentials(`bob`, `{P}`)"),
        (f"req.SetBasicAuth(`bob`, `{PASSWORD}`)", f"req.SetBasicAuth(`bob`, `{P}`)"),
        (f"HTTPBasicAuth(`bob`, `{PASSWORD}`)", f"HTTPBasicAuth(`bob`, `{P}`)"),
        (f"smtp.login(`bob`, `{PASSWORD}`)", f"smtp.login(`bob`, `{P}`)"),
        (f"setPassword(`{PASSWORD}`, `{PASSWORD}`)", f"setPassword(`{P}`, `{P}`)"),
    ],
)
def test_backtick_literals_count_as_arguments(text: str, expected: str) -> None:
    """JavaScript's `` `…` `` literals are a call's literals: the password by its place goes."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "HTTPBasicAuth(`bob`, `${pw}`)",
        "client.setCredentials(`bob`, `${process.env.PW}`)",
        "client.setCredentials(`bob`, process.env.PW)",
        'client.setCredentials("bob", process.env.PW)',
        "log(`user ${u}`, `done`)",
    ],
)
def test_template_that_reads_a_variable_and_the_user_stay(text: str) -> None:
    """A template reading a variable is no literal, and a credentials setter's user stays."""
    assert _text(text) == text


# --- new classes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"kubectl create secret generic db --from-literal=MYVAR={PASSWORD}",
            f"kubectl create secret generic db --from-literal=MYVAR={P}",
        ),
        (
            f"kubectl create secret generic db --from-literal MYVAR={PASSWORD} --from-literal='B={PASSWORD}'",
            f"kubectl create secret generic db --from-literal MYVAR={P} --from-literal='B={P}'",
        ),
        (f"glab variable set MYVAR {PASSWORD} --masked", f"glab variable set MYVAR {P} --masked"),
        (f'railway variables --set "MYVAR={PASSWORD}"', f'railway variables --set "MYVAR={P}"'),
        (f"eb setenv MYVAR={PASSWORD} B={PASSWORD}", f"eb setenv MYVAR={P} B={P}"),
        (f"render env set MYVAR={PASSWORD}", f"render env set MYVAR={P}"),
        (f"cf set-env app MYVAR {PASSWORD}", f"cf set-env app MYVAR {P}"),
        (
            f"gcloud run deploy x --set-env-vars MYVAR={PASSWORD},B={PASSWORD} --region e",
            f"gcloud run deploy x --set-env-vars MYVAR={P},B={P} --region e",
        ),
        (
            f'aws lambda update-function-configuration --function-name f --environment "Variables={{MYVAR={PASSWORD}}}"',
            f'aws lambda update-function-configuration --function-name f --environment "Variables={{MYVAR={P}}}"',
        ),
    ],
)
def test_other_platforms_config_values_are_redacted(text: str, expected: str) -> None:
    """Other platforms' config stores (a Secret's literals, GitLab's variables, Railway, Beanstalk,
    Render, Cloud Foundry, Cloud Run's and Lambda's environment) lose every value."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "kubectl create secret generic db --from-literal=MYVAR=$MYVAR",
        "kubectl create secret generic db --from-file=ssh-privatekey=/home/u/.ssh/id_rsa",
        "glab variable set MYVAR $MYVAR",
        "railway variables",
        "cf set-env app MYVAR $MYVAR",
        "gcloud run deploy x --set-env-vars MYVAR=,B=$B",
        "cf env app",
    ],
)
def test_other_platforms_references_stay(text: str) -> None:
    """A reference, a file's path, an empty value and the listing commands stay."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"proxy_set_header X-Api-Key {PASSWORD};", f"proxy_set_header X-Api-Key {P};"),
        (f'proxy_set_header X-Api-Key "{PASSWORD}";', f'proxy_set_header X-Api-Key "{P}";'),
        (
            f'proxy_set_header Authorization "Bearer {PASSWORD}";',
            f'proxy_set_header Authorization "Bearer {P}";',
        ),
        (f"add_header X-Auth-Token {PASSWORD};", f"add_header X-Auth-Token {P};"),
        (f"grpc_set_header x-api-key {PASSWORD};", f"grpc_set_header x-api-key {P};"),
        (
            f"http-request set-header X-Api-Key {PASSWORD}",
            f"http-request set-header X-Api-Key {P}",
        ),
        (
            f'http-request set-header Authorization "Bearer {PASSWORD}"',
            f'http-request set-header Authorization "Bearer {P}"',
        ),
        (
            f'RequestHeader set Authorization "Bearer {PASSWORD}"',
            f'RequestHeader set Authorization "Bearer {P}"',
        ),
    ],
)
def test_header_a_proxy_config_sets_is_redacted(text: str, expected: str) -> None:
    """A credential header set by nginx's, HAProxy's or Apache's directive loses its value (an
    Authorization header's scheme word stays)."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Api-Key $api_key;",
        "proxy_set_header Host $host;",
        'proxy_set_header Authorization "Bearer $token";',
        "http-request set-header X-Api-Key %[var(txn.key)]",
        'add_header Cache-Control "no-store";',
        "add_header X-Request-Id $request_id;",
    ],
)
def test_header_a_proxy_config_sets_from_a_variable_stays(text: str) -> None:
    """A header set from a variable, and a header that carries no credential, stay."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"Unable to connect to redis://{PASSWORD}@r:6379",
            "Unable to connect to redis://[REDACTED:token]@r:6379",
        ),
        ("https://q7Wz2Lk9Xa@github.com/x/y", "https://[REDACTED:token]@github.com/x/y"),
    ],
)
def test_short_random_url_user_is_redacted(text: str, expected: str) -> None:
    """A URL's user under 16 characters of a random shape is a token or a password (Lettuce's
    `redis://<password>@host`)."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "redis://bob@r:6379",
        "ssh://git@github.com/x/y",
        "https://build-bot-2024@ci.example.com/",
        "ftp://AdminUser2@files.example.com/",
        "ec2-user@10.0.0.5",
    ],
)
def test_url_user_of_words_stays(text: str) -> None:
    """A user made of words (and digits) is no token, and stays."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "{PASSWORD}");',
            f'client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "{P}");',
        ),
        (
            f'new AuthenticationHeaderValue("Basic", "{PASSWORD}")',
            f'new AuthenticationHeaderValue("Basic", "{P}")',
        ),
        (
            f'curl_setopt($ch, CURLOPT_USERPWD, "bob:{PASSWORD}");',
            f'curl_setopt($ch, CURLOPT_USERPWD, "bob:{P}");',
        ),
        (
            f"curl_setopt($ch, CURLOPT_PASSWORD, '{PASSWORD}');",
            f"curl_setopt($ch, CURLOPT_PASSWORD, '{P}');",
        ),
        (f"c.setopt(pycurl.USERPWD, 'bob:{PASSWORD}')", f"c.setopt(pycurl.USERPWD, 'bob:{P}')"),
        (f'var token string = "{PASSWORD}"', f'var token string = "{P}"'),
        (f"const apiKey string = `{PASSWORD}`", f"const apiKey string = `{P}`"),
    ],
)
def test_credential_set_in_code_is_redacted(text: str, expected: str) -> None:
    """.NET's AuthenticationHeaderValue's token, libcurl's credential options and a Go string
    declared with its type under a secret's name lose the literal; the code stays."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'new AuthenticationHeaderValue("Bearer", token)',
        "Authorization: new session required",
        'curl_setopt($ch, CURLOPT_URL, "https://example.com/x");',
        'curl_setopt($ch, CURLOPT_USERPWD, $user . ":" . $pass);',
        'var region string = "us-east-1"',
        "var token string",
    ],
)
def test_code_without_a_secret_literal_stays(text: str) -> None:
    """A token from a variable, a non-secret option or name, and a declaration alone stay."""
    assert _text(text) == text
