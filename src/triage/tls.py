"""One TLS client context for the whole process.

Every HTTP client (the sinks', the model's, each AWS client's connector) would otherwise build
its own context and load the CA bundle again: 30-45 ms of CPU each, several times at start-up.
A context is safe to share between connections and clients.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Mapping

import httpx2

from triage.errors import ConfigError

#: The variables that name a CA bundle: httpx2's (and so the sinks' and the model's), and
#: botocore's (AWS_CA_BUNDLE, else REQUESTS_CA_BUNDLE).
BUNDLE_VARIABLES = ("SSL_CERT_FILE", "AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE")


def client_context(cafile: str | None = None) -> ssl.SSLContext:
    """The process's verifying client context: httpx2's default (SSL_CERT_FILE, SSL_CERT_DIR,
    else the system's CA bundle), or one for the bundle `cafile` names (botocore's
    AWS_CA_BUNDLE / REQUESTS_CA_BUNDLE). Each is built, and its bundle loaded, once."""
    if cafile is not None and cafile == os.environ.get("SSL_CERT_FILE"):
        cafile = None  # the same bundle httpx2's default loads: one context for both
    return _context(cafile)


@functools.cache
def _context(cafile: str | None) -> ssl.SSLContext:
    if cafile is None:
        return httpx2.create_ssl_context()
    return ssl.create_default_context(cafile=cafile)


def check_bundles(environ: Mapping[str, str] = os.environ) -> None:
    """Load every CA bundle the environment names, now: one that is missing or holds no
    certificate raises ConfigError naming its variable, where it would otherwise fail each
    request (the daemon retrying its receives forever, a sink's first call a traceback). The
    AWS clients then share the contexts made here; httpx2 loads SSL_CERT_FILE once more."""
    for name in BUNDLE_VARIABLES:
        path = environ.get(name, "").strip()
        if not path or (name == "REQUESTS_CA_BUNDLE" and environ.get("AWS_CA_BUNDLE")):
            continue  # unset, or botocore reads AWS_CA_BUNDLE instead
        try:
            _context(path)
        except ssl.SSLError as exc:
            raise ConfigError(
                f"{name} {path[:200]}: no CA certificate in it ({exc.reason})"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{name} {path[:200]}: {exc.strerror or exc}") from None
