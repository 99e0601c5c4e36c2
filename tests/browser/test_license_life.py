"""Issue 5 done-when in the browser: a case concludes → the license is in the wallet → the holder
shows its QR on a phone → a second browser context with no login opens the verify link → the
license is revoked → verification says revoked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.sessions import as_citizen, retry_locked
from tests.cases.factories import make_case, setting
from tests.licenses.factories import LicenseTypeFactory
from tests.seals.factories import SealFactory
from tongban.cases import services
from tongban.licenses.models import License
from tongban.licenses.services import revoke_license
from tongban.seals.codes import SealType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_license_from_case_to_wallet_qr_verify_and_revocation(live_server, browser, page_phone):
    env = setting()
    license_type = LicenseTypeFactory(
        name="食品经营许可证", fields=[{"key": "scope", "label": "经营项目", "required": True}]
    )
    license_type.items.add(env.implementation.item)
    SealFactory(organization=env.organization, seal_type=SealType.LICENSE)
    case = make_case(env, "decided")
    services.conclude(
        actor=env.reviewer,
        case=case,
        version=case.version,
        license_data={"scope": "预包装食品销售"},
    )
    lic = License.objects.get(case_reference=case.number)

    page = page_phone
    as_citizen(page.context, live_server, env.citizen)
    page.goto(f"{live_server.url}/account/cases/{case.number}/")
    expect(page.locator("[data-license-issued]")).to_be_visible()
    page.locator("[data-license-issued] a").click()
    row = page.locator("[data-licenses] li", has_text=lic.identifier)
    expect(row).to_contain_text("食品经营许可证")
    row.locator("a[data-show]").click()
    expect(page.locator("[data-qr] svg")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "license-show-phone.png"), full_page=True)
    # The link the QR encodes (also offered as a link for those who cannot scan).
    link = page.locator("[data-verify-link]").get_attribute("href")

    verifier = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    scan = verifier.new_page()
    scan.goto(link)
    expect(scan.locator("[data-verify]")).to_have_attribute("data-verify", "valid")
    body = scan.locator("main").inner_text()
    assert env.citizen.id_number not in body
    assert re.search(r"\*{4,}", body)  # the holder's ID number is shown masked
    assert "预包装食品销售" in body
    scan.screenshot(path=str(SCREENSHOTS / "license-verify-phone.png"), full_page=True)

    retry_locked(lambda: revoke_license(actor=env.org_admin, license=lic, reason="以欺骗手段取得"))
    scan.goto(f"{live_server.url}/licenses/verify?id={lic.identifier}")
    expect(scan.locator("[data-verify]")).to_have_attribute("data-verify", "revoked")
    expect(scan.locator("[data-verify]")).to_contain_text("证照已撤销")
    verifier.close()
