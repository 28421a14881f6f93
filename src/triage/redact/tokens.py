"""Rules for secrets known by their shape or their prefix: private keys (PEM blocks, their base64
body alone, PuTTY's), password hashes, JSON Web Tokens, webhook URLs, and the tokens vendors
issue with a prefix (GitHub, GitLab, Slack, Stripe, Google, …).

They are the first rules (`rules._RULES`): a specific shape's placeholder says what was there,
and the rules that read a value by its name skip a value that is already a placeholder. The PEM
rules come first of all: a key's base64 body would otherwise be chewed up by the shorter
patterns.
"""

from __future__ import annotations

import re

from triage.redact.rule import _ASSIGN, _B64URL, _BREAK, _END, _OPEN_QUOTE, _prefixed, _Rule, _rule

#: What follows a line break inside a JWT's signature: a line (to a space, a quote, a
#: backslash) that is all base64url and looks random (a digit, `_`, `-`, or a capital letter
#: after a small one), not a word.
_JWT_REST = (
    rf"""(?={_B64URL}{{1,4096}}+(?:[\s"'\\]|$))(?=[A-Za-z]{{0,4096}}?(?:[0-9_-]|[a-z][A-Z]))"""
)
_GITHUB_PREFIXES = "ghp_ gho_ ghu_ ghs_ ghr_".split()  # noqa: SIM905
_GITLAB_PREFIXES = (
    "glpat- gldt- glrt- glptt- glcbt- glsoat- gloas- glft- glimt- glagent- glffct-".split()  # noqa: SIM905
)
_SLACK_PREFIXES = (
    "xoxa- xoxb- xoxo- xoxp- xoxr- xoxs- xoxe- xoxe.xoxb- xoxe.xoxp- xapp-".split()  # noqa: SIM905
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
    "sq0atp-",
    "sq0csp-",
    "rubygems_",
    "AGE-SECRET-KEY-1",
    "dckr_pat_",
    "dckr_oat_",
    "ops_eyJ",
    "fm1a_",
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
    "dt0c01.",
    "nfp_",
    "figd_",
    "CCIPAT_",
    "bkua_",
    "CFPAT-",
    "HRKU-",
    "atlasv1.",
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


TOKEN_RULES: tuple[
    _Rule, ...
] = (  # PEM blocks first: their base64 body would otherwise be chewed up by the shorter patterns.
    _rule(
        r"-----[ \t]?BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?[ \t]?-----"
        r"(?:.{0,20000}?-----[ \t]?END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?[ \t]?-----"
        r"|.{0,20000})",
        "[REDACTED:private-key]",
        "private key",
        flags=re.DOTALL | re.IGNORECASE,
    ),
    # A PEM block base64-encoded (kubeconfig's client-key-data, a Kubernetes secret's data):
    # "-----BEGIN" encodes as LS0tLS1CRUdJTi, whatever follows.
    _rule(
        r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{8,40000}+={0,2}",
        "[REDACTED:private-key]",
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
    # PuTTY's key file: the lines after Private-Lines are the private key.
    _rule(
        r"(Private-Lines:[ \t]{0,3}[0-9]{1,4}[ \t]{0,3}\r?\n)"
        r"(?:[A-Za-z0-9+/=]{1,128}+(?:\r?\n|$)){1,400}+",
        "\\1[REDACTED:private-key]\n",
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
    # The header and claims are JSON objects: `{"` encodes as eyJ, `{ "` as eyA, `{\n` as ewo.
    # A line break, raw or escaped (`\n` inside a JSON string), may cut the token anywhere
    # after its first three characters: the header and the claims end at a dot, so they run on
    # over one; the signature only onto a line that looks like its rest (`_JWT_REST`), so the
    # word on the next line stays.
    _rule(
        # Not inside a longer base64url run (`-eyJ-eyJ…` would be read 4 KB from every start).
        # At most 8, 64 and 64 breaks in the three parts: each start reads a bounded stretch.
        rf"(?:eyJ|eyA|ewo)(?<![A-Za-z0-9_-](?<!\\[nrt]).{{3}})"
        rf"(?:{_B64URL}{{4,4096}}+|{_B64URL}{{0,3}}+(?={_BREAK}))"
        rf"(?:{_BREAK}{_B64URL}{{1,4096}}+){{0,8}}+"
        rf"{_BREAK}?\.{_BREAK}?e{_BREAK}?(?:y{_BREAK}?[JA]|w{_BREAK}?o)"
        rf"(?:{_B64URL}{{4,8192}}+|{_B64URL}{{0,3}}+(?={_BREAK}))"
        rf"(?:{_BREAK}{_B64URL}{{1,8192}}+){{0,64}}+"
        rf"{_BREAK}?\.{_B64URL}{{0,4096}}+(?:{_BREAK}{_JWT_REST}{_B64URL}{{1,4096}}+){{0,64}}+",
        "[REDACTED:jwt]",
        "eyJ",
        "eyA",
        "ewo",
    ),
    # Webhook URLs: the host and the kind of hook stay, the ids and the secret go.
    _rule(
        r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/-]{10,250}",
        r"\1[REDACTED:slack-webhook]",
        "hooks.slack.com/",
        flags=re.IGNORECASE,
    ),
    _rule(
        r"(discord(?:app)?\.com/api/(?:v[0-9]{1,2}/)?webhooks/)[0-9]{17,20}/[A-Za-z0-9_-]{60,80}",
        r"\1[REDACTED:discord-webhook]",
        "discord",
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
    _rule(
        rf"(?:{_prefixed(*_GITLAB_PREFIXES)}{_B64URL}{{20,255}}(?:\.{_B64URL}{{2,64}}){{0,2}}"
        rf"|{_prefixed('GR1348941')}{_B64URL}{{20,64}})",
        "[REDACTED:gitlab-token]",
        *_GITLAB_PREFIXES,
        "GR1348941",
    ),
    _rule(
        rf"{_prefixed(*_SLACK_PREFIXES)}[A-Za-z0-9-]{{10,250}}",
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
    # digit before it disqualifies. The secret is 35 characters, 34 in Telegram's own example.
    _rule(
        rf"(?<![0-9])[0-9]{{8,10}}:AA{_B64URL}{{32,33}}(?![A-Za-z0-9_-])",
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
        rf"(?:{_prefixed(*_VENDOR_PREFIXES)}(?:{_B64URL}{{1,64}}+\.)?[A-Za-z0-9_+/=-]{{20,400}}"
        rf"|{_prefixed('dapi')}[0-9a-f]{{32}}(?:-[0-9]{{1,2}})?|{_prefixed('pul-')}[0-9a-f]{{40}}"
        # Mailgun's API keys.
        rf"|{_prefixed('key-')}[0-9a-f]{{32}}"
        # Google OAuth client secrets, Alibaba Cloud and Tencent Cloud access key ids.
        rf"|{_prefixed('GOCSPX-')}{_B64URL}{{28}}|{_prefixed('LTAI')}[A-Za-z0-9]{{12,20}}"
        rf"|{_prefixed('AKID')}[A-Za-z0-9]{{32}}){_END}",
        "[REDACTED:token]",
        *_VENDOR_NEEDLES,
        "dapi",
        "pul-",
        "key-",
        "GOCSPX-",
        "LTAI",
        "AKID",
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
    # Azure AD (Entra ID) client secrets: 40 characters, the fourth a digit and then `Q~`.
    _rule(
        r"(?<![A-Za-z0-9_~.-](?<!\\[nrt]))[A-Za-z0-9_.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{34}(?![A-Za-z0-9_~.-])",
        "[REDACTED:token]",
        "Q~",
    ),
)
