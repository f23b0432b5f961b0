"""Settings of the tiny Django site that shares sessions with the Go site.

Everything that must be shared comes from the environment, as a real
deployment would do it:

    DJANGO_SECRET_KEY            the SECRET_KEY the Go site also signs with
    DJANGO_SECRET_KEY_FALLBACKS  comma-separated SECRET_KEY_FALLBACKS (Django >= 4.1)
    DJANGO_DB                    path of the SQLite file both sites use
    DJANGO_SESSION_ENGINE        SESSION_ENGINE (default the db engine)
"""
import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
SECRET_KEY_FALLBACKS = [k for k in os.environ.get("DJANGO_SECRET_KEY_FALLBACKS", "").split(",") if k]

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "djangosite.urls"

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

# Fast hashing: the test creates users, it does not test passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Django's security warnings ("Session data corrupted") go to stderr, where
# the Go test reads them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.security": {"handlers": ["stderr"], "level": "WARNING", "propagate": False}},
}
