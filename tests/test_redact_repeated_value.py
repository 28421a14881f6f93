"""A value the redactor blanked because of a secret's name (a label's or a JSON member's key, a
`name=value` pair in the alert's text) is a secret wherever else the same alert repeats it:
`view.redact_alert` redacts it in every field of the view and in the payload excerpt, for
that alert only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from triage.models import Alert, Status
from triage.redact import Redactor, held
from triage.view import RedactedAlert, redact_alert, shown_title

PASSWORD = "swordfishcanary"


def _alert(**fields: Any) -> Alert:
    """A plain alert with `fields` changed."""
    values: dict[str, Any] = {
        "source": "generic",
        "status": Status.FIRING,
        "title": "Checkout API 5xx on web-1",
        "description": "error rate 12% on web-1",
        "occurred_at": datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        "identity": {"dedup_key": "checkout-5xx"},
    }
    return Alert(**{**values, **fields})


def _view(source: Alert, redactor: Redactor | None = None) -> RedactedAlert:
    return redact_alert(source, redactor or Redactor(), excerpt_chars=6000)


def _shown(view: RedactedAlert) -> str:
    """Everything the view lets out, its labels' and links' keys too."""
    return "\n".join([view.text, *view.labels, *view.links])


def test_a_label_password_is_redacted_in_every_field_that_repeats_it() -> None:
    """A label's password repeated in the title, description, another label, a link and the
    payload is in none of them."""
    source = _alert(
        title=f"login as app/{PASSWORD} failed",
        description=f"login failed for user app with {PASSWORD} on web-1",
        labels={"db_password": PASSWORD, "note": f"tried {PASSWORD} twice"},
        links={"runbook": f"https://wiki.example.com/db?hint={PASSWORD}"},
        raw={"annotations": {"summary": f"auth {PASSWORD} rejected"}},
    )
    view = _view(source)
    assert PASSWORD not in _shown(view)
    assert "login failed for user app with [REDACTED" in view.description
    assert "on web-1" in view.description


def test_a_payload_member_password_is_redacted_in_the_description() -> None:
    """A password under a secret's name deep in the raw payload is redacted where the
    description and another member of the payload repeat it."""
    source = _alert(
        description=f"connection refused with password {PASSWORD}",
        raw={
            "config": {"database": {"password": PASSWORD}},
            "message": f"auth {PASSWORD} failed",
        },
    )
    view = _view(source)
    assert PASSWORD not in _shown(view)
    assert '"message":"auth [REDACTED' in view.payload_excerpt


def test_a_password_in_a_pair_in_the_text_is_redacted_where_it_stands_alone() -> None:
    """`password=…` in the description blanks the value; the title repeating it bare loses it too."""
    source = _alert(
        title=f"{PASSWORD} rejected by db-1",
        description=f"connect failed: password={PASSWORD} user=app",
    )
    view = _view(source)
    assert PASSWORD not in _shown(view)
    assert view.title.endswith(" rejected by db-1")


def test_a_repeat_cut_by_the_excerpt_leaves_no_piece_of_the_password() -> None:
    """The payload cut in the middle of a repeated password shows no piece of it."""
    filler = "x" * 40
    raw = {"db_password": PASSWORD, "message": f"{filler} {PASSWORD}"}
    redactor = Redactor()
    full = redact_alert(_alert(raw=raw), redactor, excerpt_chars=6000).payload_excerpt
    at = full.index("[REDACTED", full.index("message"))
    view = redact_alert(_alert(raw=raw), redactor, excerpt_chars=at + 6)
    assert PASSWORD[:6] not in view.payload_excerpt


def test_short_common_and_numeric_values_are_not_redacted_elsewhere() -> None:
    """A blanked value under 6 characters, a number or a placeholder is not hunted through the
    rest of the alert: `pin: 123456` does not blank every 123456."""
    source = _alert(
        description="pw12x failed; 123456 requests; ******** shown; see ${DB_PASS}",
        labels={"db_password": "pw12x", "pin": "123456", "secret": "********"},
        raw={"token": "${DB_PASS}", "password": "<hidden>"},
    )
    view = _view(source)
    assert view.description == source.description


def test_a_repeated_value_is_redacted_for_that_alert_only() -> None:
    """Redacting one alert's password does not make the redactor, or the credentials the
    process holds, blank that word in another alert."""
    redactor = Redactor()
    holding = held()
    _view(_alert(labels={"db_password": PASSWORD}), redactor)
    other = _view(_alert(description=f"the word {PASSWORD} is no secret here"), redactor)
    assert PASSWORD in other.description
    assert held() is holding
    assert redactor.text(PASSWORD) == PASSWORD


def test_the_view_does_not_show_the_values_it_redacts_in_its_repr() -> None:
    """The values the view redacts are not in its repr (a log line or a traceback)."""
    view = _view(_alert(labels={"db_password": PASSWORD}, description=PASSWORD))
    assert PASSWORD not in repr(view)


def test_a_view_with_nothing_named_is_unchanged() -> None:
    """An alert holding no secret under a name is redacted as before, field for field."""
    source = _alert(labels={"host": "web-1"}, raw={"value": "12", "host": "web-1"})
    view = _view(source)
    assert view.description == source.description
    assert json.loads(view.payload_excerpt) == {"value": "12", "host": "web-1"}


def test_a_url_password_is_redacted_where_the_title_repeats_it() -> None:
    """A DSN's password (blanked for its place, `user:<password>@`) is redacted in the title."""
    source = _alert(
        title="backup failed: Hunter2-Orders rejected",
        description="pg_dump exited 1 on postgres://backup:Hunter2-Orders@orders-db:5432/orders",
    )
    assert "Hunter2-Orders" not in _shown(_view(source))


def test_a_repeat_percent_encoded_or_spelled_out_is_redacted() -> None:
    """The repeat written percent-encoded in a link, or spelled in capitals or letter by
    letter (a value of 16 letters and digits or more, as a held credential's), is redacted."""
    long = PASSWORD + "7"
    source = _alert(
        labels={"db_password": long},
        links={"search": "https://logs.example.com/?q=%73wordfish%63anary7"},
        description=f"typed as {long.upper()} and as {'-'.join(long)}",
    )
    view = _view(source)
    assert "wordfish" not in view.links["search"]
    assert "SWORDFISH" not in view.description and "s-w-o-r-d" not in view.description


def test_a_word_a_rule_took_for_a_value_is_not_redacted_elsewhere() -> None:
    """Only a value after a secret's name counts: `auth <user> <password>` blanks `failed` as
    a password there, but `failed` elsewhere in the alert stays."""
    source = _alert(title="sync failed", description="auth anotherpassword1 failed")
    view = _view(source)
    assert "anotherpassword1" not in _shown(view)
    assert view.title == "sync failed"


def test_a_password_spelling_a_placeholder_word_leaves_placeholders_whole() -> None:
    """A password that is a placeholder's word (`credential`) leaves each placeholder as it
    is, and the view's text is settled: redacting it again with the password changes nothing."""
    source = _alert(
        labels={"db_password": "credential"},
        description="credential rejected; password=credential",
    )
    redactor = Redactor()
    view = _view(source, redactor)
    assert "[REDACTED:[" not in view.description
    assert "credential rejected" not in view.description
    assert redactor.text_with(view.description, view.named_secrets) == view.description


def test_a_text_written_from_the_view_loses_the_alert_s_values() -> None:
    """`Redactor.text_with` takes the view's values out of a text written from it (the model's
    ticket, which may repeat what it was never shown), and leaves another text alone."""
    redactor = Redactor()
    view = _view(_alert(labels={"db_password": PASSWORD}), redactor)
    assert view.named_secrets == (PASSWORD,)
    assert PASSWORD not in redactor.text_with(f"Login failed with {PASSWORD}.", view.named_secrets)
    assert redactor.text_with("Login failed.", view.named_secrets) == "Login failed."


def test_the_title_the_store_keeps_loses_a_label_password() -> None:
    """`shown_title` (what the store would keep as the incident's title) holds no password the
    alert's labels hold, as the view's title does not."""
    source = _alert(title=f"login as app/{PASSWORD} failed", labels={"db_password": PASSWORD})
    title = shown_title(source, Redactor())
    assert PASSWORD not in title
    assert title == _view(source).title
