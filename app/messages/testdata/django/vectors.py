#!/usr/bin/python3
"""Golden vectors for the Go messages package, made by Django itself.

    /usr/bin/python3 vectors.py generate > vectors-3.2.json
    PYTHONPATH=$ROOT/.cache/django/5.2/usr/lib/python3/dist-packages \
        /usr/bin/python3 vectors.py generate > vectors-5.2.json
        Runs Django's own django.contrib.messages storages on every case
        below and writes, for each: the messages cookie value
        (CookieStorage._encode), the session value (SessionStorage's
        serialize_messages), and what FallbackStorage's store of them puts
        in the cookie and in the session. The system's Django is 3.2; the
        other releases of the Django matrix are those make django unpacks
        into the repository's .cache/django (see internal/djangotest).

    /usr/bin/python3 vectors.py check < cases.json
        Reads [{"name", "cookie", "session"}] (either may be null) and has
        Django read each: the cookie with CookieStorage (its _decode), the
        session value with SessionStorage (deserialize_messages). Prints
        [{"name", "cookie", "session"}], each a list of [level, message,
        extra_tags, safe] ("__messagesnotfinished__" for the marker), or
        null where Django refused the value or none was given.

The Go tests (app/messages/django_test.go) read the vectors and run
"check"; "generate" is run by hand when the cases change, and its output is
committed. Nothing here touches a database.
"""
import json
import random
import sys
from unittest import mock

import django
from django.conf import settings

SECRET = "django-insecure-messages-test-key"
# The cookie is signed with the time (a TimestampSigner): frozen, so that
# the vectors are reproducible and Go can make the same bytes.
TIMESTAMP = 1700000000


def setup():
    settings.configure(
        SECRET_KEY=SECRET,
        INSTALLED_APPS=["django.contrib.sessions", "django.contrib.messages"],
        DATABASES={},
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    )
    django.setup()


def incompressible(n, seed):
    """n characters zlib cannot shrink, the same on every run."""
    rnd = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rnd.choice(alphabet) for _ in range(n))


def cases():
    """(name, [(level, text, extra_tags)]) for every shape worth checking."""
    return [
        ("info", [(20, "Saved.", "")]),
        ("each_level", [(10, "debug", ""), (20, "info", ""), (25, "success", ""), (30, "warning", ""), (40, "error", "")]),
        ("extra_tags", [(25, "Welcome back.", "login sticky")]),
        ("custom_level", [(35, "between warning and error", "")]),
        ("escapes", [(20, 'quote " backslash \\ tab \t nl \n <b>&amp;</b>', "")]),
        ("non_ascii", [(20, "café 日本語 😀 \u2028", "")]),
        ("compressed", [(20, "Your profile was saved.", "")] * 12),
        # Incompressible texts: the cookie holds what fits of 2048 bytes,
        # the rest goes to the session; no zlib byte decides the split.
        ("too_large", [(20, incompressible(800, i), "") for i in range(5)]),
        ("one_too_large", [(30, incompressible(2100, 99), "")]),
    ]


def message(level, text, tags):
    """A Message as storage.add makes it."""
    from django.contrib.messages.storage.base import Message
    m = Message(level, text, extra_tags=tags)
    m._prepare()
    return m


def generate():
    setup()
    with mock.patch("time.time", return_value=TIMESTAMP):
        _generate()


def _generate():
    from django.contrib.messages.storage.cookie import CookieStorage, MessageEncoder
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.messages.storage.session import SessionStorage
    from django.contrib.sessions.backends.signed_cookies import SessionStore
    from django.core import signing
    from django.http import HttpRequest, HttpResponse, SimpleCookie


    out = {"django_version": django.get_version(), "secret": SECRET, "timestamp": TIMESTAMP,
           "max_cookie_size": CookieStorage.max_cookie_size, "vectors": []}
    for name, items in cases():
        request = HttpRequest()
        request.session = SessionStore()
        msgs = [message(level, text, tags) for level, text, tags in items]
        cookie = CookieStorage(request)._encode(list(msgs))
        session = SessionStorage(request).serialize_messages(list(msgs))
        # FallbackStorage's store, as MessageMiddleware runs it.
        storage = FallbackStorage(request)
        for level, text, tags in items:
            storage.add(level, text, tags)
        response = HttpResponse()
        storage.update(response)
        morsel = response.cookies.get("messages")
        out["vectors"].append({
            "name": name,
            "messages": [[level, text, tags] for level, text, tags in items],
            "cookie": cookie,
            "compressed": cookie.startswith("."),
            "session": session,
            "stored_cookie": morsel.value if morsel else None,
            "stored_cookie_header": morsel.OutputString() if morsel else None,
            "stored_session": request.session.get("_messages"),
        })
    # Django 3.1's format (the JSON itself, signed), quoted as a cookie as
    # Django 3.1 sent it: read by Django 3.2, not by 4.1 and later.
    msgs = [message(20, "Saved, old style.", ""), message(40, "a, b; c", "x")]
    signer = signing.get_cookie_signer(salt=CookieStorage.key_salt)
    legacy = signer.sign(json.dumps(msgs, separators=(",", ":"), cls=MessageEncoder))
    out["legacy"] = {
        "messages": [[20, "Saved, old style.", ""], [40, "a, b; c", "x"]],
        "cookie": legacy,
        "quoted": SimpleCookie().value_encode(legacy)[1],
        "read_by_this_django": CookieStorage(HttpRequest())._decode(legacy) is not None,
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


def check():
    setup()
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.contrib.messages.storage.session import SessionStorage
    from django.http import HttpRequest
    from django.utils.safestring import SafeData

    def listed(msgs):
        if msgs is None:
            return None
        return [[m.level, m.message, m.extra_tags, isinstance(m.message, SafeData)] if isinstance(m, Message) else m
                for m in msgs]

    request = HttpRequest()
    request.session = {}
    results = []
    for case in json.load(sys.stdin):
        got = {"name": case["name"], "cookie": None, "session": None}
        if case.get("cookie") is not None:
            got["cookie"] = listed(CookieStorage(request)._decode(case["cookie"]))
        if case.get("session") is not None:
            got["session"] = listed(SessionStorage(request).deserialize_messages(case["session"]))
        results.append(got)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    {"generate": generate, "check": check}[sys.argv[1]]()
