"""One route's wrong Slack webhook costs only its own messages: while other webhooks take
posts, a route's URL that redirects or whose host cannot be reached is SinkUnreachableError
(the message retried, then the DLQ, redrivable) and the sink's breaker, which pauses intake for
every route, is not told. A webhook that alone fails is Slack's or our trouble: the breaker's."""

from __future__ import annotations

import pytest

from hostile_server import answer, hostile
from test_slack_sink import FakeTime, Hook, closed_port, effect, hook, open_sink
from triage.breaker import BreakerState, CircuitBreaker
from triage.errors import SinkUnavailableError, SinkUnreachableError
from triage.sinks.guard import GuardedSink
from triage.sinks.slack import SlackSink

__all__ = ["hook"]  # the loopback webhook fixture, shared with test_slack_sink.py


def guarded(sink: SlackSink, fake: FakeTime) -> GuardedSink:
    """The sink behind its breaker, as `app.py` builds it (a threshold of 2 here)."""
    return GuardedSink(
        sink, CircuitBreaker("sink:slack", 2, 30.0, clock=fake.clock), clock=fake.clock
    )


@pytest.mark.parametrize("fault", ["redirect", "unreachable"])
async def test_a_routes_wrong_webhook_is_retried_without_the_breaker(
    hook: Hook, fault: str
) -> None:
    """After the default webhook took a post, a route's webhook that redirects (any host) or
    whose host refuses connections is retried alone, naming it, five times over, the breaker
    closed; the default route's next post goes through."""
    fake = FakeTime()
    default = hook.url().replace("127.0.0.1", "localhost")  # another host than the bad one
    async with hostile(answer(307, {"Location": "http://example.invalid/x"})) as redirecting:
        bad = redirecting.url if fault == "redirect" else f"http://127.0.0.1:{closed_port()}/h"
        async with open_sink(default, fake=fake) as sink:
            guard = guarded(sink, fake)
            await guard.apply(effect())
            for _ in range(5):
                with pytest.raises(SinkUnreachableError) as caught:
                    await guard.apply(effect(webhook_url=bad))
                fake.now_s += 1
            assert caught.value.reason == "no_access"
            assert "webhook_url" in str(caught.value)
            assert guard.breaker.state is BreakerState.CLOSED
            await guard.apply(effect())
    assert len(hook.posts) == 2


async def test_a_webhook_that_alone_fails_is_the_breakers() -> None:
    """With no other webhook posting lately, a redirect is SinkUnavailableError: the breaker
    hears of it (the URL every route uses is wrong, or Slack's answers are)."""
    fake = FakeTime()
    redirect = answer(307, {"Location": "http://example.invalid/x"})
    async with hostile(redirect) as redirecting, open_sink(redirecting.url, fake=fake) as sink:
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(effect())
    assert not isinstance(caught.value, SinkUnreachableError)
    assert caught.value.reason == "redirected"
