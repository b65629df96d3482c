"""The messaging area's forms and the labels of its codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from coopreg.core.forms import choices
from coopreg.core.labels import labels_for
from coopreg.members.models import ContactChannel
from coopreg.messaging.models import MessageEvent, MessageStatus

EVENT_LABELS = labels_for(MessageEvent, {
    MessageEvent.RECEIPT_RECORDED: _l("Payment received"),
    MessageEvent.REGISTRATION_REGISTERED: _l("Registration accepted"),
    MessageEvent.REGISTRATION_REJECTED: _l("Registration rejected"),
    MessageEvent.DUE_SOON: _l("Contribution due soon"),
    MessageEvent.ARREARS: _l("Arrears past grace"),
    MessageEvent.ONE_TIME_CODE: _l("Sign-in code"),
})
STATUS_LABELS = labels_for(MessageStatus, {
    MessageStatus.QUEUED: _l("Waiting"), MessageStatus.SENDING: _l("Sending"),
    MessageStatus.SENT: _l("Sent"), MessageStatus.FAILED: _l("Failed"),
    MessageStatus.SKIPPED: _l("Not sent"),
})
CHANNEL_LABELS = labels_for(ContactChannel, {
    ContactChannel.SMS: _l("SMS"), ContactChannel.WHATSAPP: _l("WhatsApp"),
    ContactChannel.EMAIL: _l("Email"),
})


class TemplateForm(FlaskForm):
    subject = StringField(_l("Subject (email only)"), validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=1000)],
                         description=_l("Keep it short: an SMS holds 160 characters."))


class ContactForm(FlaskForm):
    contact_consent = BooleanField(_l("Agrees to receive reminders and confirmations"))
    contact_channel = SelectField(_l("By"), validators=[Optional()])
    email = StringField(_l("Email address"), validators=[Optional(), Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact_channel.choices = choices(
            [("", _l("—"))] + [(c.value, CHANNEL_LABELS[c]) for c in ContactChannel])
