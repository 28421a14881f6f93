"""Redaction: secrets and personal data out of text before it reaches an LLM prompt or a ticket.

Each match becomes a typed placeholder, so a reader still sees that something was there:

    [REDACTED:private-key]        PEM (and PGP) private key blocks, also one cut off before its END
                                  or left without its BEGIN line (the base64 body alone)
    [REDACTED:jwt]                JSON Web Tokens (eyJ….eyJ….…)
    [REDACTED:slack-webhook]      the path of hooks.slack.com/services|workflows|triggers/… URLs
    [REDACTED:discord-webhook]    the id and token of discord.com/api/webhooks/… URLs
    [REDACTED:github-token]       ghp_/gho_/ghu_/ghs_/ghr_ tokens and github_pat_ tokens
    [REDACTED:gitlab-token]       glpat-, gldt-, glrt-, glptt-, glcbt-, glsoat-, gloas-, glft-,
                                  glimt-, glagent-, glffct- tokens; GR1348941… runner registration
    [REDACTED:slack-token]        xoxb-/xoxp-/xoxa-/xoxr-/xoxs-/xoxo-/xoxe-, xoxe.xoxb-/xoxe.xoxp-,
                                  xapp- tokens
    [REDACTED:stripe-key]         sk_live_/sk_test_/rk_live_/rk_test_ keys, whsec_ webhook secrets
    [REDACTED:google-api-key]     AIza… API keys (39 characters)
    [REDACTED:google-token]       ya29.… OAuth access tokens
    [REDACTED:sendgrid-key]       SG.<22>.<43> API keys
    [REDACTED:npm-token]          npm_ + 36 characters
    [REDACTED:huggingface-token]  hf_ + 30-40 characters
    [REDACTED:pypi-token]         pypi-AgE… upload tokens
    [REDACTED:shopify-token]      shpat_/shpss_/shpca_/shppa_ + 32 hex
    [REDACTED:telegram-token]     bot tokens (<bot id>:AA + 32-33 characters; in a Bot API URL,
                                  whatever follows `bot`)
    [REDACTED:twilio-key]         after a name containing `twilio`: an SK… key sid or a 32-hex secret
    [REDACTED:api-key]            OpenAI/Anthropic-style sk-… keys
    [REDACTED:token]              other vendors' tokens that announce themselves by a prefix:
                                  Grafana glsa_/glc_, Sentry sntrys_/sntryu_, Vault hvs./hvb.,
                                  DigitalOcean dop_v1_/doo_v1_/dor_v1_, New Relic NRAK-, Atlassian
                                  ATATT3, Linear lin_api_, Postman PMAK-, Doppler dp.pt./dp.st./
                                  dp.ct./dp.sa., Square sq0atp-/sq0csp-, RubyGems rubygems_, age
                                  AGE-SECRET-KEY-1, Docker Hub dckr_pat_/dckr_oat_, 1Password
                                  ops_eyJ, Fly.io fm1a_/fm2_/fo1_, Brevo xkeysib-/xsmtpsib-,
                                  Tailscale tskey-, Supabase sbp_/sb_secret_, PlanetScale
                                  pscale_tkn_/pscale_pw_/pscale_oauth_, Groq gsk_, Dynatrace
                                  dt0c01., Netlify nfp_, Figma figd_, CircleCI CCIPAT_,
                                  Buildkite bkua_, Contentful CFPAT-, Heroku HRKU-, Terraform
                                  atlasv1. (a name and a dot may follow the prefix: Doppler's
                                  dp.st.<config>.…); Mailgun key- + 32 hex; Discord bot tokens
                                  (<bot id in base64>.<6>.<27-38>); Vault's tokens before
                                  1.10 (s./b. + 24 mixing cases and digits);
                                  Databricks dapi + 32 hex, Pulumi pul- + 40 hex;
                                  Google OAuth client secrets GOCSPX- + 28, Azure AD client
                                  secrets (40 characters, …8Q~…), Alibaba Cloud LTAI + 12-20,
                                  Tencent Cloud AKID + 32;
                                  Teams webhook and PagerDuty integration URL paths, a token
                                  in a path after reset-password/, invite/, magic-link/,
                                  unsubscribe/, hooks/, callback/, share/, s/, t/,
                                  download/ and the like (`_path_credential`) or as a
                                  URL's last path segment (`_last_segment_token`), a Sentry
                                  DSN's key (and sentry_key=…), a random-looking URL user
                                  without a password (nats://<token>@host)
    [REDACTED:aws-signature]      values of X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token
                                  (presigned URLs, headers) and a SigV4 header's Signature=<64 hex>
    [REDACTED:url-signature]      the signature of other signed URLs: Signature= in a query or a
                                  fragment (S3's older signing, CloudFront), X-Goog-Signature,
                                  X-Goog-Credential
    [REDACTED:aws-key]            AWS access key ids (AKIA…, ASIA…, …), also glued to a lower-case
                                  word (a label key's kAKIA…, idAKIA…; 16 base32 characters)
    [REDACTED:aws-secret]         AWS secret access keys (40 characters, by context or by shape)
    [REDACTED:datadog-key]        32/40-hex keys after DD_API_KEY, DD-APPLICATION-KEY:,
                                  datadog_api_key and the like
    [REDACTED:azure-key]          AccountKey= and SharedAccessKey= in Azure connection strings
    [REDACTED:azure-sas]          SharedAccessSignature=… and the sig= of a SAS URL (query or
                                  fragment)
    [REDACTED:bearer]             the credential after `Bearer` / `Basic` (16 characters or more)
    [REDACTED:authorization]      the rest of an `Authorization:` / `Proxy-Authorization:` header
                                  after its scheme word, whatever the scheme (Token, Digest, …)
    [REDACTED:cookie]             the value of a `Cookie:` / `Set-Cookie:` header (or cookie=…);
                                  bare session cookies (PHPSESSID=, JSESSIONID=, session= …)
    [REDACTED:password]           passwords and other secrets, known by where they stand:
                                  - in URLs and DSNs (user:pass@host; Oracle's
                                    jdbc:oracle:thin:user/pass@host);
                                  - in commands: curl -u user:pass (-uuser:pass), --db-password
                                    …, mysql -pX, sshpass -p X, docker login -p X, az login
                                    -p X, mongo -p X, redis-cli -a X, sqlcmd/bcp/ipmitool/zip
                                    -P X, 7z -pX, ssh-keygen -N X, snmpwalk -A X -X Y,
                                    smbclient -U user%X, lftp -u user,X, keytool -storepass X,
                                    openssl -passin pass:X, htpasswd -b file user X,
                                    rabbitmqctl add_user user X, mc alias set a url key X;
                                    a container's JSON args ["--password", "…"];
                                  - a connection string's Password= or Pwd= to its `;`, spaces
                                    and all (ODBC's {…} whole); SQL PASSWORD '…',
                                    PASSWORD('…'), IDENTIFIED [WITH plugin] BY '…' and
                                    Oracle's unquoted IDENTIFIED BY pw;
                                  - XML <password>…; the value of an XML element whose key= or
                                    name= is a secret's, in any order (<add key="Password"
                                    value="…"/>, <add value="…" key="Password"/>; HTML's <meta
                                    name="csrf-token" content="…">); a Kubernetes
                                    env entry's value (name: DB_PASSWORD, then value: …; also
                                    inside a JSON string, after an escaped `\\n`);
                                  - the value after a name like password, secret, token, api_key
                                    (DB_PASSWORD=…, PGPASSWORD=…, REDIS_PASS=…, "client_secret":
                                    "…", x-api-key: …, API key: …, SECRET_KEY_BASE=…), quoted or
                                    not (Python's b'…' whole; a quote never closed on its line,
                                    to the line's end; of a shell's NAME=value cmd, the first
                                    word only);
                                  - a YAML or .properties line that starts with such a name
                                    (after indentation or a list's `- `, also after an escaped
                                    `\\n` inside a JSON string): its unquoted value, to the
                                    line's end (a YAML `# comment` stays): DB_PASSWORD: a b c,
                                    spring.datasource.password=a b c, docker-compose's
                                    - POSTGRES_PASSWORD=a b c, an ini or .env password = a b c;
                                    a YAML block scalar (password: |) whole, raw or escaped;
                                  - a string that is wholly NAME=value (docker inspect's Env,
                                    systemd's Environment="…"), to its closing quote;
                                  - a secret field of a data class's or a map's toString
                                    (Config(password=a b, url=…), {db.password=a b, …}) and of
                                    Go's %+v struct (&{Host:db Password:a b User:app}), to the
                                    next field or the closing bracket;
                                  - PHP's print_r ([password] => …) and var_dump (["password"]=>
                                    then string(n) "…");
                                  - a value a validator echoes under a secret field's name
                                    (pydantic's input_value=…, Spring Boot's Property:/Value:);
                                  - Terraform's plan: a secret's new value after "old" -> "…";
                                  - Redis: AUTH's password as MONITOR and SLOWLOG print it (also
                                    inside a JSON string, and with escaped quotes inside it),
                                    after redis-cli's prompt, CONFIG SET requirepass or
                                    masterauth, a redis.conf requirepass line, a history line
                                    auth <non-word>; an ACL user's >pw and <pw (ACL SETUSER,
                                    ACL LIST, users.acl);
                                  - a random-looking bare pass=…, _auth=…;
                                  - in a URL's query or fragment (after ?, &, # or HTML's &amp;;
                                    and a form body's first parameter, code=…&grant_type=…):
                                    a random-looking value, or 20 hex characters or more, of
                                    key=, auth=, sig=, api_key=, access_key=, code= (an OAuth
                                    authorization code, Azure Functions' key; code=200 stays),
                                    code_verifier=, oauth_signature=, hmac=, jwt=; any pass=
                                    but a number or a state word (&pass=2 stays); the value
                                    of a name that says secret (#access_token=, #id_token=,
                                    ?password=, &amp;client_secret=); each to the end of its
                                    value in a URL, so what wraps a link stays (Slack's
                                    <url|text>, Jira's [text|url], Markdown's `)`, a `, `);
                                  - the values of JSON keys named like a secret, and the second
                                    string of a [name, value] pair so named (Sentry's request
                                    headers, cookies and tags are lists of such pairs);
                                  - a secret told in words ("the password is …", "password for
                                    admin is …", ENV DB_PASSWORD …, requirepass …; a token's or
                                    a key's only when random-looking).
                                  What stays: a bare PWD=/srv/app (the working directory); a
                                  value that is wholly a template's placeholder (${{ secrets.X
                                  }}, {{ .Values.x }}, ${X}, $X, %s; but the default of ${X:-…}
                                  goes, and so does a quoted literal inside a placeholder,
                                  {{ pw | default("…") }}); a word saying the secret's state
                                  (password: rotated, YES, null, expired, hidden, not set,
                                  ****); a plural
                                  name's count (passwords: 3 rotated); Terraform's (sensitive
                                  value); kubectl's <set to the key 'x' in secret 'y'>
    [REDACTED:password-hash]      password hashes ($apr1$, crypt $1$/$5$/$6$/$y$, bcrypt,
                                  argon2), in full; a Redis ACL user's #<sha256> and !<sha256>
    [REDACTED:email]              e-mail addresses (not a URL's user and host,
                                  http://user@host.example.com/, nor a git remote's git@host:)
    [REDACTED:card-number]        payment card numbers (15 or 16 digits, grouped or not, with a
                                  card network's prefix and a valid Luhn check digit)
    [REDACTED:credential]         exact values the process holds (`hold`, and a Redactor's
                                  `known_secrets`), also percent-encoded

A whitespace-delimited token holding percent-escapes (`%3D`, double-encoded `%253D`) is also
decoded and redacted; when that finds something, each placeholder replaces what it stands for
where that stood in the encoded token, and every other byte of the token stays as it was
(`next=https%3A%2F%2Fx%2Fcb%3Ftoken%3Dabc%26a%3Db` → `…%3Ftoken%3D[REDACTED:password]%26a%3Db`).

A run of base64 (16 to 8,192 characters, standard or URL-safe) that decodes to printable text
is redacted as that text; when that finds something, or the text is wholly a `user:password`
pair, the whole run becomes the first placeholder found (`[REDACTED:password]` for a pair).
Base64 wrapped at one width over lines (76 columns, 64; a last line of 2 or 3 characters with
its padding belongs to the run; its line breaks raw or escaped inside a JSON string, `\\n`) is
decoded joined, and line by line when it does not decode joined; so is base64 whose `+`, `/` and `=` are percent-encoded, in its decoded token. Discord
bot tokens are found in this step (their first part is the bot's id in base64). Base64 inside
the decoded text is not decoded again.

Text whose names are disguised (HTML character references such as `password&#61;…`, escaped
punctuation such as JSON's `\\u0022`, Go's `\\u0026` or nginx's `\\x22`, full-width
or mathematical letters, Cyrillic or Greek look-alikes inside a Latin word) is redacted again
undisguised; when that finds something, the undisguised, redacted text replaces it. Before any
rule, JSON's escapes that change no meaning are undone (`\\/`, PHP's in every URL; escaped
letters and digits, `\\u0070`; a tab or line break escaped long, `\\u000a`, is written short,
`\\n`); escaped quotes and controls stay, so JSON text stays JSON.

A token starts where no letter or digit comes before it, or after an escaped line break or
tab inside a JSON string (`"boot\\nghp_…"`, `\\tAKIA…`): the escape's letter is not the
token's.

A value read to a space or a line's end keeps the brackets that wrap it: a closing bracket it
did not open, with only closers and punctuation after it, stays (`(token=abc).` →
`(token=[REDACTED:password]).`); one opened inside the value (`fn(x)`) or followed by more of it
(`ab)cd`) is the value's, so a secret is never cut short.

Every rule's pattern has bounded repetition, so the cost is linear in the text's length and a
hostile alert cannot make the regex engine backtrack for seconds; each token holding an escape
is read once, and decoding never lengthens it. A value that a rule reads once from a start no
other start reads over (a line's start, a tag's `<`, an opening quote) may be up to 65,536
characters long (`_VALUE_MAX`), longer than any secret; other values stop at a few hundred
characters (512 for most), where a longer one keeps its tail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from triage.redact.base64_runs import _BASE64_RUN as _BASE64_RUN
from triage.redact.base64_runs import _DISCORD_TOKEN as _DISCORD_TOKEN
from triage.redact.base64_runs import _NOT_BASE64, _base64_text
from triage.redact.base64_runs import _discord_token as _discord_token
from triage.redact.base64_runs import _redacted_base64 as _redacted_base64
from triage.redact.cloud import CLOUD_RULES
from triage.redact.commands import COMMAND_RULES
from triage.redact.disguises import _json_unescaped as _json_unescaped
from triage.redact.disguises import _layout_free, _visible
from triage.redact.disguises import _unmasked as _unmasked
from triage.redact.held import _forget_held as _forget_held
from triage.redact.held import held as held
from triage.redact.held import hold as hold
from triage.redact.markup import MARKUP_RULES
from triage.redact.names import _VALUE_KEYS, _kept_value, _named_secret
from triage.redact.names import SECRET_KEYS as SECRET_KEYS
from triage.redact.names import secret_named as secret_named
from triage.redact.pairs import CHANGED_VALUE_RULES, PAIR_RULES, TOLD_RULES
from triage.redact.percent import _ESCAPE as _ESCAPE
from triage.redact.percent import _URL_SAFE as _URL_SAFE
from triage.redact.percent import _escaped_tokens
from triage.redact.percent import _percent_decoded as _percent_decoded
from triage.redact.percent import _spliced as _spliced
from triage.redact.percent import _unescape as _unescape
from triage.redact.percent import _unescaped_with_sources as _unescaped_with_sources
from triage.redact.personal import _EMAIL as _EMAIL
from triage.redact.personal import PERSONAL_RULES
from triage.redact.redis import REDIS_RULES
from triage.redact.rule import _Replacement, _Rule
from triage.redact.tokens import TOKEN_RULES
from triage.redact.web import HEADER_RULES, URL_RULES

#: The characters besides A-Z that IGNORECASE matches to an ASCII letter but that str.lower()
#: does not turn into that letter (tests/test_redact.py checks this list against every code
#: point): dotted and dotless I, long s. (The Kelvin sign lowers to "k" already.)
_FOLD_ODD = (("i\u0307", "i"), ("\u0131", "i"), ("\u017f", "s"))


def _fold(text: str) -> str:
    """`text` lowered so that an IGNORECASE match of a lower-case ASCII needle in `text` is a
    plain substring of the result."""
    folded = text.lower()
    if not folded.isascii():
        for odd, letter in _FOLD_ODD:
            folded = folded.replace(odd, letter)
    return folded


#: Applied in this order: the specific shapes first, so that their placeholders say what was
#: there; the pairs by name after them skip a value that is already a placeholder.
_RULES: tuple[_Rule, ...] = (
    *TOKEN_RULES,
    *CLOUD_RULES,
    *HEADER_RULES,
    *COMMAND_RULES,
    *URL_RULES,
    *MARKUP_RULES,
    *PAIR_RULES,
    *REDIS_RULES,
    *CHANGED_VALUE_RULES,
    *TOLD_RULES,
    *PERSONAL_RULES,
)


def _any_needle(*, folded: bool) -> re.Pattern[str]:
    """A search for any needle of the rules that do (or do not) fold case. Grouped by their first
    character (`a(?:pi_key|pikey|…)|b(?:earer|asic)|…`), so the engine tries one group at a
    position instead of every needle; longest first within a group, so that what it finds at a
    position is the longest needle there (the others there are that needle's prefixes)."""
    groups: dict[str, list[str]] = {}
    needles = {n for rule in _RULES if rule.folded == folded for n in rule.needles}
    for needle in sorted(needles, key=lambda n: (n[0], -len(n), n)):
        groups.setdefault(needle[0], []).append(re.escape(needle[1:]))
    return re.compile("|".join(f"{re.escape(c)}(?:{'|'.join(r)})" for c, r in groups.items()))


def _needle_set_bits() -> dict[tuple[tuple[str, ...], bool], int]:
    """One bit for each set of needles that rules look for (rules sharing theirs share its bit)."""
    bits: dict[tuple[tuple[str, ...], bool], int] = {}
    for rule in _RULES:
        if rule.needles:
            bits.setdefault((rule.needles, rule.folded), 1 << len(bits))
    return bits


_NEEDLE_SET_BITS = _needle_set_bits()


def _bits_of_needles(*, folded: bool) -> dict[str, int]:
    """For each needle of the rules that do (or do not) fold case: the bits of the needle sets
    that text holding it holds a needle of, its own and those of the needles inside it."""
    sets = [(bit, needles) for (needles, folds), bit in _NEEDLE_SET_BITS.items() if folds == folded]
    return {
        needle: sum(bit for bit, needles in sets if any(n in needle for n in needles))
        for _, needles in sets
        for needle in needles
    }


#: One search for every needle at once, then each match's bits: the needle sets a text holds,
#: found in one pass over it instead of one `in` test per needle (300-odd of them).
_ANY_NEEDLE = _any_needle(folded=False)
_ANY_FOLDED_NEEDLE = _any_needle(folded=True)
_NEEDLE_BITS = _bits_of_needles(folded=False)
_FOLDED_NEEDLE_BITS = _bits_of_needles(folded=True)
#: A rule as `_scrub` runs it: pattern, replacement, the bit of its needles (0: none), needles,
#: whether they are looked for in the folded text.
_Run = tuple[re.Pattern[str], _Replacement, int, tuple[str, ...], bool]
_RUNS: tuple[_Run, ...] = tuple(
    (pattern, replacement, _NEEDLE_SET_BITS.get((needles, folds), 0), needles, folds)
    for pattern, replacement, needles, folds in _RULES
)
_SHORT = 100
_WITHOUT_NEEDLES = tuple(run for run in _RUNS if not run[2])


def _needle_sets_in(text: str) -> int:
    """The bits of the needle sets of which `text` holds a needle (case folded for the rules
    that ignore case). The search goes on from the position after each match's start, so that
    a needle overlapping the one found is found too."""
    present = 0
    for haystack, search, bits in (
        (text, _ANY_NEEDLE.search, _NEEDLE_BITS),
        (_fold(text), _ANY_FOLDED_NEEDLE.search, _FOLDED_NEEDLE_BITS),
    ):
        match = search(haystack)
        while match is not None:
            present |= bits[match[0]]
            match = search(haystack, match.start() + 1)
    return present


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with `secrets` replaced by exact value, then every rule applied that can match."""
    for secret in secrets:
        text = text.replace(secret, "[REDACTED:credential]")
    present = _needle_sets_in(text)
    if len(text) <= _SHORT and not present:
        return _applied(_WITHOUT_NEEDLES, text)
    for at, pattern, replacement in _runs_for(present):
        text, replaced = pattern.subn(replacement, text)
        if replaced:
            return _applied(_RUNS[at + 1 :], text)
    return text


#: The rules to run for each set of needle bits met so far (alerts repeat a few such sets).
_RUNS_FOR: dict[int, tuple[tuple[int, re.Pattern[str], _Replacement], ...]] = {}


def _runs_for(present: int) -> tuple[tuple[int, re.Pattern[str], _Replacement], ...]:
    """The rules, with their place in `_RUNS`, that text holding the needle sets `present`
    must run: those without needles and those with a needle in it."""
    runs = _RUNS_FOR.get(present)
    if runs is None:
        runs = tuple(
            (at, pattern, replacement)
            for at, (pattern, replacement, bit, _, _) in enumerate(_RUNS)
            if not bit or present & bit
        )
        if len(_RUNS_FOR) >= 4096:
            _RUNS_FOR.clear()
        _RUNS_FOR[present] = runs
    return runs


def _applied(runs: tuple[_Run, ...], text: str) -> str:
    """`text` with `runs` applied, each whose needles it holds. Looked for one rule (or one run
    of rules sharing needles) at a time: a replacement has changed the text, and a text with
    many needles (hostile text repeating one) costs `_needle_sets_in` one call per match, more
    than the few `in` tests left once a rule has already matched."""
    folded: str | None = None  # _fold(text), made when a rule first needs it
    looked_for: tuple[str, ...] = ()  # the needles last looked for in this text …
    found = False  # … and whether one was there
    for pattern, replacement, _, needles, folds in runs:
        if needles:
            if needles is not looked_for:
                if folds:
                    folded = _fold(text) if folded is None else folded
                    haystack = folded
                else:
                    haystack = text
                looked_for = needles
                found = any(needle in haystack for needle in needles)
            if not found:
                continue  # no needle: the pattern cannot match
        text, replaced = pattern.subn(replacement, text)
        if replaced:
            folded = None
            looked_for = ()
    return text


def _scrub_escaped(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each token that holds percent-escapes redacted in its decoded form, when
    decoding revealed something to redact: what was found is replaced where it stood in the
    encoded token, and every other byte of the token stays (`_spliced`)."""
    spans = _escaped_tokens(text)
    tokens = [text[start:end] for start, end in spans]
    # All the tokens decoded and redacted at once first: one call instead of one per token, and
    # it changes whenever a token would (the same characters, between whitespace again).
    decoded = _unescape(" ".join(tokens))
    # Base64 too: its `+` and `/` percent-encoded split it into runs that decode apart.
    if _scrub_base64(_scrub(decoded, secrets), secrets) == decoded:
        return text
    done: dict[str, str] = {}  # a token repeated is redacted once
    pieces: list[str] = []
    last = 0
    for (start, end), token in zip(spans, tokens, strict=True):
        if token not in done:
            done[token] = _redacted_token(token, secrets)
        pieces += (text[last:start], done[token])
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _redacted_token(token: str, secrets: tuple[str, ...]) -> str:
    """A token holding percent-escapes, decoded, redacted and put back: in place
    (`_spliced`), or, when the redacted text does not line up with the decoded one (a rule
    wrote more than a placeholder), re-encoded whole with URL delimiters left as they are."""
    decoded, starts = _unescaped_with_sources(token)
    redacted = _scrub_base64(_scrub(decoded, secrets), secrets)
    if redacted == decoded:
        return token
    spliced = _spliced(token, decoded, starts, redacted)
    if spliced is not None:
        return spliced
    return quote(redacted, safe=_URL_SAFE, errors="surrogateescape")


_ESCAPED_BREAK = re.compile(r"\\[nrt]")


def _scrub_base64(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each base64 run replaced whole by a placeholder when its decoded text holds
    something to redact, or is a `user:password` pair (`_redacted_base64`). The decoded text is
    redacted by the rules (`_scrub`) only: base64 inside base64 is not decoded again."""

    def scrub(decoded: str) -> str:
        return _scrub(decoded, secrets)

    # Most text holds no run that decodes to text: found without the regex engine (which would
    # try every position), by the runs between the bytes base64 has not.
    if len(text) < 16:
        return text
    # An escaped line break or tab inside a JSON string ends a run (`_BASE64_START`): its
    # letter is no part of the run after it.
    probe = _ESCAPED_BREAK.sub("  ", text) if "\\" in text else text
    runs = probe.encode("ascii", "replace").translate(_NOT_BASE64).split()
    if max(map(len, runs), default=0) < 16:
        return text
    for run in runs:
        if 16 <= len(run) <= 8192 and _base64_text(run.decode()) is not None:
            break
    else:
        return text
    if "." in text:
        text = _DISCORD_TOKEN.sub(_discord_token, text)
    return _BASE64_RUN.sub(lambda m: _redacted_base64(m[0], scrub), text)


#: Texts up to this many characters are remembered with their redaction, at most this many of
#: them (then forgotten all at once): about 9 MB at most, for ~40 calls an alert saved.
_MEMO_CHARS = 512
_MEMO_ENTRIES = 8192


class Redactor:
    """Applies the patterns above, plus the exact credentials the process holds.

    `known_secrets` is asked on every call, so a token read from Secrets Manager after startup
    (or rotated) is covered as soon as the process knows it; so are the values passed to `hold`.
    """

    def __init__(self, known_secrets: Callable[[], Iterable[str]] = tuple) -> None:
        self._known_secrets = known_secrets
        #: The last answer of `_secrets`, with what it was made from: (held, known, answer).
        #: One tuple, swapped whole, so threads sharing the redactor need no lock.
        self._last: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())
        #: Short texts already redacted, for the credentials they were redacted with: an
        #: alert's keys, labels and names repeat from alert to alert. Swapped whole (a new dict)
        #: when the credentials change, so a thread never files an answer under the wrong ones.
        self._memo: tuple[tuple[str, ...], dict[str, str]] = ((), {})

    def text(self, text: str) -> str:
        secrets = self._secrets()
        memo_secrets, memo = self._memo
        if memo_secrets is not secrets:
            memo = {}
            self._memo = (secrets, memo)
        if len(text) > _MEMO_CHARS:
            return self._redacted(text, secrets)
        done = memo.get(text)
        if done is None:
            done = self._redacted(text, secrets)
            if len(memo) >= _MEMO_ENTRIES:
                memo.clear()
            memo[text] = done
        return done

    def _redacted(self, text: str, secrets: tuple[str, ...]) -> str:
        # The common case, checked in C: nothing invisible to drop (line breaks and tabs are
        # not printable, but visible: set aside before the test, so multi-line text passes too).
        if not text.isprintable() and not _layout_free(text).isprintable():
            text = _visible(text)
        if "\\" in text:
            text = _json_unescaped(text)
        text = _scrub(text, secrets)
        # A disguised name is redacted in the undisguised text, which then replaces the text;
        # text that hides nothing keeps its entities, full-width forms and scripts.
        unmasked = _unmasked(text)
        if unmasked != text:
            redacted = _scrub(unmasked, secrets)
            if redacted != unmasked:
                text = redacted
        if "%" in text and _ESCAPE.search(text):
            text = _scrub_escaped(text, secrets)
        return _scrub_base64(text, secrets)

    def _secrets(self) -> tuple[str, ...]:
        """The exact values to redact, longest first, so that one containing another goes whole.
        Sorted again only when the held or known credentials changed: an alert's fields make
        dozens of calls in a row with the same ones."""
        holding = held()
        known = tuple(s for s in self._known_secrets() if len(s) >= 6)
        last_holding, last_known, answer = self._last
        if holding is last_holding and known == last_known:
            return answer
        values = {*holding, *known}
        answer = tuple(sorted(values, key=len, reverse=True)) if values else ()
        self._last = (holding, known, answer)
        return answer

    def value(self, value: Any, *, depth: int = 0) -> Any:
        """A JSON value with every string redacted and secret-named keys blanked."""
        if depth > 64:  # normalisers reject deeper JSON; this only guards direct callers
            return "[REDACTED:too-deep]"
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            # A {"name": "DB_PASSWORD", "value": "…"} object (Kubernetes env, Sentry's tags as
            # {"key", "value"}) holds its secret's name in a value, not in a key.
            named = _named_secret(value)
            return {
                # Keys are text too: a payload can use a secret as a key.
                self.text(str(k)): (
                    "[REDACTED:password]"
                    if (
                        (secret_named(str(k)) and not _kept_value(str(k), value[k]))
                        or (
                            named is not None
                            and k in _VALUE_KEYS
                            and not _kept_value(named, value[k])
                        )
                    )
                    and value[k] not in (None, "")
                    else self.value(value[k], depth=depth + 1)
                )
                for k in value
            }
        if isinstance(value, list | tuple):
            if (
                len(value) == 2
                and isinstance(value[0], str)
                and isinstance(value[1], str)
                and value[1]
                and secret_named(value[0])
                and not _kept_value(value[0], value[1])
            ):  # a [name, value] pair: ["Cookie", "…"], ["X-Api-Key", "…"]
                return [self.text(value[0]), "[REDACTED:password]"]
            return [self.value(v, depth=depth + 1) for v in value]
        return value


#: A redactor that knows no process credentials; for text that needs only the patterns.
DEFAULT = Redactor()


def redact(text: str) -> str:
    return DEFAULT.text(text)
