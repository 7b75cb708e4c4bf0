from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField

from ..formtools import choices, enum_choices
from .models import ImportScope


class UploadForm(FlaskForm):
    file = FileField("Membership export", validators=[FileRequired("Choose the export file to upload.")],
                     description="CSV or Excel (.xlsx) file from the national membership system")


class ScopeForm(FlaskForm):
    scope = RadioField("What does this file cover?", choices=enum_choices(ImportScope), default=ImportScope.PARTIAL.value)
    branch = SelectField("Branch", description="The branch of every row without a branch code, and of a branch export.")

    def set_branches(self, branches, region_wide: bool) -> None:
        self.branch.choices = choices(((str(b.id), f"{b.code} – {b.name}") for b in branches),
                                      blank="Use the branch code column" if region_wide else None)
        if not region_wide:
            self.scope.choices = [c for c in self.scope.choices if c.value != ImportScope.REGION.value]
