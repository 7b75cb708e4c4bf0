from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional, ValidationError


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form: nothing changes

    action = SelectField("What happened", choices=[], validate_choice=False)
    user = SelectField("Who", choices=[], validate_choice=False)
    object_type = SelectField("Kind of record", choices=[], validate_choice=False)
    object_id = IntegerField("Record number", validators=[Optional(), NumberRange(min=1, message="Enter a record number above 0.")])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("'To' must be on or after 'From'.")


class VerifyForm(FlaskForm):
    pass
