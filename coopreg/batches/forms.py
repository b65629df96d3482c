"""Forms of the batches area (choices filled in by the views)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from coopreg.batches.answer_reading import ROLE_LABELS, AnswerResult, AnswerRole
from coopreg.batches.layouts import (
    ALIGNMENTS,
    DEPENDANTS_MODES,
    ENCODINGS,
    FORMAT_LABELS,
    KIND_LABELS,
    TRANSFORMS,
)
from coopreg.batches.models import AckStatus, BatchStatus
from coopreg.core.forms import MonthField, choices
from coopreg.core.labels import labels_for

POLICY_CHOICES = (("exclude", _l("Leave lines with problems out of the file")),
                  ("block", _l("Block sealing while any line has a problem")))
STATUS_LABELS = labels_for(BatchStatus, {
    BatchStatus.DRAFT: _l("Draft"), BatchStatus.DISCARDED: _l("Discarded"),
    BatchStatus.SEALED: _l("Sealed"), BatchStatus.SENT: _l("Sent"),
    BatchStatus.PARTIALLY_ACKNOWLEDGED: _l("Partly answered"),
    BatchStatus.ACKNOWLEDGED: _l("Answered"), BatchStatus.SUPERSEDED: _l("Superseded")})
ACK_STATUS_LABELS = labels_for(AckStatus, {
    AckStatus.UPLOADED: _l("read, not applied yet"), AckStatus.APPLIED: _l("applied"),
    AckStatus.DISCARDED: _l("discarded"), AckStatus.EXPIRED: _l("expired, never applied")})
ACK_RESULT_LABELS = labels_for(AnswerResult, {AnswerResult.ACCEPTED: _l("Accepted"),
                                              AnswerResult.REJECTED: _l("Rejected")})
CHANNEL_LABELS = {"portal": _l("The institution's web portal"), "email": _l("Email"),
                  "in_person": _l("Delivered in person"), "post": _l("Post"),
                  "other": _l("Other")}


def kind_choices():
    return choices((k.value, label) for k, label in KIND_LABELS.items())


class NewBatchForm(FlaskForm):
    agreement_id = SelectField(_l("Agreement"), coerce=int, validators=[DataRequired()])
    kind = SelectField(_l("Kind of batch"), validators=[DataRequired()])
    period = MonthField(_l("Period (remittance)"), validators=[Optional(), Length(max=7)],
                         description=_l("The month, for example 2025-03."),
                         render_kw={"placeholder": "YYYY-MM"})
    policy = SelectField(_l("Lines with problems"), default="exclude")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices()
        self.policy.choices = choices(POLICY_CHOICES)


class PolicyForm(FlaskForm):
    policy = SelectField(_l("Lines with problems"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.policy.choices = choices(POLICY_CHOICES)


class SentForm(FlaskForm):
    sent_on = DateField(_l("Sent on"), validators=[DataRequired()])
    channel = SelectField(_l("How"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)],
                       description=_l("For example the portal's receipt number."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = choices(CHANNEL_LABELS.items())


# how an xlsx layout's header and footer records are written (see batches.writers)
FORM_RECORDS = _l("In an xlsx file: records “Title|value” separated by “;”, on a sheet of "
                  "their own.")


class LayoutForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    format = SelectField(_l("File format"))
    encoding = SelectField(_l("Text encoding (CSV, fixed width)"))
    delimiter = SelectField(_l("CSV delimiter"))
    decimal_mark = SelectField(_l("Decimal mark (CSV, fixed width)"))
    include_header = BooleanField(_l("Write a line of column titles"), default=True)
    header_line = StringField(_l("Header record (fixed width) or the form's header (xlsx)"),
                              validators=[Optional(), Length(max=500)],
                              description=FORM_RECORDS)
    footer_line = StringField(_l("Summary record (fixed width) or the form's footer (xlsx)"),
                              validators=[Optional(), Length(max=500)],
                              description=FORM_RECORDS)
    dependants_mode = SelectField(_l("Dependants in the file (enrolment)"),
                                  validators=[Optional()],
                                  description=_l("The dependants enrolled with each member: a "
                                                 "line each after the member's line "
                                                 "(“Dependant's …” columns), or columns on the "
                                                 "member's line (“… (dependant 1)”)."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dependants_mode.choices = choices(DEPENDANTS_MODES.items())
        self.format.choices = choices((k.value, v) for k, v in FORMAT_LABELS.items())
        self.encoding.choices = choices(ENCODINGS.items())
        self.delimiter.choices = choices(((",", _l("Comma ,")), (";", _l("Semicolon ;"))))
        self.decimal_mark.choices = choices(((".", _l("Dot 1234.50")),
                                             (",", _l("Comma 1234,50"))))


class NewLayoutForm(FlaskForm):
    agreement_id = SelectField(_l("Agreement"), coerce=int, validators=[DataRequired()])
    kind = SelectField(_l("Kind of batch"), validators=[DataRequired()])
    built_in = SelectField(_l("Start from"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices()


class CopyLayoutForm(FlaskForm):
    agreement_id = SelectField(_l("Copy to agreement"), coerce=int,
                               validators=[DataRequired()])


class ColumnForm(FlaskForm):
    header = StringField(_l("Header"), validators=[DataRequired(), Length(max=120)])
    source = SelectField(_l("Value"))
    fixed_value = StringField(_l("Fixed value"), validators=[Optional(), Length(max=200)])
    col_type = SelectField(_l("Written as"))
    date_pattern = StringField(_l("Date pattern"), validators=[Optional(), Length(max=40)],
                               description=_l("%d day, %m month, %Y year: %d/%m/%Y"))
    id_format = SelectField(_l("IDs"))
    decimals = IntegerField(_l("Decimals"), default=2,
                            validators=[Optional(), NumberRange(0, 6)])
    implied_decimals = BooleanField(_l("Implied decimals (no mark: 1234.50 → 123450)"))
    transform = SelectField(_l("Text"))
    width = IntegerField(_l("Width (fixed width)"), validators=[Optional(),
                                                               NumberRange(1, 500)])
    align = SelectField(_l("Align"))
    pad = SelectField(_l("Pad with"))
    required = BooleanField(_l("Required: a line without it has a problem"))

    def __init__(self, *args, source_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = choices(source_choices)
        self.col_type.choices = choices((("text", _l("Text")), ("number", _l("Number")),
                                         ("date", _l("Date")), ("amount", _l("Amount"))))
        self.id_format.choices = choices((("compact", _l("Compact (digits only)")),
                                          ("formatted", _l("With separators"))))
        self.transform.choices = choices(TRANSFORMS.items())
        self.align.choices = choices(ALIGNMENTS.items())
        self.pad.choices = choices(((" ", _l("Spaces")), ("0", _l("Zeros"))))

    def data_dict(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "header", "source", "fixed_value", "col_type", "date_pattern", "id_format",
            "decimals", "implied_decimals", "transform", "width", "align", "pad",
            "required")}


class AckUploadForm(FlaskForm):
    file = FileField(_l("The institution's answer (xlsx, ods, xls or CSV)"),
                     validators=[FileRequired()])


class AckMappingForm(FlaskForm):
    id_number = SelectField(ROLE_LABELS[AnswerRole.ID_NUMBER])
    member_number = SelectField(ROLE_LABELS[AnswerRole.MEMBER_NUMBER])
    institution_number = SelectField(ROLE_LABELS[AnswerRole.INSTITUTION_NUMBER])
    result = SelectField(ROLE_LABELS[AnswerRole.RESULT])
    reason = SelectField(ROLE_LABELS[AnswerRole.REASON])
    effective_date = SelectField(ROLE_LABELS[AnswerRole.EFFECTIVE_DATE])
    accepted_values = StringField(_l("Values meaning accepted"),
                                  validators=[DataRequired(), Length(max=200)],
                                  description=_l("Separated by commas; case and accents "
                                                 "do not matter."))
    rejected_values = StringField(_l("Values meaning rejected"),
                                  validators=[DataRequired(), Length(max=200)])
    date_order = SelectField(_l("How the file writes its dates"), default="", choices=choices([
        ("", _l("Read it from the file's dates")),
        ("dmy", _l("Day first (31/12/2025)")), ("mdy", _l("Month first (12/31/2025)"))]))

    ROLE_FIELDS = tuple(role.value for role in AnswerRole)

    def set_headers(self, headers: list[str]) -> None:
        options = choices([("", _l("— not in the file —"))] + [(h, h) for h in headers if h])
        for name in self.ROLE_FIELDS:
            getattr(self, name).choices = options

    def fill(self, proposal) -> None:
        """Start from what the file's headers and words propose (see acks.propose)."""
        for role, header in proposal.columns.items():
            getattr(self, role.value).data = header or ""
        self.accepted_values.data = proposal.accepted_text
        self.rejected_values.data = proposal.rejected_text
        self.date_order.data = proposal.date_order or ""
