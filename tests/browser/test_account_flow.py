"""A citizen registers by SMS on a phone, verifies their real name, and sees a masked profile."""

import pytest
from playwright.sync_api import expect

from tests.accounts.factories import make_id_number, make_phone
from tests.accounts.helpers import last_code
from tests.browser.conftest import SCREENSHOTS
from tongban.accounts.models import PopulationRecord, User, VerificationLevel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_verify_and_see_the_masked_profile(live_server, page_phone):
    page = page_phone
    phone, number = make_phone(), make_id_number()
    PopulationRecord.objects.create(name="王晓明", id_number=number)

    page.goto(live_server.url + "/account/login/")
    page.get_by_role("link", name="注册").click()
    page.wait_for_url("**/account/register/**")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator(".notice-success")).to_contain_text("验证码已发送")
    # The countdown (account.js) disables the button after a code was sent.
    expect(page.locator("button.send-code")).to_be_disabled()
    expect(page.locator("button.send-code")).to_contain_text("秒后重发")

    page.get_by_label("短信验证码").fill(last_code(phone))
    page.get_by_label("设置密码（可选）").fill("Zhang-hu8-2026")
    page.get_by_label("再次输入密码").fill("Zhang-hu8-2026")
    page.get_by_label("我已阅读并同意").check()
    page.screenshot(path=str(SCREENSHOTS / "account-register-phone.png"), full_page=True)
    page.get_by_role("button", name="注册", exact=True).click()
    page.wait_for_url("**/account/verify/")
    expect(page.locator(".notice-success")).to_contain_text("注册成功")

    # A mistyped check character is refused beside the field, with the reason.
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    page.get_by_label("姓名").fill("王晓明")
    page.get_by_label("身份证号").fill(bad)
    page.get_by_role("button", name="提交认证").click()
    expect(page.locator(".field-error")).to_contain_text("校验码错误")
    page.get_by_label("身份证号").fill(number)
    page.get_by_role("button", name="提交认证").click()
    page.wait_for_url("**/account/")

    profile = page.locator("[data-profile]")
    expect(profile).to_contain_text(number[:6] + "********" + number[-4:])
    expect(profile).to_contain_text(phone[:3] + "****" + phone[-4:])
    expect(profile).to_contain_text("L2")
    expect(profile).to_contain_text("王**")
    assert number not in page.content()
    assert phone not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "account-profile-phone.png"), full_page=True)
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    user = User.objects.get()
    assert user.level == VerificationLevel.L2
    assert user.real_name == "王晓明"
