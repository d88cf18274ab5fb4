"""gunicorn's access log without secrets: a patient link's token (/p/<token>) is written as /p/…,
so the log never holds a working way into someone's treatment pack; an appointment's confirm link
(/a/<token>) is written as /a/…, and an email's unsubscribe link (/u/<token>) as /u/….

    gunicorn --logger-class clearplan.web.gunicorn_logging.AccessLogWithoutTokens ...
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

# /p/ followed by anything that is not one of the patient pages' fixed names is a link's token.
_PATIENT_LINK = re.compile(
    r"/p/(?!(?:images|logo|brand|verify|code|sign-out|signed-out|pdf|engagement|respond|sign|signed)(?:/|\b))[^/?\s\"]+"
)

# /a/<token> at the start of the path is an appointment's confirm link.
_APPOINTMENT_LINK = re.compile(r"(?<!\S)/a/[^/?\s\"]+")

# /u/<token> at the start of the path is the unsubscribe link at the foot of a patient's email.
_UNSUBSCRIBE_LINK = re.compile(r"(?<!\S)/u/[^/?\s\"]+")


def redact(text: str) -> str:
    text = _PATIENT_LINK.sub("/p/…", text)
    text = _APPOINTMENT_LINK.sub("/a/…", text)
    return _UNSUBSCRIBE_LINK.sub("/u/…", text)


class AccessLogWithoutTokens(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("U", "r"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        # The Referer could carry a token copied from elsewhere; it is not needed in the log.
        atoms["f"] = "-"
        return atoms
