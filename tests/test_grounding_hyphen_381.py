"""Grounding, task 381: a hyphenated service name with no component's part (`fraud-scorer`,
`ledger-writer`, `cart-sync`) is a name the alert must hold, as `billing-api` is; the
hyphenated English a ticket is written in (`re-run`, `up-to-date`, `dead-letter`) is not."""

from __future__ import annotations

import pytest

from triage.summarise import grounding

#: An alert that names its services in the shape the model imitates, in other spellings
#: than the model writes them (case, underscores, spaces, longer).
SHOWN = grounding.evidence(
    {
        "title": "Checkout API 5xx on web-1",
        "description": "error rate 12% on checkout-api for 10m; retries from Cart Sync",
        "labels": {
            "service": "Fraud-Scorer",
            "writer": "ledger_writer",
            "gateway": "PAYMENTS_GATEWAY_V2",
            "fleet": "risk-engine-eu-west",
        },
        "runbook": "Restart the session-store pods, then check the order_pipeline backlog",
    }
)
#: An alert that names one service, in the same shape, and none of the ones made up below.
CHECKOUT = grounding.evidence(
    {
        "title": "Checkout API 5xx on web-1",
        "description": "error rate 12% on checkout-api for 10m",
        "labels": {"service": "checkout-api", "team": "payments"},
    }
)

#: Hyphenated English from ticket prose: phrasal verbs and nouns, adjectives, prefixes,
#: idioms and the compounds operations people write. None names anything to look up.
ENGLISH_TEXT = """
re-run set-up up-to-date out-of-memory well-known time-out dead-letter rate-limited read-only
high-availability on-call follow-up start-up shut-down roll-back roll-out fail-over back-off
clean-up warm-up cool-down spin-up tear-down check-in sign-in log-in log-out look-up hand-off
fan-out fan-in trade-off drop-off pop-up stand-up back-up write-up break-down run-away lock-out
push-back cut-over sign-off opt-in opt-out built-in add-on plug-in drill-down long-running
short-lived long-lived well-defined self-hosted self-healing self-service user-facing
customer-facing client-side server-side end-to-end peer-to-peer point-in-time day-to-day
step-by-step one-off one-time two-phase three-way first-party third-party real-time run-time
near-real-time long-term short-term mid-term high-level low-level top-level first-class
high-latency low-latency high-traffic low-traffic high-priority low-priority high-severity
high-volume high-throughput high-memory low-memory high-cpu multi-region cross-region
single-region multi-tenant single-tenant multi-zone cross-account cross-team cross-cluster
in-flight in-memory in-process on-disk on-prem off-peak on-demand non-zero non-blocking
non-critical non-prod pre-existing pre-release post-mortem post-deploy pre-deploy re-deploy
re-deployed re-enable re-enabled re-try re-queue re-index re-sync re-check re-created co-located
de-duplicated de-facto ad-hoc so-called e-mail x-ray no-op how-to know-how rate-limit
rate-limiting root-cause round-trip hot-fix hot-spot hot-path cold-start dead-lock split-brain
circuit-breaker load-balancer load-balancing health-check heart-beat key-value time-series
blue-green break-glass burn-rate error-rate error-budget memory-leak memory-pressure disk-space
disk-pressure connection-pool thread-pool network-partition packet-loss certificate-expiry
token-refresh retry-storm thundering-herd back-pressure write-ahead copy-on-write
read-after-write check-point lock-step fire-drill war-room run-book play-book post-incident
all-clear all-hands stand-by hot-standby warm-standby fail-safe fall-back fail-fast best-effort
at-least-once exactly-once at-most-once first-come last-resort worst-case best-case edge-case
use-case corner-case bottle-neck trouble-shooting over-provisioned under-provisioned
auto-scaling auto-scaled auto-recovered auto-remediation mis-configured mis-routed un-acked
half-open half-closed fully-qualified newly-created widely-used recently-deployed well-formed
ill-formed hard-coded hand-written human-readable machine-readable thread-safe fault-tolerant
error-prone time-sensitive mission-critical business-critical latency-sensitive cost-effective
lock-free zero-downtime zero-day double-check double-checked single-threaded multi-threaded
read-write read-heavy write-heavy data-driven event-driven open-source full-text plain-text
free-text free-tier command-line wall-clock open-ended dead-end front-end back-end old-style
build-up follow-on knock-on spill-over take-over hand-over turn-around work-around walk-through
drop-in stand-in look-alike lower-case upper-case case-insensitive case-sensitive camel-case
snake-case title-case pretty-printed human-friendly user-friendly year-over-year week-over-week
month-end end-of-day end-of-life mid-day mid-flight over-the-air state-of-the-art off-the-shelf
out-of-band out-of-date out-of-sync out-of-order out-of-range up-front down-stream in-place
in-line off-line on-boarding sign-up fine-grained coarse-grained short-circuit long-tail
long-polling slow-start fast-path hot-reload live-reload dry-run test-run smoke-test load-test
stress-test feature-flag key-rotation password-reset access-control least-privilege role-based
token-based time-based content-type keep-alive retry-after cross-site same-site two-factor
multi-factor single-sign-on end-user super-user non-admin sub-second per-second per-request
per-tenant t-shirt x-axis on-screen in-house back-to-back side-by-side one-by-one one-to-many
many-to-many all-or-nothing trial-and-error up-and-running day-one crash-loop crash-looping
oom-killed noisy-neighbour game-changer show-stopper place-holder stake-holder gate-keeper
round-robin brute-force man-in-the-middle denial-of-service write-through cache-aside
stack-trace heap-dump thread-dump core-dump blast-radius code-freeze change-freeze root-causes
action-items customer-impact user-impact request-timeout gateway-timeout incident-commander
null-pointer follow-ups look-ups set-ups account-takeover dns-failover purchase-order
ring-buffer bloom-filter cache-hit cache-miss queue-depth queue-length job-failure api-key
api-version server-rendered server-sent db-connections escalation-policy release-train stop-gap
band-aid watch-dog deep-dive water-mark tls-handshake dns-lookup log-volume alert-fatigue
"""
ENGLISH = ENGLISH_TEXT.split()

#: Services a model may make up: no component's part (`api`, `db` …), no English one; what
#: they end with says what they are: a doer, or a system's part.
INVENTED = [
    "fraud-scorer",
    "ledger-writer",
    "cart-sync",
    "notification-hub",
    "order-pipeline",
    "payment-ledger",
    "customer-portal",
    "shipment-tracker",
    "tax-calculator",
    "pricing-engine",
    "loyalty-points-reconciler",
    "sms-notifiers",
    "product-catalog",
    "payments-core",
    "inventory-sync",
]


def marks(text: str, shown: grounding.Evidence = CHECKOUT) -> grounding.Checked:
    return grounding.check(text, shown)


def test_the_english_sample_is_a_few_hundred_distinct_words() -> None:
    """The English sample is large and has no repeats, so it tests the rules, not a few cases."""
    assert len(ENGLISH) == len(set(ENGLISH)) >= 300


def test_hyphenated_english_is_no_name() -> None:
    """Not one of a few hundred ordinary hyphenated English words, in lower case or opening a
    sentence, is marked in a ticket whose alert never wrote it."""
    marked = [
        word
        for word in ENGLISH
        for text in (f"The {word} was noted.", f"{word.capitalize()} was noted.")
        if marks(text).rejected
    ]
    assert marked == []


@pytest.mark.parametrize("name", INVENTED)
def test_an_invented_hyphenated_service_name_is_marked(name: str) -> None:
    """A hyphenated service name the alert never gave is marked as a name, even with no part
    that says "component"."""
    result = marks(f"Restart {name} and watch the error rate.")
    assert result.text == f"Restart {grounding.MARK} and watch the error rate."
    assert result.rejected == ("name",)


def test_an_invented_name_with_a_version_is_marked() -> None:
    """A made-up name holding a digit (a version) is marked as an identifier."""
    result = marks("Traffic moved to payments-gateway-v3.")
    assert result.text == f"Traffic moved to {grounding.MARK}."
    assert result.rejected == ("id",)


@pytest.mark.parametrize(
    "name",
    [
        "fraud-scorer",  # the alert: Fraud-Scorer
        "ledger-writer",  # ledger_writer
        "cart-sync",  # Cart Sync
        "risk-engine",  # risk-engine-eu-west, cut short
        "session-store",  # the runbook's
        "order-pipeline",  # order_pipeline
        "payments-gateway-v2",  # PAYMENTS_GATEWAY_V2
        "Fraud-Scorer",
        "order_pipeline",
    ],
)
def test_a_name_the_alert_gives_in_another_spelling_is_grounded(name: str) -> None:
    """A service name the alert (or its runbook) gives is kept, whatever case, underscores or
    spaces the alert writes it with, and when the alert's is the longer."""
    text = f"Errors started in {name} first."
    assert marks(text, SHOWN) == grounding.Checked(text)


def test_only_the_invented_name_in_english_prose_is_marked() -> None:
    """In a sentence of hyphenated English and a grounded name, only the invented name goes."""
    text = (
        "After the follow-up, fraud-scorer's dead-letter queue kept growing, so a "
        "re-run of ledger-auditor is needed on a best-effort basis."
    )
    result = marks(text, SHOWN)
    assert result.text == text.replace("ledger-auditor", grounding.MARK)
    assert result.rejected == ("name",)


def test_a_hyphenated_number_in_words_is_marked_once() -> None:
    """A number in words joined by a hyphen is one number fact, marked once, not a name too."""
    result = marks("twenty-five pods restarted")
    assert result.text == f"{grounding.MARK} pods restarted"
    assert result.rejected == ("number",)


def test_a_dash_of_two_hyphens_joins_no_name() -> None:
    """Two hyphens between words are a dash in prose, not a name's joint, whatever follows."""
    text = "Waiting on the fix--reviewer sign-off."
    assert marks(text) == grounding.Checked(text)


def test_a_hyphenated_word_of_another_language_is_no_name() -> None:
    """A lower-case hyphenated word with letters outside ASCII is another language's prose
    (German "lauf-zähler", a run counter), not a service name, though it ends like a doer."""
    text = "Der lauf-zähler stieg weiter."
    assert marks(text) == grounding.Checked(text)
