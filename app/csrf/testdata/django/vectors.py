#!/usr/bin/python3
"""Golden vectors for package csrf, made by Django's own CsrfViewMiddleware.

    python3 vectors.py generate > vectors-X.Y.json
        The token format of the running Django: secrets masked with chosen
        masks by Django's _mask_cipher_secret, tokens unmasked by its
        _unmask_cipher_token, and how it takes each sample of a cookie or a
        token (4.0 and later: _check_token_format's reason; 3.2:
        _sanitize_token keeps it, masks it or replaces it). Run by hand
        for each Django of the matrix (PYTHONPATH chooses it); the output is
        committed, so that the format test needs no Django.

    python3 vectors.py check < cases.json
        Runs each request of cases.json through Django's CsrfViewMiddleware
        (process_request, process_view, the view, process_response) with the
        case's settings and prints, for each, whether it was accepted, the
        reason of a refusal, the cookie set, and the session's _csrftoken
        after it. Each case: {"name", "method", "host", "secure", "cookie"
        (or null), "session" (_csrftoken, or null), "post_token", "header"
        (the CSRF_HEADER_NAME value, or null), "origin", "referer" (or
        null), "sec_fetch_site", "get_token", "rotate", "settings": {Django
        setting: value}}. The Go test (django_test.go) runs it live against
        every Django of the matrix and compares Go's answers with these.

Nothing here touches a database or the network.
"""
import json
import sys
from unittest import mock

import django
from django.conf import settings

SECRET_A = "abcdefghijklmnopqrstuvwxyzABCDEF"
SECRET_B = "0123456789ZYXWVUTSRQPONMLKJIHGFE"


def setup():
    settings.configure(
        SECRET_KEY="django-insecure-csrf-vectors",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
        CSRF_FAILURE_VIEW="__main__.failure",
    )
    django.setup()


def failure(request, reason=""):
    from django.http import HttpResponseForbidden

    return HttpResponseForbidden(reason)


def generate():
    from django.middleware import csrf

    masks = [
        "a" * 32,
        "9" * 32,
        "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvu",
        "0aZ9bY8cX7dW6eV5fU4gT3hS2iR1jQ0k",
    ]
    masked = []
    for secret in (SECRET_A, SECRET_B):
        for mask in masks:
            with mock.patch.object(csrf, "_get_new_csrf_string", return_value=mask):
                token = csrf._mask_cipher_secret(secret)
            masked.append({"secret": secret, "mask": mask, "token": token,
                           "unmasked": csrf._unmask_cipher_token(token)})
    samples = [
        "", "a", SECRET_A, SECRET_A[:31], SECRET_A + "x", masked[2]["token"],
        masked[2]["token"][:63], SECRET_A[:31] + "-", SECRET_A[:31] + "é",
        masked[2]["token"][:63] + "_", "x" * 43, "x" * 128, "A" * 64,
    ]
    formats = []
    for s in samples:
        entry = {"value": s}
        if hasattr(csrf, "_check_token_format"):
            try:
                csrf._check_token_format(s)
                entry["reason"] = ""
            except csrf.InvalidTokenFormat as exc:
                entry["reason"] = exc.reason
        else:
            # Django 3.2: _sanitize_token keeps a 64-character token, masks
            # a 32-character secret, and replaces anything else.
            out = csrf._sanitize_token(s)
            if out == s:
                entry["sanitized"] = "kept"
            elif len(s) == csrf.CSRF_SECRET_LENGTH and csrf._unmask_cipher_token(out) == s:
                entry["sanitized"] = "masked"
            else:
                entry["sanitized"] = "replaced"
        formats.append(entry)
    json.dump({
        "django_version": django.get_version(),
        "allowed_chars": csrf.CSRF_ALLOWED_CHARS,
        "secret_length": csrf.CSRF_SECRET_LENGTH,
        "token_length": csrf.CSRF_TOKEN_LENGTH,
        "session_key": csrf.CSRF_SESSION_KEY,
        "masked": masked,
        "formats": formats,
    }, sys.stdout, indent=1)
    print()


class Session(dict):
    """The part of request.session CsrfViewMiddleware uses."""
    modified = False

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.modified = True


def check():
    from django.http import HttpResponse
    from django.middleware import csrf
    from django.test import RequestFactory, override_settings

    out = []
    for case in json.load(sys.stdin):
        with override_settings(**case.get("settings", {})):
            extra = {"HTTP_HOST": case.get("host", "testserver")}
            if case.get("origin") is not None:
                extra["HTTP_ORIGIN"] = case["origin"]
            if case.get("referer") is not None:
                extra["HTTP_REFERER"] = case["referer"]
            if case.get("sec_fetch_site") is not None:
                extra["HTTP_SEC_FETCH_SITE"] = case["sec_fetch_site"]
            if case.get("header") is not None:
                extra[settings.CSRF_HEADER_NAME] = case["header"]
            rf = RequestFactory()
            data = {}
            if case.get("post_token") is not None:
                data["csrfmiddlewaretoken"] = case["post_token"]
            method = case.get("method", "POST").lower()
            request = getattr(rf, method)("/form", data=data, secure=case.get("secure", False), **extra)
            if case.get("cookie") is not None:
                request.COOKIES[settings.CSRF_COOKIE_NAME] = case["cookie"]
            request.session = Session()
            if case.get("session") is not None:
                dict.__setitem__(request.session, csrf.CSRF_SESSION_KEY, case["session"])
            tokens = []

            def view(request):
                if case.get("rotate"):
                    csrf.rotate_token(request)
                if case.get("get_token"):
                    tokens.append(csrf.get_token(request))
                return HttpResponse("ok")

            mw = csrf.CsrfViewMiddleware(lambda r: HttpResponse("unused"))
            mw.process_request(request)
            response = mw.process_view(request, view, (), {})
            accepted = response is None
            if accepted:
                response = view(request)
            response = mw.process_response(request, response)
            cookie = response.cookies.get(settings.CSRF_COOKIE_NAME)
            out.append({
                "name": case["name"],
                "accepted": accepted,
                "reason": "" if accepted else response.content.decode(),
                "set_cookie": cookie.value if cookie is not None else None,
                "cookie_max_age": str(cookie["max-age"]) if cookie is not None else None,
                "vary": response.get("Vary", ""),
                "session": request.session.get(csrf.CSRF_SESSION_KEY),
                "tokens": tokens,
            })
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    setup()
    {"generate": generate, "check": check}[sys.argv[1]]()
