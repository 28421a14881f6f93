"""Round 20 (helper 534): what round 19 left (Go's `%v` of a struct with unnamed fields after a
secret's name, Azure's storage keys in `-o tsv`/table output, `key1=` with a shorter value) and
the leak classes a config or a log line carries, each proved to go while ordinary text around
it stays."""

from __future__ import annotations

import json

import pytest

from memory_store import MemoryStore
from triage.incidents.store import Routing
from triage.logs import redact_event
from triage.models import EffectKind
from triage.normalize import normalize_body
from triage.ops.operator import incident_json
from triage.redact import Redactor
from triage.sinks import slack
from triage.sinks.base import Effect
from triage.sinks.github import text as github
from triage.summarise import prompt
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import redact_alert, redact_ticket

P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- Go's %v of a struct, no field names -------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("creds: {admin s3cr3t}", f"creds: {{{P}}}"),
        ("password={admin Xk7pQ2vR9 db}", f"password={{{P}}}"),
        (
            "login failed secret={bob Hunter2Secret 5432} retrying",
            f"login failed secret={{{P}}} retrying",
        ),
    ],
)
def test_a_go_struct_without_field_names_under_a_secrets_name_goes_whole(
    given: str, shown: str
) -> None:
    """Go's `%v` of a struct (no `&`, no field names) after a secret's name loses every field,
    its braces kept: which field is the password cannot be told, so none is left."""
    assert _text(given) == shown


@pytest.mark.parametrize(
    "given",
    [
        "retrying with config={timeout:30s retries:3}",
        "password policy={minLength 12}",
        "state={running healthy}",
        "token={{ .Values.token }}",
        "password={}",
    ],
)
def test_braces_that_are_no_secrets_struct_stay(given: str) -> None:
    """Braces after a name that is no secret's, a template and an empty object stay as written."""
    assert _text(given) == given


def test_an_ldap_scheme_before_a_hash_is_still_read_as_one_value() -> None:
    """`{SSHA}…` after a password's name is a scheme then its hash, not a struct: all of it
    goes, as a hash, and `{CRYPT}…` with it."""
    assert (
        _text("password={SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=") == "password=[REDACTED:password-hash]"
    )
    assert _text("password={CRYPT}Xk7pQ2vR9mT4") == f"password={P}"


# --- Azure's keys: a storage account's row after its creation time, a shorter key1 -------------

#: A storage account key's shape: base64 of 64 bytes (88 characters).
STORAGE_KEY = (
    "Zk3pQ9vX2mR7tL1wN8bY4cH6jK0sD5fG3aE9uI2oP7qW1eR8tY5uI0oP3aS6dF9gH2jK4lZ7xC1vB3nM5qW8eR=="
)
CREATED = "2026-01-01T00:00:00.000000+00:00"


@pytest.mark.parametrize(
    "given",
    [
        f"{CREATED}\tkey1\tFULL\t{STORAGE_KEY}\n{CREATED}\tkey2\tFULL\t{STORAGE_KEY[::-1][2:]}==",
        "CreationTime                      KeyName    Permissions    Value\n"
        "--------------------------------  ---------  -------------  -----\n"
        f"{CREATED}  key1       FULL           {STORAGE_KEY}",
    ],
    ids=["tsv", "table"],
)
def test_a_storage_accounts_key_row_after_its_creation_time_goes(given: str) -> None:
    """`az storage account keys list -o tsv`/`-o table` as the CLI prints it now, the key's
    creation time first: the key goes, the time, name and permissions stay."""
    shown = _text(given)
    assert shown.count("[REDACTED:azure-key]") == given.count("FULL")
    assert STORAGE_KEY not in shown and STORAGE_KEY[::-1][2:] not in shown
    assert shown.count(CREATED) == given.count(CREATED) and "key1" in shown


@pytest.mark.parametrize(
    "given",
    [
        "storage key1=Xk7pQ2vR9mT4wZ8b ok",
        "key1 = aB3dE5fG7hJ9kL1mN3pQ5r",
        '{"key1": "Xk7pQ2vR9mT4wZ8bAbCd", "key2": "q7Wz2Lk9Xa3Bc5Dv8Ne1Rt"}',
        "key2: Xk7pQ2vR9mT4wZ8bAbCd+/Q=",
    ],
)
def test_a_key1_whose_value_is_random_and_shorter_than_an_azure_key_goes(given: str) -> None:
    """A `key1`/`key2` value of 16-31 random base64 characters (a key cut short,
    another service's shorter key) goes, as a full-length one does."""
    shown = _text(given)
    assert "[REDACTED:azure-key]" in shown
    for secret in ("Xk7pQ2vR9mT4wZ8b", "aB3dE5fG7hJ9kL1mN3pQ5r", "q7Wz2Lk9Xa3Bc5Dv8Ne1Rt"):
        assert secret not in shown


@pytest.mark.parametrize(
    "given",
    [
        "params key1=value1 key2=value2",
        "key1=PaymentsService2024",
        "key1=i-0abc123def4567890",
        "key1=orders-service-prod",
        "key1: OrdersServiceDeployment",
        '{"primaryKey": "customerAccountId2"}',
    ],
)
def test_a_key1_holding_a_name_or_an_id_stays(given: str) -> None:
    """A `key1` value that reads as words, an id or a slug is a map's first key's value: it stays."""
    assert _text(given) == given


# --- an INI value continued on indented lines --------------------------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            "[db]\npassword = Hunter2\n\tSecret99!\nhost = db1",
            f"[db]\npassword = {P}\n\t{P}\nhost = db1",
        ),
        (
            "[api]\ntoken: Xk7pQ2vR9mT4\n    wZ8bCdEfGhIj\n    Lm3Np5Qr\n\n[other]\nx = 1",
            f"[api]\ntoken: {P}\n    {P}\n    {P}\n\n[other]\nx = 1",
        ),
        (
            '{"cfg": "[db]\\npassword = Hunter2\\n\\tSecret99!\\nhost = db1"}',
            f'{{"cfg": "[db]\\npassword = {P}\\n\\t{P}\\nhost = db1"}}',
        ),
    ],
    ids=["tab", "spaces-many-lines", "json-string"],
)
def test_an_ini_secret_continued_on_indented_lines_goes_line_by_line(
    given: str, shown: str
) -> None:
    """configparser reads an indented line below `name = value` as more of that value: under a
    secret's name each such line goes too, its indentation and the next pair kept."""
    assert _text(given) == shown


@pytest.mark.parametrize(
    "given",
    [
        "[db]\nhost = db1\n    port = 5432\n",
        "[db]\nuser = app\n    extra\nhost = db1",
        "ERROR login failed password=[REDACTED:password]\n    at com.acme.Db.connect(Db.java:42)",
        "2026-01-01 ERROR password=[REDACTED:password]\n    Retrying",
        "password = [REDACTED:password]\n    user = bob",
    ],
)
def test_indented_lines_below_no_secret_or_holding_prose_stay(given: str) -> None:
    """An indented line below a pair that names no secret, a stack trace's line below a log
    line, and an indented pair of its own are no continuation of a secret: they stay."""
    assert _text(given) == given


# --- a TOML (or Python) triple-quoted string inside a JSON string ------------------------------


@pytest.mark.parametrize(
    "config",
    [
        'password = """\nHunter2Secret!\n"""\nhost = "db1"',
        'password = """Hunter2Secret!"""\nhost = "db1"',
        'password = """first line\nsecond \\"quoted\\" Hunter2Secret!"""\nhost = "db1"',
    ],
    ids=["multi-line", "one-line", "escaped-quotes-inside"],
)
def test_a_triple_quoted_secret_in_a_json_string_goes(config: str) -> None:
    """A TOML multi-line basic string under a secret's name, quoted into a JSON string (its
    quotes escaped, `\\"\\"\\"`), goes whole, as it does raw; the next pair stays."""
    shown = _text(json.dumps({"cfg": config}))
    assert "Hunter2Secret" not in shown and "first line" not in shown
    assert json.loads(shown)["cfg"].startswith(f'password = """{P}"""')
    assert 'host = \\"db1\\"' in shown


# --- a Cookie or Set-Cookie header given as a list ---------------------------------------------

SESSION = "Xk7pQ2vR9mT4wZ8bCdEf"


@pytest.mark.parametrize(
    "given",
    [
        f'"Set-Cookie": ["sid={SESSION}; Path=/; HttpOnly", "theme=dark"]',
        f'{{"headers": {{"set-cookie": ["sid={SESSION}; Path=/"]}}}}',
        f"{{'Set-Cookie': ['sid={SESSION}; Path=/']}}",
        f'"cookie": [ "sessionid={SESSION}" ]',
        json.dumps({"log": json.dumps({"set-cookie": [f"sid={SESSION}; Path=/"]})}),
    ],
    ids=["json", "nested-object", "python-repr", "request-cookie", "json-in-a-json-string"],
)
def test_a_cookie_header_as_a_list_loses_every_item(given: str) -> None:
    """A Set-Cookie or Cookie header a client logs as a list (Node's and Python's header
    objects) loses each item as a single header string does: the session goes, the list's
    brackets, quotes and the header's name stay."""
    shown = _text(given)
    assert SESSION not in shown
    assert "[REDACTED:cookie]" in shown
    assert "cookie" in shown.lower() and "[" in shown


@pytest.mark.parametrize(
    "given",
    [
        '"cookies": []',
        '"cookie_consent": ["analytics", "ads"]',
        '"set-cookie": null',
    ],
)
def test_a_cookie_list_that_holds_no_cookie_stays(given: str) -> None:
    """An empty list, a consent setting's list and a null stay as written."""
    assert _text(given) == given


# --- a JWT split over two JSON fields ----------------------------------------------------------

JWT_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
JWT_CLAIMS = "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
JWT_SIGNATURE = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"


@pytest.mark.parametrize(
    "given",
    [
        json.dumps({"header": JWT_HEADER, "payload": f"{JWT_CLAIMS}.{JWT_SIGNATURE}"}),
        json.dumps({"h": f"{JWT_HEADER}.", "rest": f"{JWT_CLAIMS}.{JWT_SIGNATURE}"}),
        f"alg={JWT_HEADER} token_rest={JWT_CLAIMS}.{JWT_SIGNATURE}",
    ],
    ids=["two-fields", "header-with-its-dot", "two-words"],
)
def test_a_jwts_claims_and_signature_apart_from_its_header_go(given: str) -> None:
    """A JWT whose header a logger wrote in another field than its claims and signature is
    whole again to whoever joins the two (the header is public, often the same for every
    token): the claims with their signature go, the header alone stays."""
    shown = _text(given)
    assert JWT_SIGNATURE not in shown and JWT_CLAIMS not in shown
    assert "[REDACTED:jwt]" in shown


@pytest.mark.parametrize(
    "given",
    [
        json.dumps({"header": JWT_HEADER, "payload": JWT_CLAIMS}),
        f"decoded {JWT_CLAIMS}. Then retried",
        f"state={JWT_CLAIMS}.v2",
    ],
)
def test_base64_json_without_a_signature_after_it_stays(given: str) -> None:
    """A JWT's header or claims alone, or base64 JSON followed by a sentence's dot or a short
    version, carries no signature: it stays."""
    assert _text(given) == given


def test_code_wrapped_below_a_secrets_name_is_no_ini_continuation() -> None:
    """A call or a subscript on the lines below `token = (` is code, not an INI value's rest:
    it stays."""
    given = 'token = (\n    os.environ["API_TOKEN"]\n)'
    assert '\n    os.environ["API_TOKEN"]\n)' in _text(given)


# --- a secret's name disguised by accents or combining marks -----------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "pa\u0301ssword",  # a combining acute NFKC composes into á
        "p\u0336a\u0336s\u0336s\u0336w\u0336o\u0336r\u0336d\u0336",  # struck through
        "pässwörd",  # precomposed
        "api_kéy",
    ],
    ids=["combining-acute", "strike-through", "umlauts", "accented-key"],
)
def test_a_secrets_name_under_accents_or_combining_marks_is_read_bare(name: str) -> None:
    """Accents and combining marks draw a secret's name as the reader reads it while no rule
    matched it: the value goes, as under the bare name."""
    shown = _text(f"{name}=Xk7pQ2vR9mT4wZ8bCdEf ok")
    assert "Xk7pQ2vR9mT4wZ8bCdEf" not in shown and P in shown and shown.endswith(" ok")


@pytest.mark.parametrize(
    "given",
    [
        "Zoë reviewed the café's passé décor",
        "Zoë's résumé: see https://example.com/cv",
        "contraseña=[REDACTED:password] señor",
    ],
)
def test_accented_prose_stays_as_written(given: str) -> None:
    """Accented words that hide no secret's name keep their accents."""
    assert _text(given) == given


# --- a Kubernetes env entry whose value is a YAML block scalar ---------------------------------


@pytest.mark.parametrize("newline", ["\n", "\\n"], ids=["raw", "json-string"])
@pytest.mark.parametrize("marker", ["|", ">-", "|+", "|2"])
def test_a_kubernetes_env_entrys_block_scalar_value_goes_whole(newline: str, marker: str) -> None:
    """`- name: DB_PASSWORD` then `value: |` and the value on the lines below: every line of
    the block goes, the marker, the next entry and the name stay."""
    lines = [
        "env:",
        "  - name: DB_PASSWORD",
        f"    value: {marker}",
        "      Hunter2Secret!",
        "      second-line-of-it",
        "  - name: LOG_LEVEL",
        "    value: debug",
    ]
    shown = _text(newline.join(lines))
    assert "Hunter2Secret" not in shown and "second-line-of-it" not in shown
    assert f"value: {marker}{newline}      {P}" in shown
    assert shown.endswith(f"  - name: LOG_LEVEL{newline}    value: debug")


def test_a_block_scalar_under_an_ordinary_env_name_stays() -> None:
    """A block scalar under a name that says no secret (a script, a config file) stays."""
    given = "env:\n  - name: STARTUP_SCRIPT\n    value: |\n      echo hello\n      exit 0\n"
    assert _text(given) == given


@pytest.mark.parametrize(
    ("given", "secret"),
    [
        ("db config: creds={admin {s3cr3tPW x}}", "s3cr3tPW"),
        ("secrets=map[db:s3cr3tPW api:Xk7pQ2vR9mT4]", "Xk7pQ2vR9mT4"),
        ("password=map[primary:s3cr3tPW]", "s3cr3tPW"),
    ],
    ids=["nested-struct", "map-under-a-section", "map-under-a-password"],
)
def test_go_values_nested_or_a_map_under_a_secrets_name_go_whole(given: str, secret: str) -> None:
    """Go's `%v` of a struct holding a struct, or of a map (`map[k:v …]`), under a secret's
    name loses all it holds, as a flat struct does."""
    shown = _text(given)
    assert secret not in shown and "s3cr3tPW" not in shown and P in shown


def test_a_go_map_under_an_ordinary_name_keeps_its_ordinary_values() -> None:
    """A map under a name that says no secret keeps its values but a secret-named one's."""
    assert _text("config=map[password:s3cr3tPW user:bob]") == f"config=map[password:{P} user:bob]"


# --- every path out of the process --------------------------------------------------------------

#: One leak of each class this round closed, and the secret in it that must not leave.
LEAVING = {
    "go-struct": ("creds: {admin Xk7pL2mR9tQwE4rT db}", "Xk7pL2mR9tQwE4rT"),
    "azure-row": (f"{CREATED}\tkey1\tFULL\t{STORAGE_KEY}", STORAGE_KEY[:40]),
    "ini-continued": ("[db]\npassword = Xk7pL2mR9\n\ttQwE4rT99\nhost = db1", "tQwE4rT99"),
    "cookie-list": (f'"set-cookie": ["sid={SESSION}; Path=/"]', SESSION),
    "jwt-apart": (f'"payload": "{JWT_CLAIMS}.{JWT_SIGNATURE}"', JWT_SIGNATURE),
    "accented-name": ("pässwörd=Xk7pL2mR9tQwE4rT", "Xk7pL2mR9tQwE4rT"),
    "env-block": (
        "- name: DB_PASSWORD\n  value: |\n    Xk7pL2mR9tQwE4rT\n- name: X\n  value: y",
        "Xk7pL2mR9tQwE4rT",
    ),
}


async def _surfaces(description: str) -> dict[str, str]:
    """What one Alertmanager alert holding `description` (also as a label's value) becomes on
    each way out: the GitHub issue, Slack's message, the LLM prompt, the operator API's
    incident and a log line, each made by the function that path calls."""
    redactor = Redactor()
    labels = {"alertname": "DbLoginFailed", "team": "payments", "detail": description}
    body = json.dumps([{"labels": labels, "annotations": {"description": description}}])
    [alert] = normalize_body(body).alerts
    view = redact_alert(alert, redactor, excerpt_chars=6000)
    ticket = redact_ticket(await DeterministicSummariser().summarise(view), redactor)
    effect = Effect(EffectKind.OPEN, view.fingerprint, view, ticket, None, 1, 1, False, "k:1")
    store = MemoryStore()
    opened = await store.begin(view, "m-1", store.now())
    assert opened.after is not None
    await store.save_ticket(opened.after.fingerprint, "m-1", ticket, Routing("d", view.team, {}))
    incident = await store.get(opened.after.fingerprint)
    assert incident is not None
    return {
        "github": github.issue_body(effect),
        "slack": json.dumps(slack.open_message(effect)),
        "prompt": prompt.build(view, redactor, 4000).user,
        "operator-api": json.dumps(incident_json(incident, redactor)),
        "log": json.dumps(redact_event(None, "info", {"event": "x", "detail": description})),
    }


@pytest.mark.parametrize("case", sorted(LEAVING))
async def test_this_rounds_leaks_leave_the_process_by_no_path(case: str) -> None:
    """Each class closed this round is redacted on every way out (ticket, GitHub, Slack, the
    prompt, the operator API, logs): all render from the shared redactor."""
    description, secret = LEAVING[case]
    for path, shown in (await _surfaces(description)).items():
        assert secret not in shown, path


def test_a_storage_accounts_tsv_row_inside_a_json_string_goes() -> None:
    """The same `-o tsv` row a job logged into a JSON string (its tabs escaped, `\\t`) loses
    its key too."""
    shown = _text(
        json.dumps({"out": f"{CREATED}\tkey1\tFULL\t{STORAGE_KEY}\nkey2\tFULL\t{STORAGE_KEY}"})
    )
    assert STORAGE_KEY not in shown and shown.count("[REDACTED:azure-key]") == 2
    assert CREATED in shown


@pytest.mark.parametrize("newline", ["\n", "\\n"], ids=["raw", "json-string"])
def test_a_block_scalar_with_a_comment_after_its_marker_goes(newline: str) -> None:
    """`password: | # rotated monthly` then the value below: YAML reads the comment as none of
    the value, and the lines below are the secret; they go, the comment stays."""
    given = newline.join(["password: | # rotated monthly", "  Hunter2Secret!", "user: bob"])
    shown = _text(given)
    assert "Hunter2Secret" not in shown
    assert shown == newline.join(["password: | # rotated monthly", f"  {P}", "user: bob"])


@pytest.mark.parametrize(
    ("given", "secret"),
    [
        ('"//registry.example.com/:_authToken" "Xk7pQ2vR9mT4wZ8bCdEf"', "Xk7pQ2vR9mT4wZ8bCdEf"),
        ('"//registry.example.com/:_password" "aHVudGVyMlNlY3JldCE="', "aHVudGVyMlNlY3JldCE="),
        ('"npmAuthToken" "Xk7pQ2vR9mT4wZ8bCdEf"', "Xk7pQ2vR9mT4wZ8bCdEf"),
    ],
    ids=["auth-token", "password", "camel-case"],
)
def test_a_yarnrc_v1_quoted_setting_and_its_quoted_secret_go(given: str, secret: str) -> None:
    """Yarn 1's `.yarnrc` writes a registry's credential as a quoted name, a space and the
    quoted value: the value goes, the name stays."""
    shown = _text(given)
    assert secret not in shown and shown.endswith(f' "{P}"') and shown.startswith(given[:12])


@pytest.mark.parametrize(
    "given",
    [
        '"//registry.example.com/:_authToken" "${NPM_TOKEN}"',
        '"oauthToken" "expired"',
        '"dbPassword" "$DB_PASSWORD"',
    ],
)
def test_a_yarnrc_v1_setting_holding_a_variable_or_a_word_stays(given: str) -> None:
    """A variable or a plain word after a quoted secret's name stays."""
    assert _text(given) == given


def test_a_go_slice_of_structs_under_a_secrets_name_loses_every_struct() -> None:
    """Go's `%v` of a slice of structs (`[{admin pw} {bob pw2}]`) under a secret's name goes
    whole: the second struct's password too, not only the first's."""
    shown = _text("creds=[{admin s3cr3tPW} {bob pw2Xyz9}] next")
    assert "s3cr3tPW" not in shown and "pw2Xyz9" not in shown
    assert shown == f"creds=[{P}] next"
