"""Object-level scope in the back office: the catalog admin, the guide audit and the Excel export
show and change only the staff member's organization's implementations in their regions."""

import io

import openpyxl
import pytest
from django.urls import reverse

from tests.accounts.factories import StaffPostFactory
from tests.backoffice.helpers import login_backoffice
from tests.catalog.factories import ImplementationFactory
from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.accounts.staff import role_group
from tongban.catalog.models import Implementation

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(client):
    city = RegionFactory()
    org, other = OrganizationFactory(region=city), OrganizationFactory(region=city)
    own = ImplementationFactory(organization=org, complete=True)
    foreign = ImplementationFactory(organization=other, complete=True)
    admin_user = StaffPostFactory(organization=org, org_admin=True).user
    admin_user.groups.add(role_group("org_admin"))
    login_backoffice(client, admin_user)
    return {"org": org, "other": other, "own": own, "foreign": foreign, "client": client}


def test_changelist_shows_only_the_own_organizations_rows(setup, django_assert_max_num_queries):
    client = setup["client"]
    response = client.get("/admin/catalog/implementation/")
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert shown == {setup["own"].pk}
    for _ in range(5):
        ImplementationFactory(organization=setup["org"])
    with django_assert_max_num_queries(40):
        assert client.get("/admin/catalog/implementation/").status_code == 200


def test_another_organizations_row_cannot_be_opened_or_changed(setup):
    client = setup["client"]
    foreign = setup["foreign"]
    url = reverse("admin:catalog_implementation_change", args=[foreign.pk])
    assert client.get(url).status_code == 302  # "does not exist" for this user
    before = Implementation.objects.get(pk=foreign.pk).promised_limit
    client.post(
        reverse("admin:catalog_implementation_changelist"),
        {"action": "publish_selected", "_selected_action": [foreign.pk]},
    )
    assert Implementation.objects.get(pk=foreign.pk).promised_limit == before


def test_the_form_refuses_another_organization(setup):
    client = setup["client"]
    own = setup["own"]
    url = reverse("admin:catalog_implementation_change", args=[own.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert set(form.fields["organization"].queryset) == {setup["org"]}


def test_guide_audit_and_export_are_scoped(setup):
    client = setup["client"]
    report = client.get(reverse("backoffice:audit")).context["report"]
    assert report.overall.total == 1
    refused = client.get(reverse("backoffice:audit"), {"organization": setup["other"].pk})
    assert refused.context["report"] is None
    assert "organization" in refused.context["form"].errors
    response = client.get(reverse("backoffice:export"), {"organization": setup["org"].pk})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    text = "\n".join(
        str(cell)
        for ws in book.worksheets
        for row in ws.iter_rows(values_only=True)
        for cell in row
    )
    assert setup["own"].code in text
    assert setup["foreign"].code not in text


def test_an_import_reaching_outside_the_scope_is_refused_whole(setup):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.catalog.test_importexport import edit, exported, snapshot

    client = setup["client"]
    rows = list(Implementation.objects.order_by("code").values_list("code", flat=True))
    foreign_row = 3 + rows.index(setup["foreign"].code)
    buffer = edit(exported(), "实施清单", [(foreign_row, "promised_limit", 1)])
    before = snapshot()
    upload = SimpleUploadedFile("catalog.xlsx", buffer.getvalue())
    response = client.post(reverse("backoffice:import"), {"file": upload})
    assert response.status_code == 200
    report = response.context["report"]
    assert not report.ok
    assert "out_of_scope" in {e.code for e in report.errors}
    assert "token" not in response.context
    assert snapshot() == before
    # the own rows alone go through
    own_only = exported(Implementation.objects.filter(organization=setup["org"]))
    response = client.post(
        reverse("backoffice:import"), {"file": SimpleUploadedFile("own.xlsx", own_only.getvalue())}
    )
    assert response.context["report"].ok, response.context["report"].errors
