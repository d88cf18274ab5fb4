"""Why a message was not delivered, in words a receptionist understands, and what to do next.

A failure is stored as a short `kind` (a provider's error code or the class of error: never
the provider's own words, which often repeat the phone number or address) and a sentence for
staff. The next step is worked out from the kind when the case page is shown, so it can be
improved without touching stored rows.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECK_NUMBER = "Check the number on the patient's record and send again."
CHECK_EMAIL = "Check the email address on the patient's record and send again."
ASK_ABOUT_SMS_ACCOUNT = "Ask whoever looks after Clearplan's settings to check the SMS account, then send again."
ASK_ABOUT_MAIL_SERVER = "Ask whoever looks after Clearplan's settings to check the email settings, then send again."
TRY_LATER_OR_EMAIL = "Send again later, or send by email instead."
SEND_AGAIN = "Send again. If it keeps happening, tell whoever looks after Clearplan."


@dataclass(frozen=True)
class Failure:
    kind: str
    detail_for_staff: str
    transient: bool = False

    def __post_init__(self) -> None:
        if len(self.kind) > 40:
            object.__setattr__(self, "kind", self.kind[:40])


# Twilio's error codes (from its reply to sending, or a status callback's ErrorCode):
# code → (what happened, what to do).
_SMS_ERRORS: dict[int, tuple[str, str]] = {
    21211: ("The mobile number was not accepted by the SMS provider: it is not a valid number.", CHECK_NUMBER),
    21614: ("The number on the patient's record is not a mobile, so it can't receive text messages.", CHECK_NUMBER),
    21610: (
        "The patient has replied STOP to the clinic's text messages, so the SMS provider will not send them any more.",
        "Send by email instead. The patient can reply START to the clinic's number to receive texts again.",
    ),
    21612: (
        "The SMS provider can't send to this number from the clinic's sending number.",
        "Send by email instead, and " + ASK_ABOUT_SMS_ACCOUNT[0].lower() + ASK_ABOUT_SMS_ACCOUNT[1:],
    ),
    21408: ("Text messages to this country are not switched on in the practice's SMS account.", ASK_ABOUT_SMS_ACCOUNT),
    21212: ("The clinic's sending number is not set up with the SMS provider.", ASK_ABOUT_SMS_ACCOUNT),
    21606: ("The clinic's sending number is not set up with the SMS provider.", ASK_ABOUT_SMS_ACCOUNT),
    21659: ("The clinic's sending number is not set up with the SMS provider.", ASK_ABOUT_SMS_ACCOUNT),
    21660: ("The clinic's sending number is not set up with the SMS provider.", ASK_ABOUT_SMS_ACCOUNT),
    21617: ("The message was too long for the SMS provider.", "Shorten the message and send again."),
    30003: ("The patient's phone could not be reached (it may be switched off or out of range).", TRY_LATER_OR_EMAIL),
    30004: (
        "The patient's phone or mobile network blocked the message.",
        "Ask the patient whether they block texts from unknown senders, or send by email instead.",
    ),
    30005: ("The mobile number doesn't exist or is no longer in use.", CHECK_NUMBER),
    30006: ("The number can't receive text messages (it may be a landline).", CHECK_NUMBER),
    30007: ("The mobile network filtered the message as unwanted.", "Send by email instead, or call the patient."),
    30008: ("The mobile network could not deliver the message and did not say why.", TRY_LATER_OR_EMAIL),
}

# Reasons a mail relay may give in a delivery report, by category (never its free text).
_EMAIL_REASONS: dict[str, str] = {
    "no_such_user": "The patient's email address doesn't exist at their email provider.",
    "mailbox_full": "The patient's mailbox is full.",
    "domain_not_found": "The part of the email address after the @ doesn't exist.",
    "blocked": "The patient's email provider blocked the message.",
    "spam": "The patient's email provider treated the message as unwanted.",
}

_NEXT_STEPS: dict[str, str] = {
    "sms_not_configured": ASK_ABOUT_SMS_ACCOUNT,
    "sms_gave_up": SEND_AGAIN,
    "sms_refused": CHECK_NUMBER,
    "sms_undelivered": TRY_LATER_OR_EMAIL,
    "sms_sign_in_refused": ASK_ABOUT_SMS_ACCOUNT,
    "sms_network": SEND_AGAIN,
    "sms_http": SEND_AGAIN,
    "sms_outbox": SEND_AGAIN,
    "email_gave_up": SEND_AGAIN,
    "email_refused": CHECK_EMAIL,
    "email_bounced": CHECK_EMAIL,
    "email_failed": CHECK_EMAIL,
    "email_sign_in_refused": ASK_ABOUT_MAIL_SERVER,
    "email_unreachable": SEND_AGAIN,
    "email_mailbox_full": "Ask the patient to make room in their mailbox, or send by SMS instead.",
    "worker_lost": SEND_AGAIN,
}


def sms_error(code: int | None, *, http_status: int | None = None) -> Failure:
    """A provider's refusal of a text message (its error code, when it gave one)."""
    if code is not None and code in _SMS_ERRORS:
        return Failure(kind=f"sms_{code}", detail_for_staff=_SMS_ERRORS[code][0])
    suffix = str(code) if code is not None else f"http_{http_status}" if http_status else ""
    return Failure(
        kind=f"sms_refused_{suffix}".rstrip("_"),
        detail_for_staff="The SMS provider did not accept the message.",
    )


def sms_undelivered(code: int | None) -> Failure:
    """The provider accepted a message and then reported that it could not be delivered."""
    if code is not None and code in _SMS_ERRORS:
        return Failure(kind=f"sms_{code}", detail_for_staff=_SMS_ERRORS[code][0])
    return Failure(
        kind=f"sms_undelivered_{code}" if code is not None else "sms_undelivered",
        detail_for_staff="The mobile network could not deliver the message.",
    )


def email_event_failure(event: str, reason: str) -> Failure:
    """A mail relay's report that an email bounced or failed; `reason` is used only when it is
    one of the known categories."""
    known = _EMAIL_REASONS.get(reason)
    if event == "bounced":
        return Failure(
            kind="email_mailbox_full" if reason == "mailbox_full" else "email_bounced",
            detail_for_staff=known or "The email bounced: the patient's email provider would not accept it.",
        )
    return Failure(kind="email_failed", detail_for_staff=known or "The email could not be delivered.")


def next_step_for(kind: str, *, channel: str) -> str:
    if kind.startswith("sms_") and kind[4:].isdigit() and int(kind[4:]) in _SMS_ERRORS:
        return _SMS_ERRORS[int(kind[4:])][1]
    for prefix, step in _NEXT_STEPS.items():
        if kind == prefix or kind.startswith(prefix + "_"):
            return step
    return CHECK_NUMBER if channel == "sms" else CHECK_EMAIL
