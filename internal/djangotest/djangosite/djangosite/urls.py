"""Views that drive request.session, django.contrib.auth and
django.contrib.messages, each answering with the session's state (and
request.user) as JSON. GET only: the site has no CSRF middleware, it is a
test harness."""
import json

from django.contrib import messages
from django.contrib.auth import (
    authenticate, get_user_model, login, logout, update_session_auth_hash,
)
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import make_password
from django.http import JsonResponse
from django.urls import path

from . import clock


def state(request):
    # request.user first: loading the user may flush the session (a hash
    # that does not match), and the data shown must be what is left.
    authenticated = request.user.is_authenticated
    s = request.session
    data = dict(s.items())
    return JsonResponse({
        "key": s.session_key,
        "data": data,
        "types": {k: type(v).__name__ for k, v in data.items()},
        "expiry_age": s.get_expiry_age(),
        "expire_at_browser_close": s.get_expire_at_browser_close(),
        "user": request.user.get_username() if authenticated else None,
        "user_id": request.user.pk if authenticated else None,
    })


def get(request):
    return state(request)


def set_(request):
    """session[name] = value for each query parameter (the value parsed as
    JSON, else a string); expiry=N calls set_expiry(N), expiry=none
    set_expiry(None)."""
    for name, value in request.GET.items():
        if name == "expiry":
            request.session.set_expiry(None if value == "none" else int(value))
            continue
        try:
            value = json.loads(value)
        except ValueError:
            pass
        request.session[name] = value
    return state(request)


def pop(request):
    request.session.pop(request.GET["key"], None)
    return state(request)


def cycle(request):
    request.session.cycle_key()
    return state(request)


def flush(request):
    request.session.flush()
    return state(request)


def login_(request):
    """django.contrib.auth.login of the named user (created on first use):
    cycle_key, then _auth_user_id, _auth_user_backend and _auth_user_hash."""
    user, created = get_user_model().objects.get_or_create(username=request.GET["username"])
    if created:
        user.set_password("secret")
        user.save()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return state(request)


def auth_login(request):
    """The login of Django's LoginView, without its form: authenticate()
    with ModelBackend, then login(); "ok" says whether the credentials were
    accepted."""
    user = authenticate(request, username=request.GET["username"], password=request.GET["password"])
    if user is not None:
        login(request, user)
    response = state(request)
    response["X-Login-Ok"] = "1" if user is not None else "0"
    return response


def auth_logout(request):
    logout(request)
    return state(request)


def auth_set_password(request):
    """A password change as Django's PasswordChangeView makes it: the new
    hash is saved, and the session that changed it stays logged in
    (update_session_auth_hash); every other session of the user ends."""
    # Who is asking is settled before the change, as PasswordChangeView
    # binds its form to request.user before saving.
    changer = request.user.pk if request.user.is_authenticated else None
    user = get_user_model().objects.get(username=request.GET["username"])
    user.set_password(request.GET["password"])
    user.save()
    if changer == user.pk:
        update_session_auth_hash(request, user)
    return state(request)


def auth_make_user(request):
    """A user whose password is hashed by the named Django hasher
    (make_password(password, hasher=...)), or by the default one."""
    user = get_user_model().objects.create(
        username=request.GET["username"],
        password=make_password(request.GET["password"], hasher=request.GET.get("hasher", "default")),
    )
    return JsonResponse({"id": user.pk, "password": user.password})


@login_required
def auth_profile(request):
    return state(request)


def messages_add(request):
    """messages.add_message(request, level, message, extra_tags) for each
    message= parameter (the level= and tags= parameters apply to all)."""
    level = int(request.GET.get("level", messages.INFO))
    for text in request.GET.getlist("message"):
        messages.add_message(request, level, text, extra_tags=request.GET.get("tags", ""))
    return state(request)


def messages_read(request):
    """Iterates over the request's messages, as a template does, which
    consumes them; answers [{level, message, extra_tags, tags}]."""
    return JsonResponse({"messages": [
        {"level": m.level, "message": m.message, "extra_tags": m.extra_tags, "tags": m.tags}
        for m in messages.get_messages(request)
    ]})


def set_clock(request):
    clock.offset = float(request.GET["offset"])
    return JsonResponse({"offset": clock.offset})


urlpatterns = [
    path("get", get),
    path("set", set_),
    path("pop", pop),
    path("cycle", cycle),
    path("flush", flush),
    path("login", login_),
    path("clock", set_clock),
    path("auth/login", auth_login),
    path("auth/logout", auth_logout),
    path("auth/setpassword", auth_set_password),
    path("auth/makeuser", auth_make_user),
    path("auth/profile", auth_profile),
    path("messages/add", messages_add),
    path("messages/read", messages_read),
]
