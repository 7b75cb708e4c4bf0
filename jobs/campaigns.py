"""Campaign jobs: thin, idempotent, ids only (never names, addresses or letters)."""
from crm.campaigns import public
from crm.campaigns.models import Submission
from crm.extensions import db


def send_reply_check(submission_id: int) -> bool:
    """Two weeks after the letters: ask the writer once whether anyone replied; tidy away stale drafts."""
    public.purge_stale_drafts()
    submission = db.session.get(Submission, submission_id)
    sent = submission is not None and public.send_reply_check(submission)
    db.session.commit()
    return sent


def purge_stale_drafts() -> int:
    """Delete unconfirmed submissions older than a week (their names and letters are not kept)."""
    removed = public.purge_stale_drafts()
    db.session.commit()
    return removed
