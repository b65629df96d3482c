"""Member forms. Each lists its fields explicitly (no mass assignment)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from coopreg.core.forms import MoneyField, choices
from coopreg.core.labels import labels_for
from coopreg.core.languages import LANGUAGE_NAMES
from coopreg.members.models import (
    CivilStatus,
    ConsentMethod,
    DependantRelation,
    MemberStatus,
    Sector,
    Sex,
)

SEX_CHOICES = [(Sex.FEMALE.value, _l("Female")), (Sex.MALE.value, _l("Male")),
               (Sex.OTHER.value, _l("Other"))]

SECTOR_LABELS = labels_for(Sector, {
    Sector.AGRICULTURE: _l("Agriculture"),
    Sector.HOME_BASED_WORK: _l("Home-based work"),
    Sector.WASTE_PICKING: _l("Waste picking"),
    Sector.STREET_VENDING: _l("Street vending"),
    Sector.DOMESTIC_WORK: _l("Domestic work"),
    Sector.TRANSPORT: _l("Transport"),
    Sector.ARTS_AND_CULTURE: _l("Arts and culture"),
    Sector.PLATFORM_WORK: _l("Platform work"),
    Sector.CARE: _l("Care"),
    Sector.FISHING: _l("Fishing"),
    Sector.CRAFTS: _l("Crafts"),
    Sector.OTHER: _l("Other"),
})
SECTOR_CHOICES = [(s.value, label) for s, label in SECTOR_LABELS.items()]

STATUS_LABELS = labels_for(MemberStatus, {
    MemberStatus.ACTIVE: _l("Active"),
    MemberStatus.SUSPENDED: _l("Suspended"),
    MemberStatus.LEFT: _l("Left"),
    MemberStatus.DECEASED: _l("Deceased"),
})

CONSENT_CHOICES = [("", _l("—")), (ConsentMethod.SIGNED_FORM.value, _l("Signed form")),
                   (ConsentMethod.THUMBPRINT.value, _l("Thumbprint")),
                   (ConsentMethod.VERBAL_WITNESSED.value, _l("Verbal, witnessed")),
                   (ConsentMethod.DIGITAL.value, _l("Digital"))]

RELATION_CHOICES = [(DependantRelation.SPOUSE.value, _l("Spouse or partner")),
                    (DependantRelation.CHILD.value, _l("Child")),
                    (DependantRelation.PARENT.value, _l("Parent")),
                    (DependantRelation.OTHER.value, _l("Other"))]


CIVIL_STATUS_LABELS = labels_for(CivilStatus, {
    CivilStatus.SINGLE: _l("Single"),
    CivilStatus.MARRIED: _l("Married"),
    CivilStatus.COMMON_LAW: _l("Common-law union"),
    CivilStatus.SEPARATED: _l("Separated"),
    CivilStatus.DIVORCED: _l("Divorced"),
    CivilStatus.WIDOWED: _l("Widowed"),
})
CIVIL_STATUS_CHOICES = [("", _l("—")), *((c.value, label)
                                        for c, label in CIVIL_STATUS_LABELS.items())]

labels_for(Sex, dict(SEX_CHOICES))
labels_for(ConsentMethod, {k: v for k, v in CONSENT_CHOICES if k})
labels_for(DependantRelation, dict(RELATION_CHOICES))

MEMBER_LANGUAGE_CHOICES = [("", _l("The cooperative's language")), *LANGUAGE_NAMES.items()]


class MemberForm(FlaskForm):
    member_number = StringField(_l("Member number"), validators=[Optional(), Length(max=20)],
                                description=_l("Leave empty to get the next number."))
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    middle_name = StringField(_l("Middle name"), validators=[Optional(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    second_last_name = StringField(_l("Second last name"),
                                   validators=[Optional(), Length(max=100)])
    name_extension = StringField(_l("Name extension"), validators=[Optional(), Length(max=10)],
                                 description=_l("Jr., Sr., III…"))
    mothers_maiden_name = StringField(_l("Mother's maiden name"),
                                      validators=[Optional(), Length(max=100)])
    civil_status = SelectField(_l("Civil status"), choices=choices(CIVIL_STATUS_CHOICES),
                               validators=[Optional()])
    nationality = SelectField(_l("Nationality"), validators=[Optional()])
    tax_number = StringField(_l("Tax number"), validators=[Optional(), Length(max=40)])
    # no sex preselected: a person is asked, not assumed (an empty first choice, required)
    sex = SelectField(_l("Sex"), choices=choices([("", _l("Choose…")), *SEX_CHOICES]),
                      validators=[DataRequired()])
    # InputRequired, not DataRequired: a mistyped date must say so, not "required"
    date_of_birth = DateField(_l("Date of birth"), validators=[InputRequired()])
    id_type = SelectField(_l("ID type"), validators=[Optional()])
    id_number = StringField(_l("ID number"), validators=[Optional(), Length(max=40)])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=30)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    province_code = SelectField(_l("Province"), validators=[Optional()])
    canton_code = SelectField(_l("Canton"), validators=[Optional()])
    district_code = SelectField(_l("District"), validators=[Optional()])
    locality = StringField(_l("Locality"), validators=[Optional(), Length(max=120)])
    sector = SelectField(_l("Sector"), choices=choices(SECTOR_CHOICES), validators=[DataRequired()])
    occupation = StringField(_l("Occupation"), validators=[Optional(), Length(max=120)])
    declared_income = MoneyField(_l("Declared monthly income"), required=False)
    joined_on = DateField(_l("Joined on"), validators=[InputRequired()])
    consent_given = BooleanField(_l("Consents to share data with institutions"))
    consent_date = DateField(_l("Consent date"), validators=[Optional()])
    consent_method = SelectField(_l("How consent was given"), choices=choices(CONSENT_CHOICES),
                                 validators=[Optional()])
    language = SelectField(_l("Language for printed documents"),
                           choices=choices(MEMBER_LANGUAGE_CHOICES), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    confirm_duplicate = HiddenField()
    version = HiddenField()

    DATA_FIELDS = ("member_number", "first_name", "middle_name", "last_name",
                   "second_last_name", "name_extension", "mothers_maiden_name", "sex",
                   "date_of_birth", "civil_status", "nationality", "id_type", "id_number",
                   "tax_number", "phone", "email", "address", "province_code", "canton_code",
                   "district_code", "locality", "sector", "occupation", "declared_income",
                   "joined_on", "consent_given", "consent_date", "consent_method", "language",
                   "notes")

    def member_data(self) -> dict:
        return {name: getattr(self, name).data for name in self.DATA_FIELDS}


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[DataRequired()])
    effective_on = DateField(_l("Effective date"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=300)])


class DependantForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    relation = SelectField(_l("Relationship"), choices=choices(RELATION_CHOICES),
                           validators=[DataRequired()])
    date_of_birth = DateField(_l("Date of birth"), validators=[Optional()])
    id_number = StringField(_l("ID number"), validators=[Optional(), Length(max=40)])
    student = BooleanField(_l("Studying"))
    disabled = BooleanField(_l("Lives with a disability"))
