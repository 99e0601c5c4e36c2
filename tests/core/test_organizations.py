"""Organizations: the service rules, and the back office for regions and organizations."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import path, reverse

from tests.backoffice.helpers import login_backoffice
from tests.core.factories import OrganizationFactory, RegionFactory, make_uscc
from tongban.core.identifiers import IdentifierError, validate_uscc
from tongban.core.models import Organization, OrganizationKind, Region, RegionLevel, UtilitySector
from tongban.core.organizations import (
    OrganizationError,
    OrganizationErrorCode,
    create_organization,
    update_organization,
)

# The admin tests need only the admin; this keeps them independent of the channel URLconfs.
urlpatterns = [path("admin/", admin.site.urls)]


User = get_user_model()

pytestmark = pytest.mark.django_db

BAD_CHECK_USCC = "91350100M000100Y44"  # valid except the 18th character (should be 3)


@pytest.fixture
def regions():
    province = RegionFactory(province=True)
    city = RegionFactory(parent=province)
    dongsheng = RegionFactory(dongsheng=True, parent=city)
    kunming = RegionFactory(code="530100", name="昆明市", level=RegionLevel.CITY)
    return {"province": province, "city": city, "dongsheng": dongsheng, "kunming": kunming}


def fields(region, **overrides):
    values = {
        "name": "东胜区市场监督管理局",
        "uscc": make_uscc(region.code).lower(),
        "kind": OrganizationKind.ORGAN,
        "region": region,
    }
    return values | overrides


def error_codes(call, **kwargs) -> list[str]:
    with pytest.raises(OrganizationError) as info:
        call(**kwargs)
    assert info.value.code == info.value.problems[0].code
    return [problem.code for problem in info.value.problems]


def state():
    return sorted(
        Organization.objects.values_list(
            "pk", "name", "uscc", "parent_id", "region_id", "is_active"
        )
    )


class TestCreate:
    def test_creates_with_normalized_credit_code(self, regions):
        values = fields(regions["dongsheng"], name="  东胜区税务局 ")
        org = create_organization(actor=None, **values)
        org.refresh_from_db()
        assert org.uscc == values["uscc"].upper()
        assert org.name == "东胜区税务局"
        assert org.region == regions["dongsheng"]

    def test_bad_credit_code_gives_the_specific_reason(self, regions):
        with pytest.raises(OrganizationError) as info:
            create_organization(actor=None, **fields(regions["dongsheng"], uscc=BAD_CHECK_USCC))
        assert info.value.code == OrganizationErrorCode.USCC_INVALID
        assert info.value.problems[0].field == "uscc"
        with pytest.raises(IdentifierError) as reason:
            validate_uscc(BAD_CHECK_USCC)
        assert info.value.message == str(reason.value.message)
        assert "第18位应为3" in info.value.message
        assert not Organization.objects.exists()

    def test_required_and_too_long(self, regions):
        codes = error_codes(
            create_organization, actor=None, name=" ", kind="", uscc="", phone="1" * 51
        )
        assert codes == ["required"] * 4 + ["too_long"]

    def test_unknown_field(self, regions):
        assert "unknown_field" in error_codes(
            create_organization, actor=None, **fields(regions["dongsheng"], colour="red")
        )

    def test_credit_code_and_name_are_unique(self, regions):
        first = OrganizationFactory(region=regions["dongsheng"], name="东胜区税务局")
        assert error_codes(
            create_organization, actor=None, **fields(regions["dongsheng"], uscc=first.uscc)
        ) == ["uscc_taken"]
        assert error_codes(
            create_organization, actor=None, **fields(regions["dongsheng"], name="东胜区税务局")
        ) == ["name_taken"]
        # The same name in another region, or beside an inactive namesake, is fine.
        create_organization(actor=None, **fields(regions["city"], name="东胜区税务局"))
        first.is_active = False
        first.save()
        create_organization(actor=None, **fields(regions["dongsheng"], name="东胜区税务局"))

    @pytest.mark.parametrize(
        ("kind", "sector", "code"),
        [
            (OrganizationKind.ORGAN, UtilitySector.WATER, "sector_not_allowed"),
            (OrganizationKind.PUBLIC_SERVICE, "", "sector_required"),
            (OrganizationKind.PUBLIC_SERVICE, "oil", "sector_invalid"),
            ("ministry", "", "kind_invalid"),
        ],
    )
    def test_kind_and_sector(self, regions, kind, sector, code):
        assert error_codes(
            create_organization,
            actor=None,
            **fields(regions["dongsheng"], kind=kind, sector=sector),
        ) == [code]

    def test_public_service_unit_with_its_sector(self, regions):
        org = create_organization(
            actor=None,
            **fields(
                regions["dongsheng"],
                name="鄂尔多斯市东胜区供水公司",
                kind=OrganizationKind.PUBLIC_SERVICE,
                sector=UtilitySector.WATER,
                uscc=make_uscc("150602", authority="9", category="1"),
            ),
        )
        assert org.sector == "water"

    def test_region_must_be_active(self, regions):
        Region.objects.filter(pk=regions["dongsheng"].pk).update(is_active=False)
        regions["dongsheng"].refresh_from_db()
        assert error_codes(create_organization, actor=None, **fields(regions["dongsheng"])) == [
            "region_inactive"
        ]

    def test_parent_must_be_active_and_in_the_same_or_a_higher_region(self, regions):
        city_bureau = OrganizationFactory(region=regions["city"])
        create_organization(actor=None, **fields(regions["dongsheng"], parent=city_bureau))

        kunming_bureau = OrganizationFactory(region=regions["kunming"], name="昆明市某局")
        assert error_codes(
            create_organization,
            actor=None,
            **fields(regions["dongsheng"], name="x", parent=kunming_bureau),
        ) == ["parent_region"]
        county_bureau = OrganizationFactory(region=regions["dongsheng"])
        assert error_codes(
            create_organization,
            actor=None,
            **fields(regions["city"], name="y", parent=county_bureau),
        ) == ["parent_region"]
        city_bureau.is_active = False
        city_bureau.save()
        assert error_codes(
            create_organization,
            actor=None,
            **fields(regions["dongsheng"], name="z", parent=city_bureau),
        ) == ["parent_inactive"]

    def test_permission_is_checked_and_a_refusal_changes_nothing(self, regions):
        clerk = User.objects.create_user("clerk", password="x-123456789")
        before = state()
        assert error_codes(create_organization, actor=clerk, **fields(regions["dongsheng"])) == [
            "permission_denied"
        ]
        assert state() == before
        clerk.user_permissions.add(Permission.objects.get(codename="add_organization"))
        clerk = User.objects.get(pk=clerk.pk)
        assert create_organization(actor=clerk, **fields(regions["dongsheng"])).pk


class TestUpdate:
    def test_changes_fields(self, regions):
        org = OrganizationFactory(region=regions["dongsheng"])
        updated = update_organization(actor=None, organization=org, name="新名称", phone="0477-1")
        org.refresh_from_db()
        assert (org.name, org.phone) == ("新名称", "0477-1") == (updated.name, updated.phone)

    def test_parent_cannot_be_itself_or_a_descendant(self, regions):
        top = OrganizationFactory(region=regions["city"])
        middle = OrganizationFactory(region=regions["city"], parent=top)
        bottom = OrganizationFactory(region=regions["dongsheng"], parent=middle)
        before = state()
        assert error_codes(update_organization, actor=None, organization=top, parent=top) == [
            "parent_self"
        ]
        assert error_codes(update_organization, actor=None, organization=top, parent=bottom) == [
            "parent_cycle",
            "parent_region",
        ]
        assert error_codes(update_organization, actor=None, organization=top, parent=middle) == [
            "parent_cycle"
        ]
        assert state() == before

    def test_cannot_deactivate_with_active_children(self, regions):
        top = OrganizationFactory(region=regions["city"])
        child = OrganizationFactory(region=regions["dongsheng"], parent=top)
        assert error_codes(update_organization, actor=None, organization=top, is_active=False) == [
            "has_active_children"
        ]
        update_organization(actor=None, organization=child, is_active=False)
        assert update_organization(actor=None, organization=top, is_active=False).is_active is False

    def test_inactive_region_blocks_moving_in_but_not_other_edits(self, regions):
        org = OrganizationFactory(region=regions["dongsheng"])
        Region.objects.filter(pk=regions["dongsheng"].pk).update(is_active=False)
        update_organization(actor=None, organization=org, phone="0477-2")
        other = OrganizationFactory(region=regions["city"])
        region = Region.objects.get(pk=regions["dongsheng"].pk)
        assert error_codes(update_organization, actor=None, organization=other, region=region) == [
            "region_inactive"
        ]

    def test_credit_code_change_is_checked(self, regions):
        org = OrganizationFactory(region=regions["dongsheng"])
        other = OrganizationFactory(region=regions["dongsheng"])
        assert error_codes(
            update_organization, actor=None, organization=org, uscc=other.uscc.lower()
        ) == ["uscc_taken"]
        assert error_codes(update_organization, actor=None, organization=org, uscc="123") == [
            "uscc_invalid"
        ]

    def test_permission(self, regions):
        org = OrganizationFactory(region=regions["dongsheng"])
        clerk = User.objects.create_user("clerk", password="x-123456789")
        assert error_codes(update_organization, actor=clerk, organization=org, name="x") == [
            "permission_denied"
        ]
        org.refresh_from_db()
        assert org.name != "x"


@pytest.mark.urls(__name__)
class TestAdmin:
    @pytest.fixture
    def operator(self, client):
        user = User.objects.create_superuser("operator", "op@example.org", "op-secret-123")
        login_backoffice(client, user)
        return user

    def org_form(self, region, **overrides):
        return {
            "name": "东胜区人力资源和社会保障局",
            "short_name": "",
            "uscc": make_uscc(region.code),
            "kind": OrganizationKind.ORGAN,
            "sector": "",
            "region": region.pk,
            "parent": "",
            "phone": "",
            "address": "",
            "is_active": "on",
        } | overrides

    @pytest.mark.parametrize("model", ["region", "organization"])
    def test_pages_render(self, client, operator, regions, model):
        org = OrganizationFactory(region=regions["dongsheng"])
        obj = org if model == "organization" else regions["dongsheng"]
        for url in (
            reverse(f"admin:core_{model}_changelist"),
            reverse(f"admin:core_{model}_changelist") + "?q=150602",
            reverse(f"admin:core_{model}_add"),
            reverse(f"admin:core_{model}_change", args=[obj.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 200, url

    def test_anonymous_is_sent_to_login(self, client, regions):
        response = client.get(reverse("admin:core_organization_add"))
        assert response.status_code == 302
        assert "/login/" in response["Location"]

    def test_region_search_and_filter(self, client, operator, regions):
        url = reverse("admin:core_region_changelist")

        def listed(params):
            response = client.get(url, params)
            assert response.status_code == 200
            return [region.code for region in response.context["cl"].result_list]

        assert listed({"q": "东胜"}) == ["150602"]
        assert listed({"q": "1506"}) == ["150600", "150602"]
        assert listed({"level__exact": "1"}) == ["150000"]

    def test_bad_credit_code_is_rejected_with_its_reason(self, client, operator, regions):
        response = client.post(
            reverse("admin:core_organization_add"),
            self.org_form(regions["dongsheng"], uscc=BAD_CHECK_USCC),
        )
        assert response.status_code == 200
        assert "统一社会信用代码校验码错误：第18位应为3" in response.content.decode()
        assert not Organization.objects.exists()

    def test_add_saves_through_the_service(self, client, operator, regions):
        uscc = make_uscc("150602")
        response = client.post(
            reverse("admin:core_organization_add"),
            self.org_form(regions["dongsheng"], uscc=uscc.lower()),
        )
        assert response.status_code == 302
        org = Organization.objects.get()
        assert org.uscc == uscc
        assert response["Location"].endswith(reverse("admin:core_organization_changelist"))

    def test_change_form_shows_the_service_errors(self, client, operator, regions):
        top = OrganizationFactory(region=regions["city"])
        child = OrganizationFactory(region=regions["dongsheng"], parent=top)
        form = self.org_form(regions["city"], name=top.name, uscc=top.uscc, parent=child.pk)
        response = client.post(reverse("admin:core_organization_change", args=[top.pk]), form)
        assert response.status_code == 200
        assert "不能作为上级单位" in response.content.decode()
        top.refresh_from_db()
        assert top.parent_id is None

        form = self.org_form(
            regions["city"], name=top.name, uscc=top.uscc, kind=OrganizationKind.PUBLIC_SERVICE
        )
        response = client.post(reverse("admin:core_organization_change", args=[top.pk]), form)
        assert "公共服务单位应填写所属行业" in response.content.decode()

        form = self.org_form(regions["city"], name="改名", uscc=top.uscc)
        response = client.post(reverse("admin:core_organization_change", args=[top.pk]), form)
        assert response.status_code == 302
        top.refresh_from_db()
        assert top.name == "改名"

    def test_region_form_checks_code_level_and_parent(self, client, operator, regions):
        url = reverse("admin:core_region_add")
        base = {
            "code": "150604",
            "name": "测试区",
            "level": "3",
            "parent": regions["city"].pk,
            "edition": "manual",
        }
        response = client.post(url, base | {"is_active": "on", "level": "2"})
        assert "代码150604是县级区划，不是市级" in response.content.decode()
        response = client.post(url, base | {"is_active": "on", "parent": regions["province"].pk})
        assert "上级区划应为150600" in response.content.decode()
        response = client.post(url, base | {"is_active": "on", "code": "15060"})
        assert "格式错误" in response.content.decode()
        assert (
            not Region.objects.filter(code__startswith="15060", level=3)
            .exclude(code="150602")
            .exists()
        )
        response = client.post(url, base | {"is_active": "on"})
        assert response.status_code == 302
        assert Region.objects.get(code="150604").prefix == "150604"

    def test_region_cannot_be_deleted_or_deactivated_under_active_children(
        self, client, operator, regions
    ):
        city = regions["city"]
        response = client.get(reverse("admin:core_region_delete", args=[city.pk]))
        assert response.status_code == 403
        form = {"name": city.name, "level": "2", "parent": regions["province"].pk, "edition": ""}
        response = client.post(reverse("admin:core_region_change", args=[city.pk]), form)
        assert "仍有有效的下级区划" in response.content.decode()
        city.refresh_from_db()
        assert city.is_active

    def test_region_autocomplete_offers_active_regions_only(self, client, operator, regions):
        Region.objects.filter(pk=regions["kunming"].pk).update(is_active=False)
        params = {
            "app_label": "core",
            "model_name": "organization",
            "field_name": "region",
            "term": "市",
        }
        response = client.get(reverse("admin:autocomplete"), params)
        texts = [item["text"] for item in response.json()["results"]]
        assert "鄂尔多斯市（150600）" in texts
        assert not any("昆明" in text for text in texts)

    def test_organization_list_query_count_does_not_grow(
        self, client, operator, regions, django_assert_max_num_queries
    ):
        url = reverse("admin:core_organization_changelist")
        OrganizationFactory.create_batch(3, region=regions["dongsheng"])
        with django_assert_max_num_queries(20) as few:
            client.get(url)
        OrganizationFactory.create_batch(20, region=regions["city"])
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(url)
