from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..formtools import enum_choices
from .erasure import ErasureReason
from .models import BreachRisk, BreachStatus

UK = ZoneInfo("Europe/London")


def uk_to_utc(value: datetime | None) -> datetime | None:
    """A wall-clock time typed in the UK, as an aware UTC datetime."""
    return value.replace(tzinfo=UK).astimezone(timezone.utc) if value else None


def utc_to_uk(value: datetime | None) -> datetime | None:
    return value.astimezone(UK).replace(tzinfo=None) if value else None


class ErasureForm(FlaskForm):
    reason = RadioField("Why is this contact being erased?", choices=enum_choices(ErasureReason),
                        validators=[InputRequired("Choose why this contact is being erased.")])
    confirm = BooleanField("I understand this cannot be undone: their details, notes and message texts will be gone",
                           validators=[DataRequired("Tick the box to confirm the erasure.")])


class SubjectAccessForm(FlaskForm):
    pass


def _days(label: str) -> IntegerField:
    return IntegerField(label, validators=[InputRequired("Enter a number of days (0 keeps it for ever)."),
                                           NumberRange(min=0, max=36500, message="Enter a number of days from 0 to 36500.")])


class RetentionForm(FlaskForm):
    call_notes_days = _days("Call notes")
    message_bodies_days = _days("Message texts (sent and received)")
    letters_days = _days("Campaign letters, after sending")
    lapsed_members_days = _days("Lapsed members, after they left")
    audit_days = _days("Audit trail entries")


class ApplyRetentionForm(FlaskForm):
    pass


class BreachForm(FlaskForm):
    title = StringField("Short title", validators=[DataRequired("Enter a short title."), Length(max=200)])
    discovered_at = DateTimeLocalField("When the region became aware of it", format="%Y-%m-%dT%H:%M",
                                       validators=[DataRequired("Enter when the region became aware of the breach.")],
                                       description="The 72 hours for telling the ICO run from this moment (UK time).")
    occurred_at = DateTimeLocalField("When it happened, if known", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    description = TextAreaField("What happened", validators=[DataRequired("Describe what happened.")])
    data_involved = TextAreaField("Whose data, and what kinds",
                                  description="For example: members' names and mobiles on one call list; any special-category data (union membership is).")
    people_affected = IntegerField("Roughly how many people", validators=[Optional(), NumberRange(min=0, message="Enter 0 or more.")])
    branches_affected = StringField("Branches affected", validators=[Length(max=400)])
    consequences = TextAreaField("Likely consequences for the people affected")
    measures = TextAreaField("What has been done, or will be, to deal with it")
    risk = RadioField("Risk to people", choices=enum_choices(BreachRisk), default=BreachRisk.RISK.value,
                      validators=[InputRequired("Choose the risk to people.")])
    status = SelectField("Status", choices=enum_choices(BreachStatus), default=BreachStatus.OPEN.value)
    reported_to_ico_at = DateTimeLocalField("When the ICO was told", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    ico_reference = StringField("ICO reference", validators=[Length(max=60)])
    people_told_at = DateTimeLocalField("When the people affected were told", format="%Y-%m-%dT%H:%M",
                                        validators=[Optional()])
    decision_notes = TextAreaField("Reasons for decisions",
                                   description="Why it is not being reported, or why the ICO was told after 72 hours.")

    def values(self) -> dict:
        return {
            "title": self.title.data.strip(), "discovered_at": uk_to_utc(self.discovered_at.data),
            "occurred_at": uk_to_utc(self.occurred_at.data), "description": self.description.data or "",
            "data_involved": self.data_involved.data or "", "people_affected": self.people_affected.data,
            "branches_affected": (self.branches_affected.data or "").strip(), "consequences": self.consequences.data or "",
            "measures": self.measures.data or "", "risk": BreachRisk(self.risk.data), "status": BreachStatus(self.status.data),
            "reported_to_ico_at": uk_to_utc(self.reported_to_ico_at.data),
            "ico_reference": (self.ico_reference.data or "").strip(), "people_told_at": uk_to_utc(self.people_told_at.data),
            "decision_notes": self.decision_notes.data or "",
        }
