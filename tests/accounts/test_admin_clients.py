"""Operators register department systems in the admin: DOT's Application admin with the
ClientPolicy inline (tongban.accounts.admin_clients)."""

import pytest
from django.contrib import admin
from oauth2_provider.models import Application

from tests.accounts.factories import UserFactory
from tests.accounts.oidc_support import make_client
from tests.backoffice.helpers import login_backoffice
from tongban.accounts.admin_clients import TongbanApplicationAdmin

pytestmark = pytest.mark.django_db


def test_application_admin_is_tongbans():
    assert isinstance(admin.site._registry[Application], TongbanApplicationAdmin)


def test_change_page_shows_the_policy_with_scope_checkboxes(client):
    app = make_client(scopes=("openid", "profile")).application
    login_backoffice(client, UserFactory(is_staff=True, is_superuser=True))

    listing = client.get("/admin/oauth2_provider/application/")
    page = client.get(f"/admin/oauth2_provider/application/{app.pk}/change/")

    assert listing.status_code == 200
    assert app.tongban_policy.organization.name in listing.content.decode()
    assert page.status_code == 200
    body = page.content.decode()
    assert "接入策略" in body
    assert 'value="catalog:read"' in body
    assert 'value="profile"' in body
