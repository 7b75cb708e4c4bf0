"""Forms for managing call lists. Choices that come from the database are set by the view."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from jinja2 import Environment, TemplateSyntaxError, meta
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from ..formtools import CheckboxesField, choices, enum_choices
from . import scripts
from .models import CallListKind, DoneRule

MAX_QUESTIONS = 10
QUESTION_ROWS = 6  # blank rows offered on a new list; an existing list gets one more than it has
QUESTION_TYPES = {"yes_no": "Yes or no", "choice": "One of some choices", "text": "Free text"}
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_parser = Environment()  # parses only: to find the merge fields a script uses


def unknown_merge_fields(source: str) -> list[str]:
    """Names used in {{ … }} that are not merge fields (a misspelt field would be blank on every call)."""
    try:
        used = meta.find_undeclared_variables(_parser.parse(source or ""))
    except TemplateSyntaxError:
        return []  # scripts.script_problem reports broken syntax
    return sorted(used - set(scripts.MERGE_FIELDS))


def script_error(source: str) -> str | None:
    """Why a script cannot be saved, in plain words, or None."""
    problem = scripts.script_problem(source)
    if problem:
        return problem
    unknown = unknown_merge_fields(source)
    if unknown:
        names = ", ".join("{{ " + n + " }}" for n in unknown)
        return (f"The script uses {names}, which {'is not a merge field' if len(unknown) == 1 else 'are not merge fields'}. "
                "Use only the merge fields listed below the script.")
    return None


class WholeNumberField(IntegerField):
    """A whole number within a range, with plain-words errors; blank is None (pair with InputRequired if needed)."""

    def __init__(self, label, *, low: int, high: int, message: str, **kwargs):
        super().__init__(label, **kwargs)
        self.low, self.high, self.message = low, high, message

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            self.data = None
            return
        if not re.fullmatch(r"-?\d+", raw):
            self.data = None
            raise ValueError(self.message)
        self.data = int(raw)

    def pre_validate(self, form):
        if self.data is not None and not self.low <= self.data <= self.high:
            raise ValidationError(self.message)


class QuestionForm(Form):
    """One survey question row. Blank rows are ignored."""

    key = HiddenField()
    text = StringField("Question", validators=[Optional(), Length(max=200, message="Use 200 characters or fewer.")])
    type = SelectField("Answer", choices=choices(QUESTION_TYPES.items()), default="yes_no",
                       invalid_choice_message="Choose the kind of answer.")
    choices = StringField("Choices", validators=[Optional(), Length(max=400, message="Use 400 characters or fewer.")])

    def validate_choices(self, field) -> None:
        if self.type.data != "choice":
            return
        if not (self.text.data or "").strip():
            if field.data and field.data.strip():
                raise ValidationError("Enter the question these choices answer, or clear the choices.")
            return
        if len(split_choices(field.data)) < 2:
            raise ValidationError("Enter at least two choices, separated by commas.")

    def validate_text(self, field) -> None:
        if not (field.data or "").strip() and self.type.data == "choice" and (self.choices.data or "").strip():
            raise ValidationError("Enter the question, or clear its choices.")


def split_choices(raw: str | None) -> list[str]:
    seen, result = set(), []
    for part in (raw or "").split(","):
        part = " ".join(part.split())
        if part and part.lower() not in seen:
            seen.add(part.lower())
            result.append(part[:80])
    return result


def question_key(text: str, taken: set[str]) -> str:
    """A short stable key for a new question (answers are stored under it), unique within the list."""
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:30] or "question"
    if not base[0].isalpha():
        base = "q_" + base
    key, n = base, 2
    while key in taken:
        key = f"{base}_{n}"
        n += 1
    return key


class CallListForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name for the list."),
                                           Length(max=160, message="Use 160 characters or fewer.")],
                       description="Callers see this, like ‘New joiners – May’ or ‘Pay ballot: Royal Hospital’.")
    kind = RadioField("Kind of list", choices=enum_choices(CallListKind),
                      validators=[InputRequired("Choose the kind of list.")],
                      invalid_choice_message="Choose the kind of list.")
    branches = CheckboxesField("Branches", description="Only members of these branches can be on the list.")
    script = TextAreaField("Script", validators=[DataRequired("Enter the script callers will read.")],
                           render_kw={"rows": 14})
    questions = FieldList(FormField(QuestionForm), min_entries=QUESTION_ROWS, max_entries=MAX_QUESTIONS)
    cooldown_hours = WholeNumberField(
        "Hours between attempts", low=0, high=720,
        message="Enter the hours between attempts as a whole number from 0 to 720, like 20.",
        validators=[InputRequired("Enter the hours between attempts, like 20.")],
        description="After no answer, voicemail or busy, wait this long before offering the member again.",
        render_kw={"inputmode": "numeric"})
    max_attempts = WholeNumberField(
        "Maximum attempts", low=1, high=20,
        message="Enter the maximum attempts as a whole number from 1 to 20, like 3.",
        validators=[InputRequired("Enter the maximum attempts, like 3.")],
        description="After this many calls with no answer, the member counts as ‘not reached after the last attempt’.",
        render_kw={"inputmode": "numeric"})
    due_days = WholeNumberField(
        "Call within (days)", low=1, high=365,
        message="Enter the days as a whole number from 1 to 365, like 7, or leave it blank.",
        validators=[Optional()],
        description="Optional. New joiners are due this many days after joining; everyone else this many days "
                    "after being added. Applies to members added from now on.",
        render_kw={"inputmode": "numeric"})
    done_rule = RadioField("When is a member done?", choices=enum_choices(DoneRule),
                           validators=[InputRequired("Choose when a member is done.")],
                           invalid_choice_message="Choose when a member is done.")
    auto_fill = BooleanField("Fill from each membership import",
                             description="New joiner and DOCAS leaver lists only: each import adds the branch's "
                                         "new joiners (or DOCAS leavers) to this list.")
    is_active = BooleanField("Active: callers can work this list",
                             description="Untick to pause the list without losing anything.")

    def set_choices(self, branches) -> None:
        self.branches.choices = choices((str(b.id), f"{b.code} – {b.name}") for b in branches)

    def validate_branches(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one branch.")

    def validate_script(self, field) -> None:
        problem = script_error(field.data or "")
        if problem:
            raise ValidationError(problem)

    def validate_auto_fill(self, field) -> None:
        if field.data and self.kind.data not in (CallListKind.NEW_JOINER.value, CallListKind.DOCAS_LEAVER.value):
            raise ValidationError("Only new joiner and DOCAS leaver lists can be filled from imports. "
                                  "Untick this, or change the kind of list.")

    def question_rows(self) -> list[QuestionForm]:
        return [entry.form for entry in self.questions]

    def parsed_questions(self, existing: list[dict]) -> list[dict]:
        """The filled-in question rows as stored on the list; an unchanged row keeps its key."""
        known = {q.get("key") for q in existing if q.get("key")}
        taken: set[str] = set()
        result = []
        for row in self.question_rows():
            text = " ".join((row.text.data or "").split())
            if not text:
                continue
            key = (row.key.data or "").strip()
            if key not in known or not _KEY.match(key) or key in taken:
                key = question_key(text, taken | known)
            taken.add(key)
            question = {"key": key, "text": text, "type": row.type.data}
            if row.type.data == "choice":
                question["choices"] = split_choices(row.choices.data)
            result.append(question)
        return result


def question_rows_data(questions: list[dict]) -> list[dict]:
    """A list's questions as form rows, plus blank rows to add more."""
    rows = [{"key": q.get("key", ""), "text": q.get("text", ""), "type": q.get("type", "yes_no"),
             "choices": ", ".join(q.get("choices") or [])} for q in questions[:MAX_QUESTIONS]]
    wanted = min(MAX_QUESTIONS, max(QUESTION_ROWS, len(rows) + 2))
    rows += [{"key": "", "text": "", "type": "yes_no", "choices": ""}] * (wanted - len(rows))
    return rows


class KindForm(FlaskForm):
    """Step one of a new list: what kind it is (so it starts from the right script)."""

    class Meta:
        csrf = False  # a GET: nothing changes

    kind = RadioField("What kind of list is it?", choices=enum_choices(CallListKind),
                      validators=[InputRequired("Choose the kind of list.")],
                      invalid_choice_message="Choose the kind of list.")


class CallersForm(FlaskForm):
    callers = CheckboxesField("Callers", description="Branch callers and branch officers of the list's branches.")

    def set_choices(self, users) -> None:
        self.callers.choices = [SelectChoice(str(u.id), u.name) for u in users]


class AddFromContactsForm(FlaskForm):
    f = RadioField("Which search?", validators=[InputRequired("Choose one of your contacts searches.")],
                   validate_choice=False)
    confirm = HiddenField()


class FollowUpForm(FlaskForm):
    """The SMS a caller may send after a call on this list (SMS templates only; blank: none)."""

    template = SelectField("Follow-up text", validators=[Optional()], validate_choice=False,
                           description="Callers can tick a box to send this after a call, to members who agreed "
                                       "to texts and have a mobile. It is filled in for each member.")

    def set_choices(self, templates) -> None:
        self.template.choices = choices(((str(t.id), t.name) for t in templates), blank="No follow-up text")

