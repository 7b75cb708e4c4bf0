"""`flask --app crm crm …`: the operators' commands. Each calls the same services as the UI."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from .auth.roles import Role

crm_cli = AppGroup("crm", help="Branchline commands: demo data, users, workers, the all-in-one server.")


@crm_cli.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--branch", "branch_codes", multiple=True, help="Branch code this user covers (repeatable).")
@click.option("--name", default="", help="Display name (defaults to the email).")
def create_user_command(email, role, branch_codes, name):
    """Create a user; the password is read from stdin or prompted for."""
    from sqlalchemy import select

    from .auth import service
    from .auth.roles import Role
    from .extensions import db
    from .region.models import Branch

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    branches = []
    for code in branch_codes:
        branch = db.session.execute(select(Branch).where(Branch.code == code.upper())).scalar_one_or_none()
        if branch is None:
            raise click.ClickException(f"No branch with code {code!r}. Create it in Admin → Branches first.")
        branches.append(branch)
    try:
        user = service.create_user(email, name or email, Role(role), password, branches)
    except service.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}" + (f" for {', '.join(b.code for b in branches)}" if branches else ""))


@crm_cli.command("demo")
@click.option("--members", default=20000, show_default=True, type=click.IntRange(min=0),
              help="How many contacts to create (members, lapsed members and supporters).")
@click.option("--seed", default=1, show_default=True, type=int, help="The same seed gives the same region.")
def demo_command(members, seed):
    """Fill an empty database with a synthetic North West region and demo sign-ins."""
    import time

    from sqlalchemy import func, inspect, select

    from .demo.service import DemoRegionError, build_demo_region, demo_logins
    from .extensions import db
    from .region.models import Branch

    if not inspect(db.engine).has_table(Branch.__tablename__):
        raise click.ClickException("The database has no tables yet. Run `flask --app crm db upgrade` first.")
    branches = db.session.execute(select(func.count(Branch.id))).scalar_one()
    if branches:
        raise click.ClickException(
            f"The database already has {branches} branch{'es' if branches != 1 else ''}, so no demo region "
            "was added. `crm demo` only fills an empty database: point DATABASE_URL at a new one "
            "(or remove instance/branchline.db), run `flask --app crm db upgrade`, then try again."
        )
    click.echo(f"Creating a demo region with {members:,} contacts (seed {seed})…")
    started = time.perf_counter()
    try:
        summary = build_demo_region(members=members, seed=seed)
    except DemoRegionError as exc:
        raise click.ClickException(str(exc)) from exc
    from .auth.demo import DEMO_TOTP_SECRET, prepare_demo_accounts

    prepare_demo_accounts()
    db.session.commit()
    click.echo(f"Demo region ready in {time.perf_counter() - started:.1f} s: {summary}")
    click.echo("Demo sign-ins:")
    for role, email, password in demo_logins():
        click.echo(f"  {role:<15} {email:<40} {password}")
    click.echo(f"Demo admins and organisers also enter a code: two-step key {DEMO_TOTP_SECRET} "
               "(or `flask --app crm crm demo-code` prints the current code).")


@crm_cli.command("worker")
@click.option("--burst", is_flag=True, help="Process what is queued, then exit.")
@click.option("--queue", "queues", multiple=True, default=["default"], show_default=True)
def worker_command(burst, queues):
    """Run an RQ worker inside the app context (JSON serializer, with the scheduler)."""
    from .worker import run_worker

    run_worker(current_app._get_current_object(), list(queues), burst=burst)


@crm_cli.command("serve")
@click.option("--host", default=None, help="Address to listen on (default HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default PORT or 5000).")
@click.option("--members", default=20000, show_default=True, help="Demo members to create when the database is empty.")
@click.option("--no-demo", is_flag=True, help="Do not seed a demo region into an empty database.")
def serve_command(host, port, members, no_demo):
    """Migrate, seed a demo region if empty, start Redis (embedded unless REDIS_URL), a worker and the web app."""
    from .devserver import serve

    serve(current_app._get_current_object(), host=host, port=port, demo_members=None if no_demo else members)


@crm_cli.command("demo-code")
def demo_code_command():
    """Print the current two-step sign-in code of the demo admins and organisers (demo data only)."""
    from .auth.demo import demo_code

    click.echo(demo_code())


audit_cli = AppGroup("audit", help="The audit trail.")
crm_cli.add_command(audit_cli)


@audit_cli.command("verify")
def audit_verify_command():
    """Check the audit trail's hash chain from end to end; exits 1 if anything was changed or removed."""
    from .audit import service as audit

    result = audit.verify_chain()
    if result.ok:
        span = f" (#{result.first_seq} to #{result.last_seq})" if result.checked else ""
        click.echo(f"Audit chain intact: {result.checked:,} entries checked{span}.")
        return
    click.echo(f"AUDIT CHAIN BROKEN: {result.checked:,} entries checked.", err=True)
    for problem in result.problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(1)


@crm_cli.command("retention")
@click.option("--apply", "do_apply", is_flag=True, help="Empty, erase and remove what is due (default: only show it).")
def retention_command(do_apply):
    """Show (dry run) or apply the retention periods set under Admin → Data protection → Retention."""
    from .extensions import db
    from .privacy import retention

    lines = retention.apply() if do_apply else retention.plan()
    db.session.commit()
    click.echo(f"{'Applied' if do_apply else 'Dry run (nothing changed; add --apply)'}:")
    for line in lines:
        period = "kept for ever" if line.kept_for_ever else f"{line.days:,} days"
        done = f", done {line.done:,}" if do_apply else ""
        click.echo(f"  {line.label:<55} {period:>14}  due {line.due:>8,}{done}")
