#!/usr/bin/python3
"""Django's django.core.signing, for the Go package signing's tests.

    /usr/bin/python3 signer.py < request.json

reads {"key", "salt", "now", "go": {name: value signed by Go}} and prints
{"django": {name: value}, "go": {name: what Django read from Go's value}}:
the same operations done by Django (time frozen at "now"), and Django's
reading of each of Go's values ("BadSignature" when it refuses one).
Only Django is needed (any release of the test matrix: the signers take
their key by keyword, as Django 5.1 and later require).
"""
import json
import sys
from unittest import mock

import django
from django.conf import settings

settings.configure(SECRET_KEY="unused: every signer is given its key")
django.setup()

from django.core import signing  # noqa: E402

MESSAGES = [["__json_message", 0, 20, "Saved."], ["__json_message", 0, 40, "caf\u00e9 failed"]]
LONG = {"text": "x" * 200}


def main():
    req = json.load(sys.stdin)
    key, salt, now = req["key"], req["salt"], req["now"]
    with mock.patch("time.time", return_value=now):
        ours = {
            "sign": signing.Signer(key=key, salt=salt).sign("hello"),
            "sign_default_salt": signing.Signer(key=key).sign("hello"),
            "timestamp_sign": signing.TimestampSigner(key=key, salt=salt).sign("hello"),
            "timestamp_default_salt": signing.TimestampSigner(key=key).sign("hello"),
            "sign_object": signing.Signer(key=key, salt=salt).sign_object(MESSAGES, compress=True),
            "sign_object_long": signing.Signer(key=key, salt=salt).sign_object(LONG, compress=True),
            "dumps": signing.dumps({"a": 1}, key=key),
            "dumps_long": signing.dumps(LONG, key=key, salt=salt, compress=True),
        }
    readers = {
        "sign": lambda v: signing.Signer(key=key, salt=salt).unsign(v),
        "sign_default_salt": lambda v: signing.Signer(key=key).unsign(v),
        "timestamp_sign": lambda v: signing.TimestampSigner(key=key, salt=salt).unsign(v),
        "timestamp_default_salt": lambda v: signing.TimestampSigner(key=key).unsign(v),
        "sign_object": lambda v: signing.Signer(key=key, salt=salt).unsign_object(v),
        "sign_object_long": lambda v: signing.Signer(key=key, salt=salt).unsign_object(v),
        "dumps": lambda v: signing.loads(v, key=key),
        "dumps_long": lambda v: signing.loads(v, key=key, salt=salt),
    }
    read = {}
    for name, value in req["go"].items():
        try:
            read[name] = readers[name](value)
        except signing.BadSignature:
            read[name] = "BadSignature"
    json.dump({"django": ours, "go": read, "messages": MESSAGES, "long": LONG}, sys.stdout)


main()
