"""Whether a base64 text is a PEM text that holds nothing secret (a certificate, a public
key): shared by the token rule that finds base64-encoded PEM anywhere (`tokens`) and by the
names that keep a value under a secret's name (`names`: a Kubernetes Secret's `tls.crt`), so
that both read a certificate alike."""

from __future__ import annotations

import base64
import re

#: The labels of PEM blocks that hold nothing secret: certificates, their requests and
#: revocation lists, public keys, parameters.
_PUBLIC_PEM_LABEL = re.compile(
    r"(?:(?:TRUSTED |X509 )?CERTIFICATE(?: REQUEST)?|NEW CERTIFICATE REQUEST|X509 CRL"
    r"|(?:RSA |SSH2 )?PUBLIC KEY|PGP PUBLIC KEY BLOCK|(?:DH|EC|DSA) PARAMETERS)"
)
_PEM_BEGIN = re.compile(r"-----BEGIN ([^-\r\n]{1,64})-----")


def public_pem_base64(encoded: str) -> bool:
    """True when `encoded` is base64 that decodes whole to ASCII text in which every PEM block
    begins with a public label (`_PUBLIC_PEM_LABEL`), and one block at least: a certificate,
    a CA bundle. A bundle with a key in it, a text cut short of a whole decoding, anything
    else, is not."""
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        text = decoded.decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return False
    labels = _PEM_BEGIN.findall(text)
    return bool(labels) and all(_PUBLIC_PEM_LABEL.fullmatch(label) for label in labels)
