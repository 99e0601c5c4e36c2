"""The cases admin: form fields limited to the organization's own, endpoint secrets write-only."""

from __future__ import annotations

import pytest

from tests.accounts.factories import make_staff
from tests.backoffice.helpers import login_backoffice
from tests.cases.factories import setting
from tongban.accounts.models import StaffRole
from tongban.cases.models import DepartmentEndpoint, FormField

pytestmark = pytest.mark.django_db


def test_an_org_admin_sees_only_the_forms_of_their_organization(client):
    mine, theirs = setting(), setting()
    login_backoffice(client, mine.org_admin)
    page = client.get("/admin/cases/formfield/").content.decode()
    assert mine.implementation.item.name in page
    assert theirs.implementation.item.name not in page
    other = FormField.objects.filter(implementation=theirs.implementation).first()
    assert client.get(f"/admin/cases/formfield/{other.pk}/change/").status_code in (302, 404)


def test_only_the_platform_registers_department_systems(client):
    env = setting()
    login_backoffice(client, env.org_admin)
    assert client.get("/admin/cases/departmentendpoint/").status_code == 403
    operator = make_staff(env.organization, StaffRole.OPERATOR)
    login_backoffice(client, operator)
    data = {
        "organization": env.organization.pk,
        "url": "https://dept.example.gov.cn/tongban",
        "secret": "short",
        "client_id": "",
        "enabled": "on",
    }
    refused = client.post("/admin/cases/departmentendpoint/add/", data)
    assert refused.status_code == 200
    assert "至少32个字符" in refused.content.decode()
    data["secret"] = "s" * 40
    assert client.post("/admin/cases/departmentendpoint/add/", data).status_code == 302
    endpoint = DepartmentEndpoint.objects.get()
    assert endpoint.secret == "s" * 40
    page = client.get(f"/admin/cases/departmentendpoint/{endpoint.pk}/change/").content.decode()
    assert "s" * 40 not in page
    data["secret"] = ""
    data["url"] = "https://dept.example.gov.cn/v2"
    client.post(f"/admin/cases/departmentendpoint/{endpoint.pk}/change/", data)
    endpoint.refresh_from_db()
    assert endpoint.secret == "s" * 40
    assert endpoint.url.endswith("/v2")
