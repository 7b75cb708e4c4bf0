"""Branchline: a campaign and member-contact CRM for a trade-union region."""
from __future__ import annotations

import gc
import logging
import os
import secrets
import time
from pathlib import Path

from flask import Flask, render_template, request
from werkzeug.middleware.proxy_fix import ProxyFix

import config as default_config

from .extensions import csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def _database_url(url: str, instance_path: str) -> str:
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "branchline.db")
    # Heroku-style URLs and plain postgresql:// both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _limits_storage(redis_url: str) -> str:
    # Sign-in counters live in Redis so every web process shares them; the limits package
    # spells a unix socket "redis+unix://".
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


def _secret_key(instance_path: str) -> str:
    # Kept in the instance folder so sessions survive restarts without a configured key.
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI and error pages."""
    overrides = dict(overrides or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or default_config.INSTANCE_PATH
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(default_config)
    app.config.update(overrides)

    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(
        app.config.get("SQLALCHEMY_DATABASE_URI") or app.config["DATABASE_URL"], app.instance_path
    )
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    app.config["SESSION_COOKIE_NAME"] = "branchline_session"
    app.config.setdefault("MAX_CONTENT_LENGTH", 512 * 1024 * 1024)  # a million-row export is ~150 MB
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or _limits_storage(
        app.config["REDIS_URL"]
    )
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "branchline-limits")

    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"],
                                x_proto=app.config["PROXY_COUNT"], x_host=app.config["PROXY_COUNT"])

    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from . import models  # noqa: F401  (registers every table)
    from .auth.models import User

    @login_manager.user_loader
    def load_user(session_id: str):
        user_id, _, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or user.session_version != int(version) or not user.is_enabled:
            return None
        return user

    from .admin import bp as admin_bp
    from .calls import bp as calls_bp
    from .campaigns import act_bp
    from .campaigns import bp as campaigns_bp
    from .auth import bp as auth_bp
    from .contacts import bp as contacts_bp
    from .imports import bp as imports_bp
    from .main import bp as main_bp
    from .messaging import bp as messaging_bp
    from .messaging import public_bp as unsubscribe_bp
    from .messaging import webhooks_bp
    from .audit import bp as audit_bp
    from .privacy import bp as privacy_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(contacts_bp, url_prefix="/contacts")
    app.register_blueprint(calls_bp, url_prefix="/calls")
    app.register_blueprint(imports_bp, url_prefix="/imports")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(messaging_bp, url_prefix="/messages")
    app.register_blueprint(webhooks_bp, url_prefix="/webhooks")
    app.register_blueprint(unsubscribe_bp, url_prefix="/unsubscribe")
    app.register_blueprint(campaigns_bp, url_prefix="/campaigns")
    app.register_blueprint(act_bp, url_prefix="/act")
    app.register_blueprint(audit_bp, url_prefix="/admin/audit")
    app.register_blueprint(privacy_bp, url_prefix="/admin/privacy")
    from .reports import bp as reports_bp

    app.register_blueprint(reports_bp, url_prefix="/reports")
    from .api import bp as api_bp
    from .api import tokens_bp as api_tokens_bp

    csrf.exempt(api_bp)  # bearer tokens only: a browser's cookies never authenticate an API call
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(api_tokens_bp, url_prefix="/api/tokens")

    from .auth import gate

    gate.init_app(app)  # idle timeout, second factor and training, before every signed-in request
    from . import scoping

    scoping.init_app(app)  # writes the audit entries for probed ids once the request is over

    from .cli import crm_cli

    from .imports import cli as _imports_cli  # noqa: F401  (adds `crm import-members`)
    from .campaigns import cli as _campaigns_cli  # noqa: F401  (adds `crm load-postcodes` and friends)

    app.cli.add_command(crm_cli)

    from . import templating

    templating.init_app(app)
    _register_error_pages(app)
    _security_headers(app)
    # Everything loaded so far (modules, templates' code, the app) lives as long as the process: leave it
    # out of the garbage collector's full sweeps, which otherwise add 80-100 ms to a report page now and then.
    gc.freeze()
    return app


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(e):
        return render_template("errors/404.html"), 404

    @app.errorhandler(429)
    def too_many(e):
        current = limiter.current_limit
        wait = max(1, round((current.reset_at - time.time()) / 60)) if current else 5
        if request.endpoint == "auth.mfa":
            from .auth.forms import CodeForm

            form = CodeForm(formdata=None)
            form.form_errors.append(f"Too many codes tried. Try again in {wait} minute{'s' if wait != 1 else ''}.")
            return render_template("auth/mfa.html", form=form), 429
        if request.blueprint == "auth":
            from .auth.forms import LoginForm

            form = LoginForm()
            form.form_errors.append(
                f"Too many sign-in attempts. Try again in {wait} minute{'s' if wait != 1 else ''}."
            )
            return render_template("auth/login.html", form=form, locked=True), 429
        return render_template("errors/429.html", wait=wait), 429

    @app.errorhandler(413)
    def too_large(e):
        return render_template("errors/413.html"), 413

    @app.errorhandler(500)
    def server_error(e):
        db.session.rollback()
        return render_template("errors/500.html"), 500

    @app.errorhandler(400)
    def bad_request(e):
        return render_template("errors/400.html", reason=getattr(e, "description", None)), 400


def _security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint and request.endpoint != "static":
            # Pages hold member data: never cached by browsers or proxies.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
