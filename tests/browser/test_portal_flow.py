"""Home → search → guide → answer a situation → one-time notice PDF, on a phone and a desktop."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.portal.fixtures import build_catalog
from tests.portal.pdftext import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog(transactional_db):
    return build_catalog()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_citizen_finds_marriage_guide_and_prints_the_notice(request, live_server, catalog, device):
    page = request.getfixturevalue(f"page_{device}")
    page.goto(live_server.url + "/")
    expect(page.locator("h1")).to_contain_text("政务服务")
    expect(page.locator("[data-hot]")).to_contain_text("内地居民婚姻登记")
    page.screenshot(path=str(SCREENSHOTS / f"portal-home-{device}.png"), full_page=True)

    page.fill("#q", "婚姻")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?**")
    results = page.locator(".hits .hit-name")
    expect(results.first).to_have_text("内地居民婚姻登记")
    page.screenshot(path=str(SCREENSHOTS / f"portal-search-{device}.png"), full_page=True)

    results.first.click()
    page.wait_for_url(f"**/guide/{catalog.marriage.code}/")
    expect(page.locator("h1.guide-title")).to_have_text("内地居民婚姻登记")
    materials = page.locator("[data-material-list] .material")
    expect(materials).to_have_count(5)
    expect(page.locator(".qr-code svg")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / f"portal-guide-{device}.png"), full_page=True)

    # Answering re-filters the materials in place (no page load: the controller swaps the list).
    page.get_by_label("本市户籍").check()
    expect(materials).to_have_count(4)
    expect(page.locator("[data-material-list]")).not_to_contain_text("外地户籍居住证明")
    page.get_by_label("初婚").check()
    expect(materials).to_have_count(3)
    expect(page.locator("[data-material-list]")).not_to_contain_text("离婚证或配偶死亡证明")
    assert f"s{catalog.situations['residence']}={catalog.options['local']}" in page.url
    page.screenshot(path=str(SCREENSHOTS / f"portal-guide-answered-{device}.png"), full_page=True)

    notice = page.locator("[data-material-list] [data-notice-link]")
    expect(notice).to_have_attribute(
        "href",
        f"/guide/{catalog.marriage.code}/notice.pdf?"
        f"s{catalog.situations['residence']}={catalog.options['local']}&"
        f"s{catalog.situations['remarriage']}={catalog.options['first']}",
    )
    with page.expect_download() as download_info:
        notice.click()
    download = download_info.value
    data = download.path().read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "内地居民婚姻登记" in text
    assert "一次性告知单" in text
    assert "外地户籍居住证明" not in text
    assert "离婚证或配偶死亡证明" not in text
    assert download.suggested_filename.endswith(".pdf")


def test_situations_work_without_javascript(browser, live_server, catalog):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}, locale="zh-CN"
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/guide/{catalog.marriage.code}/")
    page.get_by_label("外地户籍").check()
    page.get_by_label("再婚").check()
    page.get_by_role("button", name="查看我的材料").click()
    expect(page.locator("[data-material-list] .material")).to_have_count(5)
    expect(page.locator("[data-material-list] .badge-warn")).to_have_count(0)
    context.close()


def test_region_switcher_turns_home_into_a_branch_portal(page_desktop, live_server, catalog):
    page = page_desktop
    page.goto(live_server.url + "/r/150602/")
    hot = page.locator("[data-hot]")
    expect(hot).to_contain_text("内地居民婚姻登记")
    expect(hot).not_to_contain_text("居民身份证换领")
    page.select_option("#region-select", "150603")
    page.wait_for_url("**/r/150603/")
    expect(page.locator("h1")).to_contain_text("康巴什区")
    expect(hot).to_contain_text("居民身份证换领")
    expect(hot).not_to_contain_text("内地居民婚姻登记")
    # The choice is kept: the bare home page is now 康巴什区's.
    page.goto(live_server.url + "/")
    expect(page.locator("h1")).to_contain_text("康巴什区")


def test_language_switch_to_mongolian_sets_vertical_writing(page_phone, live_server, catalog):
    page = page_phone
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.locator('[data-language="mn-mong"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "mn-Mong")
    mode = page.locator(".hero-title").evaluate("el => getComputedStyle(el).writingMode")
    assert mode == "vertical-lr"
    page.screenshot(path=str(SCREENSHOTS / "portal-home-mongolian-phone.png"), full_page=True)
    page.locator('[data-language="zh-hans"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    mode = page.locator(".hero-title").evaluate("el => getComputedStyle(el).writingMode")
    assert mode == "horizontal-tb"
