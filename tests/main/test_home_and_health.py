import os
import subprocess
import sys

from crm.auth.roles import Role
from crm.queue import get_queue, get_redis


def test_home_shows_what_a_branch_officer_can_do(client, make, db, login_as):
    branch = make.branch(name="Alder Hey Health")
    make.contact(branch)
    make.contact(make.branch())
    login_as(make.user(Role.BRANCH_OFFICER, branches=[branch]))
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Find a contact" in page and "Alder Hey Health" in page
    assert "Open admin" not in page
    assert '<span class="stat">1</span>' in page  # one member in their branch, not two


def test_home_for_a_caller_hides_member_search(client, make, db, login_as):
    login_as(make.user(Role.CALLER, branches=[make.branch()]))
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Find a contact" not in page and "Contacts</a>" not in page


def test_home_for_an_admin_offers_admin(client, make, db, login_as):
    login_as(make.user(Role.ADMIN))
    db.session.commit()
    assert "Open admin" in client.get("/").get_data(as_text=True)


def test_home_offers_each_role_its_own_work(client, make, db, login_as):
    offers = {"Open campaigns", "Open messages", "Open replies", "Open reports", "Open data protection",
              "Import members", "Start calling"}
    expected = {
        Role.CAMPAIGN_LEAD: {"Open campaigns", "Open messages", "Open reports"},
        Role.BRANCH_OFFICER: {"Open replies", "Open reports", "Import members", "Start calling"},
        Role.CALLER: {"Start calling"},
    }
    branch = make.branch()
    users = {role: make.user(role, branches=[branch]) for role in expected}
    db.session.commit()
    for role, wanted in expected.items():
        login_as(users[role])
        page = client.get("/").get_data(as_text=True)
        assert {offer for offer in offers if offer in page} == wanted, role


def test_healthz_reports_database_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["database"]["ok"] is True and body["queue"]["ok"] is True


def test_healthz_says_503_when_redis_is_unreachable(client, app, monkeypatch):
    from crm.queue import redis_connection

    monkeypatch.setitem(app.extensions, "branchline_redis", redis_connection("redis://127.0.0.1:1/0"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["queue"]["ok"] is False


def test_worker_command_runs_queued_jobs(app, client):
    get_queue().enqueue("jobs.system.record_heartbeat")
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               INSTANCE_PATH=app.instance_path)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "crm", "crm", "worker", "--burst"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert get_queue().count == 0
    assert get_redis().get("branchline:worker:heartbeat")
    assert client.get("/healthz").get_json()["queue"]["last_job_at"]


def test_create_user_command_reads_the_password_from_stdin(runner, make, db):
    make.branch(code="LIVH")
    db.session.commit()
    result = runner.invoke(args=["crm", "create-user", "new.caller@example.org", "--role", "caller", "--branch", "livh"],
                           input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    assert "Created caller new.caller@example.org for LIVH" in result.output
    from crm.auth.service import find_user_by_email

    user = find_user_by_email("new.caller@example.org")
    assert [b.code for b in user.branches] == ["LIVH"]


def test_create_user_command_explains_an_unknown_branch(runner):
    result = runner.invoke(args=["crm", "create-user", "x@example.org", "--role", "caller", "--branch", "NOPE"],
                           input="a long enough passphrase\n")
    assert result.exit_code != 0 and "No branch with code 'NOPE'" in result.output


def test_create_user_command_refuses_a_weak_password(runner):
    result = runner.invoke(args=["crm", "create-user", "x@example.org", "--role", "admin"], input="short\n")
    assert result.exit_code != 0 and "at least 10 characters" in result.output
