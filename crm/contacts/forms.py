from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.validators import Length, Optional

from ..vocabulary import ContactStatus, PaymentMethod


class ContactSearchForm(FlaskForm):
    q = SearchField("Search", validators=[Optional(), Length(max=200, message="Use 200 characters or fewer.")],
                    description="Name, membership number, email, mobile or postcode")
    branch = SelectField("Branch", coerce=str, validate_choice=True)
    status = SelectField("Status", choices=[("", "Any status")] + ContactStatus.choices())
    payment = SelectField("Payment", choices=[("", "Any payment method")] + PaymentMethod.choices())

    def set_branch_choices(self, branches) -> None:
        self.branch.choices = [("", "All my branches")] + [(str(b.id), f"{b.code} – {b.name}") for b in branches]
