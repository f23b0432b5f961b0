"""Settings of the tiny Django site that shares sessions with the Go site.

Everything that must be shared comes from the environment, as a real
deployment would do it:

    DJANGO_SECRET_KEY            the SECRET_KEY the Go site also signs with
    DJANGO_SECRET_KEY_FALLBACKS  comma-separated SECRET_KEY_FALLBACKS (Django >= 4.1)
    DJANGO_DB                    path of the SQLite file both sites use, or
    DJANGO_PG                    the PostgreSQL database instead, as a URL
                                 postgres://user[:password]@host:port/name
    DJANGO_SESSION_ENGINE        SESSION_ENGINE (default the db engine)
"""
import os
from urllib.parse import unquote, urlsplit

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
SECRET_KEY_FALLBACKS = [k for k in os.environ.get("DJANGO_SECRET_KEY_FALLBACKS", "").split(",") if k]

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
# The messages framework's defaults, spelled out: FallbackStorage (the
# "messages" cookie, then the session's "_messages"), MESSAGE_LEVEL INFO.
MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"
ROOT_URLCONF = "djangosite.urls"

if os.environ.get("DJANGO_PG"):
    _pg = urlsplit(os.environ["DJANGO_PG"])
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _pg.path.lstrip("/"),
            "USER": unquote(_pg.username or ""),
            "PASSWORD": unquote(_pg.password or ""),
            "HOST": _pg.hostname,
            "PORT": str(_pg.port or 5432),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["DJANGO_DB"],
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# Stored datetimes are UTC whatever the site's own zone: a zone far from
# UTC makes a local-time slip visible.
USE_TZ = True
TIME_ZONE = "Pacific/Kiritimati"

# Defaults spelled out: these are the settings the Go site must match.
SESSION_ENGINE = os.environ.get("DJANGO_SESSION_ENGINE", "django.contrib.sessions.backends.db")
SESSION_COOKIE_NAME = "sessionid"
SESSION_COOKIE_AGE = 1209600
SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"

# Django's default hashers, spelled out: new passwords get PBKDF2, and
# argon2 and bcrypt_sha256 hashes (python3-argon2, python3-bcrypt) are
# checked, so that the Go side is tested against each. Logins are Django's
# own: ModelBackend (the default).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "/accounts/login/"

# Django's security warnings ("Session data corrupted") go to stderr, where
# the Go test reads them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.security": {"handlers": ["stderr"], "level": "WARNING", "propagate": False}},
}
