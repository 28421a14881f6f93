"""Redaction: secrets and personal data out of text before it reaches an LLM prompt or a ticket.

Each match becomes a typed placeholder, so a reader still sees that something was there:

    [REDACTED:private-key]        PEM (and PGP) private key blocks, also one cut off before its END
                                  or left without its BEGIN line (the base64 body alone); a
                                  PuTTY key file's private lines (raw, escaped in a JSON string
                                  or a repr, indented in a YAML block); also under four dashes
                                  or RFC 4716's `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`, a
                                  label with a dot (X9.42 DH), its rows joined by spaces (an
                                  unquoted echo); OpenVPN static and tls-crypt-v2 keys, PKCS12
                                  blocks; a JWK's private members (in an object with kty),
                                  <RSAKeyValue>'s private elements, minisign/signify secret keys
    [REDACTED:jwt]                JSON Web Tokens (eyJ….eyJ….…), also with their dots spaced out
                                  or quoted apart (h . p . s, h. p. s, "h" "." "p" "." "s");
                                  also encrypted (JWE: five parts, the key part empty under dir)
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
    [REDACTED:twilio-key]         after a name containing `twilio`: an SK… key sid or a 32-hex secret;
                                  a secret right after its AC…/SK… sid (`AC…:<token>`, `Client("AC…", "…")`)
    [REDACTED:api-key]            OpenAI/Anthropic-style sk-… keys
    [REDACTED:token]              other vendors' tokens that announce themselves by a prefix:
                                  Grafana glsa_/glc_, Sentry sntrys_/sntryu_, Vault hvs./hvb.,
                                  DigitalOcean dop_v1_/doo_v1_/dor_v1_, New Relic NRAK-, Atlassian
                                  ATATT3, Linear lin_api_, Postman PMAK-, Doppler dp.pt./dp.st./
                                  dp.ct./dp.sa., Square sq0atp-/sq0csp-, RubyGems rubygems_, age
                                  AGE-SECRET-KEY-1 (also broken over two lines), Bitwarden
                                  Secrets Manager's 0.<uuid>.<secret>:<key> (its uuid kept),
                                  Docker Hub dckr_pat_/dckr_oat_, 1Password
                                  ops_eyJ, Fly.io fm1a_/fm2_/fo1_, Brevo xkeysib-/xsmtpsib-,
                                  Tailscale tskey-, Supabase sbp_/sb_secret_, PlanetScale
                                  pscale_tkn_/pscale_pw_/pscale_oauth_, Groq gsk_, Dynatrace
                                  dt0c01., Netlify nfp_, Figma figd_, CircleCI CCIPAT_,
                                  Buildkite bkua_, Contentful CFPAT-, Heroku HRKU-, Bitbucket
                                  ATBB/ATCTT3, CircleCI CCIPRJ_, Clojars CLOJARS_, Duffel
                                  duffel_live_/_test_, Frame.io fio-u-, Honeycomb hcaik_,
                                  LangSmith lsv2_pt_/lsv2_sk_, New Relic NRII-, Pinecone pcsk_,
                                  Scalingo tk-us-, Shippo shippo_live_/_test_, Yandex AQVN (a
                                  name and a dot may follow the prefix: Doppler's
                                  dp.st.<config>.…), the token's + / = percent-encoded too;
                                  Terraform Cloud's <14>.atlasv1.…, its first 14 with it;
                                  with the exact body the vendor issues after a short prefix:
                                  Hugging Face api_org_, JFrog AKCp and reference tokens,
                                  Notion ntn_/secret_, Prefect pnu_, ReadMe rdme_, Render rnd_,
                                  Replicate r8_, Infracost ico-, crates.io cio, NuGet oy2,
                                  OpenShift sha256~, xAI xai-, Perplexity pplx-, New Relic
                                  NRJS-, SonarQube squ_/sqp_/sqa_, Yandex t1., Typeform tfp_,
                                  Resend re_, LaunchDarkly sdk-/api-<uuid>, HubSpot pat-na1-/
                                  pat-eu1-<uuid>, Airtable pat<14>.<64 hex>, Harness pat./sat.,
                                  Mapbox sk.eyJ…, Square EAAA… and Facebook EAA…, Firebase
                                  AAAA…:APA91b…, Twitter AAAA…(22 A), Braintree
                                  access_token$production$…,
                                  EasyPost EZAK/EZTK, Flutterwave FLWSECK-, Cloudflare Origin
                                  CA v1.0-…, 1Password secret keys A3-…, ClickUp
                                  pk_<id>_…; and the prefixes the
                                  public scanners know (gitleaks, trufflehog, detect-secrets):
                                  Adobe p8e-, Defined Networking dnkey-, 42 s-s4t2ud-/u-s4t2af-,
                                  SettleMint sm_pat_/sm_aat_/sm_sat_, Octopus API-<26>, Plaid
                                  access-production-<uuid>, Dropbox sl.…, Twilio SK<32 hex>,
                                  Grafana eyJrIjoi…, Elasticsearch enrollment eyJ2ZXIiOi…, Adafruit
                                  aio_, Apify apify_api_, Bitbucket
                                  Data Center BBDC-, Bannerbear bb_pr_/bb_ma_, Cloudflare cfk_,
                                  Endor Labs endr+, Figma figp_, Fleetbase flb_live_, Flexport
                                  shltm_, FullStory na1., NVIDIA nvapi-, New Relic NRBR-/NRIQ-,
                                  Nightfall NF-, Pagar.me ak_live_, PostHog phx_, PubNub
                                  pub-c-/sub-c-, Ramp ramp_id_/ramp_sec_, Razorpay rzp_live_,
                                  Robinhood rh-api-, Rootly rootly_, Salad salad_cloud_,
                                  SonarCloud sqco_, Sourcegraph sgp_/slk_, Stripe's client
                                  secrets pi_…_secret_…, TruffleHog thog-, Ubidots BBFF-,
                                  Voiceflow VF., Fly.io fm1r_, Backblaze B2 K00<n>…, Doppler
                                  dp.scim./dp.audit.; Zapier's and Tines' webhook URL paths;
                                  by their end:
                                  Mailchimp <32 hex>-us<n>, MaxMind …_mmk; Mailgun key- + 32
                                  base-36 (a digit among them), and <32 hex>-<8>-<8> in text
                                  naming Mailgun; Discord bot tokens (<bot id in base64>.<6>.<27-38>);
                                  Vault's tokens before
                                  1.10 (s./b. + 24 mixing cases and digits);
                                  Databricks dapi + 32 hex, Pulumi pul- + 40 hex;
                                  Google OAuth client secrets GOCSPX- + 28, Azure AD client
                                  secrets (40 characters, …8Q~…), Alibaba Cloud LTAI + 12-20,
                                  Tencent Cloud AKID + 32; whose prefix is a digit:
                                  ClickHouse Cloud 4b1d + 38 (a capital among them),
                                  Facebook's app token <15-16 digits>|<secret> (its app id
                                  stays); any of these cut short of its vendor's length with
                                  no "…" (a limit's cut): 8 random-looking characters after
                                  a prefix no word starts, 12-16 after one a name may start
                                  (`cut_tokens`);
                                  key ids that pair with a secret: Google Cloud Storage HMAC
                                  GOOG1… and DigitalOcean Spaces DO00… (a digit among them);
                                  Okta's token after SSWS outside an Authorization header;
                                  a vendor's prefix and 8 token characters at a hex dump's end;
                                  Teams webhook and PagerDuty integration URL paths, a token
                                  in a path after reset-password/, invite/, magic-link/,
                                  unsubscribe/, hooks/, callback/, share/, s/, t/,
                                  download/ and the like (`_path_credential`) or as a
                                  URL's last path segment (`_last_segment_token`), a Sentry
                                  DSN's key (and sentry_key=…), a URL user that is a token
                                  (random-looking, or 20 hex characters or more with letters
                                  and digits: nats://<token>@host, https://<40 hex>@github.com,
                                  also before a password, <token>:x-oauth-basic@); a plain
                                  user (git@, deploy@, build-bot-2024@) stays
                                  A secret written as hex (a run of hex whose bytes are text, a
                                  hex dump's rows: xxd, hexdump -C, tcpdump -X) is replaced by
                                  the placeholder its text gets, a dump row by row (the offset
                                  kept); hex that spells no secret (digests, ids) stays.
    [REDACTED:aws-signature]      values of X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token
                                  (presigned URLs, headers) and a SigV4 header's Signature=<64 hex>
    [REDACTED:url-signature]      the signature of other signed URLs: Signature= in a query or a
                                  fragment (S3's older signing, CloudFront), X-Goog-Signature,
                                  X-Goog-Credential
    [REDACTED:aws-key]            AWS access key ids (AKIA…, ASIA…, …), also glued to a lower-case
                                  word (a label key's kAKIA…, idAKIA…; 16 base32 characters)
    [REDACTED:aws-secret]         AWS secret access keys (40 characters, by context or by shape;
                                  not from a percent-escape's hex digits, nor a piece of a
                                  longer base64url run between its - or _, a JWKS modulus),
                                  session tokens
                                  (IQoJb3JpZ2luX2Vj…, FwoGZXIvYXdzE…), Bedrock API keys (ABSK…)
    [REDACTED:datadog-key]        32/40-hex keys after DD_API_KEY, DD-APPLICATION-KEY:,
                                  datadog_api_key and the like
    [REDACTED:azure-key]          AccountKey= and SharedAccessKey= in Azure connection strings;
                                  the "value" of Azure's listKeys objects (beside "keyName")
    [REDACTED:azure-sas]          SharedAccessSignature=… and the sig= of a SAS URL (query or
                                  fragment; base64url too, a Logic Apps / Teams workflow URL's)
    [REDACTED:bearer]             the credential after `Bearer` / `Basic` (16 characters or more)
    [REDACTED:authorization]      the rest of an `Authorization:` / `Proxy-Authorization:` header
                                  after its scheme word, whatever the scheme (Token, Digest, …;
                                  a scheme is letters, or hyphenated parts such as
                                  AWS4-HMAC-SHA256: a first word with digits inside is the
                                  credential sent raw, and goes); also at the end of a longer
                                  name (X-Forwarded-Authorization, --proxy-authorization=); a
                                  value quoted after the scheme word (Bearer "p\\"w…") to
                                  its closing quote, its quotes kept
    [REDACTED:cookie]             the value of a `Cookie:` / `Set-Cookie:` header (or cookie=…;
                                  also x-upstream-cookie:, --cookie=);
                                  bare session cookies (PHPSESSID=, JSESSIONID=, Rails'
                                  _<app>_session=, _gh_sess=, PLAY_SESSION=, .ASPXAUTH=,
                                  CFTOKEN=, session= and user_session= …); the same cookies as a
                                  JSON member or a dict's item, or a cookie object's value
    [REDACTED:password]           passwords and other secrets, known by where they stand:
                                  - in URLs and DSNs (user:pass@host; Oracle's
                                    jdbc:oracle:thin:user/pass@host); without a scheme
                                    before a host and its port or path (app:pw@db:5432/app),
                                    or after creds/credentials (creds: admin:pw, --creds
                                    admin:pw); a time, a port (10:30@site, host:8080@x),
                                    scp's user@host:path and an image's @sha256: stay;
                                  - a session's id under a bare session name ("session":
                                    "…", user_session: …) by its shape (letters and digits
                                    together; "morning", 3 and sessionName's value stay);
                                  - an expect script's (or pexpect's) answer to a password
                                    prompt: expect "assword:" then send "…\r", or a bare
                                    word before its \r in a one-liner (the \r kept, a
                                    $variable kept);
                                  - SNMP v1/v2c communities: snmpwalk/snmpget … -c X,
                                    community: X (letters and digits), snmp_community=,
                                    rocommunity/rwcommunity X, snmp-server community X;
                                    the published defaults public and private stay;
                                  - in commands: curl -u user:pass (-uuser:pass; a DSN's
                                    host after it stays, -u app:X@db/app), --user, --auth,
                                    httpie's -a user:X, curl -E cert.pem:X, --db-password
                                    …, an option whose last words name a key as below
                                    (--routing-key …, --account-key …; with _ too:
                                    --hmac_key …), mysql -pX, sshpass
                                    -p X, docker (podman, buildah, skopeo, nerdctl, oras,
                                    oc, cf, helm registry, crane auth) login -p X, az login
                                    -p X, mongo -p X, twine/influx/racadm -p X,
                                    redis-cli -a X, cqlsh/rabbitmqadmin -p X,
                                    sqlcmd/bcp/ipmitool/zip/mosquitto_pub -P X, 7z -pX,
                                    osql/isql/tsql -P X, ncftp(put|get) -p X, macOS
                                    security add-generic-password -w X, jq --arg
                                    password X,
                                    ssh-keygen -N X, snmpwalk -A X -X Y, ldappasswd -w/-a/-s
                                    X (glued too, -PX, where the command's parser takes it
                                    so), smbclient -U user%X (or 'user%X'), lftp -u user,X,
                                    keytool -storepass X, openssl -passin pass:X, htpasswd
                                    -b file user X, rabbitmqctl add_user user X, mc alias set
                                    a url key X, poetry config http-basic.r user X,
                                    wpa_passphrase ssid X, rclone config create … pass X,
                                    nmcli's wifi-sec.psk X, DB2's CONNECT TO db USER u USING
                                    X; a container's JSON args ["--password", "…"], and a
                                    command's argument list as a literal (a traceback's
                                    ['redis-cli', '-a', '…'], ["mysql", "-p…"]) read as its
                                    command line; X quoted
                                    too, in either quotes, escaped inside a JSON string
                                    (\\"…\\"), the value ending where the JSON string that
                                    holds the line ends; a command where a word starts (a
                                    line's start, after a log line's prefix, a YAML list's
                                    `- `, sudo, `--`, a pipeline step, a quote, `ExecStart=`,
                                    /usr/bin/, Windows' "C:\\…\\mysql.exe"), not inside a name
                                    (a port mapping after -p stays: docker run --name mongo
                                    -p 27017:27017);
                                    a double-quoted X holding an
                                    escaped quote ("p4ss\\"w0rd", \\"p4ss\\\\\\"w0rd\\" inside a
                                    JSON string) whole, also in Redis's AUTH and in pairs;
                                  - a connection string's Password= or Pwd= to its `;`, spaces
                                    and all (ODBC's {…} whole); SQL PASSWORD '…',
                                    PASSWORD('…'), IDENTIFIED [WITH plugin] BY '…' (or
                                    "…"), SET PASSWORD = '…' and
                                    Oracle's unquoted IDENTIFIED BY pw;
                                  - the text of an XML element named like a secret
                                    (<password>, <apiToken>, <DD_API_KEY>); a .netrc line's
                                    password (machine h login u password X); the value of an
                                    XML element whose key= or name= is a secret's, in any
                                    order (<add key="Password" value="…"/>, <add value="…"
                                    key="Password"/>; HTML's <meta name="csrf-token"
                                    content="…">); a Kubernetes env entry's value (name:
                                    DB_PASSWORD, then value: …, under any secret's name:
                                    SIGNING_KEY, GITHUB_PAT, SENTRY_DSN; also inside a JSON
                                    string, after an escaped `\\n`); a name/value object's as JSON
                                    text ({"name": "DB_PASSWORD", "value": "…"}, ECS's env,
                                    CloudFormation's ParameterKey/ParameterValue, Beanstalk's
                                    OptionName/Value after its Namespace, header/value,
                                    field/value, JSON Patch's path/value, Sentry's tags; raw
                                    or inside a JSON string);
                                    a [name, value] pair's as text ([["X-Api-Key", "…"]],
                                    raw or inside a JSON string; Python's [('Cookie', '…')],
                                    PHP's define( 'DB_PASSWORD', '…' ));
                                    Dockerfile's ENV DD_API_KEY <value>;
                                  - a .pgpass line's password (host:port:db:user:pw, to the
                                    line's end; raw or inside a JSON string; after the file's
                                    path too: ~/.pgpass: db:5432:…), a .netrc
                                    password in quotes whole, and its account (ftp's second
                                    password);
                                  - server and config files: an XML element's CDATA under a
                                    secret's name (<password><![CDATA[…]]>), an HTML input
                                    of type=password's value=, a line's CamelCase directive
                                    ending in Password/Passwd/Passphrase
                                    (AuthLDAPBindPassword …, SessionCryptoPassphrase …; an API
                                    call's name and outcome, ChangePassword failed, stays),
                                    Postfix's sasl_passwd line ([relay]:587 user@domain:…,
                                    relay:587 user:…), ipsec.secrets' : PSK/XAUTH/EAP/NTLM/PIN
                                    "…" (unquoted: 0s/0x-encoded or letters with digits),
                                    OpenVPN's inline <auth-user-pass> password line (the user
                                    line stays);
                                  - Vault: operator init's Unseal Key N: / Recovery Key N:
                                    lines, its JSON's unseal_keys_b64/_hex, recovery_keys_*,
                                    keys_base64, a key given to vault operator unseal,
                                    generate-root or rekey, and in the Key/Value table vault
                                    prints, the rows of Vault's secrets (secret_id, token,
                                    client_token, wrapping_token, root_token) and of a
                                    secret's name (a secret_id's accessor and ttl stay);
                                  - the value after a name like password, secret, token, api_key
                                    (DB_PASSWORD=…, PGPASSWORD=…, REDIS_PASS=…, GITHUB_PAT=…,
                                    NGROK_AUTHTOKEN=…, DD_APP_KEY=…, LAUNCHDARKLY_SDK_KEY=…,
                                    AZURE_STORAGE_KEY=…, "client_secret":
                                    "…", x-api-key: …, API key: …, SECRET_KEY_BASE=…), quoted or
                                    not (Python's b'…' whole; a list of strings, ["…"] or
                                    ['…'], or of bare items, [a, b], whole, its brackets
                                    and first quote kept; a quote never closed on its line,
                                    to the line's end, or to the end of the JSON string
                                    holding the line; of a shell's NAME=value cmd, the first
                                    word only; a quoted value holding the other kind of
                                    quote, "it's…" or 'pa"ss…', whole (a repr's escaped one
                                    too, 'it\\'s"…'), and an unquoted one
                                    read on through a quote inside a word, it's-…, pa"ss…,
                                    `…`; the same in commands' options, --password "it's…"
                                    also inside a JSON string, and setters' literals);
                                  - a YAML or .properties line that starts with such a name
                                    (after indentation or a list's `- `, also after an escaped
                                    `\\n` inside a JSON string): its unquoted value, to the
                                    line's end (a YAML `# comment` stays): DB_PASSWORD: a b c,
                                    spring.datasource.password=a b c, docker-compose's
                                    - POSTGRES_PASSWORD=a b c, an ini or .env password = a b c;
                                    a YAML block scalar (password: |, a tag before its
                                    marker kept: !vault |) whole, raw or escaped;
                                  - a string that is wholly NAME=value (docker inspect's Env,
                                    systemd's Environment="…", in single quotes too, each of
                                    several: Environment="A=1" "DB_PASSWORD=…"), to its
                                    closing quote (an escaped \\"NAME=…\\" inside a JSON
                                    string to its escaped one); of PGPASSWORD=X pg_dump -h
                                    …, a command after the value, the first word only, there
                                    and in a YAML list;
                                  - a secret field of a data class's or a map's toString
                                    (Config(password=a b, url=…), {db.password=a b, …}) and of
                                    Go's %+v struct (&{Host:db Password:a b User:app}), to the
                                    next field or the closing bracket (a field named as Go
                                    names one: Password:Zq9 Xk7:pQ2v Host:db goes to Host; a
                                    word alone, one config structs name: Password:correct
                                    Horse:battery Host:db goes to Host);
                                  - PHP's print_r ([password] => …) and var_dump (["password"]=>
                                    then string(n) "…", to its length; n written as the
                                    placeholder's, 19); Symfony's VarDumper as HTML (Laravel's
                                    dd(), Symfony's error page): a sf-dump-key or property span
                                    naming a secret, then its sf-dump-str span's text;
                                  - a value a validator echoes under a secret field's name
                                    (pydantic's input_value=…, Spring Boot's Property:/Value:);
                                  - Terraform's plan: a secret's new value after "old" -> "…";
                                  - Redis: AUTH's password as MONITOR and SLOWLOG print it (also
                                    inside a JSON string, and with escaped quotes inside it),
                                    after redis-cli's prompt, CONFIG SET requirepass or
                                    masterauth, a redis.conf requirepass line, a history line
                                    (or a line's end after a log's prefix) auth <non-word>; of two words
                                    after AUTH the first too unless it is `default` or a user before a
                                    password-like word; HELLO 3 AUTH user pw, MIGRATE's AUTH pw
                                    and AUTH2 user pw, Sentinel's auth-pass; an ACL user's
                                    >pw and <pw (ACL SETUSER, ACL LIST, users.acl);
                                  - a random-looking bare pass=…, _auth=…;
                                  - after a name whose last word is `key` (ALGOLIA_ADMIN_KEY=,
                                    "consumer_key":, jwt.key =), a value that looks like a
                                    key: a random token, a key without digits (a license
                                    key's groups, ABCD-EFGH-IJKL-MNOP; 16 letters or more in
                                    one case holding no word), or 32 hex characters or more (an
                                    id, a path, a slug or a time stays: cache_key=user:42,
                                    object_key=uploads/a.pdf); camel case's Key too (hmacKey,
                                    clientKey: sortKey=createdAt stays), and a JSON payload's
                                    key so named; also after a space (HMAC_KEY <key>,
                                    --hmac-key <key>, a line continuation between), in a
                                    table's column (name,hmacKey); a word under the name of
                                    a key a vendor issues (routing, service, integration,
                                    license, insert, app, SDK, subscription, functions key:
                                    RabbitMQ's orders.created, service_key: payments) stays,
                                    a key's shape or a word with a digit there goes (the name
                                    also as a label: License key: …, Routing Key: …);
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
                                  - the values of JSON keys named like a secret, the value
                                    (of any type) of a [name, value] pair so named (Sentry's
                                    request headers, cookies and tags are lists of such pairs),
                                    of a name/value object so named (name/value, Key/Value,
                                    ParameterKey/ParameterValue, OptionName/Value, Name/Values,
                                    header/value, field/value, path/value), and the argument
                                    after an option so named in a command's argument list (["app",
                                    "--db-password", "…"], ["redis-cli", "-a", "…"]); also
                                    credential, privkey, unseal/recovery/deploy/tls/ssl/client/
                                    enc/aes/(pre-)shared keys, psk, storepass/keypass,
                                    secret_id (an ARN, a path or a name of words stays),
                                    id_rsa/id_ed25519 (a path stays), mnemonic, pass_phrase;
                                    a name saying public (PublicKey, VAPID_PUBLIC_KEY, pubkey)
                                    names no secret; a form's index after a name (password[]=,
                                    api_key[0]=); every value of a kind: Secret's
                                    data/stringData, of secureJsonData and of a Vault KV v2
                                    read's data.data; a list under pass/jwt/session loses each
                                    item of a secret's shape. A name
                                    is secret by its last word, in any case, with any of
                                    `-`, `_`, `.`, `__`, camel case (or in a key, a space)
                                    between words, after any prefix (HTTP_,
                                    http.request.header.) and before an index, a digest or
                                    an encoding (cookie.0, [0], X-Hub-Signature-256,
                                    DB_PASSWORD_B64):
                                    the words above, and cookie, authorization, signature
                                    (X-Slack-Signature, Stripe-Signature), a connection
                                    string (db.connection_string, ConnectionStrings__Default,
                                    ConnectionStrings:Default), csrftoken, session_key,
                                    passcode; auth, credentials and dsn only as the last
                                    word of a longer name (X-Sentry-Auth, basicAuth,
                                    client_credentials, SENTRY_DSN); glued to what it is
                                    for (dbpass, ROOTPWD, userpw, apitoken, identitytoken,
                                    clientsecret; camel case's smtpPass); otp, pin (a value
                                    of a code's shape only: pin: 0-3 stays), recovery and
                                    backup codes, auth_code, security_code, an MFA seed
                                    (totp_seed), a seed phrase, session_id, sessid, a last
                                    part salt (NONCE_SALT), WordPress's NONCE_KEY and
                                    LOGGED_IN_KEY. In code, a type (token: str, password:
                                    Optional[str] = None; a typed literal's value goes), a
                                    comparison (password == ''), another variable or a call
                                    (password=args.password, token = get_token()) and a
                                    condition's line below it (if token:) stay;
                                  - in code, a literal beside a secret's name: a call's
                                    argument after the quoted name or its default= (os.getenv(
                                    "DB_PASSWORD", "…"), ENV.fetch, getOrDefault, config(…,
                                    default="…")), a fallback after reading it (|| "…", ?? "…",
                                    ?: "…", or "…", Ruby's { "…" }, Go's cmp.Or; also as the
                                    value of a secret's name, at a line's start too: pw =
                                    os.environ.get("X") or "…", and a literal joined to
                                    what was read: os.environ["X"] + "…"; a ternary's
                                    literals: x if c else "…", c ? process.env.X : "…"); a
                                    literal before the code that reads it, under any name,
                                    wherever an operand starts (x = "…" or os.environ["X"],
                                    f(a, "…" || process.env.X), ["…" ?? ENV["X"]], { "…" ||
                                    … }, ok && "…" || …, a line's start), in any quotes,
                                    holding another kind ("it's…", 'pa"ss…'); a shell's or
                                    Spring's default (${DB_PASSWORD:-…}, ${db.password:…}); a
                                    call under a secret's name loses its literals
                                    (Field(default="…")). The code around stays; a call that
                                    only reads the secret (os.getenv("TOKEN"), os.environ["X"],
                                    Field(default=None)), ${X:?message} and a name whose last
                                    word is no secret's (os.getenv("PASSWORD_FILE", "/run/…"))
                                    keep their text, as does a setting's name that a reader
                                    reads (cfg.get("db_host") ?? "…" loses only the "…")
                                    (`calls`);
                                  - a secret told in words ("the password is …", "password for
                                    admin is …", ENV DB_PASSWORD …, requirepass …; a token's or
                                    a key's only when random-looking);
                                  - the same names in other languages (passwort, kennwort,
                                    contraseña, clave, mot de passe, mdp, senha, parola,
                                    wachtwoord, hasło, пароль, 密码, パスワード, 비밀번호,
                                    şifre, lösenord, … ; `words`), in every shape above;
                                  - after an arrow or an unusual separator (X-Api-Key -> …,
                                    password → …, R's <- and <<-, a tab, aligned spaces, LDIF's
                                    `:: `), and after a command that sets a name (set password
                                    …, set -gx, setx, launchctl setenv, git config, npm config
                                    set), PowerShell's -Password … and ConvertTo-SecureString;
                                  - every value below a section named like secrets (secrets,
                                    credentials, creds, passwords, tokens, api_keys,
                                    connection_strings; Grafana's secureJsonData and
                                    secureSettings, any case) or below a secret's name holding a
                                    mapping: a flat path (Secrets__Db, Credentials:Db:Value,
                                    secrets.db.value, SECRETS_DB), a YAML block (raw or inside
                                    a JSON string), a JSON, Python, YAML-flow or HCL object, an
                                    INI or TOML table, an XML element, a Kubernetes Secret's
                                    data and stringData (`sections`); what describes the
                                    secrets stays (secrets_count, SECRETS_DIR, tokens.input,
                                    secrets.provider, secretName);
                                  - a table's column whose header names a secret (TSV, CSV,
                                    Markdown, psql, MySQL; raw or inside a JSON string; lines
                                    of NAME<TAB>value are a listing, each read by its name,
                                    not a table under its first line), SQL's
                                    INSERT (…, password) VALUES (…, '…'), a parameter a log
                                    prints after a statement binding it by its place to such
                                    a column (VALUES (%s, ?), SET password = $1, the verb in
                                    capitals or lower case; [parameters: …], params=, a
                                    JSON log's "params"/"args"/"bindings" field), Postgres' Key (api_token)=(…), MySQL's
                                    Duplicate entry '…' for key '…token', a cell beside a
                                    secret's name (| Password | … |, <td>password</td><td>…)
                                    (`tables`); a value an ORM or a driver logs on a line
                                    below the last statement before it, bound by its place
                                    to such a column: Hibernate's binding parameter [2] as
                                    [VARCHAR] - [X] and (2:VARCHAR) <- [X], binding 'X' to
                                    parameter: 2, EclipseLink's bind => [a, X], MyBatis'
                                    Parameters: a(String), X(String), Postgres' parameters:
                                    $1 = 'X', datasource-proxy's Params:[(a,X)] (`binds`; placeholders
                                    counted from a CTE's WITH, skipping those in strings, comments, quoted
                                    names and jsonb operators);
                                  - an Ansible Vault's encrypted lines after its
                                    $ANSIBLE_VAULT;1.1;AES256 header (kept), under any name
                                    or none, raw, indented, escaped in a JSON string;
                                  - a password known by its place: Oracle's user/pw@db,
                                    ldap* -w, plink -pw, psexec -p, Windows' /p: /pass: /RP
                                    and -p: -password: (winrs; a lone * stays), netdom's
                                    /PasswordD:, ksetup's /SetComputerPassword X, net use and
                                    net user, smbclient //server/share X, ansible-vault
                                    encrypt_string X (after its options:
                                    --vault-password-file f X), an ftp script's user
                                    NAME X (a ; inside X is X's) ending
                                    its line (in a session: lftp, ftp given a script or -n,
                                    an open host line; "user alice denied" after "ftp upload
                                    failed" stays) and the protocol's PASS X (after USER, or
                                    after quote),
                                    a value piped (or given as a here-string, <<<) into
                                    --password-stdin, chpasswd, passwd --stdin, sudo -S,
                                    kinit, sshfs -o password_stdin, an option named like a
                                    secret given no value (--token <<< X),
                                    vncpasswd, gpg --passphrase-fd 0, cryptsetup
                                    --key-file=-, gcloud secrets versions add --data-file=-
                                    or docker secret create NAME -, vault login <token>,
                                    cargo login <token>, nuget setapikey <key>, nuget push
                                    <package.nupkg> <key>, rclone obscure X, echo X >
                                    .vault_pass (a file named like a secret), Go's MySQL DSN
                                    user:X@tcp(…) and @unix(…), useradd/usermod -p,
                                    doctl/flyctl/influx -t (Concourse's fly -t <target>
                                    stays), netlify --auth, httpie's token==X and -A bearer
                                    -a X, poetry config pypi-token.<repo> X, what a
                                    command printed after op read of a secret field,
                                    kubectl's secret | base64 -d, heroku/gh/gcloud/fly
                                    tokens, vault -field=password, pass/gopass show, bw get
                                    password, doppler/infisical --plain, chamber read -q,
                                    az keyvault secret show -o tsv, aws ssm
                                    --with-decryption --output text, openssl rand; and
                                    named like a secret terraform output -raw X, heroku
                                    config:get X, consul kv get …/X, etcdctl get …/X (its
                                    key/value lines), and after a shell's prompt printenv X,
                                    echo $X, cat …/X: its first line that is no blank
                                    line, warning or prompt (four at most), or the JSON
                                    object or PEM block that line opens, to its end (an
                                    error or a sentence stays, and ends it), a secret
                                    store's --value/--body/--secret-string, sops --set's
                                    value ('["db"]["password"] "X"'), a multipart form's
                                    field, a stack trace's PDO/mysqli/ldap_bind/ftp_login
                                    arguments, code logging in with a user and a password by
                                    their place (HTTPBasicAuth('u', '…'), auth = ('u', '…'),
                                    smtp.login('u', '…'), new NetworkCredential("u", "…"),
                                    conn.bind_s('cn=…', '…'), ldap3's Connection(srv,
                                    'cn=…', '…'), pika.PlainCredentials, cx_Oracle/
                                    oracledb.connect, MongoCredential.createCredential,
                                    BasicAWSCredentials, authenticate('u', '…'),
                                    SetBasicAuth("u", "…")), a setter's literal (setPassword("…"),
                                    .password("…")) (`positional`).
                                  What stays: a bare PWD=/srv/app (the working directory); a
                                  value that is wholly a reference to the secret, which says
                                  where it comes from (a reference stays, a literal goes): a
                                  template's placeholder (${{ secrets.X }}, {{ .Values.x }},
                                  ${X}, $X, %s, SQL's ?, $1 and :1; but the default of
                                  ${X:-…} goes, and so does a
                                  quoted literal inside a placeholder, {{ pw | default("…")
                                  }}), a lookup's arguments inside a placeholder ({{
                                  lookup('env','DB_PASSWORD') }}, {{ secret "kv/db" }}, Helm's
                                  {{ required "…" … }}, {{ index … "key" }}; its default=…, a
                                  filter's default and an argument with a key's shape go), a
                                  command's output ($(cat /run/secrets/pg), `vault read
                                  …`, ${X:-$(cat f)}, -p"$(aws ssm get-parameter …)", docker
                                  login -p $(aws ecr get-login-password); echo's and printf's
                                  are literals, and go, ${X:-$(echo …)} too), %X%, $env:X,
                                  Serverless' ${ssm:…} and ${file(…):…}, Terraform's
                                  ${aws_secretsmanager_secret_version.db.secret_string},
                                  ${data.x.db.data["password"]}, ${jsondecode(…)["pw"]} and
                                  ${lookup(var.m, "db")} (a third argument, its default, goes),
                                  CloudFormation's !Ref X, a placeholder in angle brackets
                                  (<redacted>, <your-api-token>; no digits: <Zq7xK9pL> goes);
                                  a key's file path under a key's option or name
                                  (--private-key /etc/ssl/key.pem, ssh_private_key:
                                  ~/.ssh/id_ed25519; a path with a random part, a key, goes; a
                                  password option's value goes even shaped like a path) and
                                  the file docker secret create reads (./secret.txt);
                                  a word of prose after a password option, which is talked
                                  about, not given (the zip -P option, sshpass -p is unsafe,
                                  the --password flag, the winrs -password: option, the
                                  -Password option); a word saying the secret's state
                                  (password: rotated, YES, null, expired, hidden, not set,
                                  ****); a plural
                                  name's count (passwords: 3 rotated); Terraform's (sensitive
                                  value); kubectl's <set to the key 'x' in secret 'y'>; an
                                  auth name's login method (ssh_auth: publickey, auth: ldap);
                                  a name whose secret word only qualifies its last word
                                  (token_count, cookie_consent, password_reset_enabled)
    [REDACTED:password-hash]      password hashes ($apr1$, crypt $1$/$5$/$6$/$y$, bcrypt,
                                  argon2; htpasswd's and LDAP's {SHA}/{SSHA}…, Django's
                                  pbkdf2_sha256$…), in full; a Redis ACL user's #<sha256> and
                                  !<sha256>; a secretsdump/pwdump line's NT hash and a real LM hash
    [REDACTED:email]              e-mail addresses (not a URL's user and host,
                                  http://user@host.example.com/, a git remote's git@host:, nor
                                  a login at a host: rsync's user@host::module, scp's
                                  user@host:/path, ssh's ssh -p 22 user@host)
    [REDACTED:card-number]        payment card numbers (15 or 16 digits, grouped or not, with a
                                  card network's prefix and a valid Luhn check digit)
    [REDACTED:credential]         exact values the process holds (`hold`, and a Redactor's
                                  `known_secrets`), also percent-encoded; and those of 16
                                  letters and digits or more spelled out: with separators
                                  between their characters, in capitals, backwards, as hex,
                                  in fullwidth letters, from the first character to the last
                                  (`spelled`)
    [REDACTED:cut]                the random-looking piece of a word glued to a "…", wherever it
                                  sits (a title, description or shown value cut inside a secret
                                  keeps only its start, which no longer has the secret's shape:
                                  `…&sig=LzmEKKlofpuB…`, `fires when it is glpat-4GpYGkRi4z… 90`)

A whitespace-delimited token holding percent-escapes (`%3D`, double-encoded `%253D`) is first
decoded and redacted, before the rules read the text (they would see only the part of a token
after an escape's hex digits); when that finds something, each placeholder replaces what it
stands for where that stood in the encoded token, and every other byte of the token stays as it
was (`next=https%3A%2F%2Fx%2Fcb%3Ftoken%3Dabc%26a%3Db` → `…%3Ftoken%3D[REDACTED:password]%26a%3Db`).
It is decoded as far as it goes (three times at most), else less far when that finds nothing:
decoded too far, a password's own `%2F` becomes a `/` that ends it.

A run of base64 (16 to 8,192 characters, standard or URL-safe) that decodes to printable text
is redacted as that text; when that finds something, or the text is wholly a `user:password`
pair, the whole run becomes the first placeholder found (`[REDACTED:password]` for a pair).
A run that decodes to SASL PLAIN's login (`[identity]\\0user\\0password`, as SMTP's and
IMAP's AUTH PLAIN send it) becomes `[REDACTED:password]` without the command before it.
Base64 wrapped at one width over lines (76 columns, 64; a last line of 2 or 3 characters with
its padding belongs to the run; its line breaks raw or escaped inside a JSON string, `\\n`) is
decoded joined, and line by line when it does not decode joined; so is base64 whose `+`, `/` and `=` are percent-encoded, in its decoded token. Discord
bot tokens are found in this step (their first part is the bot's id in base64). Base64 inside
the decoded text is not decoded again.

JSON text inside a JSON string inside a JSON string (escaped twice: `\\\\\\"`) is read a level
down, up to four levels: each such string is decoded, redacted as text and written back.
Any text whose escapes are escaped again (YAML, an INI file or JSON quoted into a JSON string
once more: `"db:\\\\n  password: …\\\\n  host: x"`, `\\\\t`, `\\\\r\\\\n`, `\\\\"`) is read a level
down too, every pass there (the JSON strings that hold such escapes, or else the whole text):
what it finds is put back where it stood, every other byte as it was, so the lines after a
secret stay.

Text whose names are disguised (HTML character references such as `password&#61;…`, escaped
punctuation such as JSON's `\\u0022`, Go's `\\u0026` or nginx's `\\x22`, escaped letters
beyond ASCII such as `\\u043f`, full-width
or mathematical letters, Cyrillic or Greek look-alikes inside a Latin word, Unicode's dashes)
is redacted again undisguised (a JSON key's name is asked undisguised too); when that finds
something, the undisguised, redacted text replaces it. Before any rule, JSON's escapes that change no meaning are undone (`\\/`, PHP's in every URL; escaped
letters and digits, `\\u0070`; a tab or line break escaped long, `\\u000a`, is written short,
`\\n`); escaped quotes and controls stay, so JSON text stays JSON.

Invisible characters are dropped before any rule, so none glues a secret's halves together
(`AKIA\\u3164IOSF…`) and none leaves the redactor: format characters (zero-width spaces and
joiners, soft hyphens, bidi controls, U+2060-2064, U+180E), private-use and unassigned code
points, and the default-ignorable letters and marks that count as printable (Hangul fillers
U+115F, U+1160, U+3164, U+FFA0; the combining grapheme joiner U+034F; variation selectors
U+FE00-FE0F, U+E0100-E01EF, Mongolian's; tags), raw, escaped in JSON (`\\u3164`) or inside a
base64 run's text.

A token starts where no letter or digit comes before it, or after an escaped line break or
tab inside a JSON string (`"boot\\nghp_…"`, `\\tAKIA…`): the escape's letter is not the
token's.

A credential a text wrapper broke over lines (textwrap, mail, a terminal; the break raw or
escaped inside a JSON string) is read joined: a vendor's token cut inside its body, a secret's
name cut before its `=` or `:`, inside each of its words (`DB_P` / `ASSWORD=…`, `Db_Pas` /
`SWORD=…`) or after a `-` or `.` (`x-Api-` / `KEY: …`), its pieces in any case (a word of
prose in lower case before a name in capitals is two words; before a `:`, where YAML's keys
stand, only a break at a separator or a name in capitals joins), and the rest of its value on
the next line (`wrapped`).

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

The package, module by module: `redactor` (the passes over a text and over a JSON value:
`Redactor`, `redact`), `scrub` (applying the rules, with the pre-filter that skips those that
cannot match), `rules` (their order, and why it matters); the rules by what they know:
`tokens`, `cloud`, `web`, `commands`, `positional`, `reprs`, `keyed_calls`, `markup`, `tables`, `binds`, `sections`,
`pairs`, `redis`, `personal`; what rules are made of: `rule`, `names`, `words` (names in other
languages, sections' words and their metadata); the decoders: `disguises`, `percent`, `base64_runs`; `fragments`
(the piece a cut leaves); `held` (the credentials the process holds) and `spelled` (them spelled
out). A name with a leading underscore is the package's own, shared
between its modules; `__all__` is the API.
"""

from __future__ import annotations

from triage.redact.disguises import dropped
from triage.redact.held import held, hold
from triage.redact.named_values import blanked_by_name
from triage.redact.names import SECRET_KEYS, secret_named
from triage.redact.redactor import DEFAULT, Redactor, redact

__all__ = [
    "DEFAULT",
    "SECRET_KEYS",
    "Redactor",
    "blanked_by_name",
    "dropped",
    "held",
    "hold",
    "redact",
    "secret_named",
]
