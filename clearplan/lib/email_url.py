"""Turn an EMAIL_URL into Django email settings.

Supported forms:
    smtp://user:password@host:587          plain SMTP, STARTTLS when ?tls=true
    smtp+tls://user:password@host:587      SMTP with STARTTLS
    smtps://user:password@host:465         SMTP over TLS
    outbox://                               write messages to the local outbox (var/outbox);
                                            demo and development only
    console://                              print messages to the console
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from clearplan.lib.env import ConfigurationError

OUTBOX_BACKEND = "clearplan.messaging.outbox.OutboxEmailBackend"


def parse_email_url(url: str, *, outbox_allowed: bool) -> dict[str, object]:
    """`outbox_allowed` is true only in demo or development mode: the outbox keeps every
    email, sign-in links included, on the server's disk and shows them on a web page, which
    has no place in a real installation."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "outbox":
        if not outbox_allowed:
            raise ConfigurationError(
                "EMAIL_URL=outbox:// keeps emails on this server instead of sending them, and is only for the "
                "demo or development: set CLEARPLAN_DEMO=true or DEBUG=true, or give EMAIL_URL a mail server "
                "such as smtp+tls://user:password@mail.example.com:587."
            )
        return {"EMAIL_BACKEND": OUTBOX_BACKEND}
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ConfigurationError(f"EMAIL_URL scheme {scheme!r} is not one of smtp, smtp+tls, smtps, outbox, console.")
    if not parts.hostname:
        raise ConfigurationError("EMAIL_URL needs a host name, for example smtp://mail.example.com:587.")
    query = parse_qs(parts.query)
    use_tls = scheme == "smtp+tls" or query.get("tls", ["false"])[0].lower() in {"1", "true", "yes"}
    use_ssl = scheme == "smtps"
    try:
        port = parts.port
    except ValueError as error:
        raise ConfigurationError(f"EMAIL_URL has an invalid port: {error}") from error
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if use_ssl else 587 if use_tls else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": 20,
    }
