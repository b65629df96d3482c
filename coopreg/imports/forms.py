"""Forms of the import pages. The mapping form is built per file: one select per column."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from coopreg.core.forms import choices
from coopreg.core.labels import labels_for
from coopreg.imports import fields as F
from coopreg.imports.models import ImportStatus
from coopreg.imports.services import SAMPLE_ROWS, SourceColumn
from coopreg.members.forms import SECTOR_CHOICES


class UploadForm(FlaskForm):
    file = FileField(_l("Spreadsheet (.xlsx, .ods, .xls or .csv)"),
                     validators=[FileRequired(_l("Choose a file."))])


def field_choices():
    return choices([("", _l("— do not import —"))] + [(f.key, f.label) for f in F.FIELDS])


class MappingForm(FlaskForm):
    """The columns' selects are added by `mapping_form_for` as `col_<index>`."""

    header_row = IntegerField(_l("Header row"), validators=[InputRequired(),
                                                            NumberRange(1, SAMPLE_ROWS)],
                              description=_l("The row of the file that holds the column "
                                             "names."))
    default_sector = SelectField(_l("Sector for rows that have none"),
                                 validators=[Optional()])
    default_joined_on = DateField(_l("Joining date for rows that have none"),
                                  validators=[Optional()])

    def column_fields(self):
        return [f for f in self if f.name.startswith("col_")]

    def mapping(self) -> dict[int, str]:
        return {int(f.name[4:]): f.data or "" for f in self.column_fields()}

    def defaults(self) -> dict:
        return {"sector": self.default_sector.data or None,
                "joined_on": self.default_joined_on.data}


def mapping_form_for(columns: list[SourceColumn], **kwargs) -> MappingForm:
    """A MappingForm with one select per column of the file, labelled by its header."""

    class FileMappingForm(MappingForm):
        pass

    for column in columns:
        setattr(FileMappingForm, f"col_{column.index}",
                SelectField(column.label, choices=field_choices(), validators=[Optional()]))
    form = FileMappingForm(**kwargs)
    form.default_sector.choices = choices([("", _l("— none —"))] + SECTOR_CHOICES)
    return form


class CommitForm(FlaskForm):
    valid_rows_only = BooleanField(_l("Import only the valid rows (the others stay in the "
                                      "problems file)"))
    update_existing = BooleanField(_l("Update members already in the register (matched by "
                                      "national ID) with the file's values"))


class ExportForm(FlaskForm):
    """Posted (it starts a job); a GET with the fields only fills the form in."""

    as_of = DateField(_l("Register on"), validators=[Optional()],
                      description=_l("Empty: every member, with today's status."))
    format = SelectField(_l("Format"), choices=choices([("xlsx", "Excel (.xlsx)"),
                                                        ("csv", "CSV")]),
                         validators=[InputRequired()])


IMPORT_STATUS_LABELS = labels_for(ImportStatus, {
    ImportStatus.DRAFT: _l("Draft"), ImportStatus.PREVIEWED: _l("Rows checked"),
    ImportStatus.COMMITTED: _l("Imported"), ImportStatus.FAILED: _l("Failed")})
