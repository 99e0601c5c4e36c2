"""Portal pages: each renders, rejects bad input with a message, keeps its query count."""

import json

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.catalog.factories import ImplementationFactory, MaterialFactory
from tests.portal.fixtures import MARRIAGE, build_catalog
from tests.portal.pdftext import pdf_text
from tongban.catalog import guides
from tongban.catalog.models import ImplementationStatus, Material
from tongban.portal.context import CARE_COOKIE, SESSION_REGION

pytestmark = pytest.mark.django_db


def _materials(response) -> list[str]:
    return [m.material.name for m in response.context["choices"]] if response.context else []


def _guide_text(response) -> str:
    return response.content.decode()


# ---- home and branch portals -----------------------------------------------------------------


def test_home_shows_themes_departments_hot_and_regions(client, catalog):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "婚姻",
        "生育",
        "开办企业",
        "工程建设",
        "热门服务",
        "内地居民婚姻登记",
        "康巴什区",
    ):
        assert text in html
    assert 'lang="zh-Hans"' in html
    assert "鄂尔多斯市市场监督管理局" in html  # a department of the home region (150600)
    assert "草稿中的婚姻证明事项" not in html


def test_branch_portal_filters_hot_services_and_is_remembered(client, catalog):
    response = client.get("/r/150603/")
    assert response.status_code == 200
    names = [hit.item_name for hit in response.context["hot"]]
    assert "居民身份证换领" in names
    assert "内地居民婚姻登记" not in names  # a 东胜区 service is not offered in 康巴什区
    assert client.session[SESSION_REGION] == "150603"
    again = client.get("/")
    assert [hit.item_name for hit in again.context["hot"]] == names
    assert "康巴什区公安分局" in again.content.decode()


def test_region_parameter_redirects_to_the_shareable_branch_url(client, catalog):
    response = client.get("/?region=150602")
    assert response.status_code == 302
    assert response["Location"] == "/r/150602/"


@pytest.mark.parametrize("code", ["999999", "abc", "15060", "150602000000000"])
def test_unknown_region_is_a_chinese_404(client, catalog, code):
    response = client.get(f"/r/{code}/")
    assert response.status_code == 404
    assert "没有找到该地区的分厅" in response.content.decode()
    assert SESSION_REGION not in client.session


def test_home_query_count_does_not_grow_with_the_catalog(
    client, catalog, django_assert_num_queries
):
    client.get("/r/150602/")  # session row exists; warm the jieba words once
    cache.clear()
    with CaptureQueriesContext(connection) as small:
        client.get("/r/150602/")
    for _ in range(15):
        impl = ImplementationFactory(
            region=catalog.marriage.region, organization=catalog.marriage.organization
        )
        MaterialFactory(implementation=impl)
    cache.clear()
    with django_assert_num_queries(len(small.captured_queries)):
        client.get("/r/150602/")
    # Warm caches: only the region, the session and the hot list (two queries) are read.
    with django_assert_num_queries(4):
        client.get("/r/150602/")


def test_care_mode_sets_a_cookie_and_enlarges_the_page(client, catalog):
    response = client.get("/care-mode/", {"on": "1", "next": "/search?q=x"})
    assert response.status_code == 302
    assert response["Location"] == "/search?q=x"
    assert client.cookies[CARE_COOKIE].value == "1"
    assert '<html lang="zh-Hans" class="care' in client.get("/").content.decode()
    off = client.get("/care-mode/", {"on": "0", "next": "https://evil.example/"})
    assert off["Location"] == "/"  # never redirects off the site
    assert client.cookies[CARE_COOKIE].value == ""
    assert '<html lang="zh-Hans" class="">' in client.get("/").content.decode()


def test_language_link_sets_the_language_cookie(client, catalog, settings):
    response = client.get("/language/", {"language": "mn-mong", "next": f"/guide/{MARRIAGE}/"})
    assert response.status_code == 302
    assert response["Location"] == f"/guide/{MARRIAGE}/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "mn-mong"
    html = client.get(f"/guide/{MARRIAGE}/").content.decode()
    assert 'lang="mn-Mong"' in html
    assert "portal/mongolian.css" in html
    unknown = client.get("/language/", {"language": "xx", "next": "//evil.example/"})
    assert unknown["Location"] == "/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "mn-mong"  # unchanged


def test_guide_page_carries_no_per_visitor_token(client, catalog):
    response = client.get(f"/guide/{MARRIAGE}/")
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert "csrftoken" not in response.cookies
    assert f"/language/?language=en&amp;next=/guide/{MARRIAGE}/" in response.content.decode()


# ---- search ----------------------------------------------------------------------------------


def test_search_finds_marriage_and_links_the_guide(client, catalog):
    response = client.get("/search", {"q": "婚姻"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "内地居民婚姻登记" in html
    assert f"/guide/{MARRIAGE}/" in html
    assert "草稿中的婚姻证明事项" not in html


def test_search_filters_show_as_removable_chips(client, catalog):
    response = client.get("/search", {"theme": "kaiban", "audience": "2", "region": "150600"})
    assert response.status_code == 200
    names = [hit.item_name for hit in response.context["result"].results]
    assert names == ["企业设立登记"]
    chips = {chip["key"]: chip for chip in response.context["chips"]}
    assert chips["theme"]["label"] == "开办企业"
    assert chips["region"]["label"] == "鄂尔多斯市"
    assert "theme=" not in chips["theme"]["url"]
    assert "audience=2" in chips["theme"]["url"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": "abc"}, "页码应为正整数"),
        ({"page": "0"}, "页码应为正整数"),
        ({"page": "100000"}, "页码不能超过"),
        ({"depth": "9"}, "网办深度只能是Ⅰ至Ⅳ级"),
        ({"audience": "7"}, "服务对象只能是个人或法人"),
        ({"region": "15a602"}, "地区代码应为6位或12位数字"),
        ({"org": "-3"}, "部门编号应为正整数"),
        ({"theme": "婚姻 x"}, "主题编码格式不正确"),
        ({"q": "婚" * 101}, "搜索词不能超过100个字"),
    ],
)
def test_search_rejects_bad_parameters_with_a_chinese_message(client, catalog, params, message):
    response = client.get("/search", params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["result"] is None


def test_search_without_results_offers_suggestions(client, catalog):
    response = client.get("/search", {"q": "火箭发射许可"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "没有找到与“火箭发射许可”相关的服务" in html
    assert "12345" in html


def test_search_pages_results(client, catalog, settings):
    settings.TONGBAN_SEARCH_PAGE_SIZE = 1
    first = client.get("/search", {"region": "150600"})
    assert first.context["result"].pages == 3
    assert 'rel="next"' in first.content.decode()
    assert 'rel="prev"' not in first.content.decode()
    last = client.get("/search", {"region": "150600", "page": "3"})
    assert 'rel="prev"' in last.content.decode()
    assert 'rel="next"' not in last.content.decode()


def test_search_query_count_is_constant(
    client, catalog, django_assert_max_num_queries, django_assert_num_queries
):
    client.get("/search", {"q": "婚姻"})  # loads the catalog's words once per process
    cache.clear()
    # cold: synonyms, candidates, page + themes, branch regions (2), region names (2)
    with django_assert_max_num_queries(8):
        client.get("/search", {"q": "婚姻", "region": "150602"})
    for _n in range(10):
        ImplementationFactory(item=catalog.marriage.item, region=catalog.marriage.region)
    with django_assert_num_queries(3):  # warm lists: only the search itself
        response = client.get("/search", {"q": "婚姻", "region": "150602"})
    assert response.context["result"].total == 11


# ---- guide -----------------------------------------------------------------------------------


def test_guide_shows_every_element(client, catalog):
    response = client.get(f"/guide/{MARRIAGE}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "内地居民婚姻登记",
        "东胜区民政局",
        "《婚姻登记条例》第四条",
        "男女双方自愿结婚",  # basics
        "法定办结时限",
        "工作日",
        "即办件",  # limits
        "Ⅲ级 材料核验",
        "到现场不超过1次",  # depth and its meaning
        "到现场 1 次",
        "支持预约",
        "不支持网上支付",
        "不支持物流快递",  # visits and channels
        "东胜区婚姻登记处",
        "鄂尔多斯西街1号",
        "3号窗口",
        "星期一至星期五 09:00—17:00",  # where, when
        'href="tel:0477-8321234"',
        'href="tel:0477-12345"',  # phones
        "结婚证工本费",
        "9元/本",
        "收费依据",  # fees
        "婚前医学检查",
        "《母婴保健法》第七条",  # intermediaries with basis
        "申请与受理",
        "审查与登记",
        'class="timeline"',  # process
        "可以在外地登记吗？",  # FAQ
        "结婚证",  # result
        "<svg",
        "扫码查看办事指南",  # QR code
        "下载空白表格",
        "下载示范样表",  # forms
        "打印一次性告知单",
        f"/guide/{MARRIAGE}/notice.pdf",
    ):
        assert text in html, text


def test_guide_qr_code_links_to_the_public_url(client, catalog, settings):
    settings.TONGBAN_PUBLIC_URL = "https://zwfw.example.gov.cn"
    response = client.get(f"/guide/{MARRIAGE}/")
    assert response.status_code == 200
    import segno

    expected = segno.make(f"https://zwfw.example.gov.cn/guide/{MARRIAGE}/", error="m", micro=False)
    assert expected.svg_inline(
        scale=4, border=2, title="扫码查看办事指南", dark="#111111", light="#ffffff"
    ) in (response.content.decode())


def test_guide_without_answers_marks_conditional_materials_as_depending(client, catalog):
    html = client.get(f"/guide/{MARRIAGE}/").content.decode()
    assert "需准备 5 份材料" in html
    assert html.count("视情形</span>") == 2
    assert "是否需要取决于：申请人户籍" in html


def test_guide_answers_filter_the_materials(client, catalog):
    o = catalog.options
    s = catalog.situations
    local_first = client.get(
        f"/guide/{MARRIAGE}/", {f"s{s['residence']}": o["local"], f"s{s['remarriage']}": o["first"]}
    )
    html = local_first.content.decode()
    assert "需准备 3 份材料" in html
    assert "外地户籍居住证明" not in html
    assert "离婚证或配偶死亡证明" not in html
    assert "视情形</span>" not in html
    assert f'value="{o["local"]}" checked' in html
    other_again = client.get(
        f"/guide/{MARRIAGE}/", {f"s{s['residence']}": o["other"], f"s{s['remarriage']}": o["again"]}
    )
    html = other_again.content.decode()
    assert "需准备 5 份材料" in html
    assert "外地户籍居住证明" in html
    assert "离婚证或配偶死亡证明" in html
    assert f"notice.pdf?s{s['residence']}={o['other']}&amp;s{s['remarriage']}={o['again']}" in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"s99999": "1"}, "所选情形不属于本事项"),
        ("residence:again", "所选情形选项不存在或已调整"),
        ("residence:local,other", "该情形只能选择一项"),
        ({"s1": "x"}, "情形选项格式不正确"),
    ],
)
def test_guide_rejects_answers_that_do_not_fit(client, catalog, params, message):
    if isinstance(params, str):
        situation, options = params.split(":")
        params = {
            f"s{catalog.situations[situation]}": [catalog.options[o] for o in options.split(",")]
        }
    response = client.get(f"/guide/{MARRIAGE}/", params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "需准备 5 份材料" in html  # shown as if unanswered
    # a bad answer is never cached: the next clean request is clean
    assert message not in client.get(f"/guide/{MARRIAGE}/").content.decode()


@pytest.mark.parametrize("code", ["NOPE", "11150602MB0000001A999999"])
def test_unknown_guide_is_a_chinese_404(client, catalog, code):
    response = client.get(f"/guide/{code}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    assert "没有找到该办事指南" in html


def test_non_active_guide_is_a_404(client, catalog):
    assert client.get(f"/guide/{catalog.draft.code}/").status_code == 404
    catalog.marriage.status = ImplementationStatus.SUSPENDED
    catalog.marriage.save()
    assert client.get(f"/guide/{MARRIAGE}/").status_code == 404
    assert client.get(f"/guide/{MARRIAGE}/notice.pdf").status_code == 404


def test_guide_query_count_is_constant_and_one_when_cached(
    client, catalog, django_assert_num_queries
):
    url = f"/guide/{MARRIAGE}/"
    # stamp + implementation + 12 prefetches (themes, translations, locations, hours,
    # intermediaries, fees, steps, faqs, situations, options, materials, conditions)
    # + the header's region name (cached afterwards)
    with django_assert_num_queries(15):
        client.get(url)
    for n in range(10):
        MaterialFactory(implementation=catalog.marriage, name=f"补充材料{n}")
    catalog.marriage.save()  # any change of a guide saves its implementation
    with django_assert_num_queries(14):
        response = client.get(url)
    assert "补充材料9" in response.content.decode()
    with django_assert_num_queries(1):
        client.get(url)


def test_guide_cache_follows_changes_of_the_implementation(client, catalog):
    url = f"/guide/{MARRIAGE}/"
    assert "结婚证" in client.get(url).content.decode()
    catalog.marriage.result_name = "结婚证（电子证照同步发放）"
    catalog.marriage.save()
    assert "结婚证（电子证照同步发放）" in client.get(url).content.decode()


def test_cached_guide_stamp_serves_views_without_queries(
    client, catalog, settings, django_assert_num_queries
):
    settings.TONGBAN_GUIDE_STAMP_SECONDS = 60
    url = f"/guide/{MARRIAGE}/"
    client.get(url)
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
    catalog.marriage.result_name = "结婚证（新版）"
    catalog.marriage.save()
    assert "结婚证（新版）" not in client.get(url).content.decode()  # within the stamp's seconds
    guides.forget_guide(MARRIAGE)
    assert "结婚证（新版）" in client.get(url).content.decode()
    client.get("/guide/NOPE/")
    with django_assert_num_queries(0):  # unknown codes are remembered too
        assert client.get("/guide/NOPE/").status_code == 404


def test_guide_cache_is_per_language(client, catalog):
    url = f"/guide/{MARRIAGE}/"
    client.get(url)
    client.cookies["django_language"] = "en"
    english = client.get(url)
    assert 'lang="en"' in english.content.decode()


def test_browser_language_header_does_not_switch_the_portal(client, catalog):
    response = client.get(f"/guide/{MARRIAGE}/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-Hans"' in response.content.decode()


def test_an_unsupported_language_cookie_falls_back_to_chinese(client, catalog):
    client.cookies["django_language"] = "fr"
    response = client.get(f"/guide/{MARRIAGE}/")
    assert 'lang="zh-Hans"' in response.content.decode()


# ---- notice PDF ------------------------------------------------------------------------------


def test_notice_pdf_lists_the_applicants_materials(client, catalog):
    o, s = catalog.options, catalog.situations
    response = client.get(
        f"/guide/{MARRIAGE}/notice.pdf",
        {f"s{s['residence']}": o["local"], f"s{s['remarriage']}": o["again"]},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="notice-')
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert "max-age=300" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    for expected in (
        "一次性告知单",
        "内地居民婚姻登记",
        "东胜区民政局",
        "居民身份证",
        "离婚证或配偶死亡证明",
        "东胜区婚姻登记处",
        "结婚证工本费",
        "0477-8321234",
        "出具日期",
        "申请人户籍：本市户籍",
    ):
        assert expected in text, expected
    assert "外地户籍居住证明" not in text


def test_notice_pdf_without_answers_marks_depending_materials(client, catalog):
    text = pdf_text(client.get(f"/guide/{MARRIAGE}/notice.pdf").content)
    assert "外地户籍居住证明" in text
    assert "视情形" in text


def test_notice_pdf_rejects_bad_answers(client, catalog):
    assert client.get(f"/guide/{MARRIAGE}/notice.pdf", {"s1": "x"}).status_code == 400
    response = client.get(
        f"/guide/{MARRIAGE}/notice.pdf",
        {f"s{catalog.situations['residence']}": catalog.options["again"]},
    )
    assert response.status_code == 400
    assert "所选情形选项不存在" in response.content.decode()


def test_notice_pdf_in_mongolian_is_printed_in_chinese(client, catalog):
    client.post("/i18n/setlang/", {"language": "mn-mong", "next": "/"})
    response = client.get(f"/guide/{MARRIAGE}/notice.pdf")
    assert response.status_code == 200
    assert "一次性告知单" in pdf_text(response.content)


# ---- PWA -------------------------------------------------------------------------------------


def test_manifest_describes_an_installable_app(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["display"] == "standalone"
    assert data["scope"] == "/"
    assert data["start_url"].startswith("/")
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in data["icons"])
    for icon in data["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]


def test_service_worker_is_served_from_the_root_and_caches_the_shell(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert "/static/portal/portal.css" in body
    assert '"/offline/"' in body
    assert 'request.mode === "navigate"' in body  # network-first for pages


def test_offline_page_has_no_forms(client):
    response = client.get("/offline/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "网络未连接" in html
    assert "csrfmiddlewaretoken" not in html


def test_material_model_is_untouched_by_rendering(client, catalog):
    before = list(Material.objects.order_by("id").values_list("id", "name"))
    client.get(f"/guide/{MARRIAGE}/")
    assert list(Material.objects.order_by("id").values_list("id", "name")) == before


def test_a_second_catalog_does_not_break_the_fixture_codes():
    # build_catalog is deterministic in its guide codes (the browser tests rely on them)
    catalog = build_catalog()
    assert catalog.marriage.code == MARRIAGE
