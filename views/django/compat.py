"""Django 5.1's login_not_required and LoginRequiredMiddleware, for the
older releases the one-domain tests also run the reference site on (3.2
and 4.2), so that views.py reads as it does on Django 5.1 and later."""
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.utils.deprecation import MiddlewareMixin


def login_not_required(view_func):
    """Marks a view as open to anonymous visitors (Django 5.1's)."""
    view_func.login_required = False
    return view_func


class LoginRequiredMiddleware(MiddlewareMixin):
    """Every view needs a login unless it is marked login_not_required:
    an anonymous visitor is sent to LOGIN_URL with ?next= (Django 5.1's)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated or not getattr(view_func, "login_required", True):
            return None
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
