"""Admin forms. Choices that come from the database are set by the view (set_choices)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from ..auth.passwords import MIN_PASSWORD_LENGTH, password_problem
from ..auth.roles import Role
from ..formtools import CheckboxesField, choices, enum_choices, int_or_none
from ..vocabulary import EmployerKind
from . import service


class WholeNumberField(IntegerField):
    """An optional whole number of 1 or more, with a plain-words error."""

    def __init__(self, *args, message: str = "Enter a whole number, like 250.", **kwargs):
        super().__init__(*args, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip().replace(",", "")
        if not raw:
            self.data = None
            return
        try:
            self.data = int(raw)
        except ValueError:
            self.data = None
            raise ValueError(self.message) from None
        if self.data < 1:
            raise ValueError(self.message)


def _calls(fn):
    """A validator that runs a service normaliser and reports its ValueError as the field error."""

    def validator(form, field):
        if field.data and field.data.strip():
            try:
                fn(field.data)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None

    return validator


def _chosen(message: str):
    """A select must be one of its real choices, not the blank prompt."""

    def validator(form, field):
        allowed = {int_or_none(choice.value) for choice in field.choices}
        if field.data is None or field.data not in allowed:
            raise ValidationError(message)

    return validator


class ConfirmDeleteForm(FlaskForm):
    """Only the CSRF token: a POST to delete after the confirmation page."""


class AddStandardServiceGroupsForm(FlaskForm):
    """Only the CSRF token: the one-click "add the standard service groups" button."""


class ServiceGroupForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name for the service group."),
                                           Length(max=80, message="Use 80 characters or fewer.")])


class BranchFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter: nothing changes

    service_group = SelectField("Service group", coerce=int_or_none, validate_choice=False)

    def set_choices(self, groups) -> None:
        self.service_group.choices = choices(((str(g.id), g.name) for g in groups), blank="All service groups")


class BranchForm(FlaskForm):
    code = StringField("Branch code", validators=[DataRequired("Enter a branch code."),
                                                  _calls(service.normalise_branch_code)],
                       description="Letters, numbers and hyphens, like NW-0123. Stored in capitals.")
    name = StringField("Name", validators=[DataRequired("Enter the branch name."),
                                           Length(max=160, message="Use 160 characters or fewer.")])
    service_group = SelectField("Service group", coerce=int_or_none, validate_choice=False,
                                validators=[_chosen("Choose the branch's service group.")])
    employers = CheckboxesField("Employers covered",
                                description="The employers whose staff this branch organises.")

    def set_choices(self, groups, employers) -> None:
        self.service_group.choices = choices(((str(g.id), g.name) for g in groups), blank="Choose a service group")
        self.employers.choices = choices((str(e.id), e.name) for e in employers)


class EmployerSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search of employer names (not member data)

    q = SearchField("Employer name", validators=[Optional(), Length(max=200, message="Use 200 characters or fewer.")])


class EmployerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the employer's name."),
                                           Length(max=200, message="Use 200 characters or fewer.")],
                       description="As the employer calls itself, like Liverpool University Hospitals NHS Foundation Trust.")
    kind = SelectField("Kind of employer", validators=[DataRequired("Choose the kind of employer.")],
                       invalid_choice_message="Choose the kind of employer.")
    chief_executive_name = StringField("Chief executive's name", validators=[
        Optional(), Length(max=160, message="Use 160 characters or fewer.")])
    chief_executive_email = EmailField(
        "Chief executive's email address",
        validators=[Optional(), Length(max=254, message="Use 254 characters or fewer."),
                    _calls(service.normalise_email_address)],
        description="Campaign letters to this employer are sent here.")
    branches = CheckboxesField("Branches covering this employer")

    def set_choices(self, branches) -> None:
        self.kind.choices = enum_choices(EmployerKind, blank="Choose the kind of employer")
        self.branches.choices = choices((str(b.id), f"{b.code} – {b.name}") for b in branches)


class WorkplaceForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the workplace's name."),
                                           Length(max=200, message="Use 200 characters or fewer.")],
                       description="The site, like Royal Liverpool Hospital.")
    postcode = StringField("Postcode", validators=[Optional(), _calls(service.normalise_postcode)],
                           description="Optional. A UK postcode, like L7 8XP.")
    headcount = WholeNumberField("Headcount", message="Enter the headcount as a whole number of 1 or more, like 250.",
                                 description="Optional. How many staff work here, so reports can show union density.")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000, message="Use 4,000 characters or fewer.")],
                          description="Optional. Access, shift patterns, where the noticeboards are. No member details.")


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    role = SelectField("Role", validate_choice=False)

    def set_choices(self) -> None:
        self.role.choices = enum_choices(Role, blank="All roles")


class _UserFields(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the person's name."),
                                           Length(max=160, message="Use 160 characters or fewer.")])
    email = EmailField("Email address", validators=[DataRequired("Enter the person's email address."),
                                                    Length(max=254, message="Use 254 characters or fewer."),
                                                    _calls(service.normalise_email_address)],
                       description="They sign in with this address.")
    role = SelectField("Role", validators=[DataRequired("Choose a role.")], invalid_choice_message="Choose a role.")
    branches = CheckboxesField("Branches",
                               description="Needed for branch officers and callers, who see only these branches. "
                                           "Other roles see every branch.")

    def set_choices(self, branches) -> None:
        self.role.choices = enum_choices(Role, blank="Choose a role")
        self.branches.choices = choices((str(b.id), f"{b.code} – {b.name}") for b in branches)

    def branch_ids(self) -> list[int]:
        return list(self.branches.data or [])

    def validate_branches(self, field) -> None:
        # Checked here as well as in the service so it is reported with the other errors.
        if self.role.data in {r.value for r in Role}:
            problem = service.branch_problem(Role(self.role.data), bool(field.data))
            if problem:
                raise ValidationError(problem)


def _strong_password(form, field) -> None:
    problem = password_problem(field.data or "")
    if field.data and problem:
        raise ValidationError(problem)


_PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters. A few unrelated words make a good passphrase."


class NewUserForm(_UserFields):
    password = PasswordField("Initial password", validators=[DataRequired("Enter an initial password."), _strong_password],
                             description=_PASSWORD_HINT + " Give it to them privately; they can change it.")
    confirm = PasswordField("Initial password again", validators=[
        DataRequired("Enter the password again."), EqualTo("password", message="The two passwords do not match.")])


class EditUserForm(_UserFields):
    is_enabled = BooleanField("Can sign in", description="Untick to stop this person signing in. Their history is kept.")


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired("Enter a new password."), _strong_password],
                             description=_PASSWORD_HINT)
    confirm = PasswordField("New password again", validators=[
        DataRequired("Enter the password again."), EqualTo("password", message="The two passwords do not match.")])
