"""The breach log: each incident, its scope and the 72-hour clock for telling the ICO."""
from __future__ import annotations

from sqlalchemy import case, select

from ..audit import service as audit
from ..extensions import db
from .models import Breach, BreachRisk, BreachStatus

FIELDS = ("title", "discovered_at", "occurred_at", "description", "data_involved", "people_affected",
          "branches_affected", "consequences", "measures", "risk", "status", "reported_to_ico_at", "ico_reference",
          "people_told_at", "decision_notes")


class BreachError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _check(values: dict) -> None:
    discovered = values.get("discovered_at")
    occurred = values.get("occurred_at")
    reported = values.get("reported_to_ico_at")
    if occurred and discovered and occurred > discovered:
        raise BreachError("When it happened must be on or before when it was discovered.", "occurred_at")
    if reported and discovered and reported < discovered:
        raise BreachError("The ICO report cannot be before the breach was discovered.", "reported_to_ico_at")
    if values.get("status") is BreachStatus.CLOSED and values.get("risk") is not BreachRisk.UNLIKELY \
            and not reported:
        raise BreachError("Record when the ICO was told before closing a breach that had to be reported.",
                          "reported_to_ico_at")
    if reported and values.get("reported_to_ico_at") and values.get("discovered_at") and \
            (reported - discovered).total_seconds() > 72 * 3600 and not (values.get("decision_notes") or "").strip():
        raise BreachError("The ICO was told after 72 hours: record the reasons for the delay.", "decision_notes")
    if values.get("risk") is BreachRisk.UNLIKELY and not (values.get("decision_notes") or "").strip():
        raise BreachError("Record why the breach is unlikely to result in a risk (it is not being reported).",
                          "decision_notes")


def create_breach(values: dict, *, by) -> Breach:
    """Log a new breach; the 72-hour clock runs from when it was discovered."""
    _check(values)
    breach = Breach(**{k: values[k] for k in FIELDS if k in values}, created_by_id=getattr(by, "id", None))
    db.session.add(breach)
    db.session.flush()
    audit.record("breach.create", user=by, obj=breach, detail=f"risk={breach.risk.value}")
    return breach


def update_breach(breach: Breach, values: dict, *, by) -> Breach:
    """Change a breach record; each change is audited by field name."""
    merged = {k: getattr(breach, k) for k in FIELDS} | values
    _check(merged)
    changed = [k for k in FIELDS if k in values and getattr(breach, k) != values[k]]
    for k in changed:
        setattr(breach, k, values[k])
    if changed:
        audit.record("breach.update", user=by, obj=breach, detail="fields=" + ",".join(changed))
    return breach


def breaches_query():
    """Open breaches first, the most urgent (earliest deadline) at the top."""
    return select(Breach).order_by(case((Breach.status == BreachStatus.OPEN, 0), else_=1),
                                   Breach.discovered_at.desc())
