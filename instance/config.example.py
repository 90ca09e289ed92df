"""Example instance settings: copy to instance/config.py and adjust."""
# ruff: noqa: S105 - placeholders, not secrets

# Required outside debug and testing. The quick start writes a random one.
SECRET_KEY = "change me to a long random string"

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

# Route problem-linked submissions (never 举报) to the problem's section at once.
AUTO_ROUTE_PROBLEM_LINKED = False
