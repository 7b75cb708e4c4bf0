"""`crm load-postcodes`, `crm load-representatives` and `crm boundaries`: the campaign lookup data."""
from __future__ import annotations

from pathlib import Path

import click

from ..cli import crm_cli
from ..extensions import db
from . import loaders


def _progress(report: loaders.PostcodeLoadReport) -> None:
    click.echo(f"  … {report.rows_read:,} rows read, {report.loaded:,} postcodes loaded", err=True)


@crm_cli.command("load-postcodes")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--generation", "generation", metavar="CODE",
              help="Boundary generation code, e.g. 2024 (default: the current one's, else 'default'). "
                   "Loading a code again replaces it.")
@click.option("--label", help='A name for the boundaries, e.g. "2024 constituencies".')
@click.option("--make-current/--keep-current", default=True, show_default=True,
              help="Whether lookups switch to these boundaries when the load finishes.")
@click.option("--batch-size", default=loaders.BATCH_SIZE, show_default=True, type=click.IntRange(min=100),
              help="Rows written per transaction.")
@click.option("--show-bad", default=loaders.MAX_BAD_REPORTED, show_default=True, type=click.IntRange(min=0),
              help="How many bad rows to list with their line numbers.")
def load_postcodes_command(file: Path, generation, label, make_current, batch_size, show_bad):
    """Load the ONS postcode directory (NSPL or ONSPD CSV: pcds, doterm, pcon) into a boundary generation."""
    try:
        report = loaders.load_postcodes(file, generation=generation, label=label, make_current=make_current,
                                        batch_size=batch_size, max_bad_reported=show_bad, progress=_progress)
    except loaders.LoadError as exc:
        raise click.ClickException(f"Nothing was loaded: {exc}") from None
    for line in report.summary_lines():
        click.echo(line)


@crm_cli.command("load-representatives")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--generation", "generation", metavar="CODE", help="Boundary generation code (default: the current one).")
@click.option("--show-bad", default=loaders.MAX_BAD_REPORTED, show_default=True, type=click.IntRange(min=0),
              help="How many bad rows to list with their line numbers.")
def load_representatives_command(file: Path, generation, show_bad):
    """Replace the MPs of a boundary generation from a CSV (constituency code, name, party, email)."""
    try:
        report = loaders.load_representatives(file, generation=generation, max_bad_reported=show_bad)
    except loaders.LoadError as exc:
        raise click.ClickException(f"Nothing was changed: {exc}") from None
    for line in report.summary_lines():
        click.echo(line)


@crm_cli.command("boundaries")
@click.option("--make-current", "make_current", metavar="CODE",
              help="Switch lookups to the loaded boundaries with this code (e.g. on election day).")
def boundaries_command(make_current):
    """List the loaded boundary generations, or switch which one lookups use."""
    if make_current:
        try:
            gen = loaders.set_current_generation(make_current)
        except loaders.LoadError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"Lookups now use boundaries {gen.code!r} ({gen.label}).")
        return
    rows = loaders.generations()
    if not rows:
        click.echo("No boundaries loaded yet: run `flask --app crm crm load-postcodes FILE`.")
        return
    for gen in rows:
        mark = "*" if gen.is_current else " "
        click.echo(f"{mark} {gen.code:<12} {gen.label:<32} {gen.postcodes:>10,} postcodes  "
                   f"{gen.constituencies:>4} constituencies  loaded {gen.loaded_at:%Y-%m-%d %H:%M} UTC "
                   f"from {gen.source_filename or '?'}")
    click.echo("* = used by lookups")
