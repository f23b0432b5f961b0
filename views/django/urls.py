"""The routes of the demo-site contract (../shared/contract.md), each on
its view of views.py. The demo pages answer with and without a trailing
slash; Django's auth URLs end with one (CommonMiddleware's APPEND_SLASH
redirects the bare path)."""
from django.urls import path, re_path

import views


def bare(name, view):
    return re_path(r"^%s/?$" % name, view)


urlpatterns = [
    path("", views.home),
    bare("set", views.set_session),
    bare("get", views.get_session),
    bare("delete", views.delete_session),
    bare("pop", views.pop_session),
    bare("clear", views.clear_session),
    bare("flush", views.flush_session),
    bare("visits", views.visits),
    bare("testcookie", views.test_cookie),
    bare("login", views.login_view),
    bare("logout", views.logout_view),
    bare("session", views.session_editor),
    bare("learn", views.learn),
    bare("api/session", views.api_session),
    bare("api/messages", views.api_messages),
    bare("api/sessions", views.api_sessions),
    path("accounts/login/", views.accounts_login),
    path("accounts/logout/", views.accounts_logout),
    path("accounts/profile/", views.profile),
    path("accounts/password/", views.password_change),
    path("accounts/sessions/", views.user_sessions),
]
