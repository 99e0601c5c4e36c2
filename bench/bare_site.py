"""Bench-only WSGI site: the platform's settings and middleware with one constant view.

``gunicorn bench.bare_site:application`` serves ``GET /`` → ``ok`` through the same settings
module, middleware stack and server settings as the real site, so that bench/guide_page.py
measures what the guide page costs on top of Django itself.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")

import django
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

django.setup()
settings.ROOT_URLCONF = __name__


# BENCH_BARE_BYTES pads the constant (to separate the cost of bytes on the wire from Django's).
BODY = b"ok".ljust(int(os.environ.get("BENCH_BARE_BYTES", "2")), b" ")


def constant(request):
    return HttpResponse(BODY, content_type="text/plain; charset=utf-8")


urlpatterns = [path("", constant), path("<path:anything>", constant)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
