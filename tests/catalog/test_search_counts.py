"""What search counts: ``total`` is the number of published implementations of the ranked items,
on both databases. On PostgreSQL the count without a region, organization or depth filter reads
``catalog_item.active_undated_count`` (kept by triggers, migration ``0003_search_counts``) plus
the dated implementations; these tests hold it to a count of the rows after every kind of write.
"""

import datetime as dt

import pytest
from django.db import connection

from tests.catalog.factories import ImplementationFactory, ItemFactory
from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.catalog import queries
from tongban.catalog.models import Implementation, ImplementationStatus, Item
from tongban.catalog.search import reindex_items
from tongban.core.models import RegionLevel

pytestmark = pytest.mark.django_db

ACTIVE = ImplementationStatus.ACTIVE
DRAFT = ImplementationStatus.DRAFT


@pytest.fixture
def regions():
    return {
        "province": RegionFactory(province=True),
        "ordos": RegionFactory(),
        "dongsheng": RegionFactory(dongsheng=True),
        "xilin": RegionFactory(code="152500", name="锡林郭勒盟", level=RegionLevel.CITY),
        "erenhot": RegionFactory(erenhot=True),
    }


def _stored_counts() -> dict[int, int]:
    column = queries.UNDATED_COUNT_COLUMN
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {column} FROM catalog_item")  # noqa: S608
        return dict(cursor.fetchall())


def _row_counts() -> dict[int, int]:
    counts = dict.fromkeys(Item.objects.values_list("pk", flat=True), 0)
    for item_id in Implementation.objects.filter(
        status=ACTIVE, effective_from__isnull=True, effective_to__isnull=True
    ).values_list("item_id", flat=True):
        counts[item_id] += 1
    return counts


def _published_per_item(region: str | None = None) -> dict[int, int]:
    rows = queries.published_implementations()
    if region:
        low, high, ancestors = queries.region_scope(region)
        in_scope = [
            pk
            for pk, code in rows.values_list("pk", "region_code")
            if (low <= code and (high is None or code < high)) or code in ancestors
        ]
        rows = rows.filter(pk__in=in_scope)
    counts: dict[int, int] = {}
    for item_id in rows.values_list("item_id", flat=True):
        counts[item_id] = counts.get(item_id, 0) + 1
    return counts


@pytest.mark.postgres
def test_the_stored_count_follows_every_kind_of_write(regions):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite counts rows")
    today = queries.published_on()
    orgs = [OrganizationFactory(region=region) for region in regions.values()]
    first, second = ItemFactory(name="社保卡申领"), ItemFactory(name="护照签发")
    check = lambda: _stored_counts() == _row_counts()  # noqa: E731

    impls = [  # save(); the factory's default is dated
        ImplementationFactory(item=first, organization=org, effective_from=None) for org in orgs
    ]
    assert _stored_counts()[first.pk] == len(orgs)
    assert check()
    dated = ImplementationFactory(item=first, organization=orgs[0], effective_from=today)
    draft = ImplementationFactory(
        item=second, organization=orgs[1], status=DRAFT, effective_from=None
    )
    assert check()
    Implementation.objects.bulk_create(
        ImplementationFactory.build(
            item=second,
            organization=org,
            region_code=org.region.code,
            effective_from=None if n % 2 else today,
        )
        for n, org in enumerate(orgs)
    )
    assert check()
    draft.status = ACTIVE  # publish
    draft.save()
    assert check()
    dated.effective_from = None  # the date is lifted: now counted as undated
    dated.save()
    assert check()
    Implementation.objects.filter(pk=impls[0].pk).update(item=second)  # moved to another item
    Implementation.objects.filter(pk__in=[impls[1].pk, impls[2].pk]).update(
        effective_to=today + dt.timedelta(days=3)
    )
    Implementation.objects.filter(item=second, organization=orgs[2]).update(status=DRAFT)
    assert check()
    impls[3].delete()
    Implementation.objects.filter(item=second, status=DRAFT).delete()
    assert check()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending checks
        cursor.execute("TRUNCATE catalog_implementation CASCADE")
    assert set(_stored_counts().values()) == {0}


@pytest.mark.parametrize("region", [None, "150602", "150600", "150000", "152501"])
def test_total_is_the_number_of_published_implementations(regions, region):
    """Undated, dated (today inside, outside), drafts and an inactive item, in every scope."""
    today = queries.published_on()
    day = dt.timedelta(days=1)
    orgs = [OrganizationFactory(region=r) for r in regions.values()]
    items = [ItemFactory(name=f"公积金提取{n}", popularity=n) for n in range(4)]
    dates = [(None, None), (today - day, None), (None, today + day), (today + day, None)]
    for n, item in enumerate(items):
        for k, org in enumerate(orgs):
            start, end = dates[(n + k) % len(dates)]
            ImplementationFactory(
                item=item,
                organization=org,
                effective_from=start,
                effective_to=end,
                status=DRAFT if (n * k) % 5 == 4 else ACTIVE,
            )
    Item.objects.filter(pk=items[3].pk).update(is_active=False)
    reindex_items(Item.objects.all())
    expected = _published_per_item(region)
    for q in ["", "公积金"]:
        page = queries.search(q, region=region, page_size=50)
        assert page.total == sum(expected.values()), q
        seen: dict[int, int] = {}
        for hit in page.results:
            seen[hit.item_id] = seen.get(hit.item_id, 0) + 1
        assert seen == expected, q
    # A change of status without the ORM's save() is counted at once.
    Implementation.objects.filter(item=items[0]).update(status=DRAFT)
    assert queries.search("", region=region).total == sum(
        n for item_id, n in expected.items() if item_id != items[0].pk
    )
