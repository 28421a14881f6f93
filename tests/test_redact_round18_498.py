"""Round 18 (helper 498): what round 17 left (Bitwarden Secrets Manager access tokens, gh's
masked `Token: gho_****`, Elasticsearch's `New value:` with the line before it cut) and the
leak classes a real alert carries (CI logs, Kubernetes, Terraform, connection strings, traces,
key files, cloud credentials), each proved to go while the text around it stays."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

P = "[REDACTED:password]"
#: A Bitwarden Secrets Manager access token: version, service account uuid, client secret,
#: encryption key.
BWS = (
    "0.48b4774c-68de-4c46-b9c2-ae7b0130c8c1.C2IgxjjLF7qSshsbwe8JGcbM075YXw:X8vbvA0bduihIDe/qrzIQQ=="
)
BWS_SECRETS = ("C2IgxjjLF7qSshsbwe8JGcbM075YXw", "X8vbvA0bduihIDe/qrzIQQ")


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- Bitwarden Secrets Manager access tokens ----------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "error: {t}",
        "bws: invalid access token {t}",
        '{{"level":"error","msg":"auth failed","detail":"{t}"}}',
        "  args: [secret, list, {t}]",
        "token={t}",
        "{t}",
    ],
)
def test_bitwarden_access_token_goes_with_no_name_before_it(template: str) -> None:
    """A Bitwarden Secrets Manager access token (`0.<uuid>.<secret>:<key>==`) loses its client
    secret and its key wherever it stands, named or not."""
    redacted = _text(template.format(t=BWS))
    for secret in BWS_SECRETS:
        assert secret not in redacted


def test_bitwarden_shaped_text_that_is_no_token_stays() -> None:
    """A version and a UUID with a word after them (no 30-character secret, no key) stay."""
    text = "release 0.48b4774c-68de-4c46-b9c2-ae7b0130c8c1.done: ok, rows 0.5:1"
    assert _text(text) == text


# --- gh auth status: a masked token holds no secret ---------------------------------------------

GH_STATUS = (
    "github.com\n"
    "  \u2713 Logged in to github.com account octocat (keyring)\n"
    "  - Active account: true\n"
    "  - Git operations protocol: https\n"
    "  - Token: {token}\n"
    "  - Token scopes: 'gist', 'read:org', 'repo', 'workflow'"
)


@pytest.mark.parametrize(
    "masked",
    [
        "gho_" + "*" * 36,
        "ghp_" + "*" * 36,
        "github_pat_" + "*" * 40,
        "glpat-" + "*" * 20,
    ],
)
def test_gh_auth_status_keeps_its_masked_token(masked: str) -> None:
    """`gh auth status` prints its token as a prefix and asterisks: it holds no secret, so it
    stays as written (it tells the responder which kind of token is in use)."""
    text = GH_STATUS.format(token=masked)
    assert _text(text) == text
    assert _text(f'{{"token": "{masked}"}}') == f'{{"token": "{masked}"}}'


@pytest.mark.parametrize(
    "token",
    [
        "gho_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
        "gho_aB3d" + "*" * 32,
        "gho_****************************xY3zA5aB",
    ],
)
def test_gh_auth_status_still_loses_a_token_with_any_character_shown(token: str) -> None:
    """A token that shows any of its own characters after its prefix is no masked one: its
    line loses it."""
    redacted = _text(GH_STATUS.format(token=token))
    assert token not in redacted
    assert "  - Token scopes: 'gist', 'read:org', 'repo', 'workflow'" in redacted


# --- elasticsearch-reset-password: `New value:` on its own ---------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[... 3 lines cut]\nNew value: 8HEeaM*-bLpTuJQ2nRbB",
        "New value: mQ4mu+Z_n6KBDr6rOeL3",
        "New value: *cd2Q8Ux-JtwuN5X=eci\n",
        '{"log": "...cut\\nNew value: Pm5=pXqd*vhFZ+Q*uwaK"}',
        "  New value: qZcbvCslafMpoEOrE9Ob  ",
    ],
)
def test_elasticsearch_new_value_goes_without_the_line_before_it(text: str) -> None:
    """`elasticsearch-reset-password` prints the generated password as `New value: X`: with the
    `successfully reset.` line before it cut, a random value alone on that line still goes."""
    redacted = _text(text)
    value = text.split("New value: ", 1)[1].split()[0].split('"')[0]
    assert value not in redacted
    assert "New value: [REDACTED:password]" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "New value: 42",
        "New value: MaxConnections",
        "New value: Read-Only-Mode",
        "New value: disabled (was: enabled)",
        "Setting changed. New value: q7Wz2Lk9Xa_Rt5",
        "New value: /var/lib/elasticsearch/data2",
        "New value: 2024-05-01T10:00:00Z",
    ],
)
def test_new_value_that_is_no_generated_password_stays(text: str) -> None:
    """A `New value:` that no generated password's shape fills (a number, a name, a path, a
    date, words) or that follows other words on its line stays as written."""
    assert _text(text) == text


# --- a cookie as a name/value object (a HAR file, a browser's cookie jar, Playwright's state) ---

SESSION = "q7Wz2Lk9Xa_Rt5Xk9vQ2mZp7"


@pytest.mark.parametrize(
    "cookie",
    [
        {"name": "session", "value": SESSION, "domain": ".example.com"},
        {
            "name": "sid",
            "value": f"s%3A{SESSION}.abcDEF123",
            "domain": "app.example.com",
            "path": "/",
            "httpOnly": True,
            "secure": True,
            "sameSite": "Lax",
        },
        {"name": "auth", "value": SESSION, "hostOnly": True, "expirationDate": 1767225600},
    ],
)
def test_cookie_object_loses_a_session_shaped_value_whatever_its_name(
    cookie: dict[str, object],
) -> None:
    """A cookie written as a name/value object with a cookie's attributes loses a value of a
    session's shape, as a `Cookie:` header loses it, in text and as a JSON value."""
    import json

    assert SESSION not in _text(json.dumps(cookie))
    assert SESSION not in _text(json.dumps({"log": {"entries": [{"cookies": [cookie]}]}}))
    assert SESSION not in str(Redactor().value([cookie]))


@pytest.mark.parametrize(
    "cookie",
    [
        {"name": "_ga", "value": "GA1.1.123456789.1700000000", "domain": ".example.com"},
        {"name": "theme", "value": "dark", "domain": ".example.com", "httpOnly": False},
        {"name": "locale", "value": "en-US", "path": "/", "sameSite": "Lax"},
    ],
)
def test_cookie_object_keeps_a_value_of_no_session_shape(cookie: dict[str, object]) -> None:
    """A cookie whose value is a setting or an analytics id (no session's shape) stays as
    written, and so do its name and attributes."""
    import json

    text = json.dumps(cookie)
    assert _text(text) == text
    assert Redactor().value([cookie]) == [cookie]


# --- an age identity a wrapper broke over lines --------------------------------------------------

AGE_KEY = "AGE-SECRET-KEY-1GYS8LU7CDXLPCMQU3WX5PPPQCDMPWULWKWWAJP6XTJ84MVNJLEZ70E6THH"


@pytest.mark.parametrize("cut", [20, 40, 64, 73])
@pytest.mark.parametrize("brk", ["\n", "\r\n", "\\n", "\n    "])
def test_age_secret_key_broken_over_lines_goes_whole(cut: int, brk: str) -> None:
    """An age identity (`AGE-SECRET-KEY-1` and 58 bech32 characters) a log's width broke over
    two lines loses both pieces, its second line too, not only the piece with the prefix."""
    text = f"identity: {AGE_KEY[:cut]}{brk}{AGE_KEY[cut:]}\nnext line"
    redacted = _text(text)
    assert AGE_KEY[cut:] not in redacted
    assert redacted.endswith("\nnext line")


def test_age_secret_key_keeps_the_next_line_when_the_key_is_whole() -> None:
    """A whole age identity on its line leaves the next line (a word in capitals) as written."""
    text = f"{AGE_KEY}\nDONE"
    assert _text(text) == "[REDACTED:token]\nDONE"


# --- Ansible -vvv: the become prompt and the no_log markers hold no secret ---------------------

BECOME = (
    "<10.0.0.5> SSH: EXEC ssh -C -o ControlMaster=auto -o 'User=\"deploy\"' 10.0.0.5 '/bin/sh "
    '-c \'"\'"\'sudo -H -S  -p "[sudo via ansible, key=qwertyuiopasdfgh] password:" -u root '
    "/bin/sh -c '\"'\"'\"'\"'\"'\"'\"'\"'echo BECOME-SUCCESS-qwertyuiop ; /usr/bin/python3 "
    "/home/deploy/.ansible/tmp/AnsiballZ_setup.py'\"'\"'\"'\"'\"'\"'\"'\"' && sleep 0'\"'\"''"
)


@pytest.mark.parametrize(
    "text",
    [
        BECOME,
        'sudo -S -p "[sudo via ansible, key=abc] password:" -u postgres psql -c "select 1"',
        'sudo -S -p "Password:" -u root whoami',
    ],
)
def test_sudo_prompt_ending_in_password_keeps_the_command_after_it(text: str) -> None:
    """`sudo -p "… password:"` (Ansible's become) closes its prompt's quote after `password:`:
    the command after it (`-u root /bin/sh -c …`) is no password and stays as written."""
    assert _text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        'connect password:" q7Wz2Lk9Xa_Rt5',
        'login with password:"q7Wz2Lk9Xa_Rt5 and go',
        'echo "user: app" password:" q7Wz2Lk9Xa_Rt5',
    ],
)
def test_unclosed_quote_after_password_that_opens_a_value_still_loses_it(text: str) -> None:
    """A quote after `password:` that opens the value (no quote open before the name on its
    line, or the quotes before it all closed) still loses what follows it."""
    assert "q7Wz2Lk9Xa_Rt5" not in _text(text)


@pytest.mark.parametrize("marker", ["VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", "NOT_LOGGING_PARAMETER"])
def test_ansible_no_log_markers_stay(marker: str) -> None:
    """Ansible writes `VALUE_SPECIFIED_IN_NO_LOG_PARAMETER` (and `NOT_LOGGING_PARAMETER`) where
    it hid a no_log value: the marker holds no secret and tells the responder a value was set."""
    text = f'{{"changed": false, "login_password": "{marker}", "login_user": "root"}}'
    assert _text(text) == text
    assert _text(f"password: {marker}") == f"password: {marker}"
    assert Redactor().value({"login_password": marker}) == {"login_password": marker}


# --- CI runners' own masks hold no secret ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '$ echo "password: [MASKED]" && curl -H "PRIVATE-TOKEN: [MASKED]" https://gitlab',
        "DB_PASSWORD=[MASKED] ./migrate.sh",
        "  api_token: [MASKED]",
        "Run docker login -u *** -p *** ghcr.io",
        "mysql -u app -p*** -h db",
        "- Token: github_pat_" + "*" * 82,
    ],
)
def test_ci_masks_stay_as_written(text: str) -> None:
    """GitLab's `[MASKED]` and GitHub's `***` stand where the runner hid a secret: they hold
    none, so the line stays as written (its option and name too)."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("docker login -u ci -p q7Wz2Lk9Xa_Rt5 ghcr.io", "q7Wz2Lk9Xa_Rt5"),
        ("password: [MASKED]q7Wz2Lk9Xa", "q7Wz2Lk9Xa"),
        ("DB_PASSWORD=***q7Wz2Lk9Xa_Rt5", "q7Wz2Lk9Xa_Rt5"),
    ],
)
def test_a_mask_with_more_after_it_still_loses_the_rest(text: str, secret: str) -> None:
    """A value that only starts with a mask (a runner masked a part of it) still loses it."""
    assert secret not in _text(text)


@pytest.mark.parametrize(
    "text",
    [
        'msg="login password:" q7Wz2Lk9Xa_Rt5',
        "echo \"db password:\" 'q7Wz2Lk9Xa_Rt5'",
        "sudo -p 'Password:' q7Wz2Lk9Xa_Rt5",
    ],
)
def test_word_after_a_closed_prompt_ending_in_password_still_goes(text: str) -> None:
    """After a quoted prompt ending in `password:`, a word (no option) may be the password the
    prompt asked for: it still goes."""
    assert "q7Wz2Lk9Xa_Rt5" not in _text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('printf "password:" "q7Wz2Lk9Xa_Rt5"', 'printf "password:" "[REDACTED:password]"'),
        (
            "echo 'db password:' 'q7Wz2Lk9Xa_Rt5' >> log",
            "echo 'db password:' '[REDACTED:password]' >> log",
        ),
        ('echo "API token =" "q7Wz2Lk9Xa_Rt5"', 'echo "API token =" "[REDACTED:password]"'),
    ],
)
def test_quoted_answer_after_a_closed_prompt_ending_in_password_goes(
    text: str, expected: str
) -> None:
    """A quoted literal after a quoted prompt ending in `password:` is its answer: it loses its
    text, its quotes and the rest of the line kept."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'echo "password:" "$DB_PASSWORD"',
        'echo "Token:" "expired"',
        'log "reset password" "link sent"',
        'echo "password:" "${{ secrets.DB_PASSWORD }}"',
    ],
)
def test_quoted_label_then_a_variable_or_words_stays(text: str) -> None:
    """After a quoted secret's label, a variable, a placeholder or words (no password's shape)
    stay as written."""
    assert _text(text) == text
