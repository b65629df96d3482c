"""The field page's words: the script's sentences as one JSON catalogue rendered by the server
in the user's language (the script fills in the %(name)s parts), and the choices of its
forms."""

from __future__ import annotations

from flask_babel import gettext as _


def no_photo() -> str:
    return _("No photo was sent.")


def strings() -> dict[str, str]:
    return {
        "online": _("Online"),
        "offline": _("Offline: what you record is kept on this phone."),
        "waiting": _("Waiting to send (%(count)s)"),
        "sending": _("Sending…"),
        "sent": _("Everything waiting was sent."),
        "kept": _("Kept on this phone; it is sent when there is a signal."),
        "offline_now": _("No signal now: nothing is lost, it is sent later."),
        "server_error": _("The office did not answer as expected; try again later."),
        "log_in_again": _("Your session has ended: log in again to send (nothing is lost)."),
        "no_crypto": _("This browser cannot encrypt what it keeps; field mode needs a recent "
                       "browser over HTTPS."),
        "download_first": _("Download the members of your localities first."),
        "downloaded": _("%(count)s members downloaded to this phone."),
        "downloaded_on": _("Downloaded on %(date)s: %(count)s members."),
        "wiped": _("The downloaded members were wiped from this phone (older than %(days)s "
                   "days). Download them again."),
        "not_a_photo": _("This file is not a photo."),
        "label_enrol": _("Enrolment of %(name)s"),
        "label_update": _("Changes to %(name)s"),
        "label_photo": _("Photo for: %(name)s"),
        "label_receipt": _("Receipt %(number)s: %(name)s, %(amount)s"),
        "slip": _("Received from %(name)s: %(amount)s on %(date)s."),
        "enrol_title": _("Enrol a member"),
        "edit_title": _("Change %(name)s"),
        "edit": _("Change"),
        "choose": _("Choose…"),
        "new_member": _("%(name)s (new, waiting to send)"),
        "mine": _("On this phone"),
        "office": _("At the office"),
        "keep_mine": _("Keep mine"),
        "keep_office": _("Keep the office's"),
        "dismiss": _("Dismiss"),
        "print": _("Print the receipt"),
        "final_number": _("receipt number %(number)s"),
        "state_waiting": _("Waiting to send"),
        "state_created": _("Recorded at the office"),
        "state_already_there": _("Was already at the office"),
        "state_conflict": _("Conflict"),
        "state_refused": _("Refused by the office"),
        "state_kept_office": _("Office's version kept"),
        "field_first_name": _("First name"),
        "field_last_name": _("Last name"),
        "field_phone": _("Phone"),
        "field_address": _("Address"),
        "field_locality": _("Locality"),
        "field_date_of_birth": _("Date of birth"),
        "field_id_number": _("ID number"),
        "field_consent_given": _("Consent given"),
        "field_consent_date": _("Consent date"),
        "field_consent_method": _("How consent was given"),
        "field_occupation": _("Occupation"),
        "field_sector": _("Sector"),
        "field_sex": _("Sex"),
        "provisional": _("PROVISIONAL receipt"),
        "sheet_total": _("%(count)s paid, %(total)s in all"),
        "sheet_empty": _("Nobody on the sheet has an amount: type what each member paid on "
                         "their line."),
        "sheet_paid_by": _("Paid by %(name)s"),
    }
