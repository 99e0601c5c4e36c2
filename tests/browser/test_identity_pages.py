"""Identity pages in a real browser: the OIDC consent screen and my companies on a phone; the
back office's person lookup with reveal, and the audit trail, on a desktop."""

import base64
import datetime as dt
import hashlib
import secrets
from urllib.parse import parse_qs, quote, urlsplit

import pyotp
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.accounts.factories import PASSWORD, CompanyFactory, StaffPostFactory, UserFactory
from tests.accounts.oidc_support import REDIRECT_URI, make_client
from tests.browser.conftest import SCREENSHOTS
from tongban.accounts.models import AgentGrant
from tongban.accounts.staff import role_group
from tongban.core.models.audit import AuditRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _password_login(page, login: str) -> None:
    """Fill and submit the password tab of /account/login/ (the page is already open)."""
    page.get_by_role("link", name="密码登录").click()
    page.wait_for_url("**method=password**")
    page.get_by_label("手机号或身份证号").fill(login)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()


def _no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_oidc_consent_on_a_phone_redirects_with_code_and_state(live_server, page_phone):
    page = page_phone
    person = UserFactory()
    registered = make_client(scopes=("openid", "profile"), name="不动产登记系统")
    client_id = registered.application.client_id
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    authorize = (
        f"/o/authorize/?response_type=code&client_id={client_id}"
        f"&redirect_uri={quote(REDIRECT_URI, safe='')}&scope=openid%20profile&state=xyz"
        f"&nonce=n1&code_challenge={challenge}&code_challenge_method=S256"
    )

    # Not signed in: the login page, and back to the consent screen afterwards.
    page.goto(live_server.url + authorize)
    page.wait_for_url("**/account/login/**")
    _password_login(page, person.phone)
    page.wait_for_url("**/o/authorize/**")

    consent = page.locator("[data-consent]")
    expect(consent.locator("h1")).to_have_text("“不动产登记系统”请求使用您的通办账号")
    facts = consent.locator("dl.facts")
    expect(facts).to_contain_text("不动产登记系统")
    expect(facts).to_contain_text(registered.policy.organization.name)
    expect(facts).to_contain_text(f"本人：{person.display_name}")
    scopes = consent.locator("ul.scope-list li")
    expect(scopes).to_have_count(2)
    expect(consent.locator("ul.scope-list")).to_contain_text("确认您的身份")
    expect(consent.locator("ul.scope-list")).to_contain_text("您的姓名和打码后的身份证号")
    expect(consent).not_to_contain_text("该系统将获得您的完整身份证号")
    assert _no_horizontal_overflow(page)
    page.screenshot(path=str(SCREENSHOTS / "oidc-consent-phone.png"), full_page=True)

    # The department system is not reachable from here: answer for it.
    page.route(
        "https://dept.example.gov.cn/**",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            body="<!doctype html><title>dept</title><p>部门系统</p>",
        ),
    )
    page.get_by_role("button", name="同意授权").click()
    page.wait_for_url(REDIRECT_URI + "?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["xyz"]
    assert len(query["code"]) == 1
    assert len(query["code"][0]) > 10
    expect(page.locator("p")).to_have_text("部门系统")

    consented = AuditRecord.objects.filter(action="oidc.consent", actor_id=person.pk).get()
    assert consented.details["decision"] == "allow"


def test_legal_rep_grants_and_revokes_an_agent_then_acts_for_the_company(live_server, page_phone):
    page = page_phone
    company = CompanyFactory()
    rep = company.legal_rep
    agent = UserFactory()

    page.goto(live_server.url + "/account/companies/")
    page.wait_for_url("**/account/login/**")
    _password_login(page, rep.phone)
    page.wait_for_url("**/account/companies/")
    expect(page.locator("h1")).to_have_text("我的企业与经办人")
    card = page.locator(f"[data-company='{company.uscc}']")
    expect(card.locator("h2")).to_have_text(company.name)
    expect(card).to_contain_text("尚未授权经办人。")
    expect(page.locator("#acting-party [data-acting-party]")).to_have_attribute(
        "data-acting-party", "person"
    )

    expiry = timezone.localdate() + dt.timedelta(days=90)
    card.locator("summary", has_text="授权经办人").click()
    card.get_by_label("经办人手机号或身份证号").fill(agent.phone)
    card.get_by_label("授权办理本企业的全部事项").check()
    card.get_by_label("有效期至").fill(expiry.isoformat())
    card.get_by_role("button", name="授权", exact=True).click()
    page.wait_for_url("**/account/companies/")
    expect(page.locator(".notice-success")).to_contain_text("已授权经办人")

    grant = AgentGrant.objects.get(company=company, agent=agent, revoked_at__isnull=True)
    item = card.locator(f"[data-grant='{grant.pk}']")
    expect(item).to_contain_text(agent.display_name)
    expect(item).to_contain_text(agent.phone[:3] + "****" + agent.phone[-4:])
    expect(item).to_contain_text("全部事项")
    expect(item).to_contain_text(f"有效期至 {expiry.isoformat()}")
    assert agent.phone not in page.content()
    assert agent.real_name not in page.content()
    assert _no_horizontal_overflow(page)
    page.screenshot(path=str(SCREENSHOTS / "companies-granted-phone.png"), full_page=True)

    item.get_by_role("button", name="撤销授权").click()
    page.wait_for_url("**/account/companies/")
    expect(page.locator(".notice-success")).to_contain_text("已撤销授权")
    expect(card.locator("[data-grant]")).to_have_count(0)
    expect(card).to_contain_text("尚未授权经办人。")
    grant.refresh_from_db()
    assert grant.revoked_at is not None

    # Act for the company: the header says so on every page.
    expect(page.locator("header [data-acting-party]")).to_have_text("个人办事")
    page.get_by_label(f"代表“{company.name}”办事").check()
    page.get_by_role("button", name="切换", exact=True).click()
    page.wait_for_url("**/account/companies/")
    expect(page.locator(".notice-success")).to_contain_text(f"当前办事身份：{company.name}")
    expect(page.locator("header [data-acting-party]")).to_have_attribute(
        "data-acting-party", "company"
    )
    expect(page.locator("header [data-acting-party]")).to_have_text(f"代表：{company.name}")
    page.goto(live_server.url + "/")
    expect(page.locator("header [data-acting-party]")).to_have_text(f"代表：{company.name}")
    assert _no_horizontal_overflow(page)


def _staff_with_totp(**trait) -> tuple:
    """A staff member in the post of the trait, with the post's group and an enrolled
    authenticator (the test plays the app: pyotp)."""
    user = StaffPostFactory(**trait).user
    (role,) = trait
    user.groups.add(role_group(role))
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return user, pyotp.TOTP(secret)


def _staff_login(page, base: str, path: str, user, authenticator) -> None:
    page.goto(f"{base}/backoffice/login/?next={quote(path)}")
    expect(page.locator("h1")).to_have_text("工作人员登录")
    page.get_by_label("账号").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/backoffice/login/totp/")
    page.fill("input[name=code]", authenticator.now())
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"**{path}")


def test_reviewer_reveals_an_id_number_and_the_audit_admin_finds_it(live_server, page_desktop):
    page = page_desktop
    citizen = UserFactory()
    reviewer, reviewer_app = _staff_with_totp(reviewer=True)
    auditor, auditor_app = _staff_with_totp(audit_admin=True)
    masked = citizen.id_number[:6] + "********" + citizen.id_number[-4:]

    _staff_login(page, live_server.url, "/backoffice/persons/", reviewer, reviewer_app)
    expect(page.locator("h1")).to_have_text("办事人查询")
    page.get_by_label("身份证号或手机号").fill(citizen.phone)
    page.get_by_label("查询事由").fill("受理案件的申请人核对")
    page.get_by_role("button", name="查询", exact=True).click()
    result = page.locator(f"[data-person='{citizen.pk}']")
    expect(result).to_contain_text(masked)
    expect(result).to_contain_text(citizen.display_name)
    assert citizen.id_number not in page.content()
    assert citizen.phone not in page.content()  # the typed number is not echoed back

    result.get_by_label("查看项目").select_option("id_number")
    result.get_by_label("查看事由").fill("核对身份证原件")
    result.get_by_role("button", name="查看完整信息").click()
    revealed = page.locator("[data-revealed]")
    expect(revealed).to_contain_text(f"身份证号：{citizen.id_number}")
    expect(revealed).to_contain_text("已记入审计记录")
    page.screenshot(path=str(SCREENSHOTS / "backoffice-persons-desktop.png"), full_page=True)

    # The audit administrator, in another browser session.
    page.context.clear_cookies()
    _staff_login(page, live_server.url, "/backoffice/audit-trail/", auditor, auditor_app)
    expect(page.locator("h1")).to_have_text("审计记录")
    page.get_by_label("信息主体").fill(citizen.phone)
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_url("**/backoffice/audit-trail/?**")
    reveal_rows = page.locator("table.bo-table tbody tr", has_text="personal.reveal")
    expect(reveal_rows).to_have_count(1)
    expect(reveal_rows).to_contain_text(reviewer.real_name)
    expect(reveal_rows).to_contain_text("核对身份证原件")
    expect(reveal_rows).to_contain_text(f"user:{citizen.pk}")
    read_rows = page.locator("table.bo-table tbody tr", has_text="personal.read")
    expect(read_rows).to_contain_text("受理案件的申请人核对")
    assert citizen.id_number not in page.content()
    assert citizen.phone not in page.content()

    page.get_by_role("button", name="校验审计链").click()
    report = page.locator("[data-verify]")
    expect(report).to_have_attribute("data-verify", "ok")
    expect(report).to_contain_text("审计链完整")
    page.screenshot(path=str(SCREENSHOTS / "backoffice-audit-trail-desktop.png"), full_page=True)
