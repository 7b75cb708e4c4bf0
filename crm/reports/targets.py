"""The work programme's targets for a year, pre-filled from the 2026/27 work programme and editable."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from .models import ReportTargets

# The work programme (seeds/001): +1% growth per branch and service group, 100% of new-joiner and
# DOCAS-leaver calls, +5% stewards / H&S reps / ULRs, +10% activist roles in schools, 5% net growth
# in adult social care.
DEFAULTS = {
    "growth_pct": 1.0,
    "joiner_calls_pct": 100.0,
    "leaver_calls_pct": 100.0,
    "activist_growth_pct": 5.0,
    "schools_activist_growth_pct": 10.0,
    "social_care_growth_pct": 5.0,
    "fragmented_below": 10,
}
FIELDS = tuple(DEFAULTS)


def programme_year(today: date | None = None) -> int:
    """The work-programme year a day falls in (calendar years: the programme's reporting is by quarter)."""
    return (today or date.today()).year


def targets_for(year: int) -> ReportTargets:
    """The year's saved targets, or (unsaved) the work programme's numbers with 1 January as baseline."""
    found = db.session.execute(select(ReportTargets).where(ReportTargets.year == year)).scalar_one_or_none()
    if found is not None:
        return found
    return ReportTargets(year=year, baseline_on=date(year, 1, 1), **DEFAULTS)


def is_saved(targets: ReportTargets) -> bool:
    return targets.id is not None


def save_targets(year: int, baseline_on: date, values: dict, by: User) -> ReportTargets:
    """Create or update the year's targets (flushes; the caller commits)."""
    targets = targets_for(year)
    if targets.id is None:
        db.session.add(targets)
    targets.baseline_on = baseline_on
    for name in FIELDS:
        if name in values and values[name] is not None:
            setattr(targets, name, values[name])
    targets.updated_by_id = by.id
    db.session.flush()
    return targets
