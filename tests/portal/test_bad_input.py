"""Bad input in portal URLs answers a page with a Chinese reason (400/404), never a 500.

The test client re-raises a view's exception, so a 500 fails these tests with its traceback.
"""

import pytest
from django.core.cache import cache

from tests.portal.fixtures import MARRIAGE
from tongban.catalog import guides
from tongban.catalog.models import Implementation, ImplementationStatus
from tongban.catalog.queries import MAX_ID, MAX_PAGE

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # > 2**63 - 1: overflows SQLite and PostgreSQL integers


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# ---- home and branch portals -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["a/b", "../150602", "150602/", "abc", "１５０６０２", "١٥٠٦٠٢", "1506021", "150602\x00"],
)
def test_home_with_a_malformed_region_answers_404_with_the_reason(client, catalog, value):
    response = client.get("/", {"region": value})
    assert response.status_code == 404
    assert "地区代码应为6位或12位数字" in response.content.decode()


def test_home_with_a_well_formed_region_redirects_to_its_branch(client, catalog):
    response = client.get("/", {"region": " 150603 "})
    assert response.status_code == 302
    assert response["Location"] == "/r/150603/"


@pytest.mark.parametrize(
    "code", ["999999", "abc", "１５０６０２", "150602150602150602", "15060", "%00", "..", "²²²²²²"]
)
def test_unknown_or_malformed_branch_is_404_and_not_remembered(client, catalog, code):
    response = client.get(f"/r/{code}/")
    assert response.status_code == 404
    assert "没有找到该地区的分厅" in response.content.decode()
    assert "portal_region" not in client.session


# ---- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"org": HUGE}, "部门编号不存在"),
        ({"org": str(MAX_ID + 1)}, "部门编号不存在"),
        ({"org": "0"}, "部门编号应为正整数"),
        ({"org": "x"}, "部门编号应为正整数"),
        ({"page": HUGE}, f"页码不能超过{MAX_PAGE}"),
        ({"page": str(MAX_PAGE + 1)}, f"页码不能超过{MAX_PAGE}"),
        ({"page": "-1"}, "页码应为正整数"),
        ({"region": "a/b"}, "地区代码应为6位或12位数字"),
        ({"region": "١٥٠٦٠٢"}, "地区代码应为6位或12位数字"),
        ({"theme": "x" * 41}, "40"),
        ({"theme": "婚姻"}, "主题编码格式不正确"),
        ({"depth": "9"}, "网办深度只能是Ⅰ至Ⅳ级"),
        ({"depth": HUGE}, "网办深度只能是Ⅰ至Ⅳ级"),
        ({"audience": "9"}, "服务对象只能是个人或法人"),
    ],
)
def test_search_rejects_out_of_range_values_with_a_message(client, catalog, params, message):
    response = client.get("/search", {"q": "婚姻", **params})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["result"] is None


def test_search_accepts_the_largest_id_and_the_last_page(client, catalog):
    response = client.get("/search", {"q": "婚姻", "org": str(MAX_ID)})
    assert response.status_code == 200
    assert response.context["result"].total == 0
    response = client.get("/search", {"q": "婚姻", "page": str(MAX_PAGE)})
    assert response.status_code == 200
    assert response.context["result"].results == []


# ---- guide and notice --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["%00", "X%00Y", "x" * 37, "%E2%80%8B", "%7F", "no-such-guide"])
@pytest.mark.parametrize("suffix", ["", "notice.pdf"])
def test_malformed_or_unknown_guide_codes_are_404(client, catalog, code, suffix):
    response = client.get(f"/guide/{code}/{suffix}")
    assert response.status_code == 404
    assert _has_chinese(response.content.decode())


def test_guide_withdrawn_while_its_stamp_is_cached_answers_404(client, catalog, settings):
    """The stamp is kept for a few seconds: a guide withdrawn meanwhile must not be a 500."""
    settings.TONGBAN_GUIDE_STAMP_SECONDS = 60
    guides.cached_guide_stamp(MARRIAGE)  # another visitor has just read the guide
    Implementation.objects.filter(code=MARRIAGE).update(status=ImplementationStatus.SUSPENDED)

    response = client.get(f"/guide/{MARRIAGE}/")
    assert response.status_code == 404
    assert str(guides.GuideErrorCode.NOT_FOUND.label) in response.content.decode()
    # The stale stamp was dropped: the next visitor is answered from the database.
    assert cache.get(guides._stamp_key(MARRIAGE)) is None
    with pytest.raises(Implementation.DoesNotExist):
        guides.cached_guide_stamp(MARRIAGE)


def test_notice_of_a_guide_withdrawn_while_its_stamp_is_cached_answers_404(
    client, catalog, settings
):
    settings.TONGBAN_GUIDE_STAMP_SECONDS = 60
    guides.cached_guide_stamp(MARRIAGE)
    Implementation.objects.filter(code=MARRIAGE).update(status=ImplementationStatus.RETIRED)

    response = client.get(f"/guide/{MARRIAGE}/notice.pdf")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert cache.get(guides._stamp_key(MARRIAGE)) is None


def test_reasons_are_translated(client, catalog, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "choose from the list of regions" in client.get("/", {"region": "a/b"}).content.decode()
    page = client.get("/search", {"org": HUGE}).content.decode()
    assert "No such department." in page
