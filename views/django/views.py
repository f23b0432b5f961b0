"""The Django views this site mirrors (the reference implementation of the
demo-site contract). Each page of the Go site shows one of these functions
beside the Go handler that does the same.

Beside it, settings.py, urls.py and templates/ make it a Django project,
with Django's own session, CSRF, authentication and messages middleware:
the one-domain tests (internal/onedomain/) serve it behind nginx next to the Go
site, on one database."""

import json
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import (
    BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, authenticate, login, logout, update_session_auth_hash,
)
try:  # Django 5.1 and later
    from django.contrib.auth.decorators import login_not_required
    from django.contrib.auth.middleware import LoginRequiredMiddleware
except ImportError:  # the 3.2 and 4.2 of the one-domain tests: the same, in compat.py
    from compat import LoginRequiredMiddleware, login_not_required
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.http import HttpResponseBadRequest, JsonResponse
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

MAX_USERNAME_LENGTH = 150  # User.username's max_length
MAX_KEY_LENGTH = 100
MAX_EXPIRY = 10 * 365 * 24 * 60 * 60


def see_other(to):
    response = redirect(to)
    response.status_code = 303
    return response


@require_GET
def home(request):
    # The template reads request.session: the header's
    # {{ request.session.username }}, its keys, values and expiry. Every
    # page's base.html also shows the flash messages, which consumes them:
    # {% for message in messages %}<li class="{{ message.tags }}">...
    return render(request, "home.html")


@require_http_methods(["GET", "POST"])
def set_session(request):
    expiry = request.POST.get("expiry") or request.GET.get("expiry") or None
    if expiry is not None:
        try:
            expiry = int(expiry)
        except ValueError:
            return HttpResponseBadRequest("expiry must be a whole number of seconds")
        if not 0 <= expiry <= MAX_EXPIRY:
            return HttpResponseBadRequest("expiry is out of range")
    request.session["username"] = "harun_dev"
    request.session["role"] = "admin"
    request.session["login_count"] = request.session.get("login_count", 0) + 1
    if expiry is not None:
        request.session.set_expiry(expiry)  # 0: expire at browser close
    return render(request, "result.html", {"message": "Session data set."})


@require_GET
def get_session(request):
    username = request.session.get("username", "Guest")
    role = request.session.get("role", "none")
    logins = request.session.get("login_count", 0)
    message = f"User: {username}, Role: {role}, Logins: {logins}"
    return render(request, "result.html", {"message": message})


@require_http_methods(["GET", "POST"])
def delete_session(request):
    if "username" in request.session:
        del request.session["username"]
    return render(request, "result.html", {"message": "Username session key deleted."})


@require_http_methods(["GET", "POST"])
def pop_session(request):
    request.session.pop("role", None)
    return render(request, "result.html", {"message": "Role session key popped."})


@require_http_methods(["GET", "POST"])
def clear_session(request):
    request.session.clear()
    return render(request, "result.html", {"message": "Session data cleared."})


@require_http_methods(["GET", "POST"])
def flush_session(request):
    request.session.flush()
    return render(request, "result.html", {"message": "Session flushed."})


@require_GET
def visits(request):
    request.session["visits"] = request.session.get("visits", 0) + 1
    request.session.save()
    count = request.session["visits"]
    return render(request, "result.html", {"message": f"You have visited this page {count} times."})


@require_http_methods(["GET", "POST"])
def test_cookie(request):
    # The check of Django's old login view, on a page of its own.
    if request.method == "GET":
        request.session.set_test_cookie()
        return render(request, "result.html", {"message": "Test cookie set."})
    if not request.session.test_cookie_worked():
        message = "Please enable cookies: the test cookie did not come back."
        return render(request, "result.html", {"message": message})
    request.session.delete_test_cookie()
    return render(request, "result.html", {"message": "Cookies work: the test cookie came back."})


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.method == "GET":
        return render(request, "login.html")
    username = request.POST.get("username", "").strip()
    if not username or len(username) > MAX_USERNAME_LENGTH:
        error = "Enter a username of at most 150 characters."
        return render(request, "login.html", {"error": error}, status=400)
    # As django.contrib.auth.login() does:
    request.session.cycle_key()  # session fixation: the old key dies here
    request.session["username"] = username
    rotate_token(request)  # a new CSRF token too
    return see_other("/")


@require_http_methods(["GET", "POST"])
def logout_view(request):
    if request.method == "GET":
        return render(request, "logout.html")
    request.session.flush()  # what django.contrib.auth.logout() does
    return see_other("/")


@require_http_methods(["GET", "POST"])
def session_editor(request):
    if request.method == "GET":
        return render(request, "editor.html")
    key = request.POST.get("key", "")
    raw = request.POST.get("value", "")
    if not key or len(key) > MAX_KEY_LENGTH or key.startswith("_"):
        error = "Keys are 1 to 100 characters and cannot start with '_'."
        return render(request, "editor.html", {"error": error}, status=400)
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    if request.POST.get("setdefault"):
        request.session.setdefault(key, value)  # keeps a value already there
    else:
        request.session[key] = value
    expiry = request.POST.get("expiry", "").strip()
    if expiry == "none":
        request.session.set_expiry(None)  # back to SESSION_COOKIE_AGE
    elif expiry:
        try:
            request.session.set_expiry(int(expiry))
        except ValueError:
            request.session.set_expiry(datetime.fromisoformat(expiry))
    messages.success(request, f"Saved {key}.")  # shown once, on the next page
    return see_other("/")


@require_GET
def learn(request):
    return render(request, "learn.html")


@require_GET
def api_session(request):
    # A store of its own: request.session is never touched, so the
    # middleware neither saves a session nor sends a cookie.
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    store = SessionStore(session_key=key)
    return JsonResponse({
        "data": dict(store.items()),
        "expiry_age": store.get_expiry_age(),
        "expire_at_browser_close": store.get_expire_at_browser_close(),
        "user": _user_of(store),
    })


def _user_of(store):
    # get_user()'s checks on that session, without its flush: this view
    # changes nothing, so a stale hash reads as anonymous and stays stored.
    try:
        user = User.objects.get(pk=store[SESSION_KEY], is_active=True)
    except (KeyError, ValueError, User.DoesNotExist):
        return None
    if store.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return None
    if not constant_time_compare(store.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
        return None
    return user.get_username()


@require_http_methods(["GET", "POST"])
def api_messages(request):
    # GET: get_messages(request), consumed by the iteration; POST (CSRF
    # checked by the middleware): add_message(), shown by the next page.
    if request.method == "GET":
        found = [{"level": m.level, "tags": m.tags, "message": m.message} for m in messages.get_messages(request)]
        response = JsonResponse({"messages": found})
        response["Cache-Control"] = "no-store"
        return response
    try:
        level = int(request.POST.get("level", ""))
    except ValueError:
        level = None
    text = request.POST.get("message", "")
    if level not in messages.DEFAULT_LEVELS.values():
        return JsonResponse({"error": "level must be one of Django's levels: 10, 20, 25, 30 or 40"}, status=400)
    if not text.strip() or len(text) > 1000:
        return JsonResponse({"error": "message must be text of 1 to 1000 characters"}, status=400)
    messages.add_message(request, level, text)  # dropped below MESSAGE_LEVEL
    added = level >= messages.get_level(request)
    body = {"added": added, "level": level, "tags": messages.DEFAULT_TAGS[level], "message": text}
    return JsonResponse(body, status=201 if added else 200)


# Django's default auth URLs (django.contrib.auth.urls), written out as
# the views LoginView, LogoutView, a profile and PasswordChangeView boil
# down to. The /accounts/ tree needs a login by default, as with Django
# 5.1's LoginRequiredMiddleware (in MIDDLEWARE, after the
# AuthenticationMiddleware), here limited to that tree: a view there is
# closed unless it is marked @login_not_required.

class AccountsLoginRequiredMiddleware(LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.path.startswith("/accounts/"):
            return None  # the demos stay public
        return super().process_view(request, view_func, view_args, view_kwargs)


@require_http_methods(["GET", "POST"])
@login_not_required
def accounts_login(request):
    next_url = request.POST.get("next", request.GET.get("next", ""))
    if request.method == "GET":
        return render(request, "registration/login.html", {"next": next_url})
    user = authenticate(request, username=request.POST.get("username"), password=request.POST.get("password"))
    if user is None:
        error = ("Please enter a correct username and password. "
                 "Note that both fields may be case-sensitive.")
        return render(request, "registration/login.html", {"error": error, "next": next_url})
    login(request, user)  # cycle_key (or flush), _auth_user_*, rotate_token
    messages.success(request, f"You are logged in as {user.get_username()}.")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = settings.LOGIN_REDIRECT_URL  # "/accounts/profile/"
    return redirect(next_url)


@require_POST
@login_not_required  # any visitor's session can be flushed
def accounts_logout(request):
    logout(request)  # flush(); request.user = AnonymousUser()
    messages.info(request, "You are logged out.")  # in the messages cookie
    return redirect("/")


@require_GET
def profile(request):
    # Not marked: anonymous visitors get 302 to
    # settings.LOGIN_URL?next=/accounts/profile/. request.user is a user.
    return render(request, "registration/profile.html", {"username": request.user.get_username()})


@require_http_methods(["GET", "POST"])
def password_change(request):
    # PasswordChangeView with its PasswordChangeForm, written out; not
    # marked, so only a logged-in user gets here.
    if request.method == "GET":
        return render(request, "registration/password_change.html")
    user = request.user
    old = request.POST.get("old_password", "")
    new1, new2 = request.POST.get("new_password1", ""), request.POST.get("new_password2", "")
    errors = []
    if not (old and new1 and new2):
        errors.append("This field is required.")
    else:
        if not user.check_password(old):
            errors.append("Your old password was entered incorrectly. Please enter it again.")
        if new1 != new2:
            errors.append("The two password fields didn\u2019t match.")
    if errors:
        return render(request, "registration/password_change.html", {"errors": errors})
    user.set_password(new1)
    user.save()
    # This session stays logged in (a new key, the new hash); every other
    # session of the user ends at its next request.
    update_session_auth_hash(request, user)
    messages.success(request, "Your password was changed. Your other sessions are logged out.")
    return redirect("/accounts/profile/")


@require_http_methods(["GET", "POST"])
def user_sessions(request):
    # Not marked: only a logged-in user gets here. Django has no list of a
    # user's sessions: django_session does not say whose a session is, so
    # this view decodes every live session to find them (what manage
    # sessions revoke --where does), with no device, address or last use
    # to show. The django-user-sessions package keeps a table of its own
    # instead, as the Go site keeps its per-user index.
    mine = _sessions_of(request.user)
    if request.method == "POST":
        current = request.session.session_key
        if request.POST.get("signout_others") == "1":
            doomed = [s for s in mine if s.session_key != current]
        else:
            # No device id either: an HMAC of the key stands for it.
            doomed = [s for s in mine if _opaque(s.session_key) == request.POST.get("signout")]
        for s in doomed:
            s.delete()  # unconditional: a request in flight may save it back
        messages.success(request, f"Signed out {len(doomed)} sessions.")
        return see_other("/accounts/sessions/")
    current = request.session.session_key
    rows = [{"id": _opaque(s.session_key), "current": s.session_key == current, "expires": s.expire_date} for s in mine]
    return render(request, "registration/sessions.html", {"sessions": rows})


@require_GET
def api_sessions(request):
    # The same list as JSON, read without touching request.session (as
    # api_session): Django knows no browser, address or last use.
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    store = SessionStore(session_key=key)
    username = _user_of(store)
    if username is None:
        return JsonResponse({"error": "Log in to see your sessions."}, status=403)
    user = User.objects.get(username=username)
    return JsonResponse({"sessions": [
        {"id": _opaque(s.session_key), "current": s.session_key == key, "user_agent": "", "ip": "", "created": None, "last_seen": None}
        for s in _sessions_of(user)
    ]})


def _sessions_of(user):
    return [
        s for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if s.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]


def _opaque(key):
    return salted_hmac("user_sessions", key).hexdigest()[:16]
