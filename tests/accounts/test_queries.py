"""Staff scope in SQL: a post covers its organization's rows within its regions (and their
sub-regions); operators see everything; the number of queries does not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.accounts.factories import StaffPostFactory, UserFactory
from tests.catalog.factories import ImplementationFactory
from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.accounts.queries import find_person, scope_q, staff_scope, visible_users
from tongban.catalog.models import Implementation

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    city = RegionFactory()  # 150600
    dongsheng = RegionFactory(dongsheng=True)  # 150602
    erenhot = RegionFactory(erenhot=True)  # 152501
    org = OrganizationFactory(region=city)
    other = OrganizationFactory(region=city)
    rows = {
        "own_city": ImplementationFactory(organization=org, region=city),
        "own_county": ImplementationFactory(organization=org, region=dongsheng),
        "own_far": ImplementationFactory(organization=org, region=erenhot),
        "other_city": ImplementationFactory(organization=other, region=city),
    }
    return {"org": org, "other": other, "dongsheng": dongsheng, "erenhot": erenhot, "rows": rows}


def visible(user):
    qs = Implementation.objects.filter(scope_q(user, "organization", "region_code"))
    return set(qs.values_list("code", flat=True))


def codes(world, *names):
    return {world["rows"][n].code for n in names}


def test_a_post_without_regions_covers_its_organizations_region_and_below(world):
    clerk = StaffPostFactory(organization=world["org"]).user
    assert visible(clerk) == codes(world, "own_city", "own_county")


def test_listed_regions_narrow_the_post(world):
    post = StaffPostFactory(organization=world["org"])
    post.regions.set([world["dongsheng"]])
    assert visible(post.user) == codes(world, "own_county")
    scope = staff_scope(post.user)
    assert scope.organization_ids == {world["org"].pk}
    assert scope.region_prefixes == ("150602",)


def test_two_posts_are_a_union(world):
    user = StaffPostFactory(organization=world["org"]).user
    StaffPostFactory(user=user, organization=world["other"], reviewer=True)
    assert visible(user) == codes(world, "own_city", "own_county", "other_city")


def test_operators_and_superusers_see_all_and_others_nothing(world):
    assert visible(StaffPostFactory(operator=True).user) == codes(world, *world["rows"])
    assert visible(UserFactory(is_superuser=True)) == codes(world, *world["rows"])
    assert visible(UserFactory()) == set()
    assert visible(None) == set()
    assert visible(StaffPostFactory().user) == set()  # another organization's clerk


def test_covers_agrees_with_the_sql(world):
    user = StaffPostFactory(organization=world["org"]).user
    scope = staff_scope(user)
    for impl in Implementation.objects.all():
        assert scope.covers(impl.organization_id, impl.region_code) == (impl.code in visible(user))


def test_query_count_is_constant_as_rows_and_posts_grow(world):
    user = StaffPostFactory(organization=world["org"]).user

    def count():
        fresh = type(user).objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as ctx:
            list(Implementation.objects.filter(scope_q(fresh, "organization", "region_code")))
        return len(ctx.captured_queries)

    baseline = count()
    for _ in range(5):
        ImplementationFactory(organization=world["org"], region=world["dongsheng"])
    post = StaffPostFactory(user=user, organization=world["other"], reviewer=True)
    post.regions.set([world["dongsheng"], world["erenhot"]])
    assert count() == baseline <= 3


def test_find_person_by_exact_digest_only():
    person = UserFactory()
    assert find_person(person.phone) == person
    assert find_person(person.id_number.lower()) == person
    assert find_person(person.phone[:-1]) is None
    assert find_person("") is None


def test_visible_users_follow_the_organizations():
    clerk_post = StaffPostFactory()
    colleague = StaffPostFactory(organization=clerk_post.organization).user
    outsider = StaffPostFactory().user
    seen = set(visible_users(clerk_post.user))
    assert colleague in seen
    assert outsider not in seen
    assert outsider in set(visible_users(StaffPostFactory(security_admin=True).user))
