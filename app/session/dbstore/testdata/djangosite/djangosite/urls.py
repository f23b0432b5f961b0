"""Views that drive request.session, each answering with the session's state
as JSON. GET only: the site has no CSRF middleware, it is a test harness."""
import json

from django.contrib.auth import get_user_model, login
from django.http import JsonResponse
from django.urls import path

from . import clock


def state(request):
    s = request.session
    data = dict(s.items())
    return JsonResponse({
        "key": s.session_key,
        "data": data,
        "types": {k: type(v).__name__ for k, v in data.items()},
        "expiry_age": s.get_expiry_age(),
        "expire_at_browser_close": s.get_expire_at_browser_close(),
        "user": request.user.get_username() if request.user.is_authenticated else None,
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
]
