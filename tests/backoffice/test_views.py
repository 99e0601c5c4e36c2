"""Operator pages: who may see them, the audit report, the upload flow, the export."""

import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.backoffice.helpers import login_backoffice
from tests.catalog.factories import ImplementationFactory
from tests.catalog.test_importexport import edit, exported, snapshot
from tongban.backoffice.views import SESSION_IMPORT
from tongban.catalog.models import Implementation

pytestmark = pytest.mark.django_db

PAGES = ("backoffice:audit", "backoffice:import", "backoffice:export")


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("operator", "op@example.com", "x-pass-123")
    login_backoffice(client, user)
    return client


def upload(content: bytes, name: str = "catalog.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_the_admin_login(client, page):
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("page", PAGES)
def test_non_staff_is_refused(client, django_user_model, page):
    user = django_user_model.objects.create_user("citizen", password="x-pass-123")
    login_backoffice(client, user)
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_catalog_permission_is_forbidden(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="x-pass-123", is_staff=True)
    login_backoffice(client, user)
    for page in PAGES:
        assert client.get(reverse(page)).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_implementation"))
    login_backoffice(client, user)
    assert client.get(reverse("backoffice:audit")).status_code == 200
    # viewing does not allow importing, and a refused upload changes nothing
    impl = ImplementationFactory(complete=True)
    before = snapshot()
    buffer = edit(exported(), "实施清单", [(3, "promised_limit", 1)])
    response = client.post(reverse("backoffice:import"), {"file": upload(buffer.getvalue())})
    assert response.status_code == 403
    assert snapshot() == before
    assert impl.pk


def test_staff_sees_the_report_with_chart_and_links(staff):
    bad = ImplementationFactory(complete=True, visits_required=1)
    ImplementationFactory(complete=True, instant=True)
    response = staff.get(reverse("backoffice:audit"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body
    assert "即办件占比" in body
    assert reverse("admin:catalog_implementation_change", args=[bad.pk]) in body
    assert "depth4_requires_zero_visits" in body
    assert response.context["report"].overall.total == 2


def test_audit_filters_and_excel(staff):
    impl = ImplementationFactory(complete=True)
    response = staff.get(reverse("backoffice:audit"), {"organization": impl.organization.pk})
    assert response.context["report"].overall.total == 1
    response = staff.get(reverse("backoffice:audit"), {"region": "999999"})
    assert response.context["report"] is None
    assert "不存在" in response.content.decode()
    response = staff.get(
        reverse("backoffice:audit"), {"region": impl.region.code, "format": "xlsx"}
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames[0] == "指标"


def test_audit_page_query_count_is_constant(staff, django_assert_max_num_queries):
    ImplementationFactory.create_batch(2, complete=True)
    staff.get(reverse("backoffice:audit"))
    ImplementationFactory.create_batch(8, complete=True)
    with django_assert_max_num_queries(20):
        assert staff.get(reverse("backoffice:audit")).status_code == 200


def test_upload_preview_then_confirm(staff):
    impl = ImplementationFactory(complete=True)
    buffer = edit(exported(), "实施清单", [(3, "promised_limit", 2)])
    before = snapshot()
    url = reverse("backoffice:import")
    response = staff.post(url, {"file": upload(buffer.getvalue())})
    assert response.status_code == 200
    assert 'name="confirm"' in response.content.decode()
    assert snapshot() == before  # the preview changed nothing
    token = response.context["token"]
    response = staff.post(url, {"confirm": "1", "token": token})
    assert response.status_code == 200
    assert response.context["report"].applied
    impl.refresh_from_db()
    assert impl.promised_limit == 2
    assert SESSION_IMPORT not in staff.session
    # the same token cannot be used twice
    response = staff.post(url, {"confirm": "1", "token": token}, follow=True)
    assert "预检结果已失效" in response.content.decode()


def test_bad_upload_lists_errors_and_offers_no_confirm(staff):
    ImplementationFactory(complete=True)
    buffer = edit(exported(), "实施清单", [(3, "visits_required", 2), (3, "region_code", "999999")])
    before = snapshot()
    response = staff.post(reverse("backoffice:import"), {"file": upload(buffer.getvalue())})
    body = response.content.decode()
    assert "depth4_requires_zero_visits" in body
    assert "region_unknown" in body
    assert 'name="confirm"' not in body
    assert "token" not in response.context
    assert snapshot() == before


def test_upload_must_be_xlsx(staff):
    response = staff.post(reverse("backoffice:import"), {"file": upload(b"a,b", "catalog.csv")})
    assert ".xlsx" in response.content.decode()
    response = staff.post(reverse("backoffice:import"), {"file": upload(b"not a zip")})
    assert "file_unreadable" in response.content.decode()


def test_confirm_needs_csrf(client, django_user_model):
    from django.test import Client

    user = django_user_model.objects.create_superuser("op2", "op2@example.com", "x-pass-123")
    strict = Client(enforce_csrf_checks=True)
    login_backoffice(strict, user)
    response = strict.post(reverse("backoffice:import"), {"confirm": "1", "token": "x"})
    assert response.status_code == 403


def test_export_returns_xlsx(staff):
    impl = ImplementationFactory(complete=True)
    response = staff.get(reverse("backoffice:export"))
    assert response.status_code == 200  # the form
    response = staff.get(reverse("backoffice:export"), {"region": impl.region.code})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [r[0].value for r in book["实施清单"].iter_rows(min_row=3)] == [impl.code]
    assert Implementation.objects.count() == 1


def test_admin_index_links_to_the_back_office(staff):
    body = staff.get(reverse("admin:index")).content.decode()
    assert reverse("backoffice:audit") in body
    assert reverse("backoffice:import") in body


def test_previewed_upload_is_kept_outside_public_media(staff, settings):
    ImplementationFactory(complete=True)
    buffer = edit(exported(), "实施清单", [(3, "promised_limit", 2)])
    staff.post(reverse("backoffice:import"), {"file": upload(buffer.getvalue())})
    name = staff.session[SESSION_IMPORT]["name"]
    from django.core.files.storage import storages

    assert storages["private"].exists(name)
    media = settings.MEDIA_ROOT
    assert not any(media.rglob("*.xlsx")) if media.exists() else True


def test_abandoned_previews_are_swept_at_the_next_upload(staff):
    import datetime as dt
    import os

    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from tongban.backoffice.views import IMPORT_DIR

    private = storages["private"]
    old = private.save(f"{IMPORT_DIR}/old.xlsx", ContentFile(b"x"))
    fresh = private.save(f"{IMPORT_DIR}/fresh.xlsx", ContentFile(b"x"))
    two_days_ago = (dt.datetime.now() - dt.timedelta(days=2)).timestamp()
    os.utime(private.path(old), (two_days_ago, two_days_ago))
    staff.post(reverse("backoffice:import"), {"file": upload(b"not a workbook")})
    assert not private.exists(old)
    assert private.exists(fresh)
