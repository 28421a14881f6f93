"""Rules for secrets known by their shape or their prefix: private keys (PEM blocks, their base64
body alone, PuTTY's), password hashes, JSON Web Tokens, webhook URLs, and the tokens vendors
issue with a prefix (GitHub, GitLab, Slack, Stripe, Google, …).

A token some of whose `_`, `-` or `.` a Markdown writer escaped with a backslash is read
unescaped (`_markdown_unescaped`).

They are the first rules (`rules._RULES`): a specific shape's placeholder says what was there,
and the rules that read a value by its name skip a value that is already a placeholder. The PEM
rules come first of all: a key's base64 body would otherwise be chewed up by the shorter
patterns.
"""

from __future__ import annotations

import base64
import json
import re

from triage.redact.base64_runs import keytab_replaced
from triage.redact.continued import CONCATENATED_RULES, CONTINUED_RULES
from triage.redact.cut_tokens import cut_body, cut_token_rules
from triage.redact.pem import public_pem_base64
from triage.redact.rule import (
    _ASSIGN,
    _B64URL,
    _BREAK,
    _END,
    _OPEN_QUOTE,
    _prefixed,
    _prefixed_each,
    _Rule,
    _rule,
    holds_run,
)
from triage.redact.shaped import SHAPED_RULES
from triage.redact.wrapped import WRAPPED_TOKEN_RULES

#: What follows a line break inside a JWT's signature: a line (to a space, a quote, a
#: backslash) that is all base64url and looks random (a digit, `_`, `-`, or a capital letter
#: after a small one), not a word.
#: A line break before a JWT's signature: a shell's continuation (`\\` at the line's end, raw
#: or escaped inside a JSON string) and the next line's indentation may go with it.
_JWT_BREAK = r"(?:\\{0,2}(?:\r?\n|\\n)[ \t]{0,16}+)"
_JWT_REST = (
    rf"""(?={_B64URL}{{1,4096}}+(?:[\s"'\\]|$))(?=[A-Za-z]{{0,4096}}?(?:[0-9_-]|[a-z][A-Z]))"""
)
#: A line of a PuTTY key file's private part: base64 to the line's end (raw, or escaped inside
#: a JSON string or inside a repr inside one), indented in a YAML block; a placeholder in it
#: (an earlier pass's, over the key percent-encoded) does not end it.
_PUTTY_BREAK = r"(?:\r?\n|(?:\\{1,2}r)?\\{1,2}n)"
_PUTTY_LINE = (
    r"""[ \t]{0,16}+(?:[A-Za-z0-9+/=]|\[REDACTED:[a-z0-9-]{1,32}\]){1,128}+(?![^\s"'\\])"""
)


def _encoded_pem(match: re.Match[str]) -> str:
    """A base64-encoded PEM text replaced, unless it decodes whole and each block it begins is
    a certificate's, a public key's or parameters' (`public_pem_base64`: a CA bundle, a
    kubeconfig's certificate-authority-data); a bundle with a key in it, or a text cut short
    of a whole decoding, goes."""
    encoded = match[0]
    return encoded if public_pem_base64(encoded) else "[REDACTED:private-key]"


#: The label of an armoured block whose body is a secret (read ignoring case): a private key's
#: (`RSA PRIVATE KEY`, `SSH2 ENCRYPTED PRIVATE KEY`, `X9.42 DH PRIVATE KEY`, PGP's `… BLOCK`),
#: OpenVPN's static and tls-crypt-v2 keys, a PKCS #12 bundle.
_SECRET_ARMOUR = (
    r"(?:(?:[A-Z0-9][A-Z0-9.]{0,19} ){0,3}PRIVATE KEY(?: BLOCK)?"
    r"|OpenVPN (?:Static key V[0-9]|tls-crypt-v2 (?:client|server) key|tls-auth key)|PKCS ?#?12)"
)
#: What a logger writes between two fields' values: quotes, separators, brackets and the next
#: field's name (`", "payload": "`, `\npayload: `, ` signature=`, `", "signatures": [{"`),
#: raw or escaped inside a JSON string; two names for a JWS's `"signatures": [{"protected"`.
_GAP_MARKS = r"""[\s"',;:=|\\<>/\[\]{}()]{1,16}+"""
_FIELD_GAP = rf"(?:{_GAP_MARKS}(?:[A-Za-z_][\w.-]{{0,40}}+{_GAP_MARKS}){{0,2}})"
#: A JWT whose three parts a logger wrote as three fields' values (`{"header": "eyJ…",
#: "payload": "eyJ…", "signature": "…"}`), or a JWS in JSON form (payload, protected header,
#: signature): two base64url JSON values then a signature of 32 characters or more.
_JWT_FIELDS = (
    rf"(?P<first>(?:eyJ|eyA|ewo)(?<![A-Za-z0-9_-](?<!\\[nrt]).{{3}}){_B64URL}{{8,4096}}+)"
    rf"(?P<gap1>{_FIELD_GAP})(?P<second>(?:eyJ|eyA|ewo){_B64URL}{{8,8192}}+)"
    rf"(?P<gap2>{_FIELD_GAP})(?P<signature>{_B64URL}{{32,4096}}+)(?![A-Za-z0-9_.-])"
)


def _jose_header(part: str) -> bool:
    """Whether `part` (base64url) is a JOSE header: a JSON object naming an algorithm."""
    try:
        header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str)


def _jwt_fields(match: re.Match[str]) -> str:
    """A JWT's parts as three fields: its claims and signature replaced, its header (public,
    the algorithm) kept, whichever of the two JSON values it is; no header, no JWT."""
    jwt = "[REDACTED:jwt]"
    if _jose_header(match["first"]):
        first, second = match["first"], jwt
    elif _jose_header(match["second"]):
        first, second = jwt, match["second"]
    else:
        return match[0]
    return f"{first}{match['gap1']}{second}{match['gap2']}{jwt}"


#: A JWT's dot spaced out or quoted apart: spaces or a quote on either side, a space at least
#: (a dot glued to both parts is the JWT rule's).
_SPACED_DOT = r"""(?:["']?[ \t]{1,4}["']?\.["']?[ \t]{0,4}["']?|\.["']?[ \t]{1,4}["']?)"""
_GITHUB_PREFIXES = "ghp_ gho_ ghu_ ghs_ ghr_".split()  # noqa: SIM905
_GITLAB_PREFIXES = (
    "glpat- gldt- glrt- glptt- glcbt- glsoat- gloas- glft- glimt- glagent- glffct-".split()  # noqa: SIM905
)
#: Slack's tokens; xoxc- is a browser session's client token, which acts as the user.
_SLACK_PREFIXES = (
    "xoxa- xoxb- xoxc- xoxo- xoxp- xoxr- xoxs- xoxe- xoxe.xoxb- xoxe.xoxp- xapp-".split()  # noqa: SIM905
)
_STRIPE_PREFIXES = "sk_live_ sk_test_ rk_live_ rk_test_".split()  # noqa: SIM905
_SHOPIFY_PREFIXES = "shpat_ shpss_ shpca_ shppa_".split()  # noqa: SIM905
#: Prefixes no ordinary word starts with, each followed by a token's characters.
_VENDOR_PREFIXES = (
    "glsa_",
    "glc_",
    "sntrys_",
    "sntryu_",
    "hvs.",
    "hvb.",
    "hvr.",  # Vault's recovery tokens
    "dop_v1_",
    "doo_v1_",
    "dor_v1_",
    "NRAK-",
    "ATATT3",
    "lin_api_",
    "PMAK-",
    "dp.pt.",
    "dp.st.",
    "dp.ct.",
    "dp.sa.",
    "dp.scim.",
    "dp.audit.",
    "sq0atp-",
    "sq0csp-",
    "rubygems_",
    "AGE-SECRET-KEY-1",
    "dckr_pat_",
    "dckr_oat_",
    "ops_eyJ",
    "fm1a_",
    "fm1r_",
    "fm2_",
    "fo1_",
    "xkeysib-",
    "xsmtpsib-",
    "tskey-",
    "sbp_",
    "sb_secret_",
    "pscale_tkn_",
    "pscale_pw_",
    "pscale_oauth_",
    "gsk_",
    "nfp_",
    "figd_",
    "CCIPAT_",
    "bkua_",
    "CFPAT-",
    "HRKU-",
    "ATBB",
    "ATCTT3",
    "CCIPRJ_",
    "CLOJARS_",
    "duffel_live_",
    "duffel_test_",
    "fio-u-",
    "hcaik_",
    "lsv2_pt_",
    "lsv2_sk_",
    "NRII-",
    "pcsk_",
    "tk-us-",
    "shippo_live_",
    "shippo_test_",
    "AQVN",
    "mdb_sa_sk_",  # MongoDB Atlas service account secrets
    "CCDB1_",  # CockroachDB Cloud API keys
)
#: A vendor token's body: base64 or base64url, whose `+`, `/` and `=` may be percent-encoded
#: (the token in a URL's query; twice, a URL inside one), up to a length no token reaches
#: (1Password's run to ~1 KB).
_VENDOR_BODY = r"(?:[A-Za-z0-9_+/=-]|%(?:25)?(?:2[BbFf]|3[Dd])){20,4096}"

#: A word some of whose `_`, `-` or `.` a Markdown writer escaped with a backslash (`ghp\_…`,
#: `sk\_live\_…`, `glpat\-…`; inside a JWT's signature), or two inside a JSON string: an
#: escape among its first 512 characters. Read unescaped by the token rules
#: (`_markdown_unescaped`).
_MARKDOWN_ESCAPED_WORD = (
    r"(?:(?<![A-Za-z0-9_.+/=\\-])|(?<=\\[nrt]))(?=[A-Za-z0-9_.+/=-]{0,512}+\\{1,2}[_.-])"
    r"(?:[A-Za-z0-9_.+/=-]|\\{1,2}[_.+/=-]){8,4096}+"
)
_MARKDOWN_ESCAPE = re.compile(r"\\{1,2}([_.+/=-])")


def _by_token_rules(text: str, *more: _Rule) -> str:
    """`text` redacted by the token rules alone (those that read a disguised word aside), then
    by the rules `more`."""
    for rule in (*TOKEN_RULES, *more):
        if rule.replacement in (_markdown_unescaped, _uncoloured):
            continue
        haystack = text.lower() if rule.folded else text
        if rule.needles and not any(needle in haystack for needle in rule.needles):
            continue
        text = rule.pattern.sub(rule.replacement, text)
    return text


def _markdown_unescaped(match: re.Match[str]) -> str:
    """A Markdown-escaped word (`_MARKDOWN_ESCAPED_WORD`) read by the token rules with its
    escapes undone: redacted so when a rule found a token in it, else unchanged (its escapes
    kept)."""
    plain = _MARKDOWN_ESCAPE.sub(r"\1", match[0])
    redacted = _by_token_rules(plain)
    return match[0] if redacted == plain else redacted


#: A colour or erase escape (SGR's `ESC[32m`, `ESC[0m`, `ESC[01;31m`, grep's `ESC[K`): its ESC
#: raw, escaped in a JSON string (`\\u001b`) or by C (`\\x1b`, `\\033`), or already dropped by
#: a normaliser or a log shipper, which leaves its rest (`[32m`) glued inside the word.
_COLOUR = r"(?:\x1b|\\u001[bB]|\\x1[bB]|\\033)?\[(?:[0-9]{1,3}(?:;[0-9]{1,3}){0,15})?[mK]"
#: A word a terminal's colour escapes cut (`ESC[32mghp_…ESC[0m…`): its pieces and the escapes
#: between them and before them. Read without the escapes by the token rules (`_uncoloured`).
_TOKEN_CHAR = "[A-Za-z0-9_.+/=-]"
_COLOURED_WORD = rf"(?<!{_TOKEN_CHAR}){_TOKEN_CHAR}{{0,512}}+(?:(?:{_COLOUR}){{1,8}}+{_TOKEN_CHAR}{{1,512}}+){{1,16}}+"
_COLOURS = re.compile(_COLOUR)


def _uncoloured(match: re.Match[str]) -> str:
    """A word cut by colour escapes (`_COLOURED_WORD`) read by the token rules without them:
    redacted so, its escapes dropped, when a rule found a token in it; else unchanged. A
    terminal, and a sink that drops the escapes, shows the token whole."""
    plain = _COLOURS.sub("", match[0])
    redacted = _by_token_rules(plain)
    return match[0] if redacted == plain else redacted


_ALNUM = "[A-Za-z0-9]"

#: What stands between a Twilio sid and its secret: Basic auth's `:`, or a call's `, ` and the
#: arguments' quotes (escaped inside a JSON string).
_SID_TO_SECRET = r"""(?:\\?["'])?[ \t]{0,3}[:,][ \t]{0,3}(?:\\?["'])?"""


def _twilio_pair(match: re.Match[str]) -> str:
    """A Twilio sid and its secret (`TOKEN_RULES`): the account's sid kept (it only names the
    account), an API key's sid blanked as its own rule blanks it, the secret blanked."""
    if match["account"] is not None:
        return f"{match['account']}[REDACTED:twilio-key]"
    return f"[REDACTED:token]{match['key']}[REDACTED:twilio-key]"


def _with_digit(count: int) -> str:
    """`count` letters and digits, a digit among them: a token's random body, not a word that
    happens to follow the prefix (`re_schedule_…`, `secret_ManagerRotation…`)."""
    return rf"(?=[A-Za-z]{{0,{count - 1}}}[0-9]){_ALNUM}{{{count}}}"


_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
#: Tokens whose prefix is short or a word's start (`pat`, `re_`, `secret_`, `sdk-`): known only
#: with the exact body the vendor issues after it (its length and alphabet).
_SHAPED = (
    ("api_org_", "[A-Za-z]{34}"),  # Hugging Face organisation tokens
    ("amzn.mws.", _UUID),  # Amazon Marketplace Web Service auth tokens
    ("AKCp", "[A-Za-z0-9]{69}"),  # JFrog Artifactory API keys
    ("ntn_", "[0-9]{11}[A-Za-z0-9]{35}"),  # Notion
    ("secret_", _with_digit(43)),  # … its integration tokens before ntn_
    ("pnu_", _with_digit(36)),  # Prefect
    ("rdme_", "[a-z0-9]{70}"),  # ReadMe
    ("rnd_", _with_digit(32)),  # Render
    ("r8_", _with_digit(37)),  # Replicate
    ("ico-", _with_digit(32)),  # Infracost
    ("oy2", "[a-z0-9]{43}"),  # NuGet
    ("sha256~", "[A-Za-z0-9_-]{43}"),  # OpenShift
    ("xai-", _with_digit(80)),  # xAI
    ("pplx-", _with_digit(48)),  # Perplexity
    ("NRJS-", "[0-9a-f]{19}"),  # New Relic browser keys
    ("squ_", "[0-9a-f]{40}"),  # SonarQube user, project and global analysis tokens
    ("sqp_", "[0-9a-f]{40}"),
    ("sqa_", "[0-9a-f]{40}"),
    ("t1.", r"[A-Za-z0-9_-]{20,512}={0,2}\.[A-Za-z0-9_-]{86}={0,2}"),  # Yandex Cloud IAM
    ("tfp_", "[A-Za-z0-9_.=-]{59}"),  # Typeform
    ("re_", f"(?=[A-Za-z_]{{0,32}}[0-9]){_ALNUM}{{8}}_{_ALNUM}{{24}}"),  # Resend
    ("sdk-", _UUID),  # LaunchDarkly SDK keys
    ("live_", "[0-9]{5,12}_[A-Za-z0-9]{30}"),  # Twitch stream keys (in an RTMP URL's path)
    ("pat-na1-", _UUID),  # HubSpot private app tokens (US, EU)
    ("pat-eu1-", _UUID),
    ("pat", r"[A-Za-z0-9]{14}\.[0-9a-f]{64}"),  # Airtable
    ("pat.", r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"),  # Harness
    ("sat.", r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"),
    ("sk.eyJ", r"[A-Za-z0-9_-]{20,1024}\.[A-Za-z0-9_-]{20,64}"),  # Mapbox secret tokens
    ("AAAA", "[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{100,200}"),  # Firebase Cloud Messaging
    ("A" * 22, "[A-Za-z0-9%=]{60,200}"),  # Twitter (X) app-only bearer tokens (%3D or =)
    ("access_token$production$", r"[a-z0-9]{16}\$[0-9a-f]{32}"),  # Braintree (PayPal)
    ("access_token$sandbox$", r"[a-z0-9]{16}\$[0-9a-f]{32}"),
    # 1Password account secret keys: A3, then groups of 6, 6 (or 11), 5, 5, 5, 5.
    ("A3-", "[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})(?:-[A-Z0-9]{5}){3}"),
    ("token-", "[a-z0-9]{5}:[a-z0-9]{54}"),  # Rancher API tokens (`token-<id>:<secret>`)
    ("y0_", "[A-Za-z0-9_-]{55,64}"),  # Yandex OAuth tokens
    ("napi_", "[a-z0-9]{64}"),  # Neon API keys
    ("tvly-", "(?:dev-|prod-)?[A-Za-z0-9]{32}"),  # Tavily
    ("fc-", "[0-9a-f]{32}"),  # Firecrawl
    ("pk_", "[0-9]{1,10}_[0-9A-Z]{32}"),  # ClickUp personal tokens (`pk_<user id>_…`)
    ("sk_", "[0-9a-f]{48}"),  # ElevenLabs
    ("tgp_v1_", "[A-Za-z0-9_-]{43}"),  # Together AI
    # Voyage AI: 43 base64url characters, a digit among them (not a hyphenated name).
    ("pa-", "(?=[A-Za-z_-]{0,42}[0-9])[A-Za-z0-9_-]{43}"),
    ("fw_", _with_digit(24)),  # Fireworks AI
    ("rpa_", "[A-Z0-9]{40}"),  # RunPod
    ("AstraCS:", "[A-Za-z]{24}:[0-9a-f]{64}"),  # DataStax Astra
    ("xaat-", _UUID),  # Axiom API and personal tokens
    ("xapt-", _UUID),
    ("signkey-", "(?:prod|test|branch)-[0-9a-f]{64}"),  # Inngest signing keys
    ("sk_prod_", "[A-Za-z0-9_-]{40,128}"),  # Liveblocks secret keys
    ("sk_dev_", "[A-Za-z0-9_-]{40,128}"),
    # Trigger.dev: a digit among the body (`tr_prod_deploymentPipelineName` is a name).
    *(
        (f"tr_{env}_", "(?=[A-Za-z]{0,63}[0-9])[A-Za-z0-9]{20,64}")
        for env in ("dev", "prod", "stg", "pat")
    ),
    ("secret-live-", "[A-Za-z0-9_=-]{30,64}"),  # Stytch project secrets
    ("secret-test-", "[A-Za-z0-9_=-]{30,64}"),
    # Backblaze B2 application keys: K, the cluster's three digits, 27 letters and digits
    # (both cases and a digit among them: no word or part number).
    (
        "K00",
        "[0-9](?=[A-Za-z0-9]{0,26}[0-9])(?=[A-Za-z0-9]{0,26}[a-z])(?=[A-Za-z0-9]{0,26}[A-Z])"
        "[A-Za-z0-9]{27}",
    ),
)
#: … the same, for the prefixes the public secret scanners know (gitleaks, trufflehog,
#: detect-secrets) that are a word's start or short: only with the vendor's exact body.
_SCANNERS_SHAPED = (
    ("p8e-", "[A-Za-z0-9]{32}"),  # Adobe client secrets
    ("dnkey-", "[A-Za-z0-9=_-]{26}-[A-Za-z0-9=_-]{52}"),  # Defined Networking
    *((f"{kind}-s4t2{app}-", "[0-9a-f]{64}") for kind in "su" for app in ("ud", "af")),  # 42
    *((f"sm_{kind}_", "[A-Za-z0-9]{16}") for kind in ("aat", "pat", "sat")),  # SettleMint
    *((f"access-{env}-", _UUID) for env in ("sandbox", "development", "production")),  # Plaid
    ("sl.", r"(?:u\.)?[A-Za-z0-9_=-]{130,1400}"),  # Dropbox short-lived tokens
    ("eyJrIjoi", "[A-Za-z0-9+/]{40,400}={0,2}"),  # Grafana API keys (base64 of {"k":"…)
    # Elasticsearch enrollment tokens (base64 of {"ver":"…", …, "key":"<API key id:secret>"}).
    ("eyJ2ZXIiOi", "[A-Za-z0-9+/]{40,1000}={0,2}"),
    ("aio_", "[A-Za-z0-9]{28}"),  # Adafruit IO
    ("apify_api_", "[A-Za-z0-9]{36}"),  # Apify
    ("bb_pr_", "[0-9a-f]{30}"),  # Bannerbear (project, master)
    ("bb_ma_", "[0-9a-f]{30}"),
    ("endr+", "[A-Za-z0-9-]{16}"),  # Endor Labs
    ("figp_", "[A-Za-z0-9_=-]{40,54}"),  # Figma (v3)
    ("flb_live_", "[A-Za-z0-9]{20}"),  # Fleetbase
    ("shltm_", "[A-Za-z0-9_-]{40}"),  # Flexport
    ("na1.", "[A-Za-z0-9+/]{100}"),  # FullStory
    ("nvapi-", "[A-Za-z0-9_-]{64}"),  # NVIDIA
    ("NRBR-", "[0-9a-f]{19}"),  # New Relic browser and Insights query keys
    ("NRIQ-", "[A-Za-z0-9_-]{25}"),
    ("NF-", "[A-Za-z0-9]{32}"),  # Nightfall
    ("ak_live_", "[A-Za-z0-9]{30}"),  # Pagar.me
    ("ak_test_", "[A-Za-z0-9]{30}"),
    ("phx_", "(?=[A-Za-z_]{0,47}[0-9])[A-Za-z0-9_]{43,48}"),  # PostHog personal keys
    ("pub-c-", _UUID),  # PubNub publish and subscribe keys
    ("sub-c-", _UUID),
    ("ramp_id_", "[A-Za-z0-9]{40}"),  # Ramp
    ("ramp_sec_", "[A-Za-z0-9]{48}"),
    ("rzp_live_", "[A-Za-z0-9]{14}"),  # Razorpay
    ("rzp_test_", "[A-Za-z0-9]{14}"),
    ("rh-api-", _UUID),  # Robinhood Crypto
    ("rootly_", "[0-9a-f]{64}"),  # Rootly
    ("salad_cloud_", "[A-Za-z0-9]{1,7}_[A-Za-z0-9]{7,235}"),  # Salad Cloud
    ("sqco_", "[A-Za-z0-9]{59}"),  # SonarCloud
    ("sgp_", "(?:[0-9a-f]{16}_|local_)?[0-9a-f]{40}"),  # Sourcegraph
    ("sgp_", "[A-Za-z0-9]{64}"),  # Segment public API tokens
    ("slk_", "[0-9a-f]{64}"),  # Sourcegraph Cody
    ("thog-key-", "[0-9a-f]{16}"),  # TruffleHog Enterprise
    ("thog-secret-", "[0-9a-f]{32}"),
)
#: … and those whose first letter starts no other case-sensitive needle (`_SHAPED_FOLDED`).
_SCANNERS_SHAPED_FOLDED = (
    ("BBDC-", "[A-Za-z0-9+/@_-]{40,50}"),  # Bitbucket Data Center
    ("cfk_", "[A-Za-z0-9]{40}[0-9a-f]{8}"),  # Cloudflare global API keys (v2)
    ("BBFF-", "[A-Za-z0-9]{30}"),  # Ubidots
    ("VF.", r"(?:DM\.|WS\.)?[0-9a-f]{24}\.[A-Za-z0-9]{16}"),  # Voiceflow
)
#: … the same, for prefixes whose first letter starts no other case-sensitive needle: they are
#: looked for among the folded needles (`fold_needles`), so that the search for needles keeps
#: skipping every `c`, `v`, `E` and `F` of a text.
_SHAPED_FOLDED = (
    ("cmVmdGtuOjAx", "[A-Za-z0-9]{52}"),  # JFrog Artifactory reference tokens (reftkn:01:)
    ("cio", _with_digit(32)),  # crates.io
    ("EAA", "[A-Z][A-Za-z0-9_-]{40,512}"),  # Square (EAAA…) and Facebook (EAAG…) tokens
    ("EZAK", "[A-Za-z0-9]{54}"),  # EasyPost (live, test)
    ("EZTK", "[A-Za-z0-9]{54}"),
    ("FLWSECK-", "[0-9a-f]{32}-X"),  # Flutterwave (live, test)
    ("FLWSECK_TEST-", "[0-9a-f]{32}-X"),
    ("v1.0-", "[0-9a-f]{24}-[0-9a-f]{146}"),  # Cloudflare Origin CA keys
    # Vercel: a Blob store's read-write token (its store's id, then the secret), and the
    # prefixed personal, integration, app access, app refresh and API key tokens.
    ("vercel_blob_rw_", "[A-Za-z0-9]{8,32}_[A-Za-z0-9]{16,64}"),
    *((f"vc{kind}_", "(?=[A-Za-z]{0,23}[0-9])[A-Za-z0-9]{24,128}") for kind in "piark"),
    ("jina_", "[A-Za-z0-9]{60}"),  # Jina AI
    ("csk-", "[a-z0-9]{48}"),  # Cerebras
)

#: The vendor rule's needles: a prefix that shares its start with others is looked for once.
_VENDOR_NEEDLES = (
    *(
        p
        for p in _VENDOR_PREFIXES
        if not p.startswith(("dckr_", "pscale_", "xkeysib-", "xsmtpsib-"))
    ),
    *("dckr_", "pscale_", "sib-"),
)


#: MySQL's native password hash (mysql_native_password): `*` and SHA1(SHA1(password)) in hex.
#: A client holding it logs in as the user without the password (the protocol's scramble needs
#: only it). Bare, `*` and 40 hex digits could be anything's digest after a `*`: it is read
#: only after a word that says MySQL shows one (`_MYSQL_HASH_CONTEXT`).
_MYSQL_HASH = r"\*[0-9A-Fa-f]{40}(?![0-9A-Za-z])"
_MYSQL_HASHES = re.compile(_MYSQL_HASH)
#: What stands before such a hash: the plugin's name (`IDENTIFIED WITH 'mysql_native_password'
#: AS '*…'`), the mysql.user column that holds it (a table's header, `\G`'s row) or the table;
#: and where a config manager or a proxy keeps MySQL's users: Puppet's `mysql_user` type (its
#: change notice `Mysql_user[app@%]/password_hash: changed …`) and its `password_hash`
#: property, Ansible's `mysql_user` module, ProxySQL's `mysql_users` table.
_MYSQL_HASH_CONTEXT = (
    r"mysql_native_password|authentication_string|mysql\.user|mysql_users?|password_hash"
)


#: PostgreSQL's stored password: `md5` glued to 32 lower-case hex digits (a file's checksum is
#: written apart from its `md5`: `md5: …`, `md5=…`; not after a word's letter or a path's `/`,
#: but after a JSON string's escaped line break), or a SCRAM verifier:
#: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, each part base64.
_POSTGRES_HASH = (
    r"(?<![\w./-](?<!\\[nrt]))md5[0-9a-f]{32}(?![0-9A-Za-z])"
    r"|SCRAM-SHA-(?:1|256|512)\$[0-9]{1,9}:[A-Za-z0-9+/]{4,128}+={0,2}"
    r"\$[A-Za-z0-9+/]{16,128}+={0,2}:[A-Za-z0-9+/]{16,128}+={0,2}(?![A-Za-z0-9+/=])"
)


#: A row of an NTP symmetric key file (ntpd's `ntp.keys`, chrony's `chrony.keys`): the key's
#: id, its type (`M` for MD5, a digest's or a cipher's name) and the key, in ASCII or, with
#: chrony's prefix or as a digest's 40 digits, in hex.
_NTP_KEY_ROW = re.compile(
    r"(?m:^)([ \t]{0,16}+[0-9]{1,5}[ \t]{1,16}+(?i:M|MD5|SHA1?|SHA(?:224|256|384|512)|RMD160"
    r"|AES(?:128|256)CMAC|[A-Z0-9-]{2,16}+)[ \t]{1,16}+(?:(?:HEX|ASCII):)?)(?!\[REDACTED)([^\s#]{1,128}+)"
)


def _ntp_keys(match: re.Match[str]) -> str:
    """Each key of an NTP key file's rows (`_NTP_KEY_ROW`) after its name replaced."""
    return _NTP_KEY_ROW.sub(r"\1[REDACTED:password]", match[0])


def _mysql_hashes(match: re.Match[str]) -> str:
    """Every MySQL native password hash in the match (a context word, then the hashes that
    follow it, each within 4 KB of the one before) replaced."""
    return _MYSQL_HASHES.sub("[REDACTED:password-hash]", match[0])


_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_VALUES = {char: value for value, char in enumerate(_BASE58)}
_BASE58_CHAR = "[1-9A-HJ-NP-Za-km-z]"
#: A Bitcoin private key in Wallet Import Format, by its base58 length and first character:
#: 51 characters after 5 (mainnet) or 9 (testnet) for an uncompressed key's, 52 after K, L
#: or c for a compressed key's. The bytes it encodes say whether it is one (`_wif_key`).
_WIF = (
    rf"[59KLc](?<![A-Za-z0-9].)(?:(?<=[59]){_BASE58_CHAR}{{50}}|(?<=[KLc]){_BASE58_CHAR}{{51}})"
    r"(?![A-Za-z0-9])"
)
#: WIF's version bytes: mainnet's and testnet's private keys.
_WIF_VERSIONS = (0x80, 0xEF)


def _base58_decoded(text: str) -> bytes:
    """`text` (base58's characters alone, none a leading `1`) as the bytes it encodes."""
    number = 0
    for char in text:
        number = number * 58 + _BASE58_VALUES[char]
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def _wif_key(match: re.Match[str]) -> str:
    """A WIF private key replaced when the bytes it encodes are one's: its version byte, its
    32-byte key and, for a compressed key's, 0x01 after it, then the 4-byte checksum. The
    checksum itself is not asked: a key a character of which was mistyped or garbled still
    gives the key away."""
    body = _base58_decoded(match[0])[:-4]
    shaped = len(body) == 33 or (len(body) == 34 and body[33] == 0x01)
    if not shaped or body[0] not in _WIF_VERSIONS:
        return match[0]
    return "[REDACTED:private-key]"


#: A Bitwarden Secrets Manager access token (`bws`'s `BWS_ACCESS_TOKEN`): its version `0.`, the
#: token's id (a UUID, kept: it names the token, as the web vault lists it), then after a dot
#: the client secret (30 letters and digits) and after a `:` the encryption key (16 bytes in
#: base64, its `/`, `+` and `==` percent-encoded or JSON-escaped or not). No literal but
#: `0.` starts it, and needles that start with a digit would stop the search for needles at
#: every digit, so it has none: a pattern that starts with its literal lets the regex engine
#: jump between them, and its 90 characters at least skip every shorter text.
_BITWARDEN_ACCESS_TOKEN = (
    r"(?P<id>0\.(?<![A-Za-z0-9.](?<!\\[nrt]).{2})[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}"
    r"-[0-9a-fA-F]{12}\.)[A-Za-z0-9]{30}:(?:[A-Za-z0-9+]|\\?/|%2[BbFf]){22}"
    r"(?:==|%3[Dd]%3[Dd]|\\u003[Dd]\\u003[Dd])?(?![A-Za-z0-9+/=%])"
)


#: An age identity (`age-keygen`'s `AGE-SECRET-KEY-1` and 58 bech32 characters) a log's width
#: broke over two lines (raw or escaped inside a JSON string, the next line indented or not):
#: its two pieces, whose lengths `_wrapped_age_key` adds up. The vendor rule below takes a
#: prefix and any length, so it would name the first piece alone and leave the second.
_BECH32 = "[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]"
_WRAPPED_AGE_KEY = (
    rf"AGE-SECRET-KEY-1(?<![A-Za-z0-9](?<!\\[nrt]).{{16}})(?P<head>{_BECH32}{{0,57}}+)"
    rf"(?:\r?\n|(?:\\r)?\\n)[ \t]{{0,16}}+(?P<tail>{_BECH32}{{1,58}}+)(?![A-Za-z0-9])"
)
#: The length of an age identity's body.
_AGE_BODY = 58


def _wrapped_age_key(match: re.Match[str]) -> str:
    """Both pieces of a broken age identity replaced as one when their lengths make its body's
    (`_AGE_BODY`); else the match unchanged (a whole key and a word in capitals below it)."""
    if len(match["head"]) + len(match["tail"]) != _AGE_BODY:
        return match[0]
    return "[REDACTED:token]"


#: A byte's value in decimal, 0 to 255.
_BYTE = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
#: A Solana keypair file (`~/.config/solana/id.json`, what `solana-keygen new` writes): a JSON
#: array of exactly 64 bytes, the ed25519 seed and its public key, on one line or one a line.
_SOLANA_KEYPAIR = (
    rf"\[[ \t\r\n]{{0,64}}+(?:{_BYTE}[ \t]{{0,8}}+,[ \t\r\n]{{0,64}}+){{63}}"
    rf"{_BYTE}[ \t\r\n]{{0,64}}+\](?![ \t]{{0,8}},[ \t]{{0,8}}[0-9])"
)


#: The rules for tokens cut short (`cut_tokens`), after the rules for whole tokens.
CUT_TOKEN_RULES = cut_token_rules((*_GITLAB_PREFIXES, *_VENDOR_PREFIXES))

TOKEN_RULES: tuple[
    _Rule, ...
] = (  # PEM blocks first: their base64 body would otherwise be chewed up by the shorter patterns.
    # Four dashes or five (RFC 4716's `---- BEGIN SSH2 … ----`, an armour that lost one); the
    # label's words may hold a dot (X9.42); besides private keys, the armours whose body is a
    # secret too: OpenVPN's static and tls-crypt-v2 keys, a PKCS #12 bundle.
    _rule(
        rf"-{{4,5}}[ \t]?BEGIN {_SECRET_ARMOUR}[ \t]?-{{4,5}}"
        rf"(?:.{{0,20000}}?-{{4,5}}[ \t]?END {_SECRET_ARMOUR}[ \t]?-{{4,5}}|.{{0,20000}})",
        "[REDACTED:private-key]",
        "private key",
        "openvpn",
        "pkcs",
        flags=re.DOTALL | re.IGNORECASE,
    ),
    # A PEM block base64-encoded (kubeconfig's client-key-data, a Kubernetes secret's data):
    # "-----BEGIN" encodes as LS0tLS1CRUdJTi, whatever follows; a certificate's or a public
    # key's alone stays (`_encoded_pem`).
    _rule(
        r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{8,40000}+={0,2}",
        _encoded_pem,
        "LS0tLS1CRUdJTi",
    ),
    # A private key's base64 body without its armour lines (cut by a log line's length, pasted
    # alone), known by its first bytes: PKCS #8 (RSA, EC), PKCS #1 (RSA, DSA), SEC 1 EC, Ed25519
    # and X25519, OpenSSH. Certificates and public keys start otherwise. The body runs on over
    # line breaks (raw or escaped) while the next line is base64 too.
    _rule(
        r"(?:MII[A-Za-z0-9+/]{3}IBA(?:DAN|AK[BC])|MIG[A-Za-z0-9+/]AgEAM[A-Za-z0-9+/]{2}GByqGSM49"
        r"|MHcCAQEEI|MIGkAgEBBDA|MC4CAQAwBQYDK2V[wu]BCIEI|b3BlbnNzaC1rZXktdjE)"
        r"[A-Za-z0-9+/=]{0,16384}+(?:(?:\r?\n|\\r\\n|\\n)[ \t]{0,16}+"
        r"(?=[A-Za-z0-9+/]{16}|[A-Za-z0-9+/]{0,15}+=)[A-Za-z0-9+/=]{1,16384}+){0,400}+",
        "[REDACTED:private-key]",
        *("IBADAN", "IBAAK", "AgEAM", "MHcCAQEEI", "MIGkAgEBBDA", "MC4CAQAwBQYDK2V"),
        "b3BlbnNzaC1rZXktdjE",
    ),
    # A vendor's token a wrapper broke over lines: read joined, before the rules below name its
    # first piece by its prefix and leave the rest.
    *WRAPPED_TOKEN_RULES,
    # A token some of whose separators a Markdown writer escaped (`ghp\_…`): read unescaped,
    # before the rules below read it as written and miss it.
    _rule(_MARKDOWN_ESCAPED_WORD, _markdown_unescaped, "\\_", "\\-", "\\.", fold_needles=True),
    # A token a terminal's colour escapes cut: read without them, for the same reason. Each
    # escape holds `[` and a digit, `m` or `K`, whatever comes before its `[`.
    _rule(_COLOURED_WORD, _uncoloured, *(f"[{first}" for first in "0123456789mK")),
    # PuTTY's key file: the lines after Private-Lines are the private key.
    _rule(
        rf"(Private-Lines:[ \t]{{0,3}}[0-9]{{1,4}}[ \t]{{0,3}}{_PUTTY_BREAK})"
        rf"{_PUTTY_LINE}(?:{_PUTTY_BREAK}{_PUTTY_LINE}){{0,399}}+",
        "\\1[REDACTED:private-key]",
        "Private-Lines:",
    ),
    # A password hash (htpasswd, /etc/shadow, bcrypt): crackable offline, so not for a ticket.
    _rule(
        r"\$(?:(?:apr1|1|5|6)\$(?:rounds=[0-9]{1,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{20,86}"
        r"|2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}"
        r"|y\$[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{1,86}\$[./A-Za-z0-9]{20,86}"
        r"|argon2(?:id|i|d)\$v=[0-9]{1,3}\$m=[0-9]{1,9},t=[0-9]{1,4},p=[0-9]{1,4}"
        r"\$[A-Za-z0-9+/]{8,128}\$[A-Za-z0-9+/]{16,256})(?![./A-Za-z0-9])",
        "[REDACTED:password-hash]",
        *("$apr1$", "$2a$", "$2b$", "$2x$", "$2y$", "$1$", "$5$", "$6$", "$y$", "$argon2"),
    ),
    # … with its scheme in braces (htpasswd's {SHA}, LDAP's userPassword {SSHA}…), or Django's
    # PBKDF2 (pbkdf2_sha256$<iterations>$<salt>$<hash>).
    _rule(
        r"(?:\{S?(?:SHA(?:256|384|512)?|MD5)\}[A-Za-z0-9+/]{20,256}+={0,2}"
        r"|(?<![A-Za-z0-9])pbkdf2_sha(?:1|256)\$[0-9]{1,9}\$[A-Za-z0-9./+]{1,64}\$"
        r"[A-Za-z0-9+/]{20,128}+={0,2})(?![A-Za-z0-9+/=])",
        "[REDACTED:password-hash]",
        # Not `{`, which JSON text is full of: the needles' search would stop at each one.
        *("SHA", "MD5}", "pbkdf2_sha"),
    ),
    # … and MySQL's native hash (`*` and 40 hex digits) where MySQL shows one
    # (`_MYSQL_HASH_CONTEXT`): each such hash that follows the word, every one within 4 KB
    # of the one before (a table's rows under its header). Each stretch is read once.
    _rule(
        rf"(?:{_MYSQL_HASH_CONTEXT})(?>(?s:.){{0,4096}}?{_MYSQL_HASH}){{1,1024}}+",
        _mysql_hashes,
        "mysql_native_password",
        "authentication_string",
        "mysql.user",
        "mysql_user",
        "password_hash",
        flags=re.IGNORECASE,
    ),
    # … and PostgreSQL's stored password (pg_authid, pgbouncer's userlist, Puppet's and
    # Ansible's `password_hash`): `md5` glued to md5(password || role) in hex, which logs in
    # as the role through the md5 protocol without the password, or a SCRAM verifier.
    _rule(_POSTGRES_HASH, "[REDACTED:password-hash]", "md5", "SCRAM-SHA-"),
    # A Kerberos keytab in base64 (a CI variable, a manifest): its version 0x0502 encodes as
    # `BQI`, then its first entry's length, under 16 MB, as `A`; the bytes are checked
    # (`keytab_replaced`). Its keys log in as the principal. By `QIA`: a `B` starts no needle.
    _rule(
        r"(?<![A-Za-z0-9+/_-](?<!\\[nrt]))BQIA[A-Za-z0-9+/]{12,65536}+={0,2}(?![A-Za-z0-9+/=_-])",
        keytab_replaced,
        "QIA",
    ),
    # An NTP symmetric key file after its name (`/etc/ntp.keys`, `/etc/chrony.keys`): each
    # row's key (`_ntp_keys`), to a blank line or 64 lines on; a key forges the fleet's time.
    _rule(
        r"(?:ntp|chrony)\.keys(?:\r?\n(?![ \t]{0,64}\r?\n)[^\r\n]{0,1024}+){1,64}+",
        _ntp_keys,
        # chrony's by its `hrony`: a `c` starts no needle looked for as written.
        "ntp.keys",
        "hrony.keys",
    ),
    # … and the hashes that crack offline to a password: GRUB's PBKDF2, Kerberos tickets
    # roasted for cracking (hashcat's `$krb5tgs$`, `$krb5asrep$`, `$krb5pa$`), a captured
    # NetNTLM response (Responder's `user::DOMAIN:…`: the response goes, who and where stay),
    # a `password_hash` in base64 (RabbitMQ's exported definitions).
    _rule(
        r"grub\.pbkdf2\.sha(?:1|256|512)\.[0-9]{1,9}\.[0-9A-Fa-f]{16,1024}+\.[0-9A-Fa-f]{32,1024}+"
        r"|\$krb5(?:tgs|asrep|pa)\$[0-9]{1,2}\$[^\s\"'<>]{16,65536}+",
        "[REDACTED:password-hash]",
        "grub.pbkdf2",
        "$krb5",
    ),
    _rule(
        r"((?<![^\s\"'=:,])[^\s:\"'\\]{1,256}+::[^\s:\"'\\]{0,256}+:)"
        r"(?:[0-9A-Fa-f]{16}:[0-9A-Fa-f]{32}:[0-9A-Fa-f]{16,8192}+"
        r"|[0-9A-Fa-f]{48}:[0-9A-Fa-f]{48}:[0-9A-Fa-f]{16})(?![0-9A-Za-z])",
        r"\1[REDACTED:password-hash]",
        "::",
    ),
    _rule(
        r"((?<![\w-])password_hash\\?[\"']?[ \t]{0,3}(?:=>|[:=])[ \t]{0,3}\\?[\"']?)"
        r"[A-Za-z0-9+/]{20,256}+={0,2}(?![A-Za-z0-9+/=])",
        r"\1[REDACTED:password-hash]",
        "password_hash",
    ),
    # Crypto wallets' private keys: a Bitcoin key in WIF, known by its checksum (`_wif_key`);
    # no literal starts it, so it has no needles (the engine jumps between its first
    # characters). And a Solana keypair file's array of 64 bytes, looked for by its `[`.
    _rule(_WIF, _wif_key),
    _rule(_SOLANA_KEYPAIR, "[REDACTED:private-key]", "["),
    # An age identity broken over two lines, both its pieces (`_wrapped_age_key`).
    _rule(_WRAPPED_AGE_KEY, _wrapped_age_key, "AGE-SECRET-KEY-1"),
    # A Bitwarden Secrets Manager access token: its secret and key go, its id stays.
    _rule(_BITWARDEN_ACCESS_TOKEN, r"\g<id>[REDACTED:token]"),
    # An encrypted JWT (JWE, compact form: Cognito's refresh tokens, NextAuth's session
    # cookies): a JSON header, then four base64url parts, the encrypted key (empty under
    # `dir`), the IV, the ciphertext and the tag. Its second part is no JSON, so the JWT rule
    # below misses it; five dotted parts after a JSON header are no other thing's shape.
    _rule(
        rf"(?:eyJ|eyA|ewo)(?<![A-Za-z0-9_-](?<!\\[nrt]).{{3}}){_B64URL}{{8,4096}}+"
        rf"\.{_B64URL}{{0,4096}}+\.{_B64URL}{{8,256}}+\.{_B64URL}{{8,65536}}+\.{_B64URL}{{8,256}}+",
        "[REDACTED:jwt]",
        "eyJ",
        "eyA",
        "ewo",
    ),
    # The header and claims are JSON objects: `{"` encodes as eyJ, `{ "` as eyA, `{\n` as ewo.
    # A line break, raw or escaped (`\n` inside a JSON string), may cut the token anywhere
    # after its first three characters, and a writer may indent the lines after it (a YAML
    # value, a header folded by a logger, `.claims` aligned under the header): the header and
    # the claims end at a dot, so they run on over one; the signature only onto a line that
    # looks like its rest (`_JWT_REST`), so the word on the next line stays.
    _rule(
        # Not inside a longer base64url run (`-eyJ-eyJ…` would be read 4 KB from every start).
        # At most 8, 64 and 64 breaks in the three parts: each start reads a bounded stretch.
        rf"(?:eyJ|eyA|ewo)(?<![A-Za-z0-9_-](?<!\\[nrt]).{{3}})"
        rf"(?:{_B64URL}{{4,4096}}+|{_B64URL}{{0,3}}+(?={_BREAK}))"
        rf"(?:{_JWT_BREAK}{_B64URL}{{1,4096}}+){{0,8}}+"
        rf"{_JWT_BREAK}?\.{_JWT_BREAK}?e{_BREAK}?(?:y{_BREAK}?[JA]|w{_BREAK}?o)"
        rf"(?:{_B64URL}{{4,8192}}+|{_B64URL}{{0,3}}+(?={_BREAK}))"
        rf"(?:{_JWT_BREAK}{_B64URL}{{1,8192}}+){{0,64}}+"
        # The signature may follow a break that a shell continued (`.\` then the line) or
        # a writer indented (the next line's `  .sig` or `  sig`).
        rf"{_JWT_BREAK}?\.(?:{_JWT_BREAK}{_JWT_REST})?{_B64URL}{{0,4096}}+"
        rf"(?:{_JWT_BREAK}{_JWT_REST}{_B64URL}{{1,4096}}+){{0,64}}+",
        "[REDACTED:jwt]",
        "eyJ",
        "eyA",
        "ewo",
    ),
    # … and one whose dots a log or a wrapper spaced out (`h . p . s`, `h. p. s`) or quoted
    # apart (`"h" "." "p"`): the header and the claims are still JSON's base64url, so the
    # parts are read between such dots (a glued one too, beside a spaced one: the rule above
    # took the JWTs glued at both); the signature (none for alg none) is the word after.
    _rule(
        rf"(?:eyJ|eyA|ewo)(?<![A-Za-z0-9_-](?<!\\[nrt]).{{3}}){_B64URL}{{8,4096}}+"
        rf"(?:{_SPACED_DOT}|\.)e(?:yJ|yA|wo){_B64URL}{{8,8192}}+"
        rf"(?:(?:{_SPACED_DOT}|\.){_B64URL}{{16,4096}}+(?![A-Za-z0-9_-]))?",
        "[REDACTED:jwt]",
        "eyJ",
        "eyA",
        "ewo",
    ),
    # … and its claims and signature without the header before them (a logger wrote the
    # header in another field, `{"header": "eyJ…", "payload": "eyJ….sig"}`): the header is
    # public, often the same for every token, so the two parts are the token. A signature is
    # 32 characters or more (HS256's 43); a base64 JSON before a sentence's dot or a short
    # suffix (`.v2`) is no token.
    _rule(
        rf"(?:eyJ|eyA|ewo)(?<![A-Za-z0-9_.-](?<!\\[nrt]).{{3}}){_B64URL}{{8,8192}}+"
        rf"\.{_B64URL}{{32,4096}}+(?![A-Za-z0-9_.-])",
        "[REDACTED:jwt]",
        "eyJ",
        "eyA",
        "ewo",
    ),
    # … and its three parts written as three fields (`_JWT_FIELDS`, `_jwt_fields`).
    _rule(_JWT_FIELDS, _jwt_fields, "eyJ", "eyA", "ewo"),
    # … and one glued after a word (`tokeneyJ…`, `BearereyJ…`), which the rules above do not
    # start inside (a base64url run would be read 4 KB from each `eyJ` in it): its claims and
    # signature go from the dot the claims start at, found by their own needle; the header
    # before it (the algorithm, public) stays.
    _rule(
        rf"\.e(?:yJ|yA|wo)(?<=[A-Za-z0-9_-]{{4}}\.e..){_B64URL}{{8,8192}}+"
        rf"\.{_B64URL}{{16,4096}}+(?![A-Za-z0-9_-])",
        ".[REDACTED:jwt]",
        ".eyJ",
        ".eyA",
        ".ewo",
    ),
    # A Fernet token: version byte 0x80 and a timestamp whose high bytes are zero encode as
    # `gAAAAA`, then the IV, the ciphertext and the HMAC (73 bytes at least, 98 characters: 80
    # after the prefix are asked for). OpenStack's tokens (`openstack token issue -f value -c id` prints one
    # alone), and any other Fernet ciphertext, which holds what someone chose to encrypt.
    # Nothing else starts a word so: a pickle starts `gAS`/`gAR`, a DER blob `MI`.
    _rule(
        rf"{_prefixed('gAAAAA')}{_B64URL}{{80,4096}}+={{0,2}}(?![A-Za-z0-9_=-])",
        "[REDACTED:token]",
        "gAAAAA",
    ),
    # An RTMP URL's stream key, the path's last segment after the application's (`rtmp://a.
    # rtmp.youtube.com/live2/<key>`, Facebook's `rtmps://…/rtmp/FB-…`, Twitch's `app/live_…`):
    # whoever holds it broadcasts as the channel. The host and the application stay; a key
    # holds a digit and 12 characters at least (a word, `live/stream`, is a name).
    _rule(
        r"(rtmp[st]?://[^\s/@]{1,253}+/(?:[^\s/?#\"'<>]{1,64}+/){1,3}+)"
        r"(?=[^\s/?#\"'<>]{0,255}[0-9])[^\s/?#\"'<>\\]{12,256}+",
        r"\1[REDACTED:token]",
        "rtmp",
        flags=re.IGNORECASE,
    ),
    # Webhook URLs: the host and the kind of hook stay, the ids and the secret go.
    _rule(
        r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/-]{10,250}",
        r"\1[REDACTED:slack-webhook]",
        "hooks.slack.com/",
        flags=re.IGNORECASE,
    ),
    # Any token after a webhook's id, however short: a title cut inside the 68-character token
    # keeps its start, and the id beside it is half of the credential.
    _rule(
        r"(discord(?:app)?\.com/api/(?:v[0-9]{1,2}/)?webhooks/)[0-9]{17,20}/[A-Za-z0-9_-]{8,80}",
        r"\1[REDACTED:discord-webhook]",
        "discord",
        flags=re.IGNORECASE,
    ),
    # Zapier's and Tines' webhook URLs, Feishu's and Lark's bot hooks and WeCom's robot key
    # (its query's `key`): the host and the kind of hook stay, the path or key that is the
    # credential (anyone holding it posts as the bot) goes.
    _rule(
        r"((?:hooks\.zapier\.com/hooks/catch|[A-Za-z0-9-]{1,63}\.tines\.com/webhook)/)"
        r"[A-Za-z0-9]{1,64}/[A-Za-z0-9]{4,64}"
        r"|((?:open\.feishu\.cn|open\.larksuite\.com)/open-apis/bot/v2/hook/"
        r"|qyapi\.weixin\.qq\.com/cgi-bin/webhook/send\?(?:[^\s&#\"'<>]{1,256}+&){0,8}+key=)"
        r"[A-Za-z0-9-]{8,64}+",
        lambda match: f"{match[1] or match[2]}[REDACTED:token]",
        "hooks.zapier.com/",
        ".tines.com/",
        "/open-apis/bot/",
        "weixin.qq.com/",
        flags=re.IGNORECASE,
    ),
    # Grafana OnCall's integration URL, on Grafana Cloud or a host of one's own: the
    # integration's kind stays, its token (anyone holding it raises alerts) goes.
    _rule(
        r"(/integrations/v1/[a-z][a-z0-9_]{1,63}+/)[A-Za-z0-9]{20,64}+(?![A-Za-z0-9_-])",
        r"\1[REDACTED:token]",
        "integrations/v1/",
    ),
    # Mattermost's incoming webhook, on any host: `/hooks/` and its id, 26 lower-case letters
    # and digits (Mattermost's id shape; anyone holding the URL may post).
    _rule(
        r"(https?://[^\s/\"'<>]{1,253}+(?:/[^\s/\"'<>?#]{1,64}+){0,4}?/hooks/)[a-z0-9]{26}"
        r"(?![A-Za-z0-9_-])",
        r"\1[REDACTED:token]",
        "hooks/",
    ),
    # The legacy Office 365 connector's URL (a Teams incoming webhook of the older form, on
    # outlook.office.com/webhook/): anyone holding its path posts to the channel, as
    # webhook.office.com's (`web.py`). The host and the kind of hook stay.
    _rule(
        r"(outlook\.office(?:365)?\.com/webhook/)[^\s\"'<>]{20,600}",
        r"\1[REDACTED:token]",
        "outlook.office",
        flags=re.IGNORECASE,
    ),
    # Tokens that announce themselves by a prefix.
    _rule(
        rf"(?:{_prefixed(*_GITHUB_PREFIXES)}[A-Za-z0-9]{{30,255}}"
        rf"|{_prefixed('github_pat_')}[A-Za-z0-9_]{{20,255}}){_END}",
        "[REDACTED:github-token]",
        *_GITHUB_PREFIXES,
        "github_pat_",
    ),
    # … and one glued after a word (`tokenghp_…`, a key pasted onto its name or a JSON key
    # run on into it), which the rule above leaves to keep `xghp_word` a word: taken only at
    # the exact length GitHub issues (36 after a classic prefix; 22, `_` and 59 after
    # `github_pat_`), which no word's tail followed by a run of letters and digits has.
    _rule(
        rf"(?:(?:{'|'.join(_GITHUB_PREFIXES)})(?<=[A-Za-z0-9]....)[A-Za-z0-9]{{36}}"
        rf"|github_pat_(?<=[A-Za-z0-9]...........)[A-Za-z0-9]{{22}}_[A-Za-z0-9]{{59}}){_END}",
        "[REDACTED:github-token]",
        *_GITHUB_PREFIXES,
        "github_pat_",
    ),
    _rule(
        rf"(?:{_prefixed(*_GITLAB_PREFIXES)}{_B64URL}{{20,255}}(?:\.{_B64URL}{{2,64}}){{0,2}}"
        rf"|{_prefixed('GR1348941')}{_B64URL}{{20,64}})",
        "[REDACTED:gitlab-token]",
        *_GITLAB_PREFIXES,
        "GR1348941",
    ),
    # … and the browser session's `d` cookie (xoxd-), base64 that is often percent-encoded.
    _rule(
        rf"(?:{_prefixed(*_SLACK_PREFIXES)}[A-Za-z0-9-]{{10,250}}|{_prefixed('xoxd-')}{_VENDOR_BODY})",
        "[REDACTED:slack-token]",
        "xox",
        "xapp-",
    ),
    _rule(
        rf"(?:{_prefixed(*_STRIPE_PREFIXES)}[A-Za-z0-9]{{20,247}}{_END}"
        rf"|{_prefixed('whsec_')}[A-Za-z0-9+/=]{{24,100}})",
        "[REDACTED:stripe-key]",
        "k_live_",
        "k_test_",
        "whsec_",
    ),
    _rule(rf"{_prefixed('AIza')}{_B64URL}{{35}}{_END}", "[REDACTED:google-api-key]", "AIza"),
    _rule(rf"{_prefixed('ya29.')}{_B64URL}{{20,2048}}", "[REDACTED:google-token]", "ya29."),
    # Google's OAuth refresh tokens: 1//0, then base64url. Looked for by `//0`: a digit needle
    # would stop the search for needles at every digit.
    _rule(
        rf"{_prefixed('1//0')}{_B64URL}{{40,512}}{_END}",
        "[REDACTED:google-token]",
        "//0",
        fold_needles=True,
    ),
    _rule(
        rf"{_prefixed('SG.')}{_B64URL}{{22}}\.{_B64URL}{{43}}{_END}",
        "[REDACTED:sendgrid-key]",
        "SG.",
    ),
    _rule(rf"{_prefixed('npm_')}[A-Za-z0-9]{{36}}{_END}", "[REDACTED:npm-token]", "npm_"),
    _rule(rf"{_prefixed('hf_')}[A-Za-z0-9]{{30,40}}{_END}", "[REDACTED:huggingface-token]", "hf_"),
    _rule(rf"{_prefixed('pypi-AgE')}{_B64URL}{{50,1000}}", "[REDACTED:pypi-token]", "pypi-AgE"),
    _rule(
        rf"{_prefixed(*_SHOPIFY_PREFIXES)}[0-9a-fA-F]{{32}}{_END}",
        "[REDACTED:shopify-token]",
        *_SHOPIFY_PREFIXES,
    ),
    # The bot id may follow `bot` in an API URL (api.telegram.org/bot123…:AA…), so only a
    # digit before it disqualifies. The secret is 35 characters, 34 in Telegram's own example;
    # cut short at a limit, 10 random-looking ones are still its (`cut_tokens`).
    _rule(
        rf"(?<![0-9])[0-9]{{8,10}}:AA(?:{_B64URL}{{32,33}}|{cut_body(8, 'A-Za-z0-9_-')})"
        r"(?![A-Za-z0-9_-])",
        "[REDACTED:telegram-token]",
        ":AA",
    ),
    # In a Bot API URL whatever follows `bot` is the token, of any shape Telegram ever issued.
    _rule(
        r"(api\.telegram\.org/(?:file/)?bot)[0-9]{1,12}:[A-Za-z0-9_-]{16,128}",
        r"\1[REDACTED:telegram-token]",
        "api.telegram.org/",
        flags=re.IGNORECASE,
    ),
    _rule(
        rf"(twilio[A-Za-z0-9_.-]{{0,40}}{_ASSIGN}{_OPEN_QUOTE})(?:SK)?[0-9a-f]{{32}}{_END}",
        r"\1[REDACTED:twilio-key]",
        "twilio",
        flags=re.IGNORECASE,
    ),
    _rule(rf"{_prefixed('sk-')}(?:proj-|ant-)?{_B64URL}{{20,200}}", "[REDACTED:api-key]", "sk-"),
    _rule(
        # After the prefix, a name and a dot may come first (Doppler's dp.st.<config>.…,
        # Dynatrace's dt0c01.<id>.…).
        # One tree of all the prefixes (`_prefixed_each`), each with its body.
        _prefixed_each(
            [(prefix, rf"(?:{_B64URL}{{1,64}}+\.)?{_VENDOR_BODY}") for prefix in _VENDOR_PREFIXES]
            + [
                # Dynatrace: the token's public id, then its secret (a cut keeps the id's `.`).
                (
                    "dt0c01.",
                    rf"[A-Z0-9]{{24}}\.[A-Z0-9]{{1,64}}+|(?:{_B64URL}{{1,64}}+\.)?{_VENDOR_BODY}",
                ),
                ("dapi", r"[0-9a-f]{32}(?:-[0-9]{1,2})?"),
                ("pul-", "[0-9a-f]{40}"),
                # Databricks' OAuth secrets (a service principal's).
                ("dose", "[0-9a-f]{32}"),
                # Mailgun's API keys: base 36, a digit among them.
                ("key-", "(?=[a-z]{0,31}[0-9])[0-9a-z]{32}"),
                # Google OAuth client secrets, Alibaba Cloud and Tencent Cloud access key ids.
                ("GOCSPX-", f"{_B64URL}{{28}}"),
                ("LTAI", "[A-Za-z0-9]{12,20}"),
                ("AKID", "[A-Za-z0-9]{32}"),
            ]
        )
        + _END,
        "[REDACTED:token]",
        *_VENDOR_NEEDLES,
        "dt0c01.",
        "dapi",
        "dose",
        "pul-",
        "key-",
        "GOCSPX-",
        "LTAI",
        "AKID",
    ),
    *(
        _rule(
            _prefixed_each(list(shapes)) + _END,
            "[REDACTED:token]",
            *(prefix.lower() if folded else prefix for prefix, _ in shapes),
            fold_needles=folded,
        )
        for shapes, folded in (
            (_SHAPED, False),
            (_SHAPED_FOLDED, True),
            (_SCANNERS_SHAPED, False),
            (_SCANNERS_SHAPED_FOLDED, True),
        )
    ),
    # Twilio's credential pairs: the account sid (AC + 32 hex, public) or an API key sid (SK +
    # 32 hex) and its secret right after it, joined as Basic auth joins them or as a call's
    # arguments (`Client("AC…", "…")`); first, so the key's sid is read with its secret.
    _rule(
        rf"(?:(?P<account>{_prefixed('AC')}[0-9a-f]{{32}}{_SID_TO_SECRET})[0-9a-f]{{32}}"
        rf"|{_prefixed('SK')}[0-9a-f]{{32}}(?P<key>{_SID_TO_SECRET})[A-Za-z0-9]{{32}}){_END}",
        _twilio_pair,
        "AC",
        "SK",
    ),
    # LaunchDarkly's API access tokens (`api-<uuid>`), not a name's last part (`orders-api-
    # <uuid>`, a resource's name and id); its mobile keys (`mob-`) are public, as its docs say.
    # A rule of its own: `api-` is common in text (hosts, paths) that holds no vendor's token.
    _rule(rf"api-(?<![\w-]api-){_UUID}{_END}", "[REDACTED:token]", "api-"),
    # NATS nkey seeds (user, account, operator, server, cluster, curve): S, the kind's letter,
    # A (the kind's byte's low bits), then 55 of base32 (a .creds file's NKEY SEED block,
    # NATS_NKEY_SEED); the public keys (U…, A…, 56 characters) stay. Gated by the run it is, not
    # by `S` and a capital, which start many words in capitals.
    _rule(
        rf"{_prefixed('S')}[UAONCX]A[A-Z2-7]{{55}}{_END}",
        "[REDACTED:token]",
        gate=holds_run(58),
    ),
    # Twilio's API key sids (SK + 32 hex) and Octopus Deploy's API keys (API- + 26 capitals and
    # digits): rules of their own, which start with the literal the engine jumps to, as `SK`
    # and `API-` are common in text that holds no such key.
    _rule(rf"{_prefixed('SK')}[0-9a-f]{{32}}{_END}", "[REDACTED:token]", "SK"),
    _rule(
        rf"{_prefixed('API-')}(?=[A-Z]{{0,25}}[0-9])[A-Z0-9]{{26}}{_END}",
        "[REDACTED:token]",
        "API-",
    ),
    # Stripe's client secrets (a PaymentIntent's or a SetupIntent's id, then _secret_ and the
    # secret): looked for by `_secret_`, rarer than the ids' prefixes.
    _rule(
        rf"{_prefixed('pi_', 'seti_')}[A-Za-z0-9]{{24}}_secret_[A-Za-z0-9]{{25}}{_END}",
        "[REDACTED:token]",
        "_secret_",
        fold_needles=True,
    ),
    # Mailgun's newer API keys: 32 hex, then two groups of 8 (a UUID's groups are 8-4-4-4-12,
    # a traceparent's 32 and 16). Looked for in text that names Mailgun (its API's host, its
    # SDK, a variable): a pattern with no literal to jump to would cost every text ~2%.
    _rule(
        r"[0-9a-f](?<![A-Za-z0-9](?<!\\[nrt]).)[0-9a-f]{31}-[0-9a-f]{8}-[0-9a-f]{8}(?![A-Za-z0-9-])",
        "[REDACTED:token]",
        "mailgun",
        fold_needles=True,
    ),
    # Tokens known by their end: Mailchimp's API keys (32 hex, -us and the number of a data
    # centre), MaxMind's license keys (…_mmk).
    _rule(
        r"(?<![A-Za-z0-9](?<!\\[nrt]))"
        r"(?:[0-9a-f]{32}-us[0-9]{1,2}|[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)(?![A-Za-z0-9])",
        "[REDACTED:token]",
        "-us",
        "mmk",
    ),
    # Terraform Cloud (HCP Terraform) tokens: 14 characters, .atlasv1., then the secret.
    _rule(
        rf"(?<![A-Za-z0-9](?<!\\[nrt]))(?:[A-Za-z0-9]{{14}}\.)?atlasv1\.{_B64URL}{{20,400}}{_END}",
        "[REDACTED:token]",
        "atlasv1.",
    ),
    # Vault's tokens before 1.10: s. (service) or b. (batch) + 24 letters and digits, mixing
    # upper case, lower case and digits (a dotted name rarely does, and never after s. alone).
    # A rule for each prefix: a pattern that starts with a literal is searched for fast.
    *(
        _rule(
            rf"{kind}\.(?<![A-Za-z0-9](?<!\\[nrt]).{{2}})(?=[A-Za-z0-9]{{0,23}}[A-Z])"
            rf"(?=[A-Za-z0-9]{{0,23}}[a-z])(?=[A-Za-z0-9]{{0,23}}[0-9])[A-Za-z0-9]{{24}}{_END}",
            "[REDACTED:token]",
            f"{kind}.",
        )
        for kind in "sb"
    ),
    # Azure AD (Entra ID) client secrets: 40 characters, the fourth a digit and then `Q~`. A dot
    # after them that no secret's character follows ends a sentence; one before them may join
    # it to a name (`tag.4Yg3Q~…`, `env.…`): the shape is distinct enough to be taken there.
    _rule(
        r"(?<![A-Za-z0-9_~-](?<!\\[nrt]))[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{34}"
        r"(?![A-Za-z0-9_~-]|\.[A-Za-z0-9_~.-])"
        # Azure DevOps' personal access tokens of the 84-character format: 52 random
        # characters, the signature `JQQJ9` and three more, 16, `AZDO` and 4 more. Looked for
        # by the signature (from its `Q`), which no word holds.
        r"|(?<![A-Za-z0-9])[A-Za-z0-9]{52}JQQJ9[9DH][A-Za-z0-9][A-L][A-Za-z0-9]{16}AZDO"
        r"[A-Za-z0-9]{4}(?![A-Za-z0-9])",
        "[REDACTED:token]",
        "Q~",
        "QQJ9",
    ),
    # Tokens whose prefix is a digit, each looked for by a literal that is no digit: a digit
    # needle would stop the search for needles at every digit of every text.
    # ClickHouse Cloud's API key secrets: 4b1d, then 38 letters and digits, an upper-case
    # letter among them (a hex digest starting 4b1d has none). Looked for by `b1d`.
    _rule(
        rf"{_prefixed('4b1d')}(?=[a-z0-9]{{0,37}}[A-Z])[A-Za-z0-9]{{38}}{_END}",
        "[REDACTED:token]",
        "b1d",
    ),
    # Asana's personal access tokens: `2/<user id>/<token id>:<32 hex>` (`1/<user id>:<32 hex>`
    # before): the ids, public, stay. Looked for by `:` and the secret's first character, as
    # a digit starts no needle.
    _rule(
        r"([12](?<![A-Za-z0-9/.-](?<!\\[nrt]).)/[0-9]{10,19}+(?:/[0-9]{10,19}+)?:)"
        rf"[0-9a-f]{{32}}{_END}",
        r"\1[REDACTED:token]",
        *(f":{first}" for first in "0123456789abcdef"),
    ),
    # Facebook's app access tokens, `<app id>|<app secret>`: 15 or 16 digits, `|`, then the
    # secret, 32 hex characters or 27 to 40 mixing upper case, lower case and digits (a log's
    # `1733366047123456|checkout_latency_p99` has no capital). The rule starts at the `|`,
    # which the engine jumps to, and reads the app id before it; the app id, public, stays.
    _rule(
        r"\|(?:(?<=(?<![A-Za-z0-9_.|-])[0-9]{15}\|)|(?<=(?<![A-Za-z0-9_.|-])[0-9]{16}\|))"
        r"(?:[0-9a-f]{32}|(?=[a-z0-9_-]{0,39}[A-Z])(?=[A-Z0-9_-]{0,39}[a-z])"
        r"(?=[A-Za-z_-]{0,39}[0-9])[A-Za-z0-9_-]{27,40})(?![A-Za-z0-9_-])",
        "|[REDACTED:token]",
        "|",
    ),
    # Last: a value by a name that only its shape makes secret, once the shapes of known
    # tokens have named theirs (a JWT under `jwt=` is a `[REDACTED:jwt]`).
    *SHAPED_RULES,
    # … and a value by its name on the line after a line continuation (`--hmac-key=\`).
    *CONTINUED_RULES,
    # … and a secret split into literals joined by `+` or `||`.
    *CONCATENATED_RULES,
    # … and the tokens cut short of their vendor's length with no "…" after them, once a whole
    # token, and one wrapped over lines or split into literals, has had its own placeholder.
    *CUT_TOKEN_RULES,
)
