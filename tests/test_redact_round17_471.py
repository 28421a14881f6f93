"""Round 17 (helper 471): what round 16 left (pytest's short summary line repeating a value a
`where` line showed as a secret's) and over-redactions that hid what a responder needs
(gcloud's `--set-secrets` mapping of variables to Secret Manager secrets), and a decision: a
two-cell table's column under a secret's name keeps losing its cells."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

PW = "Xk9vQ2mZp7"
SHORT = "q7Wz2Lk9Xa"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- pytest's short summary line below a `where` block -------------------------------------------


@pytest.mark.parametrize(
    "summary",
    [
        f"FAILED tests/t.py::test_x - AssertionError: assert '{PW}' == '{SHORT}'",
        f"FAILED tests/t.py::test_x - assert '{PW}' == '{SHORT}'",
    ],
)
def test_pytest_summary_line_loses_a_value_a_where_line_showed_as_a_secret(summary: str) -> None:
    """The short summary line below the failure repeats the literal a `where` line said a
    secret's expression gave: it loses the value there too."""
    text = (
        f"E       assert '{PW}' == '{SHORT}'\n"
        f"E        +  where '{PW}' = s.password\n"
        "\ntests/t.py:3: AssertionError\n"
        "=========================== short test summary info ============================\n"
        f"{summary}"
    )
    redacted = _text(text)
    assert PW not in redacted
    assert redacted.endswith(summary.replace(f"'{PW}'", f"'{P}'"))


def test_pytest_summary_line_inside_a_json_string_loses_the_value() -> None:
    """The same output inside a JSON string (`\\n` breaks) loses the value on the summary line."""
    text = (
        f"{{\"log\": \"E       assert '{PW}' == 'abc'\\nE        +  where '{PW}' = "
        f"cfg.api_token\\n===== short test summary info =====\\n"
        f"FAILED t.py::test_y - AssertionError: assert '{PW}' == 'abc'\"}}"
    )
    assert PW not in _text(text)


def test_pytest_summary_line_keeps_a_value_no_secret_gave() -> None:
    """A literal whose `where` expression names no secret stays on the summary line."""
    text = (
        "E       assert 'pending' == 'done'\n"
        "E        +  where 'pending' = job.status\n"
        "FAILED tests/t.py::test_x - AssertionError: assert 'pending' == 'done'"
    )
    assert _text(text) == text


# --- gcloud's --set-secrets / --update-secrets: variables mapped to Secret Manager secrets ------


@pytest.mark.parametrize(
    "command",
    [
        "gcloud run deploy api --set-secrets=DB_PASS=db-password:latest --region=us-central1",
        "gcloud run services update api --update-secrets=DB_PASS=db-password:latest,"
        "API_KEY=api-key:2",
        "gcloud run deploy api --set-secrets DB_PASS=db-password:latest",
        "gcloud run deploy api --set-secrets=/etc/creds/key.json=sa-key:3",
        "gcloud functions deploy f --set-secrets=TOKEN=projects/my-proj/secrets/token:latest",
        "gcloud run deploy api --set-secrets='DB_PASS=db-password:latest'",
        "gcloud run jobs update j --set-secrets=DB_PASS=db-password:1,"
        "REDIS_AUTH=redis-auth:latest,DB_CREDS=db-creds:2",
    ],
)
def test_gcloud_set_secrets_keeps_the_secret_names(command: str) -> None:
    """`--set-secrets` maps a variable to a Secret Manager secret's id and version: names, no
    value, which tell the responder which secret the service reads."""
    assert _text(command) == command


@pytest.mark.parametrize(
    ("command", "secret"),
    [
        (f"gcloud run deploy api --set-env-vars=DB_PASS={PW}", PW),
        (f"gcloud run deploy api --set-secrets=DB_PASS={PW}", PW),
        (
            "gcloud run deploy api --set-secrets=DB_PASS=Zq8xK2mW9pLr4TfY7vBn:latest",
            "Zq8xK2mW9pLr4TfY7vBn",
        ),
        ("deploy.sh --set-secrets=DB_PASS=db-password:latest", "db-password"),
        (f"gcloud run deploy api --set-secrets=DB_CREDS=admin:{PW}", PW),
        (f"gcloud run deploy api --set-secrets=REDIS_AUTH=default:{PW}", PW),
        ("gcloud run deploy api\nDB_PASS=db-password:latest", "db-password"),
    ],
)
def test_gcloud_set_secrets_still_loses_what_is_no_reference(command: str, secret: str) -> None:
    """A value given in place of a reference (no `:version`, random-looking, outside gcloud or
    its `--set-secrets` option) still goes, as any value under a secret's name does."""
    assert secret not in _text(command)


# --- a pipe table under a secret's name: its column goes, whatever the rows look like ---------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"| password | note |\n|---|---|\n| {PW} | prod |", PW),
        (f"| password | note |\n| {PW} | prod |", PW),
        ("| password | note |\n| 'correct horse' | prod |", "correct horse"),
        # Letters only: a name in a table of names and values, or a passphrase under a header.
        # Nothing tells the two apart, so the cell goes (a lost name, not a leaked secret).
        ("| password | note |\n| correcthorse | prod |", "correcthorse"),
    ],
)
def test_pipe_table_under_a_secret_header_still_loses_its_column(text: str, secret: str) -> None:
    """A two-cell table's column under a secret's name loses its cells, with or without a rule
    line: a row below may be a name (`| user | app |`) or a passphrase of letters only, and only
    the second is a secret worth a lost name to keep."""
    assert secret not in _text(text)


# --- an alert's other field repeating a value its `where` line showed as a secret's --------------


def test_alert_title_loses_a_value_its_description_where_line_showed_as_a_secret() -> None:
    """A title holding pytest's summary line (`FAILED … - assert '…' == …`) loses the value the
    description's `where` line says a secret's expression gave, as a value under a secret's
    name does wherever the alert repeats it."""
    from datetime import UTC, datetime

    from triage.models import Alert, Status
    from triage.view import redact_alert

    alert = Alert(
        source="generic",
        status=Status.FIRING,
        title=f"FAILED tests/t.py::test_x - AssertionError: assert '{PW}' == 'abc'",
        description=f"E       assert '{PW}' == 'abc'\nE        +  where '{PW}' = s.password\n",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        identity={"dedup_key": "x"},
    )
    view = redact_alert(alert, Redactor())
    assert PW not in view.title
    assert PW not in view.description


def test_explained_secret_reads_only_a_where_line_of_a_secret() -> None:
    """`explained_secret` (what the alert-level pass asks) holds for a `where` line whose
    expression names a secret, not for one naming none nor for other text."""
    from triage.redact.calls import explained_secret

    assert explained_secret("E        +  where '", PW, "' = s.password\n")
    assert explained_secret('E    +  and   "', PW, '" = cfg.api_key.strip()')
    assert not explained_secret("E        +  where '", "pending", "' = job.status")
    assert not explained_secret("note '", PW, "' = s.password")
