#!/usr/bin/python3
"""Golden vectors for the Go session codec, made by Django itself.

    /usr/bin/python3 vectors.py generate > vectors.json
        Encodes every value below with Django's own
        django.contrib.sessions.backends.db.SessionStore().encode (that is
        signing.dumps(..., salt="django.contrib.sessions.SessionStore",
        compress=True)), with time.time() frozen, and writes the vectors.

    /usr/bin/python3 vectors.py check < cases.json
        Reads [{"name", "secret", "encoded", "expected_json"}] and decodes
        each "encoded" with SessionStore().decode under that secret. A case
        passes when the result equals json.loads(expected_json) with the
        same Python types all the way down (1 is not 1.0, nor True; "3.0" in
        the expected JSON means a float). Prints [{"name", "ok", "got"}] as
        JSON, "got" being repr() of what Django decoded.

The Go tests (app/signing/django_test.go, app/session/django_types_test.go) run "check"; "generate"
is run by hand when the value list changes, and its output is committed.
Only Debian's python3-django is needed; nothing here touches a database.
"""
import json
import sys
import time
from unittest import mock

import django
from django.conf import settings

# The first secret signs; OLD_SECRET stands for a rotated key that Go must
# still accept through SecretKeyFallbacks (Django >= 4.1's
# SECRET_KEY_FALLBACKS).
SECRET = "django-insecure-test-key"
OLD_SECRET = "django-insecure-old-key-!@#$%^&*(-_=+)"
TIMESTAMP = 1700000000


def setup():
    settings.configure(
        SECRET_KEY=SECRET,
        INSTALLED_APPS=["django.contrib.sessions"],
        DATABASES={},
        USE_TZ=True,
    )
    django.setup()


def cases():
    """(name, secret, value) for every shape of session data worth checking."""
    # Keys are written in sorted order (Go's encoding/json sorts map keys),
    # so that Go's output can be compared with Django's byte for byte; one
    # vector keeps an unsorted order to show that only the meaning counts.
    big = {"items": [{"id": i, "name": "item %d" % i, "tags": ["a", "b"]} for i in range(40)]}
    return [
        ("foo_bar", SECRET, {"foo": "bar"}),
        ("empty", SECRET, {}),
        ("list_0_29_compressed", SECRET, {"list": list(range(30))}),
        ("ints", SECRET, {"max_int64": 2**63 - 1, "min_int64": -(2**63), "neg": -42, "one": 1, "zero": 0}),
        ("big_ints", SECRET, {"huge": 10**40, "huge_neg": -(10**40), "over_int64": 2**63, "over_uint64": 2**64}),
        ("floats", SECRET, {"e16": 1e16, "half": 0.5, "huge": 1e300, "million": 1234567.0, "neg": -2.25,
                            "one": 1.0, "pi": 3.141592653589793, "third": 1 / 3, "tiny": 1e-7}),
        ("bools_none", SECRET, {"f": False, "n": None, "t": True}),
        ("strings", SECRET, {"backslash": "a\\b", "colon": "a:b:c", "control": "tab\tnl\ncr\r\x00\x1f\x7f",
                             "empty": "", "html": "<script>&amp;</script>", "quote": "say \"hi\"",
                             "slash": "/path?q=1&r=2", "space": " "}),
        ("non_ascii", SECRET, {"cjk": "日本語", "emoji": "😀👍", "greek": "Ωμέγα", "key_é": "vålue",
                               "latin": "café", "line_sep": "\u2028\u2029", "nbsp": "\u00a0"}),
        ("nested", SECRET, {"empty_dict": {}, "empty_list": [], "mixed": [1, "two", 3.0, None, True, {"k": "v"}],
                            "user": {"id": 7, "prefs": {"n": [1, [2, [3]]], "theme": "dark"}, "roles": ["admin", "dev"]}}),
        ("unsorted_keys", SECRET, {"z": 1, "a": {"y": 2, "b": 3}}),
        ("django_keys", SECRET, {"_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                                 "_auth_user_hash": "1f0e7b1ac5a0e53a1c8f6d4b3b2e7c0d9f8e7d6c5b4a39281706f5e4d3c2b1a0",
                                 "_auth_user_id": "42", "_session_expiry": 300, "testcookie": "worked"}),
        ("expiry_zero", SECRET, {"_session_expiry": 0, "x": 1}),
        ("expiry_iso", SECRET, {"_session_expiry": "2030-01-01T00:00:00+00:00", "x": 1}),
        ("expiry_iso_micro", SECRET, {"_session_expiry": "2026-11-26T19:09:17.462180+00:00"}),
        ("large_compressed", SECRET, big),
        ("incompressible", SECRET, {"k": "qZ3x9Lw2Rt7Yp0Vb5Nm8Hc4Jd6Gf1Ks"}),
        ("fallback_key", OLD_SECRET, {"rotated": True, "user": "harun_dev"}),
    ]


def generate():
    from django.contrib.sessions.backends.db import SessionStore
    from django.test.utils import override_settings

    out = {
        "django_version": django.get_version(),
        "secret": SECRET,
        "fallbacks": [OLD_SECRET],
        "salt": SessionStore().key_salt,
        "timestamp": TIMESTAMP,
        "vectors": [],
    }
    with mock.patch.object(time, "time", return_value=TIMESTAMP):
        for name, secret, value in cases():
            with override_settings(SECRET_KEY=secret):
                encoded = SessionStore().encode(value)
                assert SessionStore().decode(encoded) == value, name
            out["vectors"].append({
                "name": name,
                "secret": secret,
                "json": json.dumps(value, separators=(",", ":")),
                "types": {k: type(v).__name__ for k, v in value.items()},
                "encoded": encoded,
                "compressed": encoded.startswith("."),
            })
    json.dump(out, sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


def strict_equal(a, b):
    """== that also demands the same type at every level (1 != 1.0 != True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return set(a) == set(b) and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    return a == b


def check():
    from django.contrib.sessions.backends.db import SessionStore
    from django.test.utils import override_settings

    results = []
    for case in json.load(sys.stdin):
        with override_settings(SECRET_KEY=case["secret"]):
            got = SessionStore().decode(case["encoded"])
        ok = strict_equal(got, json.loads(case["expected_json"]))
        results.append({"name": case["name"], "ok": ok, "got": repr(got)})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    setup()
    {"generate": generate, "check": check}[sys.argv[1]]()
