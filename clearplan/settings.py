"""Clearplan settings. Everything that differs between installations comes from the
environment through the strict helpers in clearplan.lib.env; see the README for the list."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from clearplan.lib.email_url import parse_email_url
from clearplan.lib.env import ConfigurationError, env_bool, env_int, env_list, env_str
from clearplan.lib.sms_url import parse_sms_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CLEARPLAN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
DEMO = env_bool("CLEARPLAN_DEMO", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY", "")
    if key:
        return key
    if DEBUG or DEMO:
        # The demo keeps a generated key under var/ so sessions survive restarts.
        key_file = VAR_DIR / "secret_key"
        if not key_file.exists():
            VAR_DIR.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
            key_file.chmod(0o600)
        return key_file.read_text(encoding="utf-8").strip()
    raise ConfigurationError("SECRET_KEY (or SECRET_KEY_FILE) must be set unless DEBUG or CLEARPLAN_DEMO is on.")


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "clearplan.accounts",
    "clearplan.audit",
    "clearplan.patients",
    "clearplan.catalog",
    "clearplan.plans",
    "clearplan.pipeline",
    "clearplan.messaging",
    "clearplan.packs",
    "clearplan.notifications",
    "clearplan.insights",
    "clearplan.web",
    "clearplan.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the idle time-out, which leaves a message when it signs someone out.
    "django.contrib.messages.middleware.MessageMiddleware",
    "clearplan.accounts.middleware.IdleTimeoutMiddleware",
    "clearplan.accounts.middleware.ActiveClinicMiddleware",
    "clearplan.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "clearplan.urls"
WSGI_APPLICATION = "clearplan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "clearplan" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clearplan.accounts.context_processors.workspace",
            ],
        },
    }
]

# Database: SQLite (WAL) under var/ by default; PostgreSQL through DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    except ValueError as error:
        raise ConfigurationError(f"DATABASE_URL cannot be understood: {error}") from error
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "clearplan.sqlite3"),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
                "transaction_mode": "IMMEDIATE",
            },
            # Tests use a file too, not an in-memory database, so that a worker started as a
            # separate process (the worker-restart test) sees the same database.
            "TEST": {"NAME": str(VAR_DIR / "test_clearplan.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "pipeline:today"

# Sessions: signed-in staff are signed out after a period without activity.
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30, minimum=1)
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not (DEBUG or DEMO))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies in front of Clearplan append to X-Forwarded-For. With 0 the header
# is ignored (anyone can send it); the audit log and sign-in limits then record REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# django-allauth: email sign-in only, no public sign-up (staff are invited).
ACCOUNT_ADAPTER = "clearplan.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_RATE_LIMITS = {
    # Lock-out is ours (clearplan.accounts.lockout) so the message can be clear;
    # allauth's own limits stay as a second line against floods.
    "login_failed": "20/m/ip,10/5m/key",
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Clearplan: "
ACCOUNT_FORMS = {
    "login": "clearplan.accounts.allauth_forms.LoginForm",
    "reset_password": "clearplan.accounts.allauth_forms.ResetPasswordForm",
    "reset_password_from_key": "clearplan.accounts.allauth_forms.ResetPasswordKeyForm",
    "change_password": "clearplan.accounts.allauth_forms.ChangePasswordForm",
    "reauthenticate": "clearplan.accounts.allauth_forms.ReauthenticateForm",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Clearplan"
MFA_RECOVERY_CODE_COUNT = 10
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)

# Background work: the database task backend, run by `manage.py worker` (db_worker plus
# upkeep at start and every minute: tasks abandoned by a stopped worker go back to the
# queue, and finished tasks are cleared away).
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "email"],
    }
}
# A task still marked running this long after it started is treated as abandoned by a
# worker on another machine; keep it longer than any task takes. (A stopped worker on the
# same machine is recognised at once.)
TASKS_ABANDONED_AFTER_MINUTES = env_int("TASKS_ABANDONED_AFTER_MINUTES", 30, minimum=1)
# Finished tasks are kept this long for looking into problems, then deleted.
TASKS_KEEP_FINISHED_DAYS = env_int("TASKS_KEEP_FINISHED_DAYS", 7, minimum=1)

# Email
EMAIL_URL = env_str("EMAIL_URL", "outbox://" if (DEBUG or DEMO) else "")
if EMAIL_URL:
    globals().update(parse_email_url(EMAIL_URL, outbox_allowed=DEBUG or DEMO))
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Clearplan <no-reply@clearplan.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
OUTBOX_DIR = VAR_DIR / "outbox"

# ---------- SMS and delivery reports ----------
# SMS_URL chooses the text-message provider (see clearplan/lib/sms_url.py): twilio://SID:TOKEN@host?from=...,
# or outbox:// (files under OUTBOX_DIR/sms, demo and development only). Empty: SMS is not set up, and
# sending a text message is refused with a message saying so.
SMS_URL = env_str("SMS_URL", "outbox://" if (DEBUG or DEMO) else "")
_SMS = parse_sms_url(SMS_URL, outbox_allowed=DEBUG or DEMO)
SMS_BACKEND = _SMS.backend
SMS_OPTIONS = _SMS.options
# The address providers reach this installation at, for delivery reports (SMS status callbacks).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", SITE_URL).rstrip("/")
# Shared secret of the mail relay's delivery reports to /hooks/email/events/; empty turns them off.
EMAIL_EVENTS_SECRET = env_str("EMAIL_EVENTS_SECRET", "")
# Replies to patients' emails come back to reply+<token>@INBOUND_EMAIL_DOMAIN, which the mail provider
# posts (raw MIME) to /hooks/email/inbound/, signed with INBOUND_EMAIL_SECRET. Empty domain: replies go to
# the clinic's own email address instead, and the inbound address is off.
INBOUND_EMAIL_DOMAIN = env_str("INBOUND_EMAIL_DOMAIN", "reply.clearplan.localhost" if (DEBUG or DEMO) else "")
INBOUND_EMAIL_SECRET = env_str("INBOUND_EMAIL_SECRET", "")
# ---------- end of SMS ----------

# Locale and time: stored in UTC, shown in each clinic's own zone.
LANGUAGE_CODE = "en-au"
TIME_ZONE = env_str("DEFAULT_TIME_ZONE", "Australia/Sydney")
USE_I18N = True
USE_TZ = True
CLEARPLAN_DEFAULT_COUNTRY = env_str("DEFAULT_COUNTRY", "AU")

# Files
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "clearplan" / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Media is never served from a public URL; views stream it after an access check.
MEDIA_URL = "/media-not-public/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines carry paths only; patient data never appears in paths.
        "django.request": {"level": "WARNING"},
    },
}
LOGIN_URL_PATH = "/accounts/login/"
