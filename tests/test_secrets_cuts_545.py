"""Round 21 (helper 545): secrets where text is cut. Every credential shape slid across each cut
a normaliser makes before the view redacts (title, label value, description), across the log
redactor's cut of a value too long to read whole (its head and its tail), and across the cut of
a value the alert holds under a secret's name: no run of the credential leaves."""

from __future__ import annotations

import base64
import json
import random
from datetime import timedelta
from pathlib import Path

import pytest

import triage.logs
from factories import T0
from recording_pipeline import POLICY, Sink
from test_egress_audit_509 import _rendered
from test_every_source_hostile import PAGE
from triage.incidents.ledger import Ledger
from triage.incidents.sqlite import SQLiteStore
from triage.logs import redact_event
from triage.metrics import Metrics
from triage.normalize import normalize_body
from triage.normalize.common import DESCRIPTION_MAX, LABEL_VALUE_MAX, TITLE_MAX, line, text
from triage.ops.operator import incident_json
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message
from triage.summarise.deterministic import DeterministicSummariser

_RANDOM = random.Random(545)


def _base64(size: int) -> str:
    return base64.b64encode(_RANDOM.randbytes(size)).decode()


def _rows(body: str) -> str:
    return "\n".join(body[i : i + 64] for i in range(0, len(body), 64))


#: Credentials of several shapes, each with the part of it that must not leave.
SHAPES: dict[str, tuple[str, str]] = {
    "aws-secret": (
        "aws_secret_access_key=Zq8vN3kT1pLmR7xW2yB5cD9fG4hJ6sK0aE3uV8nQ",
        "Zq8vN3kT1pLmR7xW2yB5cD9fG4hJ6sK0aE3uV8nQ",
    ),
    "password-pair": ("password=Xk7pQ2vR9mT4wZ8bN1cL", "Xk7pQ2vR9mT4wZ8bN1cL"),
    "jwt": (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9l"
        "IiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ),
    "slack-token": (
        "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    "url-user-info": (
        "postgres://admin:Vq9Lk2Xz7Rw4Pm8T@db.internal:5432/app",
        "Vq9Lk2Xz7Rw4Pm8T",
    ),
}
_PEM_BODY = _base64(600)
SHAPES["pem"] = (
    f"-----BEGIN RSA PRIVATE KEY-----\n{_rows(_PEM_BODY)}\n-----END RSA PRIVATE KEY-----",
    _PEM_BODY,
)


def _runs(secret: str, shown: str, size: int = 8) -> list[str]:
    """The `size`-character runs of `secret` that `shown` holds (line breaks ignored)."""
    flat = shown.replace("\n", "")
    return [
        secret[i : i + size] for i in range(len(secret) - size + 1) if secret[i : i + size] in flat
    ]


def _slid_across(limit: int, credential: str) -> list[str]:
    """Texts in which `credential` lies across a cut at `limit`, at every offset: after a run
    of short words, so a cut inside the credential keeps words before it."""
    texts = []
    for before in range(max(0, limit - len(credential) - 1), limit + 1):
        words = ("ab " * limit)[:before]
        texts.append(f"{words}{credential} and more words after it")
    return texts


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize(
    ("field", "limit"),
    [("title", TITLE_MAX), ("label value", LABEL_VALUE_MAX), ("description", DESCRIPTION_MAX)],
)
def test_a_normalisers_cut_at_any_offset_inside_a_credential_leaves_none_of_it(
    shape: str, field: str, limit: int
) -> None:
    """A credential of each shape slid across a normaliser's cut (the title's, a label
    value's, the description's), one character at a time, leaves no 8-character run of its
    secret once the view redacts what the cut kept."""
    credential, secret = SHAPES[shape]
    redactor = Redactor()
    for given in _slid_across(limit, credential):
        if field == "description":
            kept = text(given, "description", limit) or ""
        else:
            kept = line(given, field, limit, shown=True) or ""
        shown = redactor.text(kept)
        assert not _runs(secret, shown), (len(given), shown[-120:])


# --- the log redactor's cut of a value too long to read whole ---------------------------------

#: An armoured PGP secret key of an RSA-4096 key with its subkey is 6 to 7 KB.
_PGP_BODY = _base64(4800)
PGP_KEY = (
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
    f"{_rows(_PGP_BODY)}\n=Ab3d\n-----END PGP PRIVATE KEY BLOCK-----"
)
#: A kubeconfig's `client-key-data`: an RSA-4096 key's PEM in base64, one line of 4.3 KB.
_RSA_4096 = (
    f"-----BEGIN RSA PRIVATE KEY-----\n{_rows(_base64(2350))}\n-----END RSA PRIVATE KEY-----"
)
_KEY_DATA = base64.b64encode(_RSA_4096.encode()).decode()
LONG_KEYS = {
    "pgp-private-key-block": (PGP_KEY, _PGP_BODY),
    "kubeconfig-client-key-data": (f"client-key-data: {_KEY_DATA}", _KEY_DATA),
}


def _logged(value: object) -> str:
    """The `detail` of a log line holding `value`, as the log redactor leaves it."""
    event = redact_event(None, "error", {"event": "x.failed", "detail": value, "logger": "triage"})
    return json.dumps(event["detail"])


def _around_the_tail_cut(credential: str, offset: int) -> str:
    """A text long enough for the log redactor to read only its ends, in which the tail's
    read begins `offset` characters into `credential` (read from `triage.logs`, whose
    window this targets)."""
    window = triage.logs._READ_EACH_END
    after = " ok" * ((window - len(credential) + offset) // 3 + 1)
    before = "e " * (window // 2 + 100)
    return f"error: {before}{credential}{after}"


@pytest.mark.parametrize("shape", sorted(LONG_KEYS))
def test_a_log_values_tail_cut_inside_a_long_private_key_keeps_none_of_it(shape: str) -> None:
    """A log value too long to redact whole, whose tail's read begins inside a private key of
    several kilobytes (at every 97th offset), shows no 16-character run of the key."""
    credential, secret = LONG_KEYS[shape]
    for offset in range(1, len(credential), 97):
        shown = _logged(_around_the_tail_cut(credential, offset))
        assert not _runs(secret, shown.replace("\\n", ""), 16), offset


def test_a_long_text_inside_a_logged_structure_cut_inside_a_private_key_keeps_none_of_it() -> None:
    """The same tail cut inside a PGP secret key, when the long text is a value inside a
    dict the line logs (an answer's JSON), shows no 16-character run of the key."""
    secret = _PGP_BODY
    for offset in range(1, len(PGP_KEY), 331):
        shown = _logged({"answer": _around_the_tail_cut(PGP_KEY, offset)})
        assert not _runs(secret, shown.replace("\\n", ""), 16), offset


@pytest.mark.parametrize("shape", sorted(LONG_KEYS))
def test_a_log_values_head_cut_inside_a_long_private_key_keeps_none_of_it(shape: str) -> None:
    """The head's read of a log value too long to redact whole, ending inside a private key
    of several kilobytes (at every 97th offset), shows no 16-character run of the key: a key
    cut off before its end goes to the end of what is read."""
    credential, secret = LONG_KEYS[shape]
    window = triage.logs._READ_EACH_END
    for offset in range(1, len(credential), 97):
        given = "e " * ((window - offset) // 2) + credential + " ok" * window
        shown = _logged(given)
        assert not _runs(secret, shown.replace("\\n", ""), 16), offset


# --- a value the alert holds under a secret's name, cut by a normaliser -----------------------

PASSPHRASE = "Tr0ub4dor&3 horse battery staple mango river"


@pytest.mark.parametrize(
    ("field", "limit"), [("title", TITLE_MAX), ("description", DESCRIPTION_MAX)]
)
def test_a_held_passphrase_cut_by_a_normaliser_leaves_none_of_its_words(
    field: str, limit: int
) -> None:
    """A passphrase the alert holds under `password` and repeats in its title or description,
    where the field's cut falls inside it (after each of its words), keeps none of it in the
    view: the head the cut left is taken out as the whole would be."""
    from triage.view import redact_alert

    redactor = Redactor()
    for before in range(limit - len(PASSPHRASE) + 1, limit - 4):
        body = {"title": "t", "description": "d", "dedup_key": "k", "password": PASSPHRASE}
        body[field] = ("ab " * limit)[:before] + PASSPHRASE + " and more"
        [alert] = normalize_body(json.dumps(body)).alerts
        view = redact_alert(alert, redactor, excerpt_chars=6000)
        assert view.named_secrets == (PASSPHRASE,)
        shown = getattr(view, field)
        assert "Tr0ub4dor" not in shown, (before, shown[-80:])


def test_a_cut_text_that_begins_no_held_value_stays_as_cut() -> None:
    """Only the head of a held value is taken out at a cut: a title cut after words the
    passphrase also holds, but not at its start, stays as the normaliser cut it."""
    from triage.view import redact_alert

    body = {"title": "horse battery " * 20, "description": "d", "dedup_key": "k"}
    body["password"] = PASSPHRASE
    [alert] = normalize_body(json.dumps(body)).alerts
    view = redact_alert(alert, Redactor(), excerpt_chars=6000)
    assert alert.title.endswith("…")
    assert view.title == alert.title


# --- a value only the payload holds under a secret's name --------------------------------------

HELD = "BlueHarbor42Sunrise"


async def _shown_after_opening(tmp_path: Path, excerpt_chars: int) -> dict[str, str]:
    """What a generic alert repeating the `password` its payload holds (in its title and
    description) shows once the pipeline opened its incident: the effects as the sinks render
    them, the stored incident as the operator API and the status page show it, and the
    SQLite file at rest. `excerpt_chars` 0 is a daemon with no LLM (`TRIAGE_LLM=none`)."""
    store = SQLiteStore(str(tmp_path / "s.db"), POLICY, timedelta(minutes=2), timedelta(days=30))
    await store.open()
    try:
        sink = Sink()
        pipeline = Pipeline(
            Ledger(store), DeterministicSummariser(), [sink], Metrics(), redactor=Redactor(),
            policy=POLICY, payload_excerpt_chars=excerpt_chars,
        )  # fmt: skip
        body = {"title": f"db login refused for {HELD}", "password": HELD, "dedup_key": "k"}
        body["description"] = f"the nightly job tried {HELD} twice"
        await pipeline.process(Message("m-1", json.dumps(body), "r-1", 1, T0, received_at=T0))
        shown = {
            f"{effect.kind}: {place}": text
            for effect in sink.effects
            for place, text in _rendered(effect).items()
        }
        for incident in await store.incidents():
            shown["operator API"] = json.dumps(incident_json(incident, Redactor(), history=True))
        shown["status page"] = await PAGE.render(store)  # type: ignore[arg-type]
    finally:
        await store.aclose()
    return shown | _at_rest(tmp_path)


def _at_rest(folder: Path) -> dict[str, str]:
    """The SQLite files in `folder` (the database and its WAL) as text."""
    return {
        f"at rest: {file.name}": file.read_bytes().decode("utf-8", "replace")
        for file in folder.glob("s.db*")
    }


async def test_a_value_the_payload_holds_under_a_secrets_name_is_not_in_the_stored_title(
    tmp_path: Path,
) -> None:
    """With the LLM on (an excerpt made), a password the payload holds and the title repeats
    reaches neither the ticket nor the stored incident: the operator API, the status page
    and the SQLite file show it blanked, as the README says of the stored title."""
    shown = await _shown_after_opening(tmp_path, excerpt_chars=2000)
    assert [place for place, text in shown.items() if HELD in text] == []


async def test_without_an_llm_a_value_the_payload_holds_under_a_secrets_name_leaves_nowhere(
    tmp_path: Path,
) -> None:
    """With no LLM (no excerpt made), a password the payload holds and the title and the
    description repeat reaches no sink's request (backend, GitHub, Slack) nor the store."""
    shown = await _shown_after_opening(tmp_path, excerpt_chars=0)
    assert [place for place, text in shown.items() if HELD in text] == []
