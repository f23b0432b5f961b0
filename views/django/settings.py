"""Settings of the Django reference site: the views of views.py with
Django's own middleware (sessions, CSRF, logins, messages), as a Django
project beside the Go site would have them. The test harness
(internal/djangotest.Reference) serves it; everything the two sites must
agree on comes from the environment, as in a real deployment:

    DJANGO_SECRET_KEY            SECRET_KEY, the Go site's too
    DJANGO_SECRET_KEY_FALLBACKS  comma-separated SECRET_KEY_FALLBACKS (Django >= 4.1)
    DJANGO_DB                    path of the SQLite file both sites use, or
    DJANGO_PG                    the PostgreSQL database instead, as a URL
    DJANGO_SESSION_ENGINE        SESSION_ENGINE (default the db engine)
    DJANGO_CSRF_USE_SESSIONS     "1" for CSRF_USE_SESSIONS = True
    DJANGO_CSRF_TRUSTED_ORIGINS  comma-separated CSRF_TRUSTED_ORIGINS
"""
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
SECRET_KEY_FALLBACKS = [k for k in os.environ.get("DJANGO_SECRET_KEY_FALLBACKS", "").split(",") if k]

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "views.AccountsLoginRequiredMiddleware",  # the /accounts/ tree needs a login
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

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
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DJANGO_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True

# The settings the Go site must match, at Django's defaults unless the
# environment says otherwise.
SESSION_ENGINE = os.environ.get("DJANGO_SESSION_ENGINE", "django.contrib.sessions.backends.db")
SESSION_COOKIE_NAME = "sessionid"
SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"
CSRF_COOKIE_NAME = "csrftoken"
CSRF_USE_SESSIONS = os.environ.get("DJANGO_CSRF_USE_SESSIONS") == "1"
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/accounts/profile/"

# Refusals (CSRF failures among them) go to stderr, where the Go test reads
# them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.security": {"handlers": ["stderr"], "level": "WARNING", "propagate": False}},
}
