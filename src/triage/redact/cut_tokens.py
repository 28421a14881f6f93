"""Vendor tokens cut short with no mark of the cut: a normaliser's limit, a log shipper's line
length or a column's width ends the token before its vendor's length, and no "…" says so
(`fragments` reads the cut that has one). The token rules (`tokens`) know a prefix only with the
body the vendor issues after it, so the cut's characters would be shown: a piece of a key is
still a leak. A documented prefix followed by enough token characters to be unmistakable goes,
the minimum judged per prefix: 8 after a prefix no word or identifier starts with (`glptt-`,
`ghp_`, `sha256~`), more after one a name might start with (`xai-`, `sk-`, `secret_`), and only
a run that looks random (a digit among letters of both cases, or among small letters alone in
a hex or base-36 body) so that `ntn_config`, `xai-grok-2`, `ghs_cache_v2` and `pat.matcher`
stay.
"""

from __future__ import annotations

from collections.abc import Iterable

from triage.redact.rule import _END, _prefixed_each, _Rule, _rule


def _has(chars: str, kind: str, count: int = 1) -> str:
    """A look ahead: the run of `[chars]` from here holds `count` characters of `[kind]`; it
    reads the run's own characters only, so it never looks past the run's end."""
    others = chars.replace(kind, "")
    return f"(?=(?:[{others}]{{0,4096}}?[{kind}]){{{count}}})"


def cut_body(least: int, chars: str = "A-Za-z0-9", *, letters_alone: bool = False) -> str:
    """A cut body: a run of `least` or more of `[chars]` that looks random. When the class holds
    both cases: a digit, a capital and a small letter (camelCase names have no digit,
    snake_case names no capital); with `letters_alone`, after a prefix no name starts with,
    also none of digits (base64 drawn so) if 16 at least, 4 capitals and 4 small letters among
    them. Otherwise a digit and a letter."""
    run = f"[{chars}]{{{least},4096}}+"
    if "A-Z" not in chars or "a-z" not in chars:
        letters = "A-Z" if "A-Z" in chars else "a-z"
        return f"{_has(chars, '0-9')}{_has(chars, letters)}{run}"
    digits = _has(chars, "0-9") + _has(chars, "A-Z") + _has(chars, "a-z") + run
    if not letters_alone:
        return digits
    alone = f"{_has(chars, 'A-Z', 4)}{_has(chars, 'a-z', 4)}[{chars}]{{{max(least, 16)},4096}}+"
    return f"(?:{digits}|{alone})"


_B64URL = "A-Za-z0-9_-"
_HEX = "0-9a-f"
#: A UUID's first group and some of the next: what a cut leaves of a UUID-bodied token.
_UUID_HEAD = "[0-9a-fA-F]{8}-[0-9a-fA-F-]{1,27}+"

#: Prefixes a word or an identifier may start with, or that are short, each with the cut body
#: that is a token's beyond doubt after it (its vendor's alphabet, and the least of it).
_CUT_SHAPED: tuple[tuple[str, str], ...] = (
    # Notion: 11 digits, then 35 letters and digits: cut inside the digits, 8 of them.
    ("ntn_", "[0-9]{8,11}+[A-Za-z0-9]{0,4096}+"),
    # xAI and Perplexity: a hyphenated name follows these too (`xai-grok-2`, `pplx-70b-online`),
    # so a run of 16 letters and digits (their tokens are long: with no digit, 16 of both cases).
    ("xai-", cut_body(16, letters_alone=True)),
    ("pplx-", cut_body(16, letters_alone=True)),
    # Harness: the account's id (22), `.`, the token's id (24), `.`, the secret (20). `pat.` and
    # `sat.` start a variable's attribute in code (`pat.search`): 12, and no call's `(` after.
    *(
        (
            prefix,
            rf"{cut_body(12, _B64URL)}(?:\.[A-Za-z0-9]{{1,24}}+(?:\.[A-Za-z0-9]{{1,20}}+)?)?(?!\()",
        )
        for prefix in ("pat.", "sat.")
    ),
    # Airtable: `pat`, the token's id (14), `.`, the secret: only with some of the secret.
    ("pat", r"[A-Za-z0-9]{14}\.[0-9a-f]{4,64}+"),
    # OpenAI (and OpenRouter, Anthropic): `sk-` starts other words (`sk-learn`): 12.
    *((prefix, cut_body(8)) for prefix in ("sk-proj-", "sk-admin-", "sk-svcacct-", "sk-or-v1-")),
    ("sk-ant-", f"(?:api|admin)[0-9]{{2}}-{cut_body(8, _B64URL)}"),
    ("sk-", cut_body(12)),
    ("hf_", cut_body(12, letters_alone=True)),  # Hugging Face
    ("SG.", rf"{cut_body(12, _B64URL)}(?:\.[A-Za-z0-9_-]{{1,43}}+)?"),  # SendGrid
    ("AIza", cut_body(8, _B64URL)),  # Google API keys
    ("ya29.", cut_body(8, _B64URL)),  # Google OAuth access tokens
    ("pypi-AgE", cut_body(8, _B64URL)),
    ("dapi", cut_body(12, _HEX)),  # Databricks
    ("pul-", cut_body(8, _HEX)),  # Pulumi
    ("key-", cut_body(12, _HEX)),  # Mailgun
    ("AKID", cut_body(12)),  # Tencent Cloud
    # Notion's integration tokens before ntn_; not Stripe's `pi_…_secret_…` (its own rule's).
    ("secret_", f"(?<![\\w.-]secret_){cut_body(16)}"),
    ("rnd_", cut_body(12)),  # Render
    ("ico-", cut_body(12)),  # Infracost
    ("oy2", cut_body(12, "a-z0-9")),  # NuGet
    ("re_", "(?=[A-Za-z]{0,7}[0-9])[A-Za-z0-9]{8}_[A-Za-z0-9]{1,24}+"),  # Resend
    ("sdk-", _UUID_HEAD),  # LaunchDarkly SDK keys
    # LaunchDarkly's API access tokens, not a name's last part (`orders-api-<uuid>`).
    ("api-", rf"(?<![\w-]api-){_UUID_HEAD}"),
    ("live_", f"[0-9]{{5,12}}_{cut_body(8)}"),  # Twitch stream keys
    ("A3-", "[A-Z0-9]{6}-[A-Z0-9]{5,11}+(?:-[A-Z0-9]{1,5}+){0,4}"),  # 1Password secret keys
    # Yandex Cloud IAM: `t1.` is an SQL alias's start too.
    ("t1.", rf"{cut_body(16, _B64URL)}(?:={{0,2}}\.[A-Za-z0-9_-]{{0,86}}+)?"),
    ("sk.eyJ", rf"{cut_body(8, _B64URL)}(?:\.[A-Za-z0-9_-]{{0,64}}+)?"),  # Mapbox
    ("AAAA", rf"[A-Za-z0-9_-]{{7}}:APA91b{cut_body(8, _B64URL)}"),  # Firebase Cloud Messaging
    ("A" * 22, cut_body(12, "A-Za-z0-9%=")),  # Twitter (X) app-only bearer tokens
    *(
        (f"access_token${env}$", "[a-z0-9]{8,16}+(?:\\$[0-9a-f]{0,32}+)?")
        for env in ("production", "sandbox")
    ),
    ("NRJS-", cut_body(8, _HEX)),  # New Relic browser keys
    ("sha256~", cut_body(8, _B64URL)),  # OpenShift
    ("AKCp", cut_body(12)),  # JFrog Artifactory
    ("amzn.mws.", _UUID_HEAD),  # Amazon MWS
    *((prefix, _UUID_HEAD) for prefix in ("pat-na1-", "pat-eu1-", "xaat-", "xapt-")),
    ("pnu_", cut_body(12)),  # Prefect
    ("rdme_", cut_body(12, "a-z0-9")),  # ReadMe
    ("r8_", cut_body(12)),  # Replicate
    *((prefix, cut_body(8, _HEX)) for prefix in ("squ_", "sqp_", "sqa_")),  # SonarQube
    ("tfp_", cut_body(12, "A-Za-z0-9_.=-")),  # Typeform
    ("napi_", cut_body(12, "a-z0-9")),  # Neon
    ("tvly-", f"(?:dev-|prod-)?{cut_body(12)}"),  # Tavily
    ("pk_", f"[0-9]{{1,10}}_{cut_body(8, 'A-Z0-9')}"),  # ClickUp: pk_<user id>_…
    ("tgp_v1_", cut_body(8, _B64URL)),  # Together AI
    ("rpa_", cut_body(12, "A-Z0-9")),  # RunPod
    ("signkey-", f"(?:prod|test|branch)-{cut_body(8, _HEX)}"),  # Inngest
    *((prefix, cut_body(12, _B64URL)) for prefix in ("sk_prod_", "sk_dev_")),  # Liveblocks
    *((f"secret-{env}-", cut_body(12, "A-Za-z0-9_=-")) for env in ("live", "test")),  # Stytch
    ("p8e-", cut_body(12)),  # Adobe
    ("apify_api_", cut_body(12)),  # Apify
    ("nvapi-", cut_body(8, _B64URL)),  # NVIDIA
    *((prefix, cut_body(8)) for prefix in ("rzp_live_", "rzp_test_")),  # Razorpay
    *((prefix, cut_body(12)) for prefix in ("ramp_id_", "ramp_sec_")),  # Ramp
    *((prefix, cut_body(12)) for prefix in ("ak_live_", "ak_test_")),  # Pagar.me
    ("rootly_", cut_body(12, _HEX)),  # Rootly
    ("sqco_", cut_body(12)),  # SonarCloud
    ("slk_", cut_body(12, _HEX)),  # Sourcegraph Cody
    ("shltm_", cut_body(12, _B64URL)),  # Flexport
    ("figp_", cut_body(12, "A-Za-z0-9_=-")),  # Figma
    ("flb_live_", cut_body(8)),  # Fleetbase
    ("phx_", cut_body(12, "A-Za-z0-9_")),  # PostHog
    *((prefix, cut_body(8, _HEX)) for prefix in ("thog-key-", "thog-secret-")),  # TruffleHog
)
#: … the same, for those the token rules look for in the folded text (`tokens._SHAPED_FOLDED`):
#: their needles are lowered here too.
_CUT_SHAPED_FOLDED: tuple[tuple[str, str], ...] = (
    ("cmVmdGtuOjAx", cut_body(12)),  # JFrog reference tokens
    ("cio", cut_body(12)),  # crates.io
    ("EAA", f"[A-Z]{cut_body(12, _B64URL)}"),  # Square and Facebook tokens
    *((prefix, cut_body(12)) for prefix in ("EZAK", "EZTK")),  # EasyPost
    *((prefix, cut_body(8, _HEX)) for prefix in ("FLWSECK-", "FLWSECK_TEST-")),  # Flutterwave
    ("v1.0-", rf"{cut_body(12, _HEX)}(?:-[0-9a-f]{{0,146}}+)?"),  # Cloudflare Origin CA keys
    ("vercel_blob_rw_", cut_body(8, "A-Za-z0-9_")),
    *((f"vc{kind}_", cut_body(12)) for kind in "piark"),  # Vercel
    ("jina_", cut_body(12)),  # Jina AI
    ("csk-", cut_body(12, "a-z0-9")),  # Cerebras
)
#: Prefixes no word or identifier starts with, taken with a cut body of 8 besides those the
#: token rules pass on (`cut_token_rules`'s `distinct`).
_DISTINCT = (
    *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "GR1348941"),
    *("sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"),
    *("shpat_", "shpss_", "shpca_", "shppa_", "npm_", "GOCSPX-"),
)


def cut_token_rules(distinct: Iterable[str]) -> tuple[_Rule, ...]:
    """The rules for tokens cut short: after each of the `distinct` prefixes (those the token
    rules take with any body of 20 or more: GitLab's, the vendors' that start no word) and
    `_DISTINCT`'s, 8 random-looking token characters (after a config's name and a dot, as
    Doppler's `dp.st.prd.…`); after the others, their cut bodies (`_CUT_SHAPED`). They run after
    the token rules, so a whole token keeps its own placeholder."""
    joined = "(?:[_-][A-Za-z0-9]{1,4096}+){0,16}+"
    cuts = (
        cut_body(8, "A-Za-z0-9_+/=-", letters_alone=True),
        cut_body(8, "a-z0-9") + joined,
        cut_body(8, "A-Z0-9") + joined,
    )
    body = f"(?:[A-Za-z0-9_-]{{1,64}}+\\.)?(?:{'|'.join(cuts)})"
    shapes = [(prefix, body) for prefix in (*distinct, *_DISTINCT)]
    return (
        _rule(
            _prefixed_each(shapes) + _END,
            "[REDACTED:token]",
            *dict.fromkeys(prefix for prefix, _ in shapes),
        ),
        *(
            _rule(
                _prefixed_each(list(cut)) + _END,
                "[REDACTED:token]",
                *dict.fromkeys(prefix.lower() if folded else prefix for prefix, _ in cut),
                fold_needles=folded,
            )
            for cut, folded in ((_CUT_SHAPED, False), (_CUT_SHAPED_FOLDED, True))
        ),
    )
