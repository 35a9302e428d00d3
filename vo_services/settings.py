"""Django settings for the archive's web services, all taken from :mod:`archive.config`."""
import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from archive.config import get_settings

_s = get_settings()

# Sessions, CSRF tokens and the remembered Basic log-ins are keyed by it: a key known to everyone
# (the one this file once fell back to) would let anyone forge a session. scripts/setup.sh writes
# a random one into var/lick.env.
KNOWN_KEYS = {"", "insecure-development-key-change-me"}
if _s.secret_key.strip() in KNOWN_KEYS:
    raise ImproperlyConfigured(
        "LICK_SECRET_KEY is not set: the archive will not start without its own secret key. "
        "Run scripts/setup.sh (it writes a random one into var/lick.env) or set LICK_SECRET_KEY "
        "in the environment.")
SECRET_KEY = _s.secret_key
DEBUG = _s.debug

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "rest_framework",
    "vo_services",
    "vo_services.tap",
    "vo_services.datalink",
    "vo_services.accounts",
    "vo_services.curation",
    "vo_services.registry",
    "django.contrib.humanize",
    "vo_services.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "vo_services.input_guard.RejectNulCharacters",
    "vo_services.usage_limits.RateLimitMiddleware",  # before any work: sessions, parsing
    "vo_services.sync_slots.SyncQuerySlots",  # a thread of each process kept for cheap requests
    "whitenoise.middleware.WhiteNoiseMiddleware",  # the admin's CSS and scripts, without collectstatic
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

# The public VO services and the internal ingest API are separate URL spaces, served by separate
# gunicorn processes: LICK_URLCONF=ingest.urls selects the latter.
ROOT_URLCONF = os.environ.get("LICK_URLCONF", "vo_services.urls")


def _host(url: str) -> str:
    """A URL's host as ALLOWED_HOSTS spells it (IPv6 literals in brackets)."""
    host = (urlsplit(url).hostname or "").lower()
    return f"[{host}]" if ":" in host else host


# The Host header is the public URL's (Apache forwards it, docs/deployment.md), or a loopback
# name: gunicorn probed on this machine directly (the test servers' start-up check, health
# checks). Any other name gets a 400 before a view runs: a page whose own name was rebound to this
# machine (DNS rebinding) still sends its own name. The ingest API answers on its own URL's host.
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ALLOWED_HOSTS = [_host(_s.ingest_url if ROOT_URLCONF == "ingest.urls" else _s.public_url), *LOOPBACK_HOSTS]
if ROOT_URLCONF == "vo_services.urls":
    # Basic, Bearer and session log-ins on the VO URLs (the ingest API has its own token).
    MIDDLEWARE.append("vo_services.accounts.middleware.VoAuthenticationMiddleware")
elif ROOT_URLCONF == "ingest.urls":
    # The ingest API: JSON in and out, one token, and its own error handling (ingest/api.py);
    # none of the public site's sessions, cookies, CSRF, static files or VOTable errors.
    # CommonMiddleware checks the Host header (ALLOWED_HOSTS above).
    MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
    # The admin is installed (one project) but not served here: its middleware checks do not apply.
    SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]
WHITENOISE_USE_FINDERS = True
SESSION_COOKIE_SAMESITE = "Lax"  # no session cookie on cross-site POSTs to the csrf-exempt VO endpoints
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _s.public_url.startswith("https:")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Only the admin pages, for logged-in staff, show messages: kept in the session. The default
# (a signed cookie, then the session) builds a cookie signer for every request, VO queries included.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
LOGIN_URL = "account"

# Behind a reverse proxy that serves the archive under a path (LICK_PUBLIC_URL
# https://archive.ucolick.org/vo, Apache's `ProxyPass /vo/`, docs/deployment.md): Django's own
# links (admin, account pages, static files) carry the path, and forms posted from the public
# origin pass the CSRF origin check although gunicorn itself is spoken to in plain HTTP.
_public = urlsplit(_s.public_url)
FORCE_SCRIPT_NAME = _public.path.rstrip("/") or None
CSRF_TRUSTED_ORIGINS = [f"{_public.scheme}://{_public.netloc}"]
WSGI_APPLICATION = "vo_services.wsgi.application"
CSRF_FAILURE_VIEW = "vo_services.views.csrf_failure"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Django's own tables (users, sessions, jobs) live in the archive database, owned by the owner role.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _s.db_name,
        "USER": _s.owner_role,
        "PASSWORD": _s.owner_password,
        "HOST": _s.db_host,
        "PORT": str(_s.db_port),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
# Absolute: Django would put the script name in front of a relative one only if it read the
# setting during a request, and whitenoise reads it at start-up.
STATIC_URL = f"{FORCE_SCRIPT_NAME or ''}/static/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
