"""One meaning of "published" in every channel (catalog.queries.published_q / published_sql).

An implementation is public when it is active, its item is active and today (Asia/Shanghai)
lies within its effective dates. Whatever breaks one of these conditions hides the guide from
the portal's guide page and notice, the API, search (portal and API), the hot list and the
department list, and from the guide audit.
"""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests.portal.fixtures import MARRIAGE
from tongban.catalog import guide_audit, guides, queries
from tongban.catalog.models import Implementation, Item
from tongban.core.models import Region

pytestmark = pytest.mark.django_db

SHANGHAI_TODAY = dt.date(2026, 11, 24)
# 2026-11-23 17:30 UTC is already 2026-11-24 01:30 in Asia/Shanghai.
UTC_EVENING = dt.datetime(2026, 11, 23, 17, 30, tzinfo=dt.UTC)


@pytest.fixture
def shanghai_morning(monkeypatch, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    monkeypatch.setattr(timezone, "now", lambda: UTC_EVENING)
    assert timezone.localdate() == SHANGHAI_TODAY


def _hide(how: str) -> None:
    marriage = Implementation.objects.get(code=MARRIAGE)
    if how == "item inactive":
        Item.objects.filter(pk=marriage.item_id).update(is_active=False)
    elif how == "expired":
        Implementation.objects.filter(pk=marriage.pk).update(
            effective_to=SHANGHAI_TODAY - dt.timedelta(days=1)
        )
    elif how == "not yet effective":
        Implementation.objects.filter(pk=marriage.pk).update(
            effective_from=SHANGHAI_TODAY + dt.timedelta(days=1)
        )
    else:  # pragma: no cover - a typo in a parameter
        raise AssertionError(how)


def _everywhere(client) -> dict[str, bool]:
    """Where the marriage guide shows, channel by channel."""
    api_search = client.get("/api/v1/catalog/search", {"q": "婚姻登记"}).json()
    portal_search = client.get("/search", {"q": "婚姻登记"}).context["result"]
    branch = client.get("/r/150602/").context
    report = guide_audit.audit(region="150602")
    return {
        "portal guide": client.get(f"/guide/{MARRIAGE}/").status_code == 200,
        "portal notice": client.get(f"/guide/{MARRIAGE}/notice.pdf").status_code == 200,
        "api guide": client.get(f"/api/v1/catalog/implementations/{MARRIAGE}").status_code == 200,
        "api search": any(h["implementation_code"] == MARRIAGE for h in api_search["results"]),
        "portal search": any(h.implementation_code == MARRIAGE for h in portal_search.results),
        "hot list": any(h.implementation_code == MARRIAGE for h in branch["hot"]),
        "department list": any(d.name == "东胜区民政局" for d in branch["departments"]),
        "branch list": "150602" in {r.code for r in guides.branch_regions("150000")},
        "audit": report.overall.total == 1,
        "published queryset": queries.published_implementations().filter(code=MARRIAGE).exists(),
    }


def test_a_published_guide_shows_everywhere(client, catalog, shanghai_morning):
    assert all(_everywhere(client).values()), _everywhere(client)


@pytest.mark.parametrize("how", ["item inactive", "expired", "not yet effective"])
def test_an_unpublished_guide_shows_nowhere(client, catalog, shanghai_morning, how):
    _hide(how)
    shown = _everywhere(client)
    assert not any(shown.values()), shown


def test_guide_pages_answer_404_with_the_not_found_message(client, catalog, shanghai_morning):
    _hide("item inactive")
    page = client.get(f"/guide/{MARRIAGE}/")
    assert page.status_code == 404
    assert str(guides.GuideErrorCode.NOT_FOUND.label) in page.content.decode()
    api = client.get(f"/api/v1/catalog/implementations/{MARRIAGE}")
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"


def test_effective_dates_are_inclusive_on_the_shanghai_date(client, catalog, shanghai_morning):
    """Effective from today and to today (the local date, not UTC's 2026-11-23): public."""
    Implementation.objects.filter(code=MARRIAGE).update(
        effective_from=SHANGHAI_TODAY, effective_to=SHANGHAI_TODAY
    )
    assert all(_everywhere(client).values())
    # Ended on the UTC date, which is yesterday in Shanghai: hidden.
    Implementation.objects.filter(code=MARRIAGE).update(
        effective_from=None, effective_to=UTC_EVENING.date()
    )
    cache.clear()  # the department and branch lists are cached for a few minutes
    assert not any(_everywhere(client).values())


def test_without_effective_dates_an_active_guide_is_public(client, catalog, shanghai_morning):
    Implementation.objects.filter(code=MARRIAGE).update(effective_from=None, effective_to=None)
    assert all(_everywhere(client).values())


def test_branch_portal_of_the_region_still_opens(client, catalog, shanghai_morning):
    """Hiding a region's only guide leaves the branch portal itself reachable."""
    _hide("expired")
    assert Region.objects.filter(code="150602").exists()
    assert client.get("/r/150602/").status_code == 200
