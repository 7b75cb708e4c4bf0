"""Contacts forms. Choices that come from the database are set by the view (set_… methods)."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..formtools import CheckboxesField, choices, enum_choices, int_or_none
from ..vocabulary import (
    ActivistRoleKind,
    Channel,
    ConsentStatus,
    ContactStatus,
    PaymentMethod,
    SelfOrganisedGroup,
)
from .service import CONSENT_FILTERS, Gap


def _select(label: str, blank: str, **kw) -> SelectField:
    # default="" so a POST that leaves the field out means "any", as an empty choice does.
    return SelectField(label, choices=[SelectChoice("", blank)], default="", **kw)


class ContactSearchForm(FlaskForm):
    q = SearchField("Search", validators=[Optional(), Length(max=200, message="Use 200 characters or fewer.")],
                    description="Name, membership number, email, mobile or postcode")
    branch = _select("Branch", "All my branches", coerce=str, validate_choice=True)
    status = SelectField("Status", choices=enum_choices(ContactStatus, blank="Any status"), default="")
    payment = SelectField("Payment", choices=enum_choices(PaymentMethod, blank="Any payment method"), default="")
    employer = _select("Employer", "Any employer")
    workplace = _select("Workplace", "Any workplace", validate_choice=False,
                        description="Choose an employer and search to list its workplaces.")
    role = SelectField("Activist role", default="",
                       choices=choices(((m.value, "Current " + m.label[:1].lower() + m.label[1:])
                                        for m in ActivistRoleKind), blank="Any or none"))
    tag = _select("Tag", "Any or none")
    sog = SelectField("Self-organised group", choices=enum_choices(SelfOrganisedGroup, blank="Any or none"),
                      default="", description="Self-identified: special-category data")
    consent = SelectField("Consent", choices=choices(((k, v[2]) for k, v in CONSENT_FILTERS.items()),
                                                     blank="Any consent"), default="")
    ballot = SelectField("Ballot-ready", choices=choices([("yes", "Ballot-ready"), ("no", "Not ballot-ready")],
                                                         blank="Either"), default="",
                         description="Employer, workplace and job title all known")
    missing = SelectField("Missing", choices=enum_choices(Gap, blank="Nothing in particular"), default="")

    ADVANCED = ("employer", "workplace", "role", "tag", "sog", "consent", "ballot", "missing")

    def set_choices(self, branches, employers, workplaces, tags) -> None:
        self.branch.choices = choices(((str(b.id), f"{b.code} – {b.name}") for b in branches), blank="All my branches")
        self.employer.choices = choices(((str(e.id), e.name) for e in employers), blank="Any employer")
        self.workplace.choices = choices(((str(w.id), w.name) for w in workplaces), blank="Any workplace")
        self.tag.choices = choices(((str(t.id), t.name) for t in tags), blank="Any or none")


class BulkTagForm(FlaskForm):
    f = HiddenField()
    tag = StringField("Tag", validators=[InputRequired("Enter a tag, or choose one from the list."),
                                         Length(max=80, message="Use 80 characters or fewer for a tag.")],
                      description="Choose a tag or type a new one",
                      render_kw={"list": "tag-options", "autocomplete": "off"})
    action = RadioField("Add or remove", choices=[SelectChoice("add", "Add the tag"),
                                                  SelectChoice("remove", "Remove the tag")],
                        default="add", validators=[InputRequired("Choose whether to add or remove the tag.")])
    confirm = HiddenField()


class ExportForm(FlaskForm):
    f = HiddenField()
    format = RadioField("Format", choices=[SelectChoice("csv", "CSV"), SelectChoice("xlsx", "Excel (XLSX)")],
                        default="csv", validators=[InputRequired("Choose CSV or Excel.")])


def _enum_or_none(enum_cls):
    def coerce(value):
        if isinstance(value, enum_cls):
            return value
        return enum_cls(value) if value in {m.value for m in enum_cls} else None

    return coerce


class UKDateField(DateField):
    """A date from an HTML date input (YYYY-MM-DD), or day/month/year typed without one."""

    def __init__(self, label, message="Enter a real date, like 31/01/2024.", **kw):
        super().__init__(label, format=["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"], **kw)
        self.message = message

    def process_formdata(self, valuelist):
        if not valuelist or not " ".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.message) from None
        if self.data is None:
            raise ValueError(self.message)


class ContactEditForm(FlaskForm):
    first_name = StringField("First name", validators=[Length(max=100, message="Use 100 characters or fewer.")])
    last_name = StringField("Last name", validators=[Length(max=100, message="Use 100 characters or fewer.")])
    email = StringField("Email", validators=[Length(max=254, message="Use 254 characters or fewer.")],
                        render_kw={"type": "email", "autocomplete": "off", "spellcheck": "false"})
    mobile = StringField("Mobile", description="A UK mobile, like 07911 123456",
                         render_kw={"type": "tel", "autocomplete": "off"})
    postcode = StringField("Postcode", render_kw={"autocomplete": "off", "class": "input-short"})
    employer_id = SelectField("Employer", coerce=int_or_none, validate_choice=True,
                              invalid_choice_message="Choose an employer of this member's branch.")
    workplace_id = SelectField("Workplace", coerce=int_or_none, validate_choice=True,
                               invalid_choice_message="Choose a workplace from the list.",
                               description="Sites are listed under their employer")
    job_title = StringField("Job title", validators=[Length(max=160, message="Use 160 characters or fewer.")])
    status = SelectField("Status", choices=enum_choices(ContactStatus), coerce=_enum_or_none(ContactStatus),
                         invalid_choice_message="Choose a status.")
    payment_method = SelectField("Payment method", choices=enum_choices(PaymentMethod, blank="Not known"),
                                 coerce=_enum_or_none(PaymentMethod),
                                 invalid_choice_message="Choose a payment method.")
    joined_on = UKDateField("Date joined", render_kw={"type": "date"})
    left_on = UKDateField("Date left", render_kw={"type": "date"})
    docas_ended_on = UKDateField("DOCAS end date", description="When the employer stopped deducting subs",
                                 render_kw={"type": "date"})
    tags = CheckboxesField("Tags", coerce=str, validate_choice=False,
                           description="Untick a tag to take it off")
    new_tags = StringField("Add tags", description="Separate tags with commas",
                           validators=[Length(max=400, message="Use 400 characters or fewer.")],
                           render_kw={"list": "tag-options", "autocomplete": "off"})

    def set_choices(self, employers, workplaces, current_tags) -> None:
        self.employer_id.choices = choices(((str(e.id), e.name) for e in employers), blank="Not known")
        by_id = {e.id: e.name for e in employers}
        self.workplace_id.choices = [SelectChoice("", "Not known")] + [
            SelectChoice(str(w.id), w.name, optgroup=by_id.get(w.employer_id, "Other")) for w in workplaces]
        self.tags.choices = [SelectChoice(t.name, t.name) for t in current_tags]

    def tag_names(self) -> list[str]:
        typed = [t for t in (self.new_tags.data or "").split(",") if t.strip()]
        return list(self.tags.data or []) + typed


class AddRoleForm(FlaskForm):
    kind = SelectField("Role", choices=enum_choices(ActivistRoleKind, blank="Choose a role"), default="",
                       coerce=_enum_or_none(ActivistRoleKind), validate_choice=False)
    started_on = UKDateField("Started on", render_kw={"type": "date"},
                             validators=[InputRequired("Enter the date they started in the role.")])

    def validate_kind(self, field):
        if field.data is None:
            raise ValidationError("Choose the activist role.")


class EndRoleForm(FlaskForm):
    ended_on = UKDateField("Ended on", render_kw={"type": "date"},
                           validators=[InputRequired("Enter the date the role ended.")])

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("data", {"ended_on": date.today()})
        super().__init__(*args, **kwargs)


class ConsentForm(FlaskForm):
    channel = RadioField("Channel", choices=enum_choices(Channel), coerce=_enum_or_none(Channel),
                         validators=[InputRequired("Choose SMS or email.")])
    status = RadioField("What they told you", coerce=_enum_or_none(ConsentStatus),
                        choices=[SelectChoice(ConsentStatus.GRANTED.value, "They agree to be contacted this way"),
                                 SelectChoice(ConsentStatus.WITHDRAWN.value, "They opt out: do not contact them this way")],
                        validators=[InputRequired("Choose whether they agree or opt out.")])
    wording_version = StringField("Consent wording version",
                                  description="Needed when they agree: the version of the wording they were read or shown, like 2025-01",
                                  validators=[Length(max=40, message="Use 40 characters or fewer.")])
