"""Less CPU per request for an in-process moto server (the suite's, and the deploy harness's).

Every request to moto's server paid for two things no test reads: moto listed its own package
directory (`os.listdir` and an `isdir` per service, ~0.6 ms) to see whether the Host header
names a service, and werkzeug logged an access line at INFO, which pytest's capture handlers
formatted and kept. Together ~1 ms of the ~2.5 ms moto spends on a SendMessage, in a suite
that makes tens of thousands of requests on two cores. What moto answers is unchanged.
"""

from __future__ import annotations

import functools
import logging

import aioboto3


def lighter_moto_requests() -> None:
    """List moto's service modules once, and log only werkzeug's warnings and errors.
    Idempotent; call it before the server answers its first request."""
    from moto import backends

    if not getattr(backends, "_triage_listed_once", False):
        # The package directory does not change while the process runs.
        names = frozenset(backends.list_of_moto_modules())
        backends.list_of_moto_modules = lambda: names
        backends._triage_listed_once = True  # type: ignore[attr-defined]
    # An explicit level: werkzeug sets INFO on its first line only when none is set.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


@functools.cache
def aws_session() -> aioboto3.Session:
    """One aioboto3 session for the test process. Each new session loads and parses botocore's
    service models again (~50-100 ms a client on this machine), which a fixture making a client
    per test paid every test; clients made from one session share the parsed models."""
    return aioboto3.Session(region_name="us-east-1")
