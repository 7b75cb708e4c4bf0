"""Forms for the targets page and the R&R report's action-plan notes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from .rr import NOTE_MAX


def _pct(label: str, description: str, low: float = -100, high: float = 1000):
    return DecimalField(label, places=1, description=description,
                        validators=[InputRequired(message=f"Enter the {label.lower()}, for example 5."),
                                    NumberRange(min=low, max=high,
                                                message=f"Enter a percentage between {low:g} and {high:g}.")])


class TargetsForm(FlaskForm):
    baseline_on = DateField("Baseline date", description="Activist numbers are compared with the numbers on this day.",
                            validators=[InputRequired(message="Enter the baseline date, for example 2026-01-01.")])
    growth_pct = _pct("Membership growth target %", "Net growth per branch and service group (work programme: 1%).")
    joiner_calls_pct = _pct("New-joiner calls target %", "Share of new joiners called (work programme: 100%).", 0, 100)
    leaver_calls_pct = _pct("DOCAS-leaver calls target %", "Share of DOCAS leavers called (work programme: 100%).",
                            0, 100)
    activist_growth_pct = _pct("Steward, H&S rep and ULR growth target %",
                               "Increase on the baseline date's numbers (work programme: 5%).")
    schools_activist_growth_pct = _pct("Schools activist growth target %",
                                       "All activist roles at school employers (work programme: 10%).")
    social_care_growth_pct = _pct("Adult social care growth target %",
                                  "Net membership growth at care-provider employers (work programme: 5%).")
    fragmented_below = IntegerField(
        "Fragmented workplace size", description="A workplace with fewer members than this counts as fragmented.",
        validators=[InputRequired(message="Enter a number of members, for example 10."),
                    NumberRange(min=2, max=1000, message="Enter a number of members between 2 and 1,000.")])


class NoteForm(FlaskForm):
    text = TextAreaField("Action-plan notes", description="What the branch will do next quarter, and what it needs.",
                         validators=[Length(max=NOTE_MAX, message=f"Keep the notes under {NOTE_MAX:,} characters.")])
