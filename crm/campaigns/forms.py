"""Forms: the staff campaign form and the public page's steps. Choices from the database are set by the views."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..formtools import CheckboxesField, choices, enum_choices, int_or_none
from .models import CampaignStatus
from .service import MAX_CUSTOM_TARGETS


class CustomTargetForm(Form):
    name = StringField("Name", validators=[Optional(), Length(max=160)])
    role = StringField("Role", validators=[Optional(), Length(max=160)])
    email = StringField("Email", validators=[Optional(), Length(max=254)])


class CampaignForm(FlaskForm):
    name = StringField("Campaign name", validators=[InputRequired("Enter the campaign's name."), Length(max=160)])
    slug = StringField("Public address", validators=[InputRequired("Enter the public address."), Length(max=60)],
                       description="Lower-case letters, numbers and hyphens. The public page is /act/ followed by this.")
    summary = TextAreaField("What the campaign is about", validators=[Length(max=4000)],
                            description="Shown at the top of the public page. Plain words, a short paragraph or two.")
    goal = TextAreaField("Goal", validators=[Length(max=2000)],
                         description="What winning looks like, e.g. “All Liverpool hospital services back in-house”.")
    status = RadioField("Status", choices=enum_choices(CampaignStatus), default=CampaignStatus.DRAFT.value)
    opens_on = DateField("Opens on", validators=[Optional()], description="Leave empty to open as soon as it is published.")
    closes_on = DateField("Closes on", validators=[Optional()], description="Leave empty to keep it open.")
    branch_id = SelectField("Branch that runs it", coerce=int_or_none, validate_choice=False,
                            description="New supporters who write letters are added to this branch.")
    service_group_id = SelectField("Service group", coerce=int_or_none, validate_choice=False)
    target_mp = BooleanField("The member's MP (found from their postcode)")
    target_employer = BooleanField("The chief executive of the member's employer")
    employer_ids = CheckboxesField("Employers members can choose", validate_choice=False)
    custom_targets = FieldList(FormField(CustomTargetForm), min_entries=MAX_CUSTOM_TARGETS,
                               max_entries=MAX_CUSTOM_TARGETS)
    mp_subject = StringField("Subject", validators=[Length(max=200)])
    mp_body = TextAreaField("Letter", validators=[Length(max=20000)])
    employer_subject = StringField("Subject", validators=[Length(max=200)])
    employer_body = TextAreaField("Letter", validators=[Length(max=20000)])
    custom_subject = StringField("Subject", validators=[Length(max=200)])
    custom_body = TextAreaField("Letter", validators=[Length(max=20000)])
    require_personal = BooleanField("Ask every writer to add a paragraph in their own words")
    block_identical = BooleanField("Refuse letters that are mostly the template or copied from another letter")
    similarity_threshold = IntegerField(
        "Similarity threshold (%)", default=85,
        validators=[InputRequired("Enter the similarity threshold."), NumberRange(50, 100, "Enter a percentage between 50 and 100.")],
        description="From this share of the template (or of another letter to the same person) writers are nudged "
                    "to use their own words, or refused if the box above is ticked.")
    ask_membership_number = BooleanField("Also ask for a membership number (optional for the writer)")
    letters_say_member = BooleanField("The letters say the writer is a union member",
                                      description="Writers must then agree to that before sending: it tells the "
                                                  "person they write to that they are in a union.")
    ask_about_replies = BooleanField("Two weeks after sending, email writers to ask whether they had a reply")
    thank_you_text = TextAreaField("Thank-you message", validators=[Length(max=4000)],
                                   description="Shown once the letters are sent.")
    share_text = StringField("Share message", validators=[Length(max=280)],
                             description="Suggested text when writers share the campaign, e.g. “I've written to my MP "
                                         "to bring our hospital services back in-house. Will you?”")


class DetailsForm(FlaskForm):
    first_name = StringField("First name", validators=[Length(max=100, message="Use 100 characters or fewer.")],
                             render_kw={"autocomplete": "given-name"})
    last_name = StringField("Last name", validators=[Length(max=100, message="Use 100 characters or fewer.")],
                            render_kw={"autocomplete": "family-name"})
    email = EmailField("Email address", validators=[Length(max=254, message="Use 254 characters or fewer.")],
                       description="We send you a link to confirm your letters. Replies come straight to you.",
                       render_kw={"autocomplete": "email", "spellcheck": "false"})
    postcode = StringField("Postcode", validators=[Length(max=16, message="Enter a full UK postcode, for example L8 7SS.")],
                           description="To find your MP. For example, L8 7SS.",
                           render_kw={"autocomplete": "postal-code", "autocapitalize": "characters", "class": "short"})
    employer_id = SelectField("Your employer", validate_choice=False,
                              description="Start typing to find it, or choose ‘My employer is not listed’.")
    workplace = StringField("Where you work (optional)", validators=[Length(max=200, message="Use 200 characters or fewer.")],
                            description="For example, Royal Liverpool Hospital.")
    membership_number = StringField("Membership number (optional)",
                                    validators=[Length(max=20, message="Use 20 characters or fewer.")],
                                    render_kw={"inputmode": "numeric", "class": "short"})
    # Honeypot: hidden from people by CSS, filled in by bots.
    website = StringField("Leave this empty", render_kw={"autocomplete": "off", "tabindex": "-1"})


class LettersForm(FlaskForm):
    """Only the CSRF token: the letters' subjects and bodies are read by position."""


class CheckForm(FlaskForm):
    agree_disclosure = BooleanField("I agree that my letters say I am a union member")
    wants_email = BooleanField("Email me campaign updates")
    wants_sms = BooleanField("Text me campaign updates")
    mobile = StringField("Mobile number", validators=[Length(max=20, message="Enter a UK mobile number.")],
                         description="Only needed for text updates.",
                         render_kw={"autocomplete": "tel", "inputmode": "tel", "class": "short"})
    method = RadioField("How do you want to send your letters?", default="email", choices=choices([
        ("email", "We email them for you"),
        ("own", "I'll send them from my own email"),
    ]))


class ConfirmForm(FlaskForm):
    """The confirmation page's button: sending happens on POST, never when a link is merely opened."""


class RepliesForm(FlaskForm):
    """Only the CSRF token: one yes/no answer per letter is read by letter id."""
