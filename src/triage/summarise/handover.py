"""Handover: a step telling its reader to hand a secret to someone.

Alert text can ask the model to tell the responder "paste your GitHub token into the form at
<link>", "reply to this ticket with the database password" or "post your AWS secret key in
#payments so the bot can rotate it": no command runs, no link need be new (the form may sit
on the alert's own host), and the responder, woken at 3 a.m., does as the ticket says. Such a
clause is replaced by grounding's MARK and counted as `handover`, wherever it points:

    handing   paste, post, send, share, submit, email, DM, message, forward, upload, give,
              provide, hand over, attach, include or read out (or "reply … with", "respond
              with", "tell us") a secret: a token, password, passphrase, secret or access or
              private or SSH key, API key, credentials, MFA, 2FA or one-time code, recovery
              codes, a session cookie, a kubeconfig, an .env file
    entering  enter, type or fill in a secret at or into a link, a form, a page or a site

Rotating, checking, storing or updating a secret hands it to no one ("rotate the API token",
"update the secret in Vault"), nor does sending a request with one ("send a request with the
bearer token"), nor does posting its policy or a note on its expiry ("post the password
policy", "include the token's expiry"): the secret must be what the verb hands, with at most
three words between them, none a preposition. Each pattern is bounded, so checking is linear in the text.
"""

from __future__ import annotations

import re

from triage.summarise.grounding import MARK, Checked
from triage.summarise.literals import Literals
from triage.summarise.word_starts import at_word_starts

#: What a secret is called.
_SECRET = (
    r"(?:tokens?|passwords?|passphrases?|passwd|(?:secret|access|private|ssh|api|signing)"
    r"[\s_-]{1,4}keys?|secrets?|credentials?|creds|(?:mfa|2fa|otp|one[\s-]time|totp|verification)"
    r"[\s_-]{1,4}codes?|otp|recovery[\s_-]{1,4}codes?|session[\s_-]{1,4}cookies?|cookies?"
    r"|kubeconfig|\.env(?:\s{1,4}file)?)"
)
#: Up to three words before the secret ("your", "AWS secret access", "the root"): none a
#: preposition or a conjunction, so "send a request with the token" hands over no token.
_BEFORE = (
    r"(?:(?!(?:with|to|for|from|of|in|on|at|into|and|or|using|via|by|through)\b)"
    r"[\w'.-]{1,32}\s{1,4}){0,3}"
)
#: A verb that hands its object to someone else.
_HANDING = (
    r"(?:paste|post|send|share|submit|e-?mail|dm|message|forward|upload|give|provide"
    r"|hand\s{1,4}over|attach|include|read\s{1,4}out|tell\s{1,4}(?:us|me|them|him|her)"
    r"|(?:reply|respond)(?:\s{1,4}[\w#@.-]{1,32}){0,3}\s{1,4}with)"
)
#: A verb that types its object somewhere.
_ENTERING = r"(?:enter|type|input|fill\s{1,4}in)"
#: Where an entered secret goes that is not the responder's own prompt: a link, a form, a page.
_SOMEWHERE = (
    r"\s{1,4}(?:at|into|in|on)\s{1,4}(?:https?://|(?:the|this|that|our|a)\s{1,4}"
    r"(?:[\w-]{1,32}\s{1,4}){0,2}(?:form|page|site|link|portal|url|web\s{0,4}page|chat|thread"
    r"|ticket|channel|comment)s?\b)"
)
#: What after a secret's name makes the object something else: its owner's "'s" ("the
#: token's expiry") or a noun it names ("the password policy", "the token rotation plan").
_NOT_THE_SECRET = (
    r"(?!['\u2019]s\b|\s{1,4}(?:polic(?:y|ies)|rotation|expiry|expiration|reset|manager"
    r"|strength|requirements?|scope|length|age|change|hash|field|prompt|format|name|id|store"
    r"|vault|error|issue|problem|leak|page|docs|documentation|runbook|ttl|lifetime)\b)"
)
#: A clause handing a secret over, from its verb to the clause's end.
_HANDOVER = re.compile(
    at_word_starts(
        rf"\b(?:{_HANDING}\s{{1,4}}{_BEFORE}{_SECRET}\b{_NOT_THE_SECRET}"
        rf"|{_ENTERING}\s{{1,4}}{_BEFORE}{_SECRET}\b(?:\s{{1,4}}and\s{{1,4}}{_BEFORE}{_SECRET}\b)?"
        rf"(?={_SOMEWHERE}))[^.;\n]{{0,200}}",
        verbose=False,
    ),
    re.IGNORECASE,
)
#: A word every handover holds: text without any is not searched.
_LITERALS = Literals((
    "token", "passw", "passphrase", "passwd", "key", "secret", "credential", "creds", "code",
    "otp", "cookie", "kubeconfig", ".env",
))  # fmt: skip


def check(text: str) -> Checked:
    """`text` with each clause handing a secret over (`_HANDOVER`) replaced by MARK, each
    counted as `handover`."""
    lowered = text.lower()
    if not _LITERALS.any_in(lowered):
        return Checked(text)
    marked, count = _HANDOVER.subn(MARK, text)
    return Checked(marked, ("handover",) * count)
