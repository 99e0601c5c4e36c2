"""Template context every portal page needs: the site's name and the language menu."""

from django.conf import settings


def portal(request):
    return {"site_name": settings.TONGBAN_SITE_NAME}
