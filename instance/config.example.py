"""Example instance settings: copy to instance/config.py and adjust."""
# ruff: noqa: S105 - placeholders, not secrets

# Required outside debug and testing; the same on every node. Make each key with
#   python3 -c 'import secrets; print(secrets.token_urlsafe(48))'
# SECRET_KEY signs sessions, forms and sections' reply links. To rotate it,
# move the old one into SECRET_KEY_FALLBACKS for a while (docs/deploy.md).
SECRET_KEY = "change me to a long random string"
# SECRET_KEY_FALLBACKS = ["the previous key"]
# Keys the hashes of access codes and reply addresses. Set it, so that
# SECRET_KEY can be rotated alone: changing this one voids every issued code.
CODE_HMAC_KEY = "change me to another long random string"

# Empty means SQLite in instance/; a plain postgresql:// URL works too.
DATABASE_URL = "postgresql://feedback:secret@127.0.0.1:5432/feedback"

# Address citizens and sections use to reach the site (used in e-mail links).
PUBLIC_URL = "https://feedback.example.gov.cn"

MAIL_SERVER = "smtp.example.gov.cn"
MAIL_PORT = 587
MAIL_USE_TLS = True
MAIL_USERNAME = "noreply@example.gov.cn"
MAIL_PASSWORD = "..."
MAIL_DEFAULT_SENDER = ("公众监督平台", "noreply@example.gov.cn")
MAIL_REPLY_DOMAIN = "reply.example.gov.cn"

# The public supervision address; mail to it becomes a new submission.
PUBLIC_MAIL_ADDRESS = "jdjb@example.gov.cn"
# The mailbox `flask mail fetch` reads (if no MTA pipes to `flask mail ingest`).
MAIL_IMAP_HOST = "imap.example.gov.cn"
MAIL_IMAP_USER = "reply@example.gov.cn"
MAIL_IMAP_PASSWORD = "..."

# Route a submission (never 举报) to its suggested section at once.
AUTO_ROUTE = False

# Several processes must share rate-limit counts.
RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"

# nginx in front (deploy/nginx/feedback.conf) is one trusted hop.
PROXY_FIX_X_FOR = 1
# Prometheus sends it as "Authorization: Bearer …" to read /metrics.
METRICS_TOKEN = "change me to a third long random string"
