"""The prompt shows a fresh view (`view.redact_alert`'s) without redacting it a second time, and
shows exactly what redacting it again used to show: over every sample payload, at two excerpt
sizes (`prompt_views`). The samples made hostile are compared in `test_every_source_hostile`
and the secret-packed rounds in `test_redaction_boundary`, beside what renders or sends them,
whose redactions they share. A view read back from the store, made by hand or by another
redactor, or made before the process held a credential it holds now, is still redacted again
by the prompt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from factories import T0, alert
from prompt_views import differences
from remembering import RememberingRedactor
from triage.incidents.codec import view_from_json, view_to_json
from triage.models import Alert
from triage.normalize import normalize_body
from triage.redact import Redactor, hold
from triage.redact.held import _forget_held
from triage.summarise import prompt
from triage.view import RedactedAlert, redact_alert, redacted_by

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES = sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json"))


def _alerts(body: str) -> tuple[Alert, ...]:
    try:
        return normalize_body(body).alerts
    except Exception:  # a sample of a refused or skipped shape: no view to compare
        return ()


@pytest.mark.parametrize("name", SAMPLES)
def test_a_samples_prompt_view_is_what_redacting_it_again_gave(name: str) -> None:
    """Every sample payload's fresh view is shown as the second redaction showed it, and
    redacting the shown view again changes nothing."""
    sources = _alerts((PAYLOADS / name).read_text(encoding="utf-8"))
    assert list(differences(sources, RememberingRedactor())) == []


#: A payload whose excerpt is cut inside a random-looking id (not a secret by its shape).
CUT_INSIDE = {"title": "x", "note": "a" * 56, "trace": "Q7fz2LkP9wXs4RtY8bNc3VdM6hJe1GuA"}


def test_a_cut_excerpt_is_redacted_again_by_the_view_itself() -> None:
    """The piece of a word a cut leaves at the excerpt's end is scrubbed when the view is
    made, as the redactor scrubs any cut's fragment: the prompt need not read it again."""
    source = alert().model_copy(update={"raw": CUT_INSIDE})
    shown = redact_alert(source, Redactor(), excerpt_chars=100).payload_excerpt
    assert shown.endswith("[REDACTED:cut]…")
    assert "Q7fz2LkP" not in shown


@pytest.fixture
def _no_held() -> Iterator[None]:
    _forget_held()
    yield
    _forget_held()


@pytest.mark.usefixtures("_no_held")
def test_a_stored_view_is_redacted_again_with_what_the_process_holds_now() -> None:
    """A view read back from the store is not trusted as redacted: a credential the process
    came to hold after it was stored is still kept out of the prompt, in every field."""
    token = "bk-rotated-Z9x8C7v6B5n4M3"
    source = alert().model_copy(
        update={
            "title": f"login failed with {token}",
            "description": f"the backend answered 401 to {token}",
            "raw": {"title": "login failed", "detail": f"answered 401 to {token}"},
        }
    )
    stored = view_from_json(view_to_json(redact_alert(source, Redactor(), excerpt_chars=6000)))
    assert token in stored.title and token in stored.payload_excerpt
    hold(token)
    shown = json.dumps(prompt.alert_view(stored, Redactor(), 100_000))
    assert token not in shown


@pytest.mark.usefixtures("_no_held")
def test_a_view_made_before_a_credential_was_held_is_redacted_again() -> None:
    """A fresh view made before the process came to hold a credential it quotes is not
    trusted: the prompt keeps that credential out."""
    token = "gh-installation-Q4w8E2r6T1y5"
    source = alert().model_copy(update={"title": f"push refused for {token}"})
    redactor = Redactor()
    fresh = redact_alert(source, redactor, excerpt_chars=6000)
    hold(token)
    assert not redacted_by(fresh, redactor)
    assert token not in json.dumps(prompt.alert_view(fresh, redactor, 100_000))


def test_a_view_made_by_another_redactor_is_redacted_again() -> None:
    """A view another redactor made (one that knows fewer credentials) is redacted again by
    the prompt's own redactor."""
    token = "backend-token-Zq81xLmN0p"
    source = alert().model_copy(update={"description": f"401 for {token}"})
    fresh = redact_alert(source, Redactor(), excerpt_chars=6000)
    knowing = Redactor(lambda: [token])
    assert token not in json.dumps(prompt.alert_view(fresh, knowing, 100_000))


def test_a_handmade_view_is_redacted_by_the_prompt() -> None:
    """A view not made by `redact_alert` (a test's, a stand-in's) is redacted by the prompt."""
    handmade = RedactedAlert(
        fingerprint="f" * 32,
        source="generic",
        status=redact_alert(alert(), Redactor()).status,
        title="leaked ghp_R4nd0mT0k3nValueAbCdEfGhIjKlMnOpQr12",
        team=None,
        priority=None,
        severity=None,
        description="d",
        runbook_url=None,
        occurred_at=T0,
        payload_excerpt='{"k":"ghp_R4nd0mT0k3nValueAbCdEfGhIjKlMnOpQr12"}',
    )
    shown = json.dumps(prompt.alert_view(handmade, Redactor(), 100_000))
    assert "R4nd0mT0k3n" not in shown
