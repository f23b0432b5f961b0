"""A settable clock, so the test can move Django's time instead of sleeping.

install() replaces django.utils.timezone.now, which the db session backend
and SessionBase call for every expiry decision, with real time plus offset
seconds; the /clock view sets the offset.
"""
from datetime import timedelta

from django.utils import timezone

offset = 0.0
_real_now = timezone.now


def now():
    return _real_now() + timedelta(seconds=offset)


def install():
    timezone.now = now
