"""Migrations keep data: upgrading a database with members in it loses none of their rows."""
import os
import subprocess
import sys

from sqlalchemy import create_engine, text


def _flask(env, *args):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "crm", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_upgrading_a_sqlite_database_keeps_every_child_row(tmp_path):
    # Always on SQLite (its own file), whichever engine the suite runs on: SQLite rebuilds tables.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["INSTANCE_PATH"] = str(tmp_path)
    assert _flask(env, "db", "upgrade", "9227cb84176d").returncode == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'branchline.db'}")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO service_group (id, name, created_at, updated_at) VALUES (1, 'Health', '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO branch (id, code, name, service_group_id, created_at, updated_at) VALUES (1, 'LIVH', 'L', 1, '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO contact (id, first_name, last_name, branch_id, status, created_at, updated_at) VALUES (1, 'A', 'B', 1, 'member', '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO consent (contact_id, channel, status, source, recorded_at) VALUES (1, 'sms', 'granted', 'x', '2026-01-01')"))
        conn.execute(text("INSERT INTO activist_role (contact_id, role, branch_id, started_on, created_at, updated_at) VALUES (1, 'steward', 1, '2026-01-01', '2026-01-01', '2026-01-01')"))
    engine.dispose()
    result = _flask(env, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM consent")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM activist_role")).scalar() == 1
    engine.dispose()
