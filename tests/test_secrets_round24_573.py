"""Round 24 (helper 573): a Go `%+v` password whose capitalised word and colon read as the next
field (`Password:correct Horse:battery Host:db`). Each goes while ordinary text around it stays,
and on every way out (the egress audit's rig)."""

from __future__ import annotations

import random
import string
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from recording_pipeline import POLICY
from test_egress_audit_509 import PLACES, Secret, egress
from triage.incidents.sqlite import SQLiteStore
from triage.redact import Redactor

P = "[REDACTED:password]"
_RANDOM = random.Random(573)
_ALNUM = string.ascii_letters + string.digits


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


def _random(count: int) -> str:
    return "".join(_RANDOM.choice(_ALNUM) for _ in range(count))


# --- Go's %+v: a passphrase's capitalised word before a colon ----------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            "{User:bob Password:correct Horse:battery99 Host:db}",
            f"{{User:bob Password:{P} Host:db}}",
        ),
        (
            "&{Addr:db:5432 Password:tr0ub4dor Staple:x Horse2:y Network:tcp DB:0}",
            f"&{{Addr:db:5432 Password:{P} Network:tcp DB:0}}",
        ),
        ("{Password:correct Horse:battery Staple:z}", f"{{Password:{P}}}"),
    ],
    ids=["before-host", "word-and-digits", "to-the-brace"],
)
def test_a_go_passphrase_with_a_capitalised_word_and_colon_goes_whole(
    given: str, shown: str
) -> None:
    """A `%+v` password's words shaped as one-word fields no config names (`Horse:`, `Horse2:`)
    go with it, to a field config structs name (`Host`, `Network`) or the brace."""
    assert _text(given) == shown


def test_the_fields_config_structs_name_after_a_go_password_stay() -> None:
    """One-word fields a driver's or client's config names (pgx, go-redis, go-sql-driver,
    net/url) and compound or initialism names after a password stay."""
    given = (
        "{Password:x Host:db Port:5432 Database:app User:u Timeout:5s Network:tcp Addr2:y "
        "TLSConfig:<nil> MaxRetries:3 DB:0 Params:map[] Loc:UTC Protocol:3 Username:svc}"
    )
    assert _text(given) == given.replace("Password:x", f"Password:{P}")


# --- every way out ------------------------------------------------------------------------------


def _secrets() -> list[Secret]:
    passphrase = _random(12)
    return [
        Secret(
            "go-passphrase",
            f"redis: dial failed opts=&{{Addr:cache:6379 Password:correct Horse:{passphrase} DB:0}}",
            (passphrase,),
        ),
    ]


SECRETS = _secrets()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "egress.db"), POLICY, timedelta(minutes=2), timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


@pytest.mark.parametrize("place", ["description", "annotation-value", "nested-value"])
@pytest.mark.parametrize("secret", SECRETS, ids=[s.name for s in SECRETS])
async def test_this_rounds_leaks_leave_the_process_by_no_path(
    store: SQLiteStore, tmp_path: Path, secret: Secret, place: str
) -> None:
    """Each class closed this round reaches no sink, prompt, log, metric, operator or CLI line,
    status page or record at rest, from an alert's description, annotation or nested value."""
    body, attributes = PLACES[place](secret.text)
    shown = await egress(store, tmp_path / "egress.db", body, attributes)
    assert shown.leaks(secret) == []
