"""Silences in effect, the cost to an alert: `first_match` and `none_match` (the storm's
fast-path check) over N silences in effect, for the sample alerts of `tests/payloads` with
their views remembered (a storm's repeats: the view is made once per alert text, and this
measures the matching alone).

    python bench/silences.py [--silences 1,100,1000] [--rounds 20] [--shape mixed|equality|regex]

The silences are a team's deploys and maintenance windows, none matching the sample alerts
(so every one must be ruled out): seven in ten `service=svc-N` and `env=prod`, one
`alertname=DeployN` and `severity!=critical`, one `team=team-N` and `title=~.*deploy N.*`, one
`title=~maintenance window N.*` alone (N below 250) (`--shape equality`: the first two kinds only, `regex`:
the last only). Prints one
JSON line per N: CPU µs per alert of each call. Run it with `PYTHONPATH=<a checkout>/src` to measure another commit's code alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from triage.incidents.silences import Matcher, Silence, first_match, none_match
from triage.logs import configure_logging
from triage.models import Alert
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).resolve().parent.parent / "tests" / "payloads"
SOURCES = ("alertmanager", "grafana", "generic", "cloudwatch", "sentry", "prometheus")


def sample_alerts() -> list[Alert]:
    """The firing sample alerts of a few common sources' payloads."""
    found: list[Alert] = []
    for source in SOURCES:
        for path in sorted((PAYLOADS / source).glob("*.json")):
            try:
                found += normalize_body(path.read_bytes()).alerts
            except Exception:  # a sample of a bad body: no alert
                continue
    return found


def deploy_silences(count: int, now: datetime, shape: str = "mixed") -> tuple[Silence, ...]:
    """`count` silences in effect at `now`, shaped as the module docstring says."""
    made = []
    for i in range(count):
        kind = {"mixed": i % 10, "equality": i % 8, "regex": 9}[shape]
        if kind < 7:
            texts = [f"service=svc-{i}", "env=prod"]
        elif kind == 7:
            texts = [f"alertname=Deploy{i}", "severity!=critical"]
        elif kind == 8:
            texts = [f"team=team-{i}", f"title=~.*deploy {i}.*"]
        else:
            # At most 250 distinct patterns, as the store allows in effect (`MAX_PATTERNS`).
            texts = [f"title=~maintenance window {i % 250}.*"]
        matchers = [Matcher.parse(t) for t in texts]
        made.append(
            Silence(f"s{i:04d}", tuple(matchers), now, now + timedelta(hours=2), "deploy", "ci")
        )
    return tuple(made)


def per_alert_us(
    count: int, alerts: list[Alert], rounds: int, shape: str = "mixed"
) -> dict[str, float]:
    now = datetime.now(UTC)
    silences = deploy_silences(count, now, shape)
    later = now + timedelta(minutes=1)
    for alert in alerts:  # each alert's view made and remembered, as a storm's first event does
        assert first_match(silences, alert, later) is None
    figures: dict[str, float] = {}
    for name, call in (("first_match_us", first_match), ("none_match_us", none_match)):
        started = time.process_time()
        for _ in range(rounds):
            for alert in alerts:
                call(silences, alert, later)
        figures[name] = round((time.process_time() - started) / (rounds * len(alerts)) * 1e6, 1)
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--silences", default="1,100,1000")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--shape", choices=("mixed", "equality", "regex"), default="mixed")
    args = parser.parse_args(argv)
    configure_logging("json", "warning")
    alerts = sample_alerts()
    for count in (int(n) for n in args.silences.split(",")):
        rounds = max(1, args.rounds * 100 // max(count, 100))
        figures = per_alert_us(count, alerts, rounds, args.shape)
        print(json.dumps({"silences": count, "shape": args.shape, "rounds": rounds, **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
