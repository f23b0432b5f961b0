#!/usr/bin/python3
"""Serves the test site with the standard library's WSGI server.

    DJANGO_SECRET_KEY=... DJANGO_DB=path /usr/bin/python3 serve.py

Binds 127.0.0.1 on a free port and prints "listening on 127.0.0.1:PORT"
once it accepts connections. Requests are served one at a time, which is
all the test needs; nothing is logged per request. With DJANGO_SITE_DIR
set it serves that project (DJANGO_SETTINGS_MODULE names its settings).
"""
import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Another Django project to serve instead (djangotest.Reference): its
# folder goes first, and DJANGO_SETTINGS_MODULE names its settings.
if os.environ.get("DJANGO_SITE_DIR"):
    sys.path.insert(0, os.environ["DJANGO_SITE_DIR"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangosite.settings")

import django  # noqa: E402

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402

from djangosite import clock  # noqa: E402


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


if __name__ == "__main__":
    clock.install()
    httpd = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
    print("listening on 127.0.0.1:%d" % httpd.server_port, flush=True)
    httpd.serve_forever()
