"""Links as they open, on every surface that shows or sends one: the GitHub text, the ticket
backend, the deterministic ticket and the model's ticket write an alert's URL the same way
(`display.link_url`): without user info (`https://github.com@evil.example/` opens
evil.example) and with its host as DNS spells it, so no surface reads as another host."""

from __future__ import annotations

import dataclasses
import re

import pytest

from factories import view
from test_backend_sink import ROUTES
from test_backend_sink import open_sink as open_backend
from test_escape_every_surface import effect
from test_summarise_hostile_answers import ALERT, Model, openai_model, ticket_from
from triage.demo.ticketd import TicketServer
from triage.display import link_url
from triage.models import Alert, Ticket
from triage.sinks import backend, markdown
from triage.summarise import grounding
from triage.summarise.deterministic import DeterministicSummariser

__all__ = ["openai_model"]  # a fixture, used by name

#: URLs that read as one host and open another, or spell their host other than DNS does,
#: and the URL each opens as every surface writes it.
AS_OPENED = {
    "https://github.com@evil.example/login": "https://evil.example/login",
    "https://aws.amazon.com%2Fconsole@evil.example/": "https://evil.example/",
    "https://%67ithub.com/acme/ops": "https://github.com/acme/ops",
    "https://gr\u0430fana.example.com/d/x": "https://xn--grfana-4nf.example.com/d/x",
    "https://deploy:hunter2@runbooks.example.com/x": "https://runbooks.example.com/x",
    "  HTTPS://Runbooks.Example.COM:8443/a b?q=1#top  ": "https://runbooks.example.com:8443/a%20b?q=1#top",
}  # fmt: skip

#: Text that names no link a reader could open at a host a label can name.
NOT_LINKS = [
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://files.example.com/x",
    "/runbooks/backups",
    "https://exa%20mple.com/",
    "https://runbooks.example.com/\u202ekcab",
    "https://example.com/\ud800",
    "",
]

RUNBOOK = "https://runbooks.example.com@evil.example/backups"
DASHBOARD = "https://grafana.example.com@evil.example/d/x"


@pytest.mark.parametrize(("url", "opened"), AS_OPENED.items())
def test_every_surface_writes_a_link_as_it_opens(url: str, opened: str) -> None:
    """The shared reading, GitHub's link target and the backend's URL field are one URL: the
    one a browser opens, without user info, host as DNS spells it."""
    assert link_url(url) == opened
    assert markdown.safe_url(url) == opened
    assert backend._http_link(url) == opened
    assert backend._http_link(url) == opened  # remembered as first judged


@pytest.mark.parametrize("text", NOT_LINKS)
def test_text_that_opens_no_nameable_host_is_no_link_anywhere(text: str) -> None:
    """Another scheme, a relative path, a host no label can name, or a hidden character
    (a bidi override, a lone surrogate) is a link on no surface."""
    assert link_url(text) is None
    assert markdown.safe_url(text) is None
    assert backend._http_link(text) is None


async def test_the_backend_is_sent_the_runbook_as_it_opens(
    backend: TicketServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runbook and a link with a password as user info reach the backend without it, and
    a link that opens nothing nameable is left out."""
    monkeypatch.setenv("BACKEND_TOKEN", backend.token)
    one = effect("t")
    links = {
        "dash": "https://ops:hunter2@grafana.example.com/d/x",
        "bad": "https://exa%20mple.com/",
    }
    alert = dataclasses.replace(one.alert, runbook_url=RUNBOOK, links=links)
    async with open_backend(backend.url, **ROUTES) as sink:
        assert (await sink.apply(dataclasses.replace(one, alert=alert))).ref is not None
    [opened] = backend.tickets
    assert opened["body"]["runbook_url"] == "https://evil.example/backups"
    assert opened["body"]["links"] == {"dash": "https://grafana.example.com/d/x"}


def _fallback(**update: object) -> Ticket:
    alert = ALERT.model_copy(update={"labels": {}, **update})
    return DeterministicSummariser().write(view(alert))


def test_the_fallback_ticket_writes_its_links_as_they_open() -> None:
    """The deterministic ticket's runbook and link lines and its steps name the URL each
    opens: no user info, a look-alike host in punycode, a percent-encoded one decoded."""
    ticket = _fallback(
        runbook_url=RUNBOOK,
        links={
            "dashboard": "https://gr\u0430fana.example.com/d/x",
            "source": "https://%67ithub.com/a",
        },
    )
    assert "Open the runbook: https://evil.example/backups" in ticket.steps
    assert "Open the dashboard: https://xn--grfana-4nf.example.com/d/x" in ticket.steps
    assert "Open the source: https://github.com/a" in ticket.steps
    lines = ticket.description.splitlines()
    assert any(re.fullmatch(r"\W*Runbook:\W* https://evil\.example/backups", ln) for ln in lines)
    dashboard = r"\W*Dashboard:\W* https://xn--grfana-4nf\.example\.com/d/x"
    assert any(re.fullmatch(dashboard, ln) for ln in lines), lines
    words = "\n".join([ticket.description, *ticket.steps])
    assert "@evil" not in words and "\u0430" not in words and "%67" not in words, words


def test_the_fallback_ticket_names_no_link_that_opens_nothing() -> None:
    """A link that is no http(s) URL with a nameable host (javascript:, a host no label can
    name) is neither a step nor a line of the deterministic ticket, as no sink links it."""
    ticket = _fallback(
        links={"dashboard": "javascript:alert(1)", "source": "https://exa%20mple.com/"}
    )
    words = "\n".join([ticket.description, *ticket.steps])
    assert "javascript" not in words and "exa%20mple" not in words, words


def test_the_fallback_ticket_quotes_the_alerts_urls_as_they_open() -> None:
    """A URL in the alert's own description is quoted in the deterministic ticket as it
    opens, the rest of the alert's words as written."""
    ticket = _fallback(
        description=f"Backup failed, see {DASHBOARD}. Or ftp://x.example/a, ftp://y.example@z.example/b."
    )
    assert ticket.description.startswith(
        "Backup failed, see https://evil.example/d/x. Or ftp://x.example/a, ftp://z.example/b."
    ), ticket.description


def test_the_model_may_repeat_a_link_only_as_it_opens() -> None:
    """Grounding keeps an alert's link that the model repeats with its user info, or writes
    as it opens, always written as it opens; a link to another host is still removed."""
    allowed = grounding.allowed_urls([DASHBOARD], RUNBOOK, "see https://u@a.example/x.")
    text = f"Open {RUNBOOK}, then https://evil.example/d/x and https://a.example/x; not https://b.example/"
    assert grounding.links(text, allowed) == (
        "Open https://evil.example/backups, then https://evil.example/d/x and "
        f"https://a.example/x; not {grounding.LINK_REMOVED}",
        1,
    )


async def test_the_models_ticket_names_the_host_its_links_open(openai_model: Model) -> None:
    """The model repeating the alert's runbook and dashboard with their user info: the
    published ticket writes each as it opens, the runbook step included."""
    source: Alert = ALERT.model_copy(
        update={"runbook_url": RUNBOOK, "links": {"dashboard": DASHBOARD}}
    )
    openai_model.queue(
        '{"title": "Checkout API 5xx on web-1", "priority": "high", '
        f'"description": "Errors on web-1, see {DASHBOARD}.", '
        f'"steps": ["Check web-1", "Open {DASHBOARD}"]}}'
    )
    ticket, _ = await ticket_from(openai_model, source)
    assert ticket.steps[0] == "Follow the runbook: https://evil.example/backups", ticket.steps
    assert "Open https://evil.example/d/x" in ticket.steps
    assert ticket.description.startswith("Errors on web-1, see https://evil.example/d/x."), ticket
    assert "example.com@" not in "\n".join([ticket.description, *ticket.steps])


async def test_the_models_own_runbook_step_is_found_as_it_opens(openai_model: Model) -> None:
    """The model's step opening the runbook (written with its user info) is moved first, not
    joined by a second runbook step."""
    source: Alert = ALERT.model_copy(update={"runbook_url": RUNBOOK})
    openai_model.queue(
        '{"title": "Checkout API 5xx on web-1", "priority": "high", '
        '"description": "Errors on web-1.", '
        f'"steps": ["Check web-1", "Read {RUNBOOK} first"]}}'
    )
    ticket, _ = await ticket_from(openai_model, source)
    assert ticket.steps == ("Read https://evil.example/backups first", "Check web-1"), ticket.steps
