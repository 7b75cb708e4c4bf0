"""Messaging forms. Choices that come from the database or the session are set by the view."""
from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..calls.forms import uk_local_to_utc
from ..formtools import choices, enum_choices
from ..normalise import FieldError, normalise_mobile
from ..vocabulary import Channel

CHANNEL_CHOICES = enum_choices(Channel)


class TemplateForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name for the template."),
                                           Length(max=160, message="Use 160 characters or fewer.")],
                       description="Only staff see this, like ‘Branch meeting reminder’.")
    subject = StringField("Subject", validators=[Optional(), Length(max=200, message="Use 200 characters or fewer.")])
    body = TextAreaField("Text", render_kw={"rows": 6})
    html = TextAreaField("HTML part (optional)", render_kw={"rows": 8},
                         description="Leave empty to send the text part as simple paragraphs. Values filled in "
                                     "here are made safe for HTML.")


class ComposeForm(FlaskForm):
    name = StringField("Name of this send", validators=[
        DataRequired("Enter a name for this send, like ‘Pay ballot reminder – June’."),
        Length(max=160, message="Use 160 characters or fewer.")],
        description="Only staff see this: it names the send in the list and its report.")
    channel = RadioField("Send by", choices=CHANNEL_CHOICES, validators=[InputRequired("Choose SMS or email.")],
                         invalid_choice_message="Choose SMS or email.")
    template = SelectField("Start from a template", validators=[Optional()], validate_choice=False,
                           description="Copies the template’s text below, replacing what is there.")
    subject = StringField("Subject", validators=[Optional(), Length(max=200, message="Use 200 characters or fewer.")])
    body = TextAreaField("Text", render_kw={"rows": 6})
    html = TextAreaField("HTML part (optional)", render_kw={"rows": 6},
                         description="Leave empty to send the text part as simple paragraphs.")
    audience_kind = RadioField("Who gets it", validators=[InputRequired("Choose who the message goes to.")],
                               invalid_choice_message="Choose who the message goes to.")

    def set_choices(self, kinds, templates) -> None:
        self.audience_kind.choices = choices((k.key, k.label) for k in kinds)
        self.template.choices = choices(((str(t.id), f"{t.name} ({t.channel.label})") for t in templates),
                                        blank="Write my own")


class PreviewForm(FlaskForm):
    position = SelectField("Show the message as this recipient gets it", coerce=int, validate_choice=False)


class TestSendForm(FlaskForm):
    mobile = StringField("Your mobile number", description="For example 07400 123456. Only this test goes there.",
                         render_kw={"autocomplete": "tel", "inputmode": "tel"})
    nonce = HiddenField()

    needs_mobile = False
    normalised: str | None = None

    def validate_mobile(self, field) -> None:
        if not self.needs_mobile:
            return
        if not (field.data or "").strip():
            raise ValidationError("Enter your mobile number to send yourself a test.")
        try:
            self.normalised = normalise_mobile(field.data)
        except FieldError as exc:
            raise ValidationError("That is not a UK mobile number. Enter one like 07400 123456.") from exc
        if self.normalised is None:
            raise ValidationError("Enter your mobile number to send yourself a test.")


class StartForm(FlaskForm):
    when = RadioField("When", choices=choices([("now", "Send now"), ("later", "Send at a time I choose")]),
                      default="now", validators=[InputRequired("Choose when to send.")],
                      invalid_choice_message="Choose when to send.")
    send_at = DateTimeLocalField("Date and time (UK time)", format="%Y-%m-%dT%H:%M")
    quiet_hours = BooleanField("Respect the SMS quiet hours", default=True)

    def validate(self, extra_validators=None) -> bool:
        self.send_at.process_errors = []  # replaced by plainer words below
        if self.when.data != "later":
            self.send_at.data = None
        return super().validate(extra_validators)

    def validate_send_at(self, field) -> None:
        if self.when.data != "later":
            return
        if field.data is None:
            if not field.raw_data or not field.raw_data[0]:
                raise ValidationError("Enter the date and time to send.")
            raise ValidationError("Enter the time to send as a date and time, like 3 June 2026 at 09:30.")

    @property
    def send_at_utc(self) -> datetime | None:
        return uk_local_to_utc(self.send_at.data) if self.when.data == "later" and self.send_at.data else None


class ActionForm(FlaskForm):
    """A button that changes state (cancel, archive, mark handled): nothing but the CSRF token."""


class AnswerForm(FlaskForm):
    body = TextAreaField("Your answer", validators=[DataRequired("Enter your answer."),
                                                    Length(max=1000, message="Keep the answer to 1,000 characters or fewer.")],
                        render_kw={"rows": 4, "maxlength": 1000},
                        description="Sent as a text from the union’s number. Sign it with your name.")
    nonce = HiddenField()

