#!/usr/bin/python3
"""Django's command-line utility for the interoperability test site."""
import os
import sys

if __name__ == "__main__":
    if os.environ.get("DJANGO_SITE_DIR"):  # djangotest.Reference
        sys.path.insert(0, os.environ["DJANGO_SITE_DIR"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangosite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
