"""Import jobs."""
from crm.extensions import db
from crm.imports import service
from crm.imports.models import ImportRun


def run_import(run_id: int) -> str | None:
    """Apply one queued (or interrupted) import run; a no-op once it has finished."""
    run = db.session.get(ImportRun, run_id)
    if run is None:
        return None
    return service.execute_run(run).summary_line()
