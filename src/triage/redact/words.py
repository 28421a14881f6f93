"""Words that name secrets beyond English's `password`, `secret` and `token`: the same names in
other languages (`FOREIGN_WORD`), and the names of *sections* whose every child is a secret
(`SECTION_WORD`: `secrets`, `credentials`, …) with the words that, as a child's name, say
something about the secrets rather than being one (`SECTION_META`: a count, a path, a
provider). Pattern text, for `names` to build its names from; no rule lives here.
"""

from __future__ import annotations

#: "Password", "token", "secret" and "API key" as configuration and forms name them in other
#: languages, as each word's first letter and a pattern of the rest (German, Spanish, French, Portuguese, Italian, Dutch, Polish, Russian, Chinese,
#: Japanese, Korean, Turkish, Swedish, Norwegian, Danish, Finnish, Czech, Hungarian,
#: Croatian, Slovene, Greek, Hebrew, Arabic, Persian, Hindi, Vietnamese, Indonesian, Thai).
#: Letters with a diacritic are also matched bare (`contrasena`, `haslo`, `sifre`), as ASCII
#: configuration writes them.
FOREIGN_GROUPS = (
    # By first letter (lower case), so that a position tries only the words that start with
    # its letter.
    ("p", r"asswort|arola|assord"),
    ("k", r"ennwort|ata[ _]?sandi"),
    (
        "c",
        r"ontrase(?:ñ|n|ni)a|lave(?:[ _.-]?(?:de[ _.-]?)?api)?",
    ),
    ("m", r"ot[ _.-]?de[ _.-]?passe|dp|(?:ậ|a)t[ _]?kh(?:ẩ|a)u"),
    ("s", r"enha|alasana|ifre|e(?:creto|g(?:reto|redo))"),
    ("w", r"achtwoord"),
    ("h", r"as(?:ł|l)o|eslo"),
    ("l", r"(?:ö|o)senord|ozinka"),
    ("a", r"dgangskode|pi[ _.-]?(?:密钥|密鑰)"),
    ("j", r"elsz(?:ó|o)|eton"),
    ("g", r"eslo"),
    # Other scripts.
    ("п", r"ароль"),
    ("т", r"окен"),
    ("с", r"екрет"),  # noqa: RUF001 - Cyrillic es, as Russian writes "secret"
    ("ş", r"ifre"),
    ("密", r"码|碼|钥|鑰"),
    ("秘", r"钥|密鍵"),
    ("口", r"令"),
    ("令", r"牌"),
    ("パ", r"スワード"),
    ("ト", r"ークン"),
    ("비", r"밀번호|밀[ _]?키"),
    ("암", r"호"),
    ("토", r"큰"),
    ("κ", r"ωδικός[ _]?πρόσβασης"),
    ("ס", r"יסמה"),  # noqa: RUF001 - Hebrew samekh, as Hebrew writes "password"
    ("ك", r"لمة[ _]?(?:المرور|السر)"),
    ("ر", r"مز[ _]?عبور"),
    ("प", r"ासवर्ड"),
    ("ร", r"หัสผ่าน"),
)

#: Literals of which every match of `FOREIGN_GROUPS` holds one (lower case), for the rules'
#: search for needles (`passwort`, `passord` and `secreto` hold English's `pass` and `secret`).
FOREIGN_NEEDLES = (
    *("kennwort", "contrase", "clave", "mdp", "senha", "parola"),
    *("wachtwoord", "hasło", "haslo", "пароль", "密码", "密碼", "口令", "パスワード"),
    *("비밀번호", "암호", "şifre", "sifre", "lösenord", "losenord", "passord", "adgangskode"),
    *("salasana", "heslo", "jelszó", "jelszo", "lozinka", "geslo", "κωδικός", "סיסמה"),
    *("كلمة", "رمز", "पासवर्ड", "khẩu", "khau", "sandi", "รหัสผ่าน"),
    *("jeton", "токен", "секрет", "令牌", "密钥", "秘钥", "密鑰", "トークン", "秘密鍵", "토큰"),
    *("비밀", "segreto", "segredo"),
)

#: The ASCII needles of `FOREIGN_NEEDLES`, for `secret_named`'s quick test of a folded key
#: (no `-` or `_` left in it).
FOREIGN_KEY_WORDS = tuple(
    needle for needle in FOREIGN_NEEDLES if needle.isascii() and needle.isalpha()
)

#: A section whose children are all secrets: `secrets:`, `[credentials]`, `Secrets__Db`,
#: `api_keys.maps`. Plural only: a singular `secret` or `credential` names one thing's
#: settings (`secret.name`, git's `credential.helper`), and `keys` alone is a list of names
#: as often (`keys: [team, priority]`).
SECTION_WORD = (
    r"(?:secrets|credentials|creds|passwords|passwds|tokens"
    r"|(?:api|access|private|secret)[_-]?keys|conn(?:ection)?[_-]?strings"
    # Grafana's: a data source's secureJsonData, an alerting contact point's secureSettings.
    r"|secure[_-]?json[_-]?data|secure[_-]?settings)"
)
#: … the needles of those that hold no needle of a secret's name already (`api_keys` holds
#: `api_key`, `tokens` holds `token`).
SECTION_NEEDLES: tuple[str, ...] = ("credentials", "creds", "securejsondata", "secure_json_data")
SECTION_NEEDLES += ("securesettings", "secure_settings", "secure-settings")

#: A child's last word that says something about the secrets, not what one is: how many,
#: where, from what, for whom, for how long (`secrets_count`, `SECRETS_DIR`, `credentials.
#: provider`, `SECRETS_DB_HOST`, an LLM's `tokens.input`): its value stays.
SECTION_META = (
    r"count|counts|total|totals|num|number|size|length|len|min|max|limit|limits|quota|used"
    r"|usage|remaining|left|per|rate|input|output|prompt|completion|cached|reasoning|model"
    r"|budget|dir|directory|path|paths|file|files|filename|folder|mount|location|url|uri"
    r"|endpoint|address|addr|host|hostname|port|server|service|arn|id|ids|name|names|prefix"
    r"|suffix|namespace|type|kind|format|provider|providers|backend|manager|store|source"
    r"|engine|driver|plugin|helper|enabled|disabled|enable|disable|required|ttl|version"
    r"|versions|rotation|rotate|rotated|refresh|interval|expiry|expires|expiration|expired"
    r"|age|timeout|cache|region|zone|role|policy|scope|scopes|ref|refs|list|created|updated"
    r"|time|timestamp|date|status|state|mode|description|label|labels|tag|tags|owner|group"
    r"|issuer|audience|algorithm|alg|header|lifetime|kms|vault|bucket|table|project"
    r"|profile|env|environment|stage|cluster|context|user|username|login|email|account"
)

#: A child's first word that makes the whole path say something about the secrets: `tokens_
#: per_minute`, `SECRETS_MANAGER_SECRET_ID`, `secrets.engine.kv`, `credentials_provider_chain`
#: (a thing's name first, `secrets.service_account_key`, is a secret's name).
SECTION_FIRST_META = (
    r"per|count|counts|total|num|number|size|length|used|usage|remaining|limit|limits|quota"
    r"|rate|manager|provider|providers|backend|engine|store|dir|directory|path|paths|file"
    r"|files|folder|mount|location|enabled|disabled|required|cache|policy|rotation|ttl"
    r"|version|versions|expiry|expiration|refresh|format|type|kind|prefix|list|mode|status"
)
