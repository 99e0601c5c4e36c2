"""Template context every portal page needs: the site's name, the current branch portal (分厅),
the care mode (适老化) and the language menu.

Context processors run for every template rendered with a request (the admin's too), so
everything here is lazy or read from a cache: a page that does not show the region menu pays
nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from tongban.catalog import guides

SESSION_REGION = "portal_region"
CARE_COOKIE = "tb_care"


@dataclass(frozen=True)
class CurrentRegion:
    code: str
    name: str
    is_home: bool


def province_code() -> str:
    return settings.TONGBAN_HOME_REGION[:2] + "0000"


def region_code_for(request) -> str:
    """The region the visitor chose (kept in the session), else the platform's home region."""
    session = getattr(request, "session", None)
    code = session.get(SESSION_REGION) if session is not None else None
    return code or settings.TONGBAN_HOME_REGION


def remember_region(request, code: str) -> None:
    """Keep the chosen region for the next pages (writes the session only when it changes)."""
    if request.session.get(SESSION_REGION) != code:
        request.session[SESSION_REGION] = code


def current_region(request) -> CurrentRegion:
    """The current region with its name (cached lists; a stale code falls back to home)."""
    home = settings.TONGBAN_HOME_REGION
    code = region_code_for(request)
    for candidate in (code, home):
        region = guides.cached_region(candidate)
        if region is not None:
            return CurrentRegion(code=region.code, name=region.name, is_home=region.code == home)
    return CurrentRegion(code=home, name="", is_home=True)


def is_care_mode(request) -> bool:
    return request.COOKIES.get(CARE_COOKIE) == "1"


def portal(request):
    language = (get_language() or settings.LANGUAGE_CODE).lower()
    return {
        "site_name": settings.TONGBAN_SITE_NAME,
        "care_mode": is_care_mode(request),
        "is_mongolian": language == "mn-mong",
        "html_lang": {"zh-hans": "zh-Hans", "mn-mong": "mn-Mong", "en": "en"}.get(
            language, language
        ),
        "current_region": SimpleLazyObject(lambda: current_region(request)),
        "branch_regions": SimpleLazyObject(lambda: guides.branch_regions(province_code())),
    }
