"""Caller forms: the outcome of one call (with the list's survey questions) and the plain action buttons."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from ..database import utcnow
from ..templating import UK
from .models import LEAVER_OUTCOMES, CallList, CallListKind, Outcome

# Outcomes on every list, in the order the buttons appear; leaver lists add LEAVER_OUTCOMES.
COMMON_OUTCOMES = (Outcome.ANSWERED, Outcome.NO_ANSWER, Outcome.VOICEMAIL, Outcome.BUSY,
                   Outcome.WRONG_NUMBER, Outcome.DO_NOT_CALL, Outcome.CALL_BACK)
# A call-back further ahead than this is almost always a mistyped year.
CALLBACK_HORIZON = timedelta(days=365)
# Choice questions with more options than this are a select rather than radios.
MAX_RADIO_CHOICES = 6


def outcomes_for(call_list: CallList) -> tuple[Outcome, ...]:
    """The outcomes a caller may record on this list."""
    if call_list.kind is CallListKind.DOCAS_LEAVER:
        return COMMON_OUTCOMES + LEAVER_OUTCOMES
    return COMMON_OUTCOMES


def uk_local_to_utc(value: datetime) -> datetime:
    """A wall-clock time typed in the UK (a datetime-local input) as an aware UTC datetime."""
    return value.replace(tzinfo=UK).astimezone(UTC)


def utc_to_uk_local(value: datetime) -> str:
    """The value a datetime-local input shows for a UTC datetime, in UK time."""
    return value.astimezone(UK).strftime("%Y-%m-%dT%H:%M")


class ActionForm(FlaskForm):
    """A button that changes state (call next, skip): nothing but the CSRF token."""


class OutcomeFormBase(FlaskForm):
    # One submit button per outcome (name="outcome"); checked against the list's outcomes below.
    outcome = StringField("What happened")
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000, message="Use 2,000 characters or fewer.")],
                         description="Anything the next caller or the branch should know",
                         render_kw={"rows": 3, "maxlength": 2000})
    callback_at = DateTimeLocalField("Call back at", format="%Y-%m-%dT%H:%M", description="UK time")
    # Shown only when the list has a follow-up SMS and the member agreed to texts (crm.messaging.service).
    send_follow_up = BooleanField("Send the follow-up text", default=False)

    allowed_outcomes: tuple[Outcome, ...] = ()

    # (field name, question) for each of the list's survey questions, set by outcome_form().
    question_fields: tuple[tuple[str, dict], ...] = ()

    def validate_outcome(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose what happened on the call.")
        if field.data not in {o.value for o in self.allowed_outcomes}:
            raise ValidationError("Choose one of the outcomes shown.")

    def validate_callback_at(self, field) -> None:
        if self.outcome.data != Outcome.CALL_BACK.value:
            return
        if field.data is None:
            if not field.raw_data or not field.raw_data[0]:
                raise ValidationError("Enter the date and time to call back.")
            raise ValidationError("Enter the call-back time as a date and time, like 3 June 2025 at 18:30.")
        when = uk_local_to_utc(field.data)
        now = utcnow()
        if when <= now:
            raise ValidationError("The call-back time must be in the future.")
        if when > now + CALLBACK_HORIZON:
            raise ValidationError("The call-back time must be within the next year.")

    def validate(self, extra_validators=None) -> bool:
        # The picker's own parse error is replaced by validate_callback_at's plainer words, and a
        # picker left half-filled must not stop an outcome that does not use it.
        self.callback_at.process_errors = []
        if self.outcome.data != Outcome.CALL_BACK.value:
            self.callback_at.data = None
        return super().validate(extra_validators)

    @property
    def chosen_outcome(self) -> Outcome:
        return Outcome(self.outcome.data)

    @property
    def callback_at_utc(self) -> datetime | None:
        return uk_local_to_utc(self.callback_at.data) if self.callback_at.data else None

    def answers(self) -> dict[str, str]:
        """The survey answers given, keyed by question key; unanswered questions are left out."""
        given = {}
        for name, question in self.question_fields:
            value = (getattr(self, name).data or "").strip()
            if value:
                given[question["key"]] = value
        return given

    def questions(self):
        """(field, question) pairs in the list's order, for the template."""
        return [(getattr(self, name), question) for name, question in self.question_fields]


def _question_field(question: dict):
    text = str(question.get("text") or question.get("key") or "Question")
    kind = question.get("type")
    if kind == "yes_no":
        return RadioField(text, choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
                          validators=[Optional()], validate_choice=True)
    if kind == "choice":
        options = [str(c) for c in question.get("choices") or []]
        if len(options) > MAX_RADIO_CHOICES:
            return SelectField(text, choices=[SelectChoice("", "Not asked")] + [SelectChoice(c, c) for c in options],
                               validators=[Optional()], default="")
        return RadioField(text, choices=[SelectChoice(c, c) for c in options], validators=[Optional()])
    return StringField(text, validators=[Optional(), Length(max=500, message="Use 500 characters or fewer.")],
                       render_kw={"maxlength": 500, "autocomplete": "off"})


def outcome_form(call_list: CallList, **kwargs) -> OutcomeFormBase:
    """The outcome form for one list: its outcomes and a field per survey question."""
    fields = {}
    question_fields = []
    for index, question in enumerate(call_list.questions or []):
        if not isinstance(question, dict) or not question.get("key"):
            continue  # a malformed question must never stop a call
        name = f"q_{index}"
        fields[name] = _question_field(question)
        question_fields.append((name, question))
    form_class = type("OutcomeForm", (OutcomeFormBase,), {**fields, "question_fields": tuple(question_fields)})
    form = form_class(**kwargs)
    form.allowed_outcomes = outcomes_for(call_list)
    return form
