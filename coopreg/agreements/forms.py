"""Forms of the agreements area. Each lists its fields explicitly (no mass assignment)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from coopreg.agreements.coverage import BRANCH_LABELS
from coopreg.agreements.models import (
    HOW_TO_CLAIM_MAX,
    MEMBER_BENEFITS_MAX,
    DependantStatus,
    OutsideSource,
    PayerKind,
    RegistrationStatus,
    RuleKind,
    Schedule,
)
from coopreg.core.forms import MoneyField, choices
from coopreg.core.labels import labels_for
from coopreg.members.forms import RELATION_CHOICES

MONTH_LABELS = (_l("January"), _l("February"), _l("March"), _l("April"), _l("May"),
                _l("June"), _l("July"), _l("August"), _l("September"), _l("October"),
                _l("November"), _l("December"))

SCHEDULE_LABELS = labels_for(Schedule, {
    Schedule.MONTHLY: _l("Monthly"),
    Schedule.QUARTERLY: _l("Quarterly (March, June, September, December)"),
    Schedule.YEARLY: _l("Yearly (in one month)"),
    Schedule.SEASONAL: _l("Seasonal (only in the season's months)"),
})

RULE_LABELS = labels_for(RuleKind, {
    RuleKind.FLAT: _l("A flat amount per period"),
    RuleKind.RATE: _l("A rate of the member's declared income"),
    RuleKind.SCALE: _l("A scale of income brackets"),
    RuleKind.CATEGORY: _l("A scale of categories members are placed in"),
})

PAYER_LABELS = labels_for(PayerKind, {
    PayerKind.MEMBER: _l("The member"),
    PayerKind.COOPERATIVE: _l("The cooperative"),
    PayerKind.STATE: _l("The state"),
    PayerKind.THIRD_PARTY: _l("Another third party"),
})

PAYER_CHOICES = choices([("", _l("None")), (PayerKind.STATE.value, PAYER_LABELS[PayerKind.STATE]),
                         (PayerKind.THIRD_PARTY.value, PAYER_LABELS[PayerKind.THIRD_PARTY])])

REGISTRATION_STATUS_LABELS = labels_for(RegistrationStatus, {
    RegistrationStatus.PENDING: _l("Pending"),
    RegistrationStatus.READY: _l("Ready"),
    RegistrationStatus.SUBMITTED: _l("Submitted"),
    RegistrationStatus.REGISTERED: _l("Registered"),
    RegistrationStatus.REJECTED: _l("Rejected"),
    RegistrationStatus.SUSPENDED: _l("Suspended"),
    RegistrationStatus.TERMINATED: _l("Terminated"),
})

DEPENDANT_STATUS_LABELS = labels_for(DependantStatus, {
    DependantStatus.ENROLLED: _l("Enrolled"),
    DependantStatus.SUBMITTED: _l("Sent"),
    DependantStatus.REGISTERED: _l("Registered"),
    DependantStatus.REJECTED: _l("Rejected"),
    DependantStatus.TERMINATED: _l("Terminated"),
})

OUTSIDE_SOURCE_LABELS = labels_for(OutsideSource, {
    OutsideSource.EMPLOYER: _l("Through an employer"),
    OutsideSource.SPOUSE: _l("Through a spouse or partner"),
    OutsideSource.STATE: _l("By the state (non-contributory)"),
    OutsideSource.OTHER_SCHEME: _l("Through another scheme"),
})


class CheckboxesField(SelectMultipleField):
    """A set of checkboxes (a multiple choice everyone can use on a phone)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class InstitutionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    short_name = StringField(_l("Short name"), validators=[DataRequired(), Length(max=40)],
                             description=_l("As people say it, for example CCSS or PhilHealth."))
    country = StringField(_l("Country"), validators=[DataRequired(), Length(min=2, max=2)],
                          description=_l("Two-letter ISO code, for example CR or PH."))


def _one_newline(text: str | None) -> str | None:
    """A browser sends a textarea's line breaks as CR LF: count each as one character, as the
    browser's own limit does."""
    return text.replace("\r\n", "\n") if isinstance(text, str) else text


def _text_limit(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters, so that the sheet fits "
                                        "on one page: this text has %(length)d."))


class SchemeForm(FlaskForm):
    name = StringField(_l("Scheme name"), validators=[DataRequired(), Length(max=200)])
    branches = CheckboxesField(_l("Branches of social protection it covers"),
                               choices=choices((b.value, label)
                                               for b, label in BRANCH_LABELS.items()))
    member_benefits = TextAreaField(
        _l("What members get"), filters=[_one_newline],
        validators=[Optional(), _text_limit(MEMBER_BENEFITS_MAX)], render_kw={"rows": 6},
        description=_l("For the awareness sheet members receive, in plain words: what the "
                       "scheme pays or gives, and to whom. Printed as you type it (it is not "
                       "translated)."))
    how_to_claim = TextAreaField(
        _l("How to claim"), filters=[_one_newline],
        validators=[Optional(), _text_limit(HOW_TO_CLAIM_MAX)], render_kw={"rows": 8},
        description=_l("The steps, the documents to bring, where to go and the phone number. "
                       "One step per line."))


class AgreementForm(FlaskForm):
    institution_id = SelectField(_l("Institution"), coerce=int, validators=[DataRequired()])
    reference = StringField(_l("Reference number"), validators=[DataRequired(), Length(max=60)])
    signed_on = DateField(_l("Signed on"), validators=[Optional()])
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_to = DateField(_l("Valid to"), validators=[Optional()],
                         description=_l("Leave empty while it runs; agreements renewed yearly "
                                        "end on the renewal date."))
    member_number_pattern = StringField(
        _l("Institution's member number pattern"), validators=[Optional(), Length(max=200)],
        description=_l("A regular expression the whole number must match, for example "
                       "[0-9]{2}-[0-9]{9}-[0-9]."))
    scheme_ids = CheckboxesField(_l("Schemes"), coerce=int)
    document_type_ids = CheckboxesField(_l("Documents required for registration"), coerce=int)

    AGREEMENT_FIELDS = ("institution_id", "reference", "signed_on", "valid_from", "valid_to",
                        "member_number_pattern", "scheme_ids", "document_type_ids")

    def agreement_data(self) -> dict:
        return {name: getattr(self, name).data for name in self.AGREEMENT_FIELDS}


class TermsFields(FlaskForm):
    rule_kind = SelectField(_l("Contribution rule"),
                            choices=choices((k.value, v) for k, v in RULE_LABELS.items()),
                            validators=[DataRequired()])
    flat_amount = MoneyField(_l("Amount per period"), required=False,
                             description=_l("For a flat amount."))
    rate_percent = StringField(_l("Rate (percent of declared income)"),
                               validators=[Optional(), Length(max=10)],
                               description=_l("For a rate, for example 10.5."))
    floor = MoneyField(_l("Income floor"), required=False,
                       description=_l("The rate applies to at least this monthly income."))
    ceiling = MoneyField(_l("Income ceiling"), required=False,
                         description=_l("… and to at most this monthly income."))
    member_share_percent = StringField(
        _l("Member's share (%)"), validators=[DataRequired(), Length(max=10)],
        description=_l("The rest is paid by the cooperative or a subsidy."))
    schedule = SelectField(_l("Schedule"),
                           choices=choices((k.value, v) for k, v in SCHEDULE_LABELS.items()),
                           validators=[DataRequired()])
    due_months = CheckboxesField(_l("Months in which dues fall"), coerce=int,
                                 choices=choices((i + 1, m) for i, m in enumerate(MONTH_LABELS)),
                                 description=_l("For a seasonal schedule (the harvest months) "
                                                "or a yearly one (one month)."))
    due_day = IntegerField(_l("Due day of the month"), default=15,
                           validators=[DataRequired(), NumberRange(1, 31)])
    grace_days = IntegerField(_l("Grace days"), default=0,
                              validators=[Optional(), NumberRange(0, 365)])
    remittance_deadline_days = IntegerField(
        _l("Remittance deadline (days after the period's end)"), default=15,
        validators=[Optional(), NumberRange(0, 365)])

    scale = TextAreaField(
        _l("The scale (one row a line)"), validators=[Optional(), Length(max=4000)],
        description=_l("For a scale only. Each line: code; income from (brackets; empty for "
                       "categories); amount per period, or a rate ending in %; the member's "
                       "share %; the first other payer's share %; the second's. Empty "
                       "shares are the terms' own. Example: A; 0; 10%; 40; 50"))
    suspended_no_dues = BooleanField(
        _l("Suspended registrations owe no dues"),
        description=_l("From the first month that starts after the suspension."))
    # up to two third parties (the state, a municipality, a donor); the cooperative pays what
    # the member and they leave
    payer1_kind = SelectField(_l("Third payer"), choices=PAYER_CHOICES, default="")
    payer1_name = StringField(_l("Its name"), validators=[Optional(), Length(max=120)],
                              description=_l("For example: Estado (FODESAF), Municipalidad."))
    payer1_share_percent = StringField(_l("Its share (%)"),
                                       validators=[Optional(), Length(max=10)])
    payer1_fixed_amount = MoneyField(_l("Or a fixed amount per period"), required=False)
    payer1_direct = BooleanField(_l("Pays the institution directly (not through the "
                                    "cooperative)"))
    payer2_kind = SelectField(_l("Another payer"), choices=PAYER_CHOICES, default="")
    payer2_name = StringField(_l("Its name"), validators=[Optional(), Length(max=120)])
    payer2_share_percent = StringField(_l("Its share (%)"),
                                       validators=[Optional(), Length(max=10)])
    payer2_fixed_amount = MoneyField(_l("Or a fixed amount per period"), required=False)
    payer2_direct = BooleanField(_l("Pays the institution directly (not through the "
                                    "cooperative)"))

    TERMS_FIELDS = ("rule_kind", "flat_amount", "rate_percent", "floor", "ceiling",
                    "member_share_percent", "schedule", "due_months", "due_day", "grace_days",
                    "remittance_deadline_days")

    def terms_data(self) -> dict:
        data = {name: getattr(self, name).data for name in self.TERMS_FIELDS}
        data["suspended_accrue"] = not self.suspended_no_dues.data
        data["scale"] = self.scale.data or ""
        data["payers"] = [
            {"kind": getattr(self, f"payer{i}_kind").data,
             "name": getattr(self, f"payer{i}_name").data,
             "share_percent": getattr(self, f"payer{i}_share_percent").data,
             "fixed_amount": getattr(self, f"payer{i}_fixed_amount").data,
             "through_cooperative": not getattr(self, f"payer{i}_direct").data}
            for i in (1, 2) if getattr(self, f"payer{i}_kind").data]
        if hasattr(self, "effective_from"):
            data["effective_from"] = self.effective_from.data
            data["note"] = self.note.data
        return data


class NewAgreementForm(AgreementForm, TermsFields):
    """An agreement and its first terms (in force from the agreement's start)."""


class TermsForm(TermsFields):
    effective_from = DateField(_l("Takes effect from"), validators=[DataRequired()])
    note = StringField(_l("What changed, and why"), validators=[Optional(), Length(max=300)])


class TransitionForm(FlaskForm):
    to_status = HiddenField(validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=300)])
    institution_member_number = StringField(_l("Institution's member number"),
                                            validators=[Optional(), Length(max=40)])
    coverage_start = DateField(_l("Coverage starts on"), validators=[Optional()])
    rejection_reason = StringField(_l("The institution's reason"),
                                   validators=[Optional(), Length(max=300)])


class EnrolForm(FlaskForm):
    agreement_id = SelectField(_l("Agreement"), coerce=int, validators=[DataRequired()])


# ---- families and outside coverage --------------------------------------------------------

class FamilyRuleForm(FlaskForm):
    relation = SelectField(_l("Relationship"))
    max_age = IntegerField(_l("Covered up to the age of"), validators=[Optional()],
                           description=_l("Leave empty: at any age."))
    student_max_age = IntegerField(_l("Up to the age of, while studying"),
                                   validators=[Optional()])
    disabled_any_age = BooleanField(_l("At any age with a disability"))
    surcharge = MoneyField(_l("Surcharge per period paid by the member"), required=False,
                           description=_l("Leave empty when the cover is free."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.relation.choices = choices(RELATION_CHOICES)


class EnrolDependantForm(FlaskForm):
    dependant_id = SelectField(_l("Dependant"), coerce=int, validators=[DataRequired()])


class DependantTransitionForm(FlaskForm):
    to_status = SelectField(_l("New status"))
    institution_number = StringField(_l("Institution number"),
                                     validators=[Optional(), Length(max=40)])
    coverage_start = DateField(_l("Coverage from"), validators=[Optional()])
    rejection_reason = StringField(_l("The institution's reason"),
                                   validators=[Optional(), Length(max=300)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.to_status.choices = choices((s.value, label)
                                         for s, label in DEPENDANT_STATUS_LABELS.items())


class OutsideCoverageForm(FlaskForm):
    source = SelectField(_l("Covered through"))
    branches = CheckboxesField(_l("For"), choices=choices(
        (b.value, label) for b, label in BRANCH_LABELS.items()))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)],
                       description=_l("The employer's or scheme's name, for example."))
    declared_on = DateField(_l("Declared on"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = choices((s.value, label)
                                      for s, label in OUTSIDE_SOURCE_LABELS.items())


class CategoryPlacementForm(FlaskForm):
    """Place a member in a category of the agreement's scale from a date."""

    member_number = StringField(_l("Member number"), validators=[DataRequired(),
                                                                 Length(max=40)])
    code = SelectField(_l("Category"))
    effective_from = DateField(_l("From"), validators=[DataRequired()])


class IncomeDeclarationForm(FlaskForm):
    """A member's declared income from a date (moves them between a scale's brackets)."""

    member_number = StringField(_l("Member number"), validators=[DataRequired(),
                                                                 Length(max=40)])
    income = MoneyField(_l("Declared monthly income"))
    effective_from = DateField(_l("From"), validators=[DataRequired()])
