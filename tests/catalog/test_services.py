"""Catalog services: an item's change reaches its cached guide pages and notices at once."""

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone

from tests.catalog.factories import ImplementationFactory, ItemFactory
from tongban.catalog import guides, services
from tongban.catalog.models import Implementation, Item, ItemTranslation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cold_cache(settings):
    cache.clear()
    settings.TONGBAN_GUIDE_STAMP_SECONDS = 60  # as in production: stamps are cached
    yield
    cache.clear()


@pytest.fixture
def item_with_guides():
    item = ItemFactory(name="旧的事项名称")
    first = ImplementationFactory(item=item, complete=True)
    second = ImplementationFactory(item=item, complete=True)
    other = ImplementationFactory(complete=True)  # another item's guide: left alone
    return item, first, second, other


def _warm(client, *codes):
    """Read each guide page and notice once, so that they are cached under their stamps."""
    for code in codes:
        assert client.get(f"/guide/{code}/").status_code == 200
        assert client.get(f"/guide/{code}/notice.pdf").status_code == 200


def _notice_name(response) -> str:
    from urllib.parse import unquote

    return unquote(response["Content-Disposition"].split("filename*=UTF-8''")[1])


def test_renaming_an_item_shows_on_its_cached_guide_pages_at_once(
    client, item_with_guides, django_capture_on_commit_callbacks
):
    item, first, second, _other = item_with_guides
    _warm(client, first.code, second.code)
    assert "旧的事项名称" in client.get(f"/guide/{first.code}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.update_item(actor=None, item=item, name="新的事项名称")

    for impl in (first, second):
        page = client.get(f"/guide/{impl.code}/").content.decode()
        assert "新的事项名称" in page
        assert "旧的事项名称" not in page
        notice = client.get(f"/guide/{impl.code}/notice.pdf")
        assert _notice_name(notice) == "一次性告知单-新的事项名称.pdf"
    api = client.get(f"/api/v1/catalog/implementations/{first.code}").json()
    assert api["item"]["name"] == "新的事项名称"


def test_deactivating_an_item_withdraws_its_cached_guides_at_once(
    client, item_with_guides, django_capture_on_commit_callbacks
):
    item, first, _second, other = item_with_guides
    _warm(client, first.code, other.code)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_item(actor=None, item=item, is_active=False)
    assert client.get(f"/guide/{first.code}/").status_code == 404
    assert client.get(f"/guide/{first.code}/notice.pdf").status_code == 404
    assert client.get(f"/guide/{other.code}/").status_code == 200


def test_item_changed_touches_only_the_items_implementations(
    item_with_guides, django_capture_on_commit_callbacks
):
    item, first, second, other = item_with_guides
    before = dict(Implementation.objects.values_list("code", "updated_at"))
    stamps = {i.code: guides.cached_guide_stamp(i.code) for i in (first, second, other)}

    with django_capture_on_commit_callbacks() as callbacks:
        codes = services.item_changed(item=item)
        # Nothing is forgotten before the transaction commits.
        assert guides.cached_guide_stamp(first.code) == stamps[first.code]
    assert sorted(codes) == sorted([first.code, second.code])
    after = dict(Implementation.objects.values_list("code", "updated_at"))
    assert after[first.code] > before[first.code]
    assert after[second.code] > before[second.code]
    assert after[other.code] == before[other.code]
    assert len(callbacks) == 1

    callbacks[0]()
    assert guides.cached_guide_stamp(first.code).key != stamps[first.code].key
    assert guides.cached_guide_stamp(second.code).key != stamps[second.code].key
    assert guides.cached_guide_stamp(other.code) == stamps[other.code]


def test_a_refused_item_change_touches_nothing(item_with_guides):
    item, first, _second, _other = item_with_guides
    before = Implementation.objects.get(pk=first.pk).updated_at
    with pytest.raises(services.CatalogError) as raised:
        services.update_item(actor=None, item=item, name="")
    assert raised.value.code == services.CatalogErrorCode.INVALID_ITEM
    assert Implementation.objects.get(pk=first.pk).updated_at == before
    assert Item.objects.get(pk=item.pk).name == "旧的事项名称"


class _SavedForm:
    """What ModelAdmin.save_related needs of a bound form whose instance is already saved."""

    def __init__(self, instance):
        self.instance = instance

    def save_m2m(self):
        pass


def test_item_admin_save_refreshes_the_guides(
    client, item_with_guides, django_capture_on_commit_callbacks, admin_user
):
    """A translation added in the item admin (an inline) shows on the guide at once."""
    item, first, _second, _other = item_with_guides
    _warm(client, first.code)
    client.cookies["django_language"] = "en"
    assert client.get(f"/guide/{first.code}/").status_code == 200  # cached in English too

    ItemTranslation.objects.create(item=item, language="en", name="New English name")
    model_admin = admin.site._registry[Item]
    request = RequestFactory().post("/")
    request.user = admin_user
    started = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        model_admin.save_related(request, _SavedForm(item), [], change=True)

    assert Implementation.objects.get(pk=first.pk).updated_at >= started
    assert "New English name" in client.get(f"/guide/{first.code}/").content.decode()
