from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.validators import Length, Optional

from ..formtools import choices, enum_choices
from ..vocabulary import ContactStatus, PaymentMethod


class ContactSearchForm(FlaskForm):
    q = SearchField("Search", validators=[Optional(), Length(max=200, message="Use 200 characters or fewer.")],
                    description="Name, membership number, email, mobile or postcode")
    branch = SelectField("Branch", coerce=str, validate_choice=True)
    status = SelectField("Status", choices=enum_choices(ContactStatus, blank="Any status"))
    payment = SelectField("Payment", choices=enum_choices(PaymentMethod, blank="Any payment method"))

    def set_branch_choices(self, branches) -> None:
        self.branch.choices = choices(((str(b.id), f"{b.code} – {b.name}") for b in branches), blank="All my branches")
