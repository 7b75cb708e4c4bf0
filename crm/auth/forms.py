from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new_password = PasswordField("New password", validators=[DataRequired("Enter a new password."), Length(min=10, message="Use at least 10 characters.")])
    confirm = PasswordField("New password again", validators=[DataRequired("Enter the new password again."), EqualTo("new_password", message="The two passwords do not match.")])


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired("Enter the code.")],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "off",
                                  "spellcheck": "false"})


class MfaSetupForm(FlaskForm):
    code = StringField("6-digit code from the app", validators=[DataRequired("Enter the 6-digit code your app shows.")],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class PasswordConfirmForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password.")])


class TrainingForm(FlaskForm):
    completed_on = DateField("Date you completed the training",
                             validators=[DataRequired("Enter the date you completed the training, for example 3 9 2026.")],
                             description="For example, 27 3 2026. It must be within the last 12 months.")
