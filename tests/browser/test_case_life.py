"""The whole life of a case in the browser: a citizen applies on a phone with uploads, the
department's clerk accepts it and then asks for a correction on the workbench, the citizen fixes
exactly the named field and material, the reviewer approves and concludes, the clerk delivers
online, and the citizen downloads the result. A second test runs the one-stop counter."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.accounts.factories import UserFactory
from tests.browser.conftest import SCREENSHOTS
from tests.browser.sessions import as_citizen, as_staff
from tests.cases.factories import PDF, PNG, setting
from tongban.cases.models import Case, CaseStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _files(tmp_path):
    scan = tmp_path / "营业执照.pdf"
    scan.write_bytes(PDF)
    plan = tmp_path / "平面图.png"
    plan.write_bytes(PNG)
    fixed = tmp_path / "平面图-新.pdf"
    fixed.write_bytes(PDF + b"% corrected\n")
    wrong = tmp_path / "病毒.pdf"
    wrong.write_bytes(b"MZ\x90\x00 not a pdf")
    return scan, plan, fixed, wrong


def _staff_page(browser, live_server, user):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    as_staff(context, live_server, user)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _act(page, action: str, **fields):
    """Fill and send one action form of the workbench case page (fields carry the action as
    their prefix)."""
    form = page.locator(f"form[data-action={action}]")
    for name, value in fields.items():
        full = f"{action}-{name}"
        if isinstance(value, list):
            for v in value:
                form.locator(f"input[name='{full}'][value='{v}']").check()
            continue
        target = form.locator(f"[name='{full}']")
        tag = target.first.evaluate("e => e.tagName")
        if tag == "SELECT":
            target.select_option(value)
        elif target.first.get_attribute("type") == "radio":
            form.locator(f"input[name='{full}'][value='{value}']").check()
        else:
            target.fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_a_case_from_application_to_downloaded_result(live_server, browser, page_phone, tmp_path):
    env = setting()
    scan, plan, fixed, wrong = _files(tmp_path)
    page = page_phone
    as_citizen(page.context, live_server, env.citizen)
    clerk = _staff_page(browser, live_server, env.clerk)
    reviewer = _staff_page(browser, live_server, env.reviewer)

    # Apply on the phone: the guide's button, the prefilled form, a refused upload, then all.
    page.goto(f"{live_server.url}/guide/{env.implementation.code}/")
    page.locator("a[data-apply]").click()
    expect(page.locator("h1")).to_have_text(env.implementation.item.name)
    expect(page.get_by_label("身份证号码")).to_have_attribute("readonly", "")
    page.get_by_label("经营场所地址").fill("东胜区鄂尔多斯西街")
    page.get_by_label("经营面积（平方米）").fill("120")
    page.locator(f"input[name=m{env.licence.pk}]").set_input_files(str(wrong))
    expect(page.locator(f"[data-material='{env.licence.pk}'] .field-error")).to_contain_text(
        "文件类型不支持"
    )
    page.locator(f"input[name=m{env.licence.pk}]").set_input_files(str(scan))
    expect(page.locator(f"[data-material='{env.licence.pk}'] [data-uploaded]")).to_have_count(1)
    page.locator(f"input[name=m{env.plan.pk}]").set_input_files(str(plan))
    expect(page.locator(f"[data-material='{env.plan.pk}'] [data-uploaded]")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "case-apply-phone.png"), full_page=True)
    page.locator("[data-submit]").click()
    expect(page.locator("[data-acknowledgement] h1")).to_have_text("申请已提交")
    number = page.locator("[data-case-number]").inner_text()
    case = Case.objects.get(number=number)
    assert case.materials.count() == 2

    # The department's clerk accepts; under review, the clerk asks for a correction of the
    # address and the floor plan (the clock stops).
    clerk.goto(f"{live_server.url}/workbench/cases/{case.pk}/")
    _act(clerk, "accept")
    case.refresh_from_db()
    assert case.status == CaseStatus.UNDER_REVIEW
    assert case.promised_due is not None
    _act(
        clerk,
        "request_correction",
        fields=["property.address"],
        materials=[str(env.plan.pk)],
        opinion="地址缺少门牌号，平面图不清晰",
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTING
    assert case.paused_at is not None

    # The citizen sees exactly those two things and fixes them.
    page.goto(f"{live_server.url}/account/cases/{number}/")
    correction = page.locator("[data-correction]")
    expect(correction).to_contain_text("地址缺少门牌号")
    expect(correction.locator("input[name='property.address']")).to_have_count(1)
    expect(correction.locator("input[name='shop.area']")).to_have_count(0)
    expect(correction.locator(f"input[name=m{env.licence.pk}]")).to_have_count(0)
    correction.locator("input[name='property.address']").fill("东胜区鄂尔多斯西街1号")
    correction.locator(f"input[name=m{env.plan.pk}]").set_input_files(str(fixed))
    correction.locator("button[type=submit]").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "under_review")
    case.refresh_from_db()
    assert case.paused_at is None

    # Approved, concluded and delivered online on the workbench.
    reviewer.goto(f"{live_server.url}/workbench/cases/{case.pk}/")
    _act(reviewer, "approve", opinion="符合条件")
    _act(reviewer, "conclude")
    clerk.goto(f"{live_server.url}/workbench/cases/{case.pk}/")
    _act(clerk, "deliver", method="online")
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED

    # The citizen downloads the decision.
    page.goto(f"{live_server.url}/account/cases/{number}/")
    expect(page.locator("[data-timeline] li")).to_have_count(case.events.count())
    with page.expect_download() as download:
        page.locator("[data-result]").first.click()
    path = download.value.path()
    assert Path(path).read_bytes().startswith(b"%PDF")
    page.screenshot(path=str(SCREENSHOTS / "case-delivered-phone.png"), full_page=True)


def test_the_counter_takes_in_a_walk_in_application(live_server, browser, tmp_path):
    """前台综合受理、后台分类审批、综合窗口出件: the centre's clerk takes in an application for
    the market regulator, its reviewer decides, the result comes back to the counter."""
    env = setting()
    walk_in = UserFactory()
    scan, plan, _fixed, _wrong = _files(tmp_path)
    # Every session is made before the browsers start talking to the live server.
    page = _staff_page(browser, live_server, env.counter)
    reviewer = _staff_page(browser, live_server, env.reviewer)
    stranger = _staff_page(browser, live_server, env.stranger)
    page.goto(f"{live_server.url}/workbench/counter/")
    page.locator("input[name=q]").fill(env.implementation.item.name)
    page.locator("form[role=search] button[type=submit]").click()
    page.locator(f"a[data-impl='{env.implementation.pk}']").click()
    page.locator("input[name=number]").fill(walk_in.id_number)
    page.locator(
        "input[name=step][value=find] ~ button, form:has(input[value=find]) button"
    ).first.click()
    expect(page.locator("[data-applicant]")).to_be_visible()
    page.locator("[data-field='property.address'] input").fill("东胜区鄂尔多斯西街8号")
    page.locator("[data-field='shop.area'] input").fill("60")
    page.locator(f"input[name=m{env.licence.pk}]").set_input_files(str(scan))
    page.locator(f"input[name=m{env.plan.pk}]").set_input_files(str(plan))
    page.screenshot(path=str(SCREENSHOTS / "counter-intake-desktop.png"), full_page=True)
    page.locator("button[name=step][value=submit]").click()
    expect(page.locator("[data-query-code]")).to_be_visible()
    number = page.locator("[data-number]").inner_text().strip()
    case = Case.objects.get(number=number)
    assert case.organization_id == env.organization.pk
    assert case.counter_organization_id == env.centre.pk
    assert case.applicant_id == walk_in.pk
    assert case.materials.count() == 2

    # Accepted at the counter, decided in the department's back office.
    _act(page, "accept")
    reviewer.goto(f"{live_server.url}/workbench/cases/{case.pk}/")
    _act(reviewer, "approve", opinion="符合条件")
    _act(reviewer, "conclude")
    # The other organization's reviewer cannot even open it.
    response = stranger.goto(f"{live_server.url}/workbench/cases/{case.pk}/")
    assert response.status == 404
    # The result is handed out at the counter window.
    page.goto(f"{live_server.url}/workbench/cases/{case.pk}/")
    _act(page, "deliver", method="window")
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    assert case.delivery_method == "window"
