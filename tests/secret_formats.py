"""Credential formats real teams leak into alerts: one generator per format, each making a fresh
fake secret of the vendor's documented shape (prefix, length, alphabet, checksum where the
format has one).

The shapes are the ones vendors document and public secret scanners look for (gitleaks'
`config/gitleaks.toml` was read for them); the generators are written here. Nothing in this
file is a secret: every token is built at run time from a seeded `random.Random`, so a failure
names a seed that reproduces it, and no scanner finds a real-looking credential in the source.

A `SecretFormat` says how its secret is written (`Secret.text`) and which parts of it are random
(`Secret.random`): those must not survive redaction. `bare` formats announce themselves by
their shape (a vendor's prefix, a key's armour, a URL's `user:password@`), so the redactor must
find them with nothing around them; the others are found by the name they are given (`name`,
the vendor's conventional variable): random strings of a common alphabet (32 hex, a UUID), and
the few shapes whose prefix is a digit (Salesforce's 00D…, Google's refresh tokens 1//0…), which
the redactor leaves to their names to keep its search for needles fast.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
BASE32 = string.ascii_uppercase + "234567"
#: bech32's alphabet (age's keys), upper case.
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


@dataclass(frozen=True)
class Secret:
    #: The credential as a team would paste it.
    text: str
    #: Its random parts: no run of 8 characters of any of them may survive redaction.
    random: tuple[str, ...]


@dataclass(frozen=True)
class SecretFormat:
    vendor: str
    kind: str
    #: The name teams give it (an environment variable, a config key).
    name: str
    make: Callable[[random.Random], Secret]
    #: Known by its shape alone: it must be found with no name beside it.
    bare: bool = True

    @property
    def id(self) -> str:
        return f"{self.vendor}:{self.kind}"


def chars(rng: random.Random, alphabet: str, count: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


def mixed(rng: random.Random, alphabet: str, count: int) -> str:
    """`count` characters of `alphabet` holding an upper-case letter, a lower-case one and a
    digit where the alphabet has them: what every real token of that alphabet looks like (a
    draw without one is possible, but so rare that a test seeded onto it would mislead)."""
    while True:
        value = chars(rng, alphabet, count)
        wanted = [
            kind
            for kind in (string.ascii_uppercase, string.ascii_lowercase, string.digits)
            if any(c in kind for c in alphabet)
        ]
        if all(any(c in kind for c in value) for kind in wanted):
            return value


def uuid4(rng: random.Random) -> str:
    h = chars(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


def b64(data: bytes, *, url: bool = False, pad: bool = True) -> str:
    text = (base64.urlsafe_b64encode if url else base64.b64encode)(data).decode()
    return text if pad else text.rstrip("=")


def prefixed(prefix: str, alphabet: str, count: int, suffix: str = "") -> Callable[..., Secret]:
    """A token of `prefix` then `count` random characters of `alphabet` (then `suffix`)."""

    def make(rng: random.Random) -> Secret:
        body = mixed(rng, alphabet, count)
        return Secret(f"{prefix}{body}{suffix}", (body,))

    return make


def named(alphabet: str, count: int) -> Callable[..., Secret]:
    """A token that is only random characters: known only by the name it is given."""

    def make(rng: random.Random) -> Secret:
        body = mixed(rng, alphabet, count)
        return Secret(body, (body,))

    return make


def named_uuid(rng: random.Random) -> Secret:
    value = uuid4(rng)
    return Secret(value, (value,))


def base62(number: int, width: int) -> str:
    digits = string.digits + string.ascii_uppercase + string.ascii_lowercase
    out = ""
    while number:
        number, rest = divmod(number, 62)
        out = digits[rest] + out
    return out.rjust(width, "0")


def github(prefix: str) -> Callable[..., Secret]:
    """GitHub's tokens: 30 random base62 characters and a 6-character base62 CRC32 of them."""

    def make(rng: random.Random) -> Secret:
        entropy = mixed(rng, ALNUM, 30)
        body = entropy + base62(binascii.crc32(entropy.encode()), 6)
        return Secret(prefix + body, (body,))

    return make


def github_fine_grained(rng: random.Random) -> Secret:
    body = f"{mixed(rng, UPPER_ALNUM, 22)}_{mixed(rng, ALNUM, 59)}"
    return Secret("github_pat_" + body, (body,))


def gitlab_routable(prefix: str) -> Callable[..., Secret]:
    """GitLab's routable tokens (17.x): a base64url body, a dot, a 2-character version and a
    7-character base36 CRC."""

    def make(rng: random.Random) -> Secret:
        body = mixed(rng, B64URL, 36) + "." + "01" + chars(rng, LOWER_ALNUM, 7)
        return Secret(prefix + body, (body,))

    return make


def slack_webhook(rng: random.Random) -> Secret:
    path = f"T{chars(rng, UPPER_ALNUM, 10)}/B{chars(rng, UPPER_ALNUM, 10)}/{mixed(rng, ALNUM, 24)}"
    return Secret(f"https://hooks.slack.com/services/{path}", (path,))


def slack_bot(rng: random.Random) -> Secret:
    body = (
        f"{chars(rng, string.digits, 12)}-{chars(rng, string.digits, 13)}-{mixed(rng, ALNUM, 24)}"
    )
    return Secret("xoxb-" + body, (body,))


def slack_user(rng: random.Random) -> Secret:
    ids = "-".join(chars(rng, string.digits, 12) for _ in range(3))
    body = f"{ids}-{chars(rng, HEX, 32)}"
    return Secret("xoxp-" + body, (body,))


def slack_rotating(rng: random.Random) -> Secret:
    body = "1-" + mixed(rng, UPPER_ALNUM, 163)
    return Secret("xoxe.xoxp-" + body, (body,))


def slack_refresh(rng: random.Random) -> Secret:
    body = "1-" + mixed(rng, UPPER_ALNUM, 146)
    return Secret("xoxe-" + body, (body,))


def slack_app(rng: random.Random) -> Secret:
    body = f"1-A{chars(rng, UPPER_ALNUM, 10)}-{chars(rng, string.digits, 13)}-{chars(rng, HEX, 64)}"
    return Secret("xapp-" + body, (body,))


def discord_bot(rng: random.Random) -> Secret:
    bot_id = str(rng.randrange(10**17, 10**19))
    first = b64(bot_id.encode(), pad=False)
    rest = f"{mixed(rng, B64URL, 6)}.{mixed(rng, B64URL, 38)}"
    return Secret(f"{first}.{rest}", (rest,))


def discord_webhook(rng: random.Random) -> Secret:
    path = f"{rng.randrange(10**17, 10**19)}/{mixed(rng, B64URL, 68)}"
    return Secret(f"https://discord.com/api/webhooks/{path}", (path,))


def teams_webhook(rng: random.Random) -> Secret:
    secret = chars(rng, HEX, 32)
    signature = "V2" + mixed(rng, B64URL, 43)
    url = (
        f"https://contoso.webhook.office.com/webhookb2/{uuid4(rng)}@{uuid4(rng)}"
        f"/IncomingWebhook/{secret}/{uuid4(rng)}/{signature}"
    )
    return Secret(url, (secret, signature))


def teams_workflow(rng: random.Random) -> Secret:
    sig = mixed(rng, B64URL, 43)
    url = (
        f"https://prod-27.westeurope.logic.azure.com:443/workflows/{chars(rng, HEX, 32)}"
        "/triggers/manual/paths/invoke?api-version=2016-06-01"
        f"&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={sig}"
    )
    return Secret(url, (sig,))


def telegram_bot(rng: random.Random) -> Secret:
    body = "AA" + mixed(rng, B64URL, 33)
    return Secret(f"{rng.randrange(10**8, 10**10)}:{body}", (body,))


def jwt(rng: random.Random, *, alg: str = "HS256", signature_bytes: int = 32) -> Secret:
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode(), url=True, pad=False)
    claims = {
        "sub": chars(rng, string.digits, 10),
        "iss": "https://auth.example.com/",
        "sid": mixed(rng, ALNUM, 24),
        "exp": rng.randrange(1_700_000_000, 1_900_000_000),
    }
    payload = b64(json.dumps(claims).encode(), url=True, pad=False)
    signature = b64(rng.randbytes(signature_bytes), url=True, pad=False) if signature_bytes else ""
    random_parts = (payload, signature) if signature else (payload,)
    return Secret(f"{header}.{payload}.{signature}", random_parts)


def wrapped(body: str, width: int = 64) -> list[str]:
    return [body[i : i + width] for i in range(0, len(body), width)]


def pem(label: str, der_start: str, size: int) -> Callable[..., Secret]:
    """A PEM private key block: its DER's known first bytes (base64), then random base64 of a
    key of that size, wrapped at 64 columns."""

    def make(rng: random.Random) -> Secret:
        body = der_start + b64(rng.randbytes(size))[len(der_start) :]
        lines = wrapped(body)
        text = "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])
        return Secret(text, (lines[0][len(der_start) :], *lines[1:]))

    return make


def pgp_private(rng: random.Random) -> Secret:
    body = "lQOYBG" + b64(rng.randbytes(900))[6:]
    lines = wrapped(body)
    checksum = "=" + b64(rng.randbytes(3))
    text = "\n".join(
        [
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
            "",
            *lines,
            checksum,
            "-----END PGP PRIVATE KEY BLOCK-----",
        ]
    )
    return Secret(text, (lines[0][6:], *lines[1:]))


def putty_key(rng: random.Random) -> Secret:
    public = wrapped(b64(rng.randbytes(270)))
    private = wrapped(b64(rng.randbytes(600)))
    text = "\n".join(
        [
            "PuTTY-User-Key-File-3: ssh-rsa",
            "Encryption: none",
            "Comment: deploy@ci",
            f"Public-Lines: {len(public)}",
            *public,
            f"Private-Lines: {len(private)}",
            *private,
            f"Private-MAC: {chars(rng, HEX, 64)}",
        ]
    )
    return Secret(text, tuple(private))


def service_account(rng: random.Random) -> Secret:
    key = pem("PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 1190)(rng)
    document = {
        "type": "service_account",
        "project_id": "checkout-prod",
        "private_key_id": chars(rng, HEX, 40),
        "private_key": key.text + "\n",
        "client_email": "deployer@checkout-prod.iam.gserviceaccount.com",
        "client_id": chars(rng, string.digits, 21),
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return Secret(json.dumps(document, indent=2), key.random)


def azure_storage_connection(rng: random.Random) -> Secret:
    key = b64(rng.randbytes(64))
    text = (
        "DefaultEndpointsProtocol=https;AccountName=checkoutlogs;"
        f"AccountKey={key};EndpointSuffix=core.windows.net"
    )
    return Secret(text, (key,))


def azure_key(rng: random.Random) -> Secret:
    key = b64(rng.randbytes(64))
    return Secret(key, (key,))


def azure_service_bus(rng: random.Random) -> Secret:
    key = b64(rng.randbytes(32))
    text = (
        "Endpoint=sb://orders.servicebus.windows.net/;SharedAccessKeyName="
        f"RootManageSharedAccessKey;SharedAccessKey={key}"
    )
    return Secret(text, (key,))


def azure_cosmos(rng: random.Random) -> Secret:
    key = b64(rng.randbytes(64))
    return Secret(
        f"AccountEndpoint=https://orders.documents.azure.com:443/;AccountKey={key};", (key,)
    )


def azure_sas_query(rng: random.Random) -> tuple[str, str]:
    """A shared access signature's query, and its signature."""
    sig = b64(rng.randbytes(32))
    query = (
        "sv=2022-11-02&ss=b&srt=sco&sp=rwdlacupiytfx&se=2026-12-31T23:59:59Z"
        f"&st=2026-12-01T00:00:00Z&spr=https&sig={quote(sig, safe='')}"
    )
    return query, sig


def azure_sas_url(rng: random.Random) -> Secret:
    query, sig = azure_sas_query(rng)
    return Secret(f"https://checkoutlogs.blob.core.windows.net/exports/day.csv?{query}", (sig,))


def azure_sas_token(rng: random.Random) -> Secret:
    query, sig = azure_sas_query(rng)
    return Secret(f"?{query}", (sig,))


def azure_ad_secret(rng: random.Random) -> Secret:
    body = f"{mixed(rng, ALNUM, 3)}{rng.choice(string.digits)}Q~{mixed(rng, B64URL + '.~', 34)}"
    return Secret(body, (body,))


def azure_function_url(rng: random.Random) -> Secret:
    code = mixed(rng, B64URL, 54) + "=="
    return Secret(f"https://orders-fn.azurewebsites.net/api/refund?code={code}", (code[:-2],))


def aws_session_token(rng: random.Random) -> Secret:
    body = "IQoJb3JpZ2luX2VjE" + b64(rng.randbytes(600))[17:]
    return Secret(body, (body[17:],))


def bedrock_key(rng: random.Random) -> Secret:
    body = b64(b"BedrockAPIKey-" + rng.randbytes(100))
    return Secret("ABSK" + body, (body,))


def google_refresh(rng: random.Random) -> Secret:
    body = "0" + mixed(rng, B64URL, 102)
    return Secret("1//" + body, (body,))


def sentry_dsn(rng: random.Random) -> Secret:
    key = chars(rng, HEX, 32)
    dsn = (
        f"https://{key}@o{rng.randrange(10**5, 10**7)}.ingest.us.sentry.io/"
        f"{rng.randrange(10**6, 10**7)}"
    )
    return Secret(dsn, (key,))


def sentry_org(rng: random.Random) -> Secret:
    claims = {
        "iat": rng.randrange(1_700_000_000, 1_800_000_000),
        "url": "https://sentry.io",
        "region_url": "https://us.sentry.io",
        "org": "checkout",
    }
    secret = mixed(rng, B64, 43)
    return Secret(f"sntrys_{b64(json.dumps(claims).encode(), pad=False)}_{secret}", (secret,))


def grafana_cloud(rng: random.Random) -> Secret:
    claims = {
        "o": str(rng.randrange(10**5, 10**7)),
        "n": "stack-1-hm-read",
        "k": mixed(rng, ALNUM, 24),
        "m": {"r": "prod-us-east-0"},
    }
    body = b64(json.dumps(claims).encode())
    return Secret("glc_" + body, (body,))


def grafana_sa(rng: random.Random) -> Secret:
    body = f"{mixed(rng, ALNUM, 32)}_{chars(rng, HEX, 8)}"
    return Secret("glsa_" + body, (body,))


def onepassword_sa(rng: random.Random) -> Secret:
    claims = {
        "signInAddress": "checkout.1password.com",
        "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256"},
        "email": f"{chars(rng, LOWER_ALNUM, 12)}@1passwordserviceaccounts.com",
        "srpX": chars(rng, HEX, 64),
        "muk": {"alg": "A256GCM", "k": mixed(rng, B64URL, 43)},
        "secretKey": mixed(rng, UPPER_ALNUM, 34),
        "deviceUuid": mixed(rng, LOWER_ALNUM, 26),
    }
    body = b64(json.dumps(claims).encode(), url=True, pad=False)
    return Secret("ops_" + body, (body,))


def onepassword_secret_key(rng: random.Random) -> Secret:
    groups = [chars(rng, UPPER_ALNUM, n) for n in (6, 6, 5, 5, 5, 5)]
    body = "-".join(groups)
    return Secret("A3-" + body, (body,))


def atlassian(prefix: str) -> Callable[..., Secret]:
    """Atlassian's API tokens (and Bitbucket's access tokens): a base64url body, `=` and an
    8-hex checksum."""

    def make(rng: random.Random) -> Secret:
        body = f"{mixed(rng, B64URL, 180)}={chars(rng, HEX, 8).upper()}"
        return Secret(prefix + body, (body,))

    return make


def doppler_service(rng: random.Random) -> Secret:
    body = mixed(rng, ALNUM, 43)
    return Secret(f"dp.st.prd.{body}", (body,))


def terraform_cloud(rng: random.Random) -> Secret:
    head, tail = mixed(rng, ALNUM, 14), mixed(rng, B64URL, 67)
    return Secret(f"{head}.atlasv1.{tail}", (head, tail))


def vault_service(rng: random.Random) -> Secret:
    body = "CAESI" + mixed(rng, B64URL, 90)
    return Secret("hvs." + body, (body[5:],))


def tailscale(kind: str) -> Callable[..., Secret]:
    def make(rng: random.Random) -> Secret:
        body = f"{mixed(rng, ALNUM, 11)}CNTRL-{mixed(rng, ALNUM, 32)}"
        return Secret(f"tskey-{kind}-{body}", (body,))

    return make


def braintree(rng: random.Random) -> Secret:
    merchant, secret = chars(rng, LOWER_ALNUM, 16), chars(rng, HEX, 32)
    return Secret(f"access_token$production${merchant}${secret}", (merchant, secret))


def openai_project(prefix: str) -> Callable[..., Secret]:
    """OpenAI's project, service-account and admin keys: 74 random characters, `T3BlbkFJ` (the
    base64 of `OpenAI`) and 74 more."""

    def make(rng: random.Random) -> Secret:
        head, tail = mixed(rng, B64URL, 74), mixed(rng, B64URL, 74)
        return Secret(f"{prefix}{head}T3BlbkFJ{tail}", (head, tail))

    return make


def openai_legacy(rng: random.Random) -> Secret:
    head, tail = mixed(rng, ALNUM, 20), mixed(rng, ALNUM, 20)
    return Secret(f"sk-{head}T3BlbkFJ{tail}", (head, tail))


def anthropic(prefix: str) -> Callable[..., Secret]:
    def make(rng: random.Random) -> Secret:
        body = mixed(rng, B64URL, 93) + "AA"
        return Secret(prefix + body, (body,))

    return make


def dynatrace(rng: random.Random) -> Secret:
    head, tail = mixed(rng, UPPER_ALNUM, 24), mixed(rng, UPPER_ALNUM, 64)
    return Secret(f"dt0c01.{head}.{tail}", (head, tail))


def new_relic_license(rng: random.Random) -> Secret:
    body = chars(rng, HEX, 36) + "NRAL"
    return Secret(body, (body,))


def pypi(rng: random.Random) -> Secret:
    body = "CJDY" + mixed(rng, B64URL, 150)
    return Secret("pypi-AgEIcHlwaS5vcmc" + body, (body,))


def artifactory_reference(rng: random.Random) -> Secret:
    """JFrog's reference tokens: `cmVmdGtuOjAx` (base64 of `reftkn:01`) and 52 letters and
    digits."""
    body = mixed(rng, ALNUM, 52)
    return Secret("cmVmdGtuOjAx" + body, (body,))


def circleci(prefix: str) -> Callable[..., Secret]:
    def make(rng: random.Random) -> Secret:
        body = f"{chars(rng, HEX, 8)}_{chars(rng, HEX, 40)}"
        return Secret(prefix + body, (body,))

    return make


def postman(rng: random.Random) -> Secret:
    body = f"{chars(rng, HEX, 24)}-{chars(rng, HEX, 34)}"
    return Secret("PMAK-" + body, (body,))


def notion(rng: random.Random) -> Secret:
    body = chars(rng, string.digits, 11) + mixed(rng, ALNUM, 35)
    return Secret("ntn_" + body, (body,))


def airtable(rng: random.Random) -> Secret:
    body = f"{mixed(rng, ALNUM, 14)}.{chars(rng, HEX, 64)}"
    return Secret("pat" + body, (body,))


def hubspot(rng: random.Random) -> Secret:
    body = uuid4(rng)
    return Secret("pat-na1-" + body, (body,))


def mapbox_secret(rng: random.Random) -> Secret:
    claims = {"u": "checkout", "a": "cl" + chars(rng, LOWER_ALNUM, 23)}
    head = b64(json.dumps(claims, separators=(",", ":")).encode(), url=True, pad=False)
    tail = mixed(rng, B64URL, 22)
    return Secret(f"sk.{head}.{tail}", (head[12:], tail))


def harness(rng: random.Random) -> Secret:
    body = f"{mixed(rng, B64URL, 22)}.{mixed(rng, ALNUM, 24)}.{mixed(rng, ALNUM, 20)}"
    return Secret("pat." + body, (body,))


def brevo(rng: random.Random) -> Secret:
    body = f"{chars(rng, HEX, 64)}-{mixed(rng, ALNUM, 16)}"
    return Secret("xkeysib-" + body, (body,))


def mailgun_new(rng: random.Random) -> Secret:
    body = f"{chars(rng, HEX, 32)}-{chars(rng, HEX, 8)}-{chars(rng, HEX, 8)}"
    return Secret(body, (body,))


def mailchimp(rng: random.Random) -> Secret:
    body = chars(rng, HEX, 32)
    return Secret(f"{body}-us{rng.randrange(1, 22)}", (body,))


def resend(rng: random.Random) -> Secret:
    body = f"{mixed(rng, ALNUM, 8)}_{mixed(rng, ALNUM, 24)}"
    return Secret("re_" + body, (body,))


def salesforce(rng: random.Random) -> Secret:
    org = "00D" + mixed(rng, ALNUM, 12)
    body = "AQ" + mixed(rng, ALNUM + ".", 94)
    return Secret(f"{org}!{body}", (body,))


def twitter_bearer(rng: random.Random) -> Secret:
    body = mixed(rng, ALNUM, 20) + "%3D" + mixed(rng, ALNUM, 50)
    return Secret("A" * 22 + body, (body[:20], body[23:]))


def fcm_server_key(rng: random.Random) -> Secret:
    head, tail = mixed(rng, B64URL, 7), "APA91b" + mixed(rng, B64URL, 134)
    return Secret(f"AAAA{head}:{tail}", (tail[6:],))


def flutterwave(rng: random.Random) -> Secret:
    body = chars(rng, HEX, 32)
    return Secret(f"FLWSECK-{body}-X", (body,))


def maxmind(rng: random.Random) -> Secret:
    body = f"{mixed(rng, ALNUM, 6)}_{mixed(rng, ALNUM, 29)}"
    return Secret(body + "_mmk", (body,))


def databricks(rng: random.Random) -> Secret:
    body = chars(rng, HEX, 32)
    return Secret(f"dapi{body}-2", (body,))


def kubeadm(rng: random.Random) -> Secret:
    body = f"{chars(rng, LOWER_ALNUM, 6)}.{chars(rng, LOWER_ALNUM, 16)}"
    return Secret(body, (body,))


def rancher(rng: random.Random) -> Secret:
    head, tail = chars(rng, LOWER_ALNUM, 5), chars(rng, LOWER_ALNUM, 54)
    return Secret(f"token-{head}:{tail}", (tail,))


def langsmith(kind: str) -> Callable[..., Secret]:
    def make(rng: random.Random) -> Secret:
        body = f"{chars(rng, HEX, 32)}_{chars(rng, HEX, 10)}"
        return Secret(f"lsv2_{kind}_{body}", (body,))

    return make


def pinecone(rng: random.Random) -> Secret:
    body = f"{mixed(rng, ALNUM, 6)}_{mixed(rng, ALNUM, 58)}"
    return Secret("pcsk_" + body, (body,))


def ngrok(rng: random.Random) -> Secret:
    body = f"2{mixed(rng, ALNUM, 26)}_{mixed(rng, ALNUM, 21)}"
    return Secret(body, (body,))


def asana(rng: random.Random) -> Secret:
    ids = f"2/{chars(rng, string.digits, 16)}/{chars(rng, string.digits, 16)}"
    secret = chars(rng, HEX, 32)
    return Secret(f"{ids}:{secret}", (secret,))


def yandex_iam(rng: random.Random) -> Secret:
    head, tail = mixed(rng, B64URL, 60), mixed(rng, B64URL, 86)
    return Secret(f"t1.{head}.{tail}", (head, tail))


def cloudflare_origin_ca(rng: random.Random) -> Secret:
    head, tail = chars(rng, HEX, 24), chars(rng, HEX, 146)
    return Secret(f"v1.0-{head}-{tail}", (head, tail))


def url_password(rng: random.Random) -> str:
    """A password as a generator of passwords writes one: letters, digits and a few of the
    punctuation marks a URL's user part carries as they are (`!*$;=+,~`), or percent-encoded
    (`@:/#%`)."""
    raw = list(mixed(rng, ALNUM, 18))
    for mark in (rng.choice("!*$;=+,~"), rng.choice("@:/#%")):
        raw.insert(rng.randrange(1, len(raw)), mark)
    return "".join(raw)


def dsn(scheme: str, rest: str, user: str = "app") -> Callable[..., Secret]:
    """A database (or broker) URL with a user and a password: `scheme://user:pw@rest`."""

    def make(rng: random.Random) -> Secret:
        password = url_password(rng)
        encoded = quote(password, safe="!*$;=+,~")
        return Secret(f"{scheme}://{user}:{encoded}@{rest}", (password,))

    return make


def jdbc_query(rng: random.Random) -> Secret:
    password = mixed(rng, ALNUM, 20)
    return Secret(
        f"jdbc:postgresql://orders-db:5432/orders?user=app&password={password}&ssl=true",
        (password,),
    )


def odbc(rng: random.Random) -> Secret:
    password = mixed(rng, ALNUM, 20)
    text = (
        "Server=tcp:orders.database.windows.net,1433;Database=orders;User ID=app;"
        f"Password={password};Encrypt=True;"
    )
    return Secret(text, (password,))


def docker_auth(rng: random.Random) -> Secret:
    password = mixed(rng, ALNUM, 24)
    auth = b64(f"ci-bot:{password}".encode())
    config = {"auths": {"registry.example.com": {"auth": auth}}}
    return Secret(json.dumps(config), (auth, password))


def npmrc(rng: random.Random) -> Secret:
    token = uuid4(rng)
    return Secret(f"//registry.npmjs.org/:_authToken={token}", (token,))


def kube_client_key(rng: random.Random) -> Secret:
    key = pem("RSA PRIVATE KEY", "MIIEpAIBAAKCAQEA", 1190)(rng)
    body = b64((key.text + "\n").encode())
    return Secret(body, (body[40:],))


def sendgrid(rng: random.Random) -> Secret:
    head, tail = mixed(rng, B64URL, 22), mixed(rng, B64URL, 43)
    return Secret(f"SG.{head}.{tail}", (head, tail))


def launchdarkly(rng: random.Random) -> Secret:
    body = uuid4(rng)
    return Secret("sdk-" + body, (body,))


def launchdarkly_api(rng: random.Random) -> Secret:
    """LaunchDarkly's API access token (personal or service): `api-<uuid>`."""
    body = uuid4(rng)
    return Secret("api-" + body, (body,))


def nkey_seed(kind: str) -> Callable[..., Secret]:
    """An nkeys seed: S, the kind's letter (U user, A account, O operator), A, 55 of base32."""

    def make(rng: random.Random) -> Secret:
        body = chars(rng, BASE32, 55)
        return Secret(f"S{kind}A{body}", (body,))

    return make


def rtmp_stream(rng: random.Random) -> Secret:
    """A YouTube stream key in its RTMP ingest URL (the URL's last segment is the key)."""
    key = "-".join(mixed(rng, LOWER_ALNUM, 4) for _ in range(5))
    # Its random part as one run past the first group: the leak search reads 8 characters.
    return Secret(f"rtmp://a.rtmp.youtube.com/live2/{key}", (key.split("-", 1)[1],))


def twitch_stream(rng: random.Random) -> Secret:
    """Twitch's stream key: `live_<user id>_<30>`."""
    body = mixed(rng, ALNUM, 30)
    return Secret(f"live_{rng.randrange(10**8, 10**9)}_{body}", (body,))


def lnd_macaroon(rng: random.Random) -> Secret:
    """A v2 macaroon as LND bakes one (location `lnd`, an identifier, a signature), as hex."""
    identifier = bytes(rng.randrange(256) for _ in range(40))
    signature = bytes(rng.randrange(256) for _ in range(32))
    raw = (
        b"\x02\x01\x03lnd\x02" + bytes([len(identifier)]) + identifier + b"\x00\x06\x20" + signature
    )
    return Secret(raw.hex(), (identifier.hex(), signature.hex()))


def grafana_oncall(rng: random.Random) -> Secret:
    """Grafana OnCall's integration URL: its token is the path segment after the kind."""
    token = mixed(rng, ALNUM, 25)
    return Secret(
        f"https://oncall-prod-us-central-0.grafana.net/oncall/integrations/v1/alertmanager/{token}/",
        (token,),
    )


F = SecretFormat
FORMATS: tuple[SecretFormat, ...] = (
    # Cloud: AWS.
    F("AWS", "access-key-id", "AWS_ACCESS_KEY_ID", prefixed("AKIA", BASE32, 16)),
    F("AWS", "temporary-access-key-id", "AWS_ACCESS_KEY_ID", prefixed("ASIA", BASE32, 16)),
    F("AWS", "secret-access-key", "AWS_SECRET_ACCESS_KEY", named(B64, 40), bare=False),
    F("AWS", "session-token", "AWS_SESSION_TOKEN", aws_session_token),
    F("AWS", "bedrock-api-key", "AWS_BEARER_TOKEN_BEDROCK", bedrock_key),
    # Cloud: Google.
    F("Google", "api-key", "GOOGLE_API_KEY", prefixed("AIza", B64URL, 35)),
    F("Google", "oauth-client-secret", "GOOGLE_CLIENT_SECRET", prefixed("GOCSPX-", B64URL, 28)),
    F("Google", "oauth-access-token", "GOOGLE_ACCESS_TOKEN", prefixed("ya29.", B64URL, 150)),
    F("Google", "oauth-refresh-token", "GOOGLE_REFRESH_TOKEN", google_refresh, bare=False),
    F("Google", "service-account-json", "GOOGLE_CREDENTIALS", service_account),
    # Cloud: Azure.
    F(
        "Azure",
        "storage-connection-string",
        "AZURE_STORAGE_CONNECTION_STRING",
        azure_storage_connection,
    ),
    F("Azure", "storage-account-key", "AZURE_STORAGE_KEY", azure_key, bare=False),
    F("Azure", "sas-url", "EXPORT_URL", azure_sas_url),
    F("Azure", "sas-token", "AZURE_STORAGE_SAS_TOKEN", azure_sas_token),
    F("Azure", "service-bus-connection-string", "SERVICEBUS_CONNECTION", azure_service_bus),
    F("Azure", "cosmos-connection-string", "COSMOS_CONNECTION", azure_cosmos),
    F("Azure", "ad-client-secret", "AZURE_CLIENT_SECRET", azure_ad_secret),
    F("Azure", "functions-key-url", "REFUND_HOOK", azure_function_url),
    F(
        "Azure",
        "devops-pat",
        "AZURE_DEVOPS_EXT_PAT",
        named(string.ascii_lowercase + "234567", 52),
        bare=False,
    ),
    # Cloud: others.
    F("Alibaba Cloud", "access-key-id", "ALIBABA_CLOUD_ACCESS_KEY_ID", prefixed("LTAI", ALNUM, 20)),
    F(
        "Alibaba Cloud",
        "access-key-secret",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        named(ALNUM, 30),
        bare=False,
    ),
    F("Tencent Cloud", "secret-id", "TENCENTCLOUD_SECRET_ID", prefixed("AKID", ALNUM, 32)),
    F("Tencent Cloud", "secret-key", "TENCENTCLOUD_SECRET_KEY", named(ALNUM, 32), bare=False),
    F("IBM Cloud", "api-key", "IBMCLOUD_API_KEY", named(B64URL, 44), bare=False),
    F("DigitalOcean", "personal-access-token", "DIGITALOCEAN_TOKEN", prefixed("dop_v1_", HEX, 64)),
    F("DigitalOcean", "oauth-token", "DO_OAUTH", prefixed("doo_v1_", HEX, 64)),
    F("DigitalOcean", "refresh-token", "DO_REFRESH", prefixed("dor_v1_", HEX, 64)),
    F("Linode", "personal-access-token", "LINODE_TOKEN", named(HEX, 64), bare=False),
    F("Hetzner", "api-token", "HCLOUD_TOKEN", named(ALNUM, 64), bare=False),
    F("Vultr", "api-key", "VULTR_API_KEY", named(UPPER_ALNUM, 36), bare=False),
    F("Scaleway", "secret-key", "SCW_SECRET_KEY", named_uuid, bare=False),
    F("Yandex Cloud", "api-key", "YC_API_KEY", prefixed("AQVN", B64URL, 36)),
    F("Yandex Cloud", "iam-token", "YC_TOKEN", yandex_iam),
    F("Cloudflare", "api-token", "CLOUDFLARE_API_TOKEN", named(B64URL, 40), bare=False),
    F("Cloudflare", "global-api-key", "CLOUDFLARE_API_KEY", named(HEX, 37), bare=False),
    F("Cloudflare", "origin-ca-key", "CF_ORIGIN_CA_KEY", cloudflare_origin_ca),
    F("Heroku", "api-key", "HEROKU_API_KEY", prefixed("HRKU-AA", B64URL, 58)),
    F("Heroku", "legacy-api-key", "HEROKU_API_KEY", named_uuid, bare=False),
    F("Fly.io", "token", "FLY_API_TOKEN", prefixed("fo1_", B64URL, 43)),
    F("Fly.io", "macaroon", "FLY_API_TOKEN", prefixed("fm2_", B64, 160)),
    F("Netlify", "personal-access-token", "NETLIFY_AUTH_TOKEN", prefixed("nfp_", ALNUM, 40)),
    F("Vercel", "token", "VERCEL_TOKEN", named(ALNUM, 24), bare=False),
    F("Render", "api-key", "RENDER_API_KEY", prefixed("rnd_", ALNUM, 32)),
    F("Terraform Cloud", "api-token", "TFE_TOKEN", terraform_cloud),
    F("Pulumi", "access-token", "PULUMI_ACCESS_TOKEN", prefixed("pul-", HEX, 40)),
    F("HashiCorp Vault", "service-token", "VAULT_TOKEN", vault_service),
    F("HashiCorp Vault", "batch-token", "VAULT_TOKEN", prefixed("hvb.", B64URL, 140)),
    F("HashiCorp Vault", "legacy-token", "VAULT_TOKEN", prefixed("s.", ALNUM, 24)),
    F("HashiCorp Consul", "acl-token", "CONSUL_HTTP_TOKEN", named_uuid, bare=False),
    F("Doppler", "personal-token", "DOPPLER_TOKEN", prefixed("dp.pt.", ALNUM, 43)),
    F("Doppler", "service-token", "DOPPLER_TOKEN", doppler_service),
    F("1Password", "service-account-token", "OP_SERVICE_ACCOUNT_TOKEN", onepassword_sa),
    F("1Password", "secret-key", "OP_SECRET_KEY", onepassword_secret_key),
    F("Tailscale", "auth-key", "TS_AUTHKEY", tailscale("auth")),
    F("Tailscale", "api-key", "TS_API_KEY", tailscale("api")),
    F("Supabase", "access-token", "SUPABASE_ACCESS_TOKEN", prefixed("sbp_", HEX, 40)),
    F("Supabase", "secret-key", "SUPABASE_SECRET_KEY", prefixed("sb_secret_", B64URL, 31)),
    F("PlanetScale", "service-token", "PLANETSCALE_TOKEN", prefixed("pscale_tkn_", B64URL, 43)),
    F("PlanetScale", "password", "DATABASE_PASSWORD", prefixed("pscale_pw_", B64URL, 43)),
    F("Databricks", "personal-access-token", "DATABRICKS_TOKEN", databricks),
    F("ngrok", "authtoken", "NGROK_AUTHTOKEN", ngrok, bare=False),
    F("Kubernetes", "bootstrap-token", "KUBEADM_TOKEN", kubeadm, bare=False),
    F("Kubernetes", "kubeconfig-client-key-data", "CLIENT_KEY_DATA", kube_client_key),
    F("Rancher", "api-token", "CATTLE_TOKEN", rancher, bare=False),
    F("OpenShift", "user-token", "OC_TOKEN", prefixed("sha256~", B64URL, 43)),
    # Source hosting and CI.
    F("GitHub", "classic-pat", "GITHUB_TOKEN", github("ghp_")),
    F("GitHub", "oauth-token", "GITHUB_TOKEN", github("gho_")),
    F("GitHub", "user-to-server-token", "GITHUB_TOKEN", github("ghu_")),
    F("GitHub", "app-installation-token", "GITHUB_TOKEN", github("ghs_")),
    F("GitHub", "refresh-token", "GITHUB_REFRESH_TOKEN", github("ghr_")),
    F("GitHub", "fine-grained-pat", "GITHUB_TOKEN", github_fine_grained),
    F("GitLab", "personal-access-token", "GITLAB_TOKEN", prefixed("glpat-", B64URL, 20)),
    F("GitLab", "routable-personal-access-token", "GITLAB_TOKEN", gitlab_routable("glpat-")),
    F("GitLab", "runner-token", "CI_RUNNER_TOKEN", gitlab_routable("glrt-t1_")),
    F("GitLab", "deploy-token", "DEPLOY_TOKEN", prefixed("gldt-", B64URL, 20)),
    F("GitLab", "pipeline-trigger-token", "TRIGGER_TOKEN", prefixed("glptt-", HEX, 40)),
    F("GitLab", "ci-job-token", "CI_JOB_TOKEN", prefixed("glcbt-", ALNUM, 25)),
    F("GitLab", "scim-token", "SCIM_TOKEN", prefixed("glsoat-", B64URL, 20)),
    F("GitLab", "oauth-app-secret", "GITLAB_APP_SECRET", prefixed("gloas-", B64URL, 64)),
    F("GitLab", "feed-token", "FEED_TOKEN", prefixed("glft-", B64URL, 20)),
    F("GitLab", "incoming-mail-token", "MAIL_TOKEN", prefixed("glimt-", B64URL, 25)),
    F("GitLab", "agent-token", "AGENT_TOKEN", prefixed("glagent-", B64URL, 50)),
    F("GitLab", "feature-flag-token", "UNLEASH_TOKEN", prefixed("glffct-", B64URL, 20)),
    F(
        "GitLab",
        "runner-registration-token",
        "REGISTRATION_TOKEN",
        prefixed("GR1348941", B64URL, 20),
    ),
    F("Bitbucket", "app-password", "BITBUCKET_APP_PASSWORD", prefixed("ATBB", ALNUM, 32)),
    F("Bitbucket", "access-token", "BITBUCKET_ACCESS_TOKEN", atlassian("ATCTT3xFfGN0")),
    F("Gitea", "access-token", "GITEA_TOKEN", named(HEX, 40), bare=False),
    F("CircleCI", "personal-token", "CIRCLE_TOKEN", circleci("CCIPAT_")),
    F("CircleCI", "project-token", "CIRCLE_PROJECT_TOKEN", circleci("CCIPRJ_")),
    F("Buildkite", "api-token", "BUILDKITE_API_TOKEN", prefixed("bkua_", HEX, 40)),
    F("SonarQube", "user-token", "SONAR_TOKEN", prefixed("squ_", HEX, 40)),
    F("SonarQube", "project-token", "SONAR_TOKEN", prefixed("sqp_", HEX, 40)),
    F("Jenkins", "api-token", "JENKINS_API_TOKEN", prefixed("11", HEX, 32), bare=False),
    F("Snyk", "api-token", "SNYK_TOKEN", named_uuid, bare=False),
    # Chat.
    F("Slack", "bot-token", "SLACK_BOT_TOKEN", slack_bot),
    F("Slack", "user-token", "SLACK_USER_TOKEN", slack_user),
    F("Slack", "rotating-token", "SLACK_TOKEN", slack_rotating),
    F("Slack", "refresh-token", "SLACK_REFRESH_TOKEN", slack_refresh),
    F("Slack", "app-token", "SLACK_APP_TOKEN", slack_app),
    F("Slack", "webhook-url", "SLACK_WEBHOOK_URL", slack_webhook),
    F("Discord", "bot-token", "DISCORD_TOKEN", discord_bot),
    F("Discord", "webhook-url", "DISCORD_WEBHOOK", discord_webhook),
    F("Microsoft Teams", "incoming-webhook-url", "TEAMS_WEBHOOK", teams_webhook),
    F("Microsoft Teams", "workflow-url", "TEAMS_WORKFLOW", teams_workflow),
    F("Telegram", "bot-token", "TELEGRAM_BOT_TOKEN", telegram_bot),
    # Payments.
    F("Stripe", "live-secret-key", "STRIPE_SECRET_KEY", prefixed("sk_live_51", ALNUM, 97)),
    F("Stripe", "test-secret-key", "STRIPE_SECRET_KEY", prefixed("sk_test_51", ALNUM, 97)),
    F("Stripe", "restricted-key", "STRIPE_KEY", prefixed("rk_live_51", ALNUM, 97)),
    F("Stripe", "webhook-secret", "STRIPE_WEBHOOK_SECRET", prefixed("whsec_", ALNUM, 32)),
    F("Square", "access-token", "SQUARE_ACCESS_TOKEN", prefixed("EAAA", B64URL, 60)),
    F("Square", "oauth-secret", "SQUARE_APP_SECRET", prefixed("sq0csp-", B64URL, 43)),
    F("Square", "legacy-access-token", "SQUARE_ACCESS_TOKEN", prefixed("sq0atp-", B64URL, 22)),
    F("Braintree", "access-token", "BRAINTREE_ACCESS_TOKEN", braintree),
    F("Braintree", "private-key", "BRAINTREE_PRIVATE_KEY", named(HEX, 32), bare=False),
    F("PayPal", "client-secret", "PAYPAL_CLIENT_SECRET", prefixed("E", B64URL, 79), bare=False),
    F("Shippo", "live-token", "SHIPPO_TOKEN", prefixed("shippo_live_", HEX, 40)),
    F("Flutterwave", "secret-key", "FLW_SECRET_KEY", flutterwave),
    F("EasyPost", "api-key", "EASYPOST_API_KEY", prefixed("EZAK", ALNUM, 54)),
    F("Duffel", "live-token", "DUFFEL_ACCESS_TOKEN", prefixed("duffel_live_", B64URL, 43)),
    # AI.
    F("OpenAI", "project-key", "OPENAI_API_KEY", openai_project("sk-proj-")),
    F("OpenAI", "service-account-key", "OPENAI_API_KEY", openai_project("sk-svcacct-")),
    F("OpenAI", "admin-key", "OPENAI_ADMIN_KEY", openai_project("sk-admin-")),
    F("OpenAI", "legacy-key", "OPENAI_API_KEY", openai_legacy),
    F("Anthropic", "api-key", "ANTHROPIC_API_KEY", anthropic("sk-ant-api03-")),
    F("Anthropic", "admin-key", "ANTHROPIC_ADMIN_KEY", anthropic("sk-ant-admin01-")),
    F("Anthropic", "oauth-token", "CLAUDE_CODE_OAUTH_TOKEN", anthropic("sk-ant-oat01-")),
    F("Hugging Face", "user-token", "HF_TOKEN", prefixed("hf_", string.ascii_letters, 34)),
    F("Hugging Face", "org-token", "HF_ORG_TOKEN", prefixed("api_org_", string.ascii_letters, 34)),
    F("Cohere", "api-key", "COHERE_API_KEY", named(ALNUM, 40), bare=False),
    F("Replicate", "api-token", "REPLICATE_API_TOKEN", prefixed("r8_", ALNUM, 37)),
    F("Groq", "api-key", "GROQ_API_KEY", prefixed("gsk_", ALNUM, 52)),
    F("Perplexity", "api-key", "PERPLEXITY_API_KEY", prefixed("pplx-", ALNUM, 48)),
    F("xAI", "api-key", "XAI_API_KEY", prefixed("xai-", ALNUM, 80)),
    F("OpenRouter", "api-key", "OPENROUTER_API_KEY", prefixed("sk-or-v1-", HEX, 64)),
    F("Mistral", "api-key", "MISTRAL_API_KEY", named(ALNUM, 32), bare=False),
    F("Pinecone", "api-key", "PINECONE_API_KEY", pinecone),
    F("LangSmith", "personal-token", "LANGSMITH_API_KEY", langsmith("pt")),
    F("LangSmith", "service-key", "LANGSMITH_API_KEY", langsmith("sk")),
    F("Weights & Biases", "api-key", "WANDB_API_KEY", named(HEX, 40), bare=False),
    # Observability and on-call.
    F("Datadog", "api-key", "DD_API_KEY", named(HEX, 32), bare=False),
    F("Datadog", "application-key", "DD_APP_KEY", named(HEX, 40), bare=False),
    F("New Relic", "user-api-key", "NEW_RELIC_API_KEY", prefixed("NRAK-", UPPER_ALNUM, 27)),
    F("New Relic", "insert-key", "NEW_RELIC_INSERT_KEY", prefixed("NRII-", B64URL, 32)),
    F("New Relic", "browser-key", "NEW_RELIC_BROWSER_KEY", prefixed("NRJS-", HEX, 19)),
    F("New Relic", "license-key", "NEW_RELIC_LICENSE_KEY", new_relic_license, bare=False),
    F("Sentry", "org-auth-token", "SENTRY_AUTH_TOKEN", sentry_org),
    F("Sentry", "user-auth-token", "SENTRY_AUTH_TOKEN", prefixed("sntryu_", HEX, 64)),
    F("Sentry", "dsn", "SENTRY_DSN", sentry_dsn),
    F("Grafana", "service-account-token", "GRAFANA_TOKEN", grafana_sa),
    F("Grafana", "cloud-token", "GRAFANA_CLOUD_TOKEN", grafana_cloud),
    F("Honeycomb", "ingest-key", "HONEYCOMB_API_KEY", prefixed("hcaik_", LOWER_ALNUM, 58)),
    F("Honeycomb", "configuration-key", "HONEYCOMB_API_KEY", named(ALNUM, 22), bare=False),
    F("PagerDuty", "routing-key", "PAGERDUTY_ROUTING_KEY", named(HEX, 32), bare=False),
    F("PagerDuty", "rest-api-key", "PAGERDUTY_API_TOKEN", prefixed("u+", B64URL, 18), bare=False),
    F("Opsgenie", "api-key", "OPSGENIE_API_KEY", named_uuid, bare=False),
    F("Splunk", "hec-token", "SPLUNK_HEC_TOKEN", named_uuid, bare=False),
    F("Dynatrace", "api-token", "DT_API_TOKEN", dynatrace),
    F("Rollbar", "access-token", "ROLLBAR_ACCESS_TOKEN", named(HEX, 32), bare=False),
    # Package registries.
    F("npm", "access-token", "NPM_TOKEN", prefixed("npm_", ALNUM, 36)),
    F("npm", "npmrc-auth-token", "NPMRC", npmrc),
    F("PyPI", "upload-token", "PYPI_TOKEN", pypi),
    F("RubyGems", "api-key", "GEM_HOST_API_KEY", prefixed("rubygems_", HEX, 48)),
    F("NuGet", "api-key", "NUGET_API_KEY", prefixed("oy2", LOWER_ALNUM, 43)),
    F("Docker Hub", "personal-access-token", "DOCKERHUB_TOKEN", prefixed("dckr_pat_", B64URL, 27)),
    F("Docker Hub", "org-access-token", "DOCKERHUB_TOKEN", prefixed("dckr_oat_", B64URL, 32)),
    F("Docker", "config-json-auth", "DOCKER_CONFIG_JSON", docker_auth),
    F("JFrog Artifactory", "api-key", "ARTIFACTORY_API_KEY", prefixed("AKCp", ALNUM, 69)),
    F("JFrog Artifactory", "reference-token", "ARTIFACTORY_ACCESS_TOKEN", artifactory_reference),
    F("Clojars", "deploy-token", "CLOJARS_TOKEN", prefixed("CLOJARS_", LOWER_ALNUM, 60)),
    F("crates.io", "api-token", "CARGO_REGISTRY_TOKEN", prefixed("cio", ALNUM, 32)),
    # SaaS APIs.
    F("Atlassian", "api-token", "JIRA_API_TOKEN", atlassian("ATATT3xFfGF0")),
    F("Linear", "api-key", "LINEAR_API_KEY", prefixed("lin_api_", ALNUM, 40)),
    F("Shopify", "admin-access-token", "SHOPIFY_ACCESS_TOKEN", prefixed("shpat_", HEX, 32)),
    F("Shopify", "shared-secret", "SHOPIFY_API_SECRET", prefixed("shpss_", HEX, 32)),
    F("Shopify", "custom-app-token", "SHOPIFY_TOKEN", prefixed("shpca_", HEX, 32)),
    F("Shopify", "private-app-token", "SHOPIFY_PASSWORD", prefixed("shppa_", HEX, 32)),
    F("Twilio", "api-key-sid", "TWILIO_API_KEY", prefixed("SK", HEX, 32), bare=False),
    F("Twilio", "auth-token", "TWILIO_AUTH_TOKEN", named(HEX, 32), bare=False),
    F("SendGrid", "api-key", "SENDGRID_API_KEY", sendgrid),
    F("Mailgun", "api-key", "MAILGUN_API_KEY", prefixed("key-", HEX, 32)),
    F("Mailgun", "private-key", "MAILGUN_API_KEY", mailgun_new, bare=False),
    F("Mailchimp", "api-key", "MAILCHIMP_API_KEY", mailchimp),
    F("Brevo", "api-key", "BREVO_API_KEY", brevo),
    F("Postmark", "server-token", "POSTMARK_SERVER_TOKEN", named_uuid, bare=False),
    F("Resend", "api-key", "RESEND_API_KEY", resend),
    F("Okta", "api-token", "OKTA_API_TOKEN", prefixed("00", B64URL, 40), bare=False),
    F("Auth0", "client-secret", "AUTH0_CLIENT_SECRET", named(B64URL, 64), bare=False),
    F("Salesforce", "access-token", "SF_ACCESS_TOKEN", salesforce, bare=False),
    F("Postman", "api-key", "POSTMAN_API_KEY", postman),
    F("Figma", "personal-access-token", "FIGMA_TOKEN", prefixed("figd_", B64URL, 40)),
    F(
        "Contentful",
        "management-token",
        "CONTENTFUL_MANAGEMENT_TOKEN",
        prefixed("CFPAT-", B64URL, 43),
    ),
    F("Notion", "integration-token", "NOTION_TOKEN", notion),
    F("Notion", "legacy-integration-token", "NOTION_TOKEN", prefixed("secret_", ALNUM, 43)),
    F("Airtable", "personal-access-token", "AIRTABLE_TOKEN", airtable),
    F("HubSpot", "private-app-token", "HUBSPOT_ACCESS_TOKEN", hubspot),
    F("Asana", "personal-access-token", "ASANA_ACCESS_TOKEN", asana, bare=False),
    F("Mapbox", "secret-token", "MAPBOX_SECRET_TOKEN", mapbox_secret),
    F("Typeform", "personal-token", "TYPEFORM_TOKEN", prefixed("tfp_", B64URL, 59)),
    F("Algolia", "admin-key", "ALGOLIA_ADMIN_API_KEY", named(HEX, 32), bare=False),
    F("LaunchDarkly", "sdk-key", "LAUNCHDARKLY_SDK_KEY", launchdarkly),
    F("Harness", "api-key", "HARNESS_API_KEY", harness),
    F("Prefect", "api-key", "PREFECT_API_KEY", prefixed("pnu_", ALNUM, 36)),
    F("ReadMe", "api-key", "README_API_KEY", prefixed("rdme_", LOWER_ALNUM, 70)),
    F("Infracost", "api-key", "INFRACOST_API_KEY", prefixed("ico-", ALNUM, 32)),
    F("Scalingo", "api-token", "SCALINGO_API_TOKEN", prefixed("tk-us-", B64URL, 48)),
    F("Frame.io", "developer-token", "FRAMEIO_TOKEN", prefixed("fio-u-", B64URL, 64)),
    F("MaxMind", "license-key", "MAXMIND_LICENSE_KEY", maxmind),
    F("Twitter", "bearer-token", "TWITTER_BEARER_TOKEN", twitter_bearer),
    F("Facebook", "page-access-token", "FB_ACCESS_TOKEN", prefixed("EAAG", ALNUM, 150)),
    F("Firebase", "fcm-server-key", "FCM_SERVER_KEY", fcm_server_key),
    # Keys.
    F("PEM", "rsa-private-key", "TLS_KEY", pem("RSA PRIVATE KEY", "MIIEpAIBAAKCAQEA", 1190)),
    F(
        "PEM",
        "pkcs8-private-key",
        "TLS_KEY",
        pem("PRIVATE KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 1190),
    ),
    F("PEM", "ec-private-key", "TLS_KEY", pem("EC PRIVATE KEY", "MHcCAQEEI", 121)),
    F(
        "PEM",
        "openssh-private-key",
        "SSH_KEY",
        pem("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA", 400),
    ),
    F("PEM", "dsa-private-key", "DSA_KEY", pem("DSA PRIVATE KEY", "MIIBuwIBAAKBgQ", 440)),
    F(
        "PEM",
        "encrypted-private-key",
        "TLS_KEY",
        pem("ENCRYPTED PRIVATE KEY", "MIIFHDBOBgkqhkiG9w0BBQ0w", 1300),
    ),
    F("PGP", "private-key-block", "GPG_KEY", pgp_private),
    F("PuTTY", "private-key-file", "PPK", putty_key),
    F("age", "secret-key", "SOPS_AGE_KEY", prefixed("AGE-SECRET-KEY-1", BECH32, 58)),
    F("JWT", "hs256", "ID_TOKEN", jwt),
    F("JWT", "rs256", "ACCESS_TOKEN", lambda rng: jwt(rng, alg="RS256", signature_bytes=256)),
    F("JWT", "unsigned", "ASSERTION", lambda rng: jwt(rng, alg="none", signature_bytes=0)),
    # Passwords in URLs and connection strings.
    F(
        "HTTP",
        "basic-auth-url",
        "ARTIFACTS_URL",
        dsn("https", "artifacts.example.com/releases/", "deploy"),
    ),
    F("PostgreSQL", "url", "DATABASE_URL", dsn("postgres", "orders-db:5432/orders")),
    F(
        "PostgreSQL",
        "postgresql-url",
        "DATABASE_URL",
        dsn("postgresql", "orders-db:5432/orders?sslmode=require"),
    ),
    F("PostgreSQL", "jdbc-url", "JDBC_URL", jdbc_query),
    F("MySQL", "url", "DATABASE_URL", dsn("mysql", "orders-db:3306/orders")),
    F("MySQL", "jdbc-url", "JDBC_URL", dsn("jdbc:mysql", "orders-db:3306/orders")),
    F("MariaDB", "url", "DATABASE_URL", dsn("mariadb", "orders-db:3306/orders")),
    F(
        "MongoDB",
        "url",
        "MONGO_URL",
        dsn("mongodb", "mongo-0:27017,mongo-1:27017/orders?replicaSet=rs0"),
    ),
    F(
        "MongoDB",
        "srv-url",
        "MONGODB_URI",
        dsn("mongodb+srv", "cluster0.ab1cd.mongodb.net/orders?retryWrites=true"),
    ),
    F("Redis", "url", "REDIS_URL", dsn("redis", "cache:6379/0", "default")),
    F("Redis", "tls-url", "REDIS_URL", dsn("rediss", "cache.example.com:6380/0", "default")),
    F("RabbitMQ", "url", "AMQP_URL", dsn("amqp", "rabbit:5672/orders")),
    F("RabbitMQ", "tls-url", "AMQP_URL", dsn("amqps", "rabbit.example.com:5671/orders")),
    F("SQL Server", "url", "MSSQL_URL", dsn("mssql", "orders-db:1433/orders", "sa")),
    F(
        "SQL Server",
        "sqlserver-url",
        "SQLSERVER_URL",
        dsn("sqlserver", "orders-db:1433/orders", "sa"),
    ),
    F("SQL Server", "ado-connection-string", "SQL_CONNECTION", odbc),
    F("Oracle", "url", "ORACLE_URL", dsn("oracle", "orders-db:1521/ORCLPDB1", "system")),
    F("ClickHouse", "url", "CLICKHOUSE_URL", dsn("clickhouse", "ch:9000/events", "default")),
    F(
        "CockroachDB",
        "url",
        "COCKROACH_URL",
        dsn("cockroachdb", "crdb:26257/orders?sslmode=verify-full"),
    ),
    F("Cassandra", "url", "CASSANDRA_URL", dsn("cassandra", "cass-0:9042/orders", "cassandra")),
    F("Neo4j", "url", "NEO4J_URI", dsn("neo4j+s", "graph.databases.neo4j.io:7687", "neo4j")),
    F(
        "Couchbase",
        "url",
        "COUCHBASE_URL",
        dsn("couchbases", "cb.example.com/orders", "Administrator"),
    ),
    F("NATS", "url", "NATS_URL", dsn("nats", "nats:4222")),
    F("Kafka", "sasl-url", "KAFKA_URL", dsn("kafka+ssl", "broker-0:9093")),
    F("LDAP", "url", "LDAP_URL", dsn("ldaps", "ldap.example.com:636/dc=example,dc=com", "binder")),
    F("FTP", "url", "FTP_URL", dsn("ftp", "files.example.com/outbox/", "exports")),
    F("SFTP", "url", "SFTP_URL", dsn("sftp", "files.example.com:22/outbox/", "exports")),
    F("SMTP", "url", "SMTP_URL", dsn("smtps", "smtp.example.com:465", "alerts")),
    F(
        "Snowflake",
        "url",
        "SNOWFLAKE_URL",
        dsn("snowflake", "ab12345.eu-west-1/ANALYTICS/PUBLIC", "loader"),
    ),
    F("Elasticsearch", "url", "ELASTICSEARCH_URL", dsn("https", "es.example.com:9243", "elastic")),
    F("LaunchDarkly", "api-access-token", "LD_API_TOKEN", launchdarkly_api),
    F("NATS", "user-nkey-seed", "NATS_NKEY_SEED", nkey_seed("U")),
    F("NATS", "account-nkey-seed", "NATS_ACCOUNT_SEED", nkey_seed("A")),
    F("YouTube", "rtmp-stream-url", "STREAM_URL", rtmp_stream),
    F("Twitch", "stream-key", "TWITCH_STREAM_KEY", twitch_stream),
    F("Lightning", "lnd-macaroon", "LND_MACAROON", lnd_macaroon),
    F("Grafana", "oncall-integration-url", "ONCALL_WEBHOOK_URL", grafana_oncall),
)


def sample(fmt: SecretFormat, salt: str) -> Secret:
    """A secret of `fmt`, the same for the same `salt` on every run (a failure reproduces)."""
    return fmt.make(random.Random(binascii.crc32(f"{fmt.id}/{salt}".encode())))
