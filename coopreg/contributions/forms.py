"""Forms of the contributions area. Each lists its fields explicitly; amounts are
`MoneyField`s (text in the user's format, read by the services with `parse_amount`, never a
float)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from coopreg.contributions.models import PaymentMethod
from coopreg.core.forms import MoneyField, MonthField, choices
from coopreg.core.labels import labels_for

METHOD_LABELS = labels_for(PaymentMethod, {
    PaymentMethod.CASH: _l("Cash"),
    PaymentMethod.BANK_TRANSFER: _l("Bank transfer"),
    PaymentMethod.MOBILE_MONEY: _l("Mobile money"),
    PaymentMethod.PRODUCE_DEDUCTION: _l("Deduction from a produce payment"),
})
METHOD_CHOICES = [(m.value, label) for m, label in METHOD_LABELS.items()]
MONTH_HINT = _l("Year and month, for example 2025-03.")


class GenerateDuesForm(FlaskForm):
    agreement_id = SelectField(_l("Agreement"), coerce=int, validators=[InputRequired()])
    through = MonthField(_l("Month"), validators=[DataRequired(), Length(max=7)],
                          description=_l("The period to bill, usually the current one. Year "
                                         "and month, for example 2025-03."))
    from_start = BooleanField(_l("Also earlier months, from the agreement's start"),
                              description=_l("Catches up every month since the agreement "
                                             "began that has no dues yet. Check the preview: "
                                             "it may bill many months at once."))
    start = MonthField(_l("Or from month"), validators=[Optional(), Length(max=7)],
                        description=_l("Only to reach back to a given month; leave empty to "
                                       "bill the month above alone."))
    confirm = HiddenField()


class ReceiptForm(FlaskForm):
    member_query = StringField(_l("Member"), validators=[Optional(), Length(max=100)],
                               description=_l("Type a name, member number, ID or phone."),
                               render_kw={"autocomplete": "off"})
    member_id = HiddenField()
    received_on = DateField(_l("Received on"), validators=[InputRequired()])
    amount = MoneyField(_l("Amount"))
    method = SelectField(_l("Method"), choices=choices(METHOD_CHOICES),
                         validators=[DataRequired()])
    external_reference = StringField(_l("Reference"), validators=[Optional(), Length(max=80)],
                                     description=_l("The bank's or wallet's transaction "
                                                    "reference."))
    collector = StringField(_l("Collected by"), validators=[Optional(), Length(max=120)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])
    idempotency_key = HiddenField()


class ReverseForm(FlaskForm):
    reason = StringField(_l("Reason for the reversal"),
                         validators=[DataRequired(), Length(min=3, max=300)])


class WriteOffForm(FlaskForm):
    """The reason of an irreversible write-off (confirmed with `confirm_first`)."""

    reason = StringField(_l("Why will this due never be paid?"),
                         validators=[DataRequired(), Length(min=3, max=300)],
                         description=_l("For example: the member died in March 2025."))


class SheetChooseForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it only chooses what to show

    agreement_id = SelectField(_l("Agreement"), coerce=int, validators=[InputRequired()])
    collected_on = DateField(_l("Collection date"), validators=[InputRequired()])
    locality = StringField(_l("Locality (optional)"), validators=[Optional(), Length(max=120)])
    include_deceased = BooleanField(_l("Include deceased members"))


class SheetPostForm(FlaskForm):
    include_deceased = HiddenField()
    agreement_id = HiddenField()
    collected_on = HiddenField()
    locality = HiddenField()
    after = HiddenField()  # the page of the sheet: the cursor it was opened with
    collector = StringField(_l("Collected by"), validators=[Optional(), Length(max=120)])
    method = SelectField(_l("Method"), choices=choices(METHOD_CHOICES),
                         validators=[DataRequired()])
    control_count = StringField(_l("Control: number of payments"),
                                validators=[DataRequired(), Length(max=6)],
                                render_kw={"inputmode": "numeric", "autocomplete": "off"})
    control_total = MoneyField(_l("Control: total collected"))
    idempotency_key = HiddenField()


class RemittanceForm(FlaskForm):
    period = MonthField(_l("Period"), validators=[DataRequired(), Length(max=7)],
                         description=MONTH_HINT)
    remitted_on = DateField(_l("Sent on"), validators=[InputRequired()])
    amount = MoneyField(_l("Amount sent"),
                        description=_l("Must equal the total of the lines."))
    reference = StringField(_l("Transfer reference"), validators=[Optional(), Length(max=80)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class AcknowledgeForm(FlaskForm):
    acknowledged_on = DateField(_l("Confirmed on"), validators=[InputRequired()])
    amount = MoneyField(_l("Amount the institution confirms"))
    reference = StringField(_l("Their reference"), validators=[Optional(), Length(max=80)])


class ClosePeriodForm(FlaskForm):
    period = MonthField(_l("Period to close"), validators=[DataRequired(), Length(max=7)],
                         description=MONTH_HINT)


class StatementUploadForm(FlaskForm):
    source_name = StringField(_l("Source"), validators=[DataRequired(), Length(max=80)],
                              description=_l("The account or wallet, e.g. “Banco Nacional "
                                             "1234”. Its column mapping is kept."),
                              render_kw={"list": "sources", "autocomplete": "off"})
    method = SelectField(_l("Money arrives by"), choices=choices(
        [(m.value, label) for m, label in METHOD_LABELS.items()
         if m in (PaymentMethod.BANK_TRANSFER, PaymentMethod.MOBILE_MONEY)]),
        validators=[DataRequired()])
    file = FileField(_l("Statement (.csv or .xlsx)"),
                     validators=[FileRequired(_l("Choose a file."))])


DATE_ORDER_CHOICES = [("ymd", _l("Year-month-day (2025-03-31)")),
                      ("dmy", _l("Day/month/year (31/03/2025)")),
                      ("mdy", _l("Month/day/year (03/31/2025)"))]


class MappingForm(FlaskForm):
    date_column = SelectField(_l("Booking date"), validators=[DataRequired()])
    amount_column = SelectField(_l("Amount (credit)"), validators=[DataRequired()])
    reference_column = SelectField(_l("Reference"), validators=[Optional()])
    member_column = SelectField(_l("Payer (member number, ID or phone)"),
                                validators=[Optional()])
    description_column = SelectField(_l("Description"), validators=[Optional()])
    date_order = SelectField(_l("Dates are written"), choices=choices(DATE_ORDER_CHOICES),
                             validators=[DataRequired()])


class LinkLineForm(FlaskForm):
    receipt_number = StringField(_l("Receipt number"), validators=[DataRequired(),
                                                                   Length(max=12)])


class ReceiptFromLineForm(FlaskForm):
    member_query = StringField(_l("Member"), validators=[Optional(), Length(max=100)],
                               render_kw={"autocomplete": "off"})
    member_id = HiddenField()
    idempotency_key = HiddenField()


class ThirdPartyPaymentForm(FlaskForm):
    """What a third party (the state, a municipality, a donor) paid of its shares of a
    month's dues."""

    payer_name = SelectField(_l("Who paid"), validators=[DataRequired()])
    paid_on = DateField(_l("Paid on"), validators=[InputRequired()])
    amount = MoneyField(_l("Amount paid"),
                        description=_l("At most what this payer still owes for the month."))
    reference = StringField(_l("Reference of the payment"),
                            validators=[DataRequired(), Length(max=80)],
                            description=_l("The transfer's or the resolution's number."))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])
