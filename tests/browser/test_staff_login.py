"""A staff member's first login on a phone: password, enrol the authenticator from the QR page
(the test is the authenticator app: pyotp), land in the admin; the next login asks for a code."""

import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.accounts.factories import PASSWORD, StaffPostFactory
from tests.browser.conftest import SCREENSHOTS
from tongban.accounts.staff import role_group

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_logs_in_with_password_and_totp(live_server, page_phone):
    user = StaffPostFactory(operator=True).user
    user.groups.add(role_group("operator"))
    page = page_phone
    page.goto(live_server.url + "/admin/")
    expect(page.locator("h1")).to_have_text("工作人员登录")
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    page.wait_for_url("**/backoffice/login/enrol/")
    expect(page.locator(".bo-qr svg")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "staff-enrol-phone.png"), full_page=True)
    secret = page.locator("[data-secret]").inner_text().replace(" ", "")
    authenticator = pyotp.TOTP(secret)
    page.fill("input[name=code]", authenticator.now())
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    expect(page.locator("#backoffice-links")).to_be_visible()

    # log out, and the second login asks only for the code
    page.context.clear_cookies()
    page.goto(live_server.url + "/admin/")
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/backoffice/login/totp/")
    wrong = "000000" if authenticator.now() != "000000" else "111111"
    page.fill("input[name=code]", wrong)
    page.click("button[type=submit]")
    expect(page.locator(".bo-error")).to_contain_text("动态口令错误")
    # the step used at enrolment cannot be replayed: the next step's code (within the window)
    page.fill("input[name=code]", authenticator.at(int(time.time()) + 30))
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
