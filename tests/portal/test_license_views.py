"""The license wallet, showing a license by QR, and the public verify page."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.cases.factories import make_case, setting
from tests.licenses.factories import LicenseTypeFactory
from tests.seals.factories import SealFactory
from tongban.cases import services
from tongban.licenses.models import License
from tongban.licenses.services import revoke_license
from tongban.seals.codes import SealType

pytestmark = pytest.mark.django_db

FIELDS = [{"key": "scope", "label": "经营项目", "required": True}]


@pytest.fixture
def issued():
    env = setting()
    license_type = LicenseTypeFactory(fields=FIELDS)
    license_type.items.add(env.implementation.item)
    SealFactory(organization=env.organization, seal_type=SealType.LICENSE)
    case = make_case(env, "decided")
    services.conclude(
        actor=env.reviewer, case=case, version=case.version, license_data={"scope": "食品销售"}
    )
    env.case = case
    env.license = License.objects.get(case_reference=case.number)
    return env


def test_the_wallet_lists_the_license_issued_from_the_case(client, issued):
    client.force_login(issued.citizen)
    page = client.get(reverse("portal:licenses")).content.decode()
    assert issued.license.identifier in page
    assert "亮证" in page
    case_page = client.get(reverse("portal:case", args=[issued.case.number])).content.decode()
    assert "data-license-issued" in case_page


def test_nobody_else_sees_or_shows_it(client, issued):
    client.force_login(UserFactory())
    assert issued.license.identifier not in client.get(reverse("portal:licenses")).content.decode()
    assert client.get(reverse("portal:license_show", args=[issued.license.pk])).status_code == 404
    assert client.get(reverse("portal:license_pdf", args=[issued.license.pk])).status_code == 404


def _qr_link(client, lic) -> str:
    page = client.get(reverse("portal:license_show", args=[lic.pk])).content.decode()
    assert "<svg" in page
    # The QR encodes a verify link; the page offers it to screen readers as the title too.
    from tongban.licenses import presentation

    payload = presentation.present(lic, holder_user=lic.person)
    return reverse("portal:license_verify") + "?p=" + payload


def test_showing_and_verifying_by_qr(client, issued):
    client.force_login(issued.citizen)
    link = _qr_link(client, issued.license)
    client.logout()
    page = client.get(link)
    body = unescape(page.content.decode())
    assert page.status_code == 200
    assert 'data-verify="valid"' in body
    assert "证照有效" in body
    assert issued.citizen.id_number not in body  # masked
    assert "食品销售" in body


def test_the_printed_identifier_verifies_and_revocation_shows(client, issued):
    url = reverse("portal:license_verify")
    ok = client.get(url, {"id": issued.license.identifier})
    assert 'data-verify="valid"' in ok.content.decode()
    revoke_license(actor=issued.org_admin, license=issued.license, reason="依法撤销")
    revoked = client.get(url, {"id": issued.license.identifier})
    assert 'data-verify="revoked"' in revoked.content.decode()


def test_an_unknown_or_forged_code_reads_as_invalid(client, issued):
    url = reverse("portal:license_verify")
    unknown = client.get(url, {"id": "1.2.156.3005.2.nothing"})
    assert unknown.status_code == 404
    assert 'data-verify="invalid_token"' in unknown.content.decode()
    forged = client.get(url, {"p": "AAAA" + "x" * 40})
    assert forged.status_code == 404
    assert re.search(r'data-verify="invalid_token"', forged.content.decode())


def test_the_wallet_takes_the_same_queries_for_one_license_and_many(client, issued):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.licenses.factories import LicenseFactory

    client.force_login(issued.citizen)
    url = reverse("portal:licenses")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(3):
        LicenseFactory(holder=issued.citizen)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(one)
