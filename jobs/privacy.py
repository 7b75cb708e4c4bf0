"""Data-protection jobs: thin, ids only."""
from crm.extensions import db
from crm.privacy import retention
from crm.privacy.schedule import schedule_retention


def apply_retention() -> dict:
    """Apply the retention periods (the nightly run), then schedule the next night's."""
    try:
        lines = retention.apply()
        db.session.commit()
    finally:
        schedule_retention()
    return {line.kind: line.done for line in lines}
