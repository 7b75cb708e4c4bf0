"""Reports jobs: keep the dashboard's summary tables current."""
from datetime import date

from crm.extensions import db
from crm.reports import summaries


def refresh_summaries() -> int:
    """Recount the summary tables from the days written since the last refresh (a full recount once a day)."""
    state = summaries.refresh()
    db.session.commit()
    return state.last_duration_ms or 0


def refresh_summaries_on_timer() -> int:
    """The periodic refresh: recount, then schedule the next one."""
    try:
        return refresh_summaries()
    finally:
        summaries.schedule_refresh()


def count_period(start: str, end: str) -> None:
    """Count a period someone chose on the dashboard (ISO dates only: nothing about a member)."""
    summaries.count_period(date.fromisoformat(start), date.fromisoformat(end))
    db.session.commit()
