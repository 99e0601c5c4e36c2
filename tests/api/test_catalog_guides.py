"""GET /api/v1/catalog/implementations/{code}: the whole guide as JSON."""

import json

import pytest

from tests.portal.fixtures import MARRIAGE, build_catalog
from tongban.catalog.models import ImplementationStatus

pytestmark = pytest.mark.django_db
URL = "/api/v1/catalog/implementations/"


@pytest.fixture
def catalog():
    return build_catalog()


def test_guide_json_has_every_element(client, catalog, settings):
    settings.TONGBAN_PUBLIC_URL = "https://zwfw.example.gov.cn"
    response = client.get(URL + MARRIAGE)
    assert response.status_code == 200
    data = response.json()
    assert data["code"] == MARRIAGE
    assert data["item"]["name"] == "内地居民婚姻登记"
    assert data["item"]["type"] == {"code": "07", "label": "行政确认"}
    assert data["organization"]["name"] == "东胜区民政局"
    assert data["online_depth"]["level"] == 3
    assert data["online_depth"]["numeral"] == "Ⅲ"
    assert data["visits_required"] == 1
    assert data["time_limits"]["is_instant"] is True
    assert data["locations"][0]["window"] == "3号窗口"
    assert data["hours"][0]["text"] == "星期一至星期五 09:00—17:00"
    assert [s["name"] for s in data["steps"]] == ["申请与受理", "审查与登记"]
    assert data["fees"]["charges_fee"] is True
    assert data["fees"]["items"][0]["standard"] == "9元/本"
    assert data["intermediaries"][0]["basis"] == "《母婴保健法》第七条"
    assert data["faqs"][0]["question"] == "可以在外地登记吗？"
    assert data["channels"] == {"appointment": True, "online_payment": False, "express": False}
    assert data["guide_url"] == f"https://zwfw.example.gov.cn/guide/{MARRIAGE}/"
    assert data["notice_url"] == f"https://zwfw.example.gov.cn/guide/{MARRIAGE}/notice.pdf"
    assert [s["question"] for s in data["situations"]] == ["申请人户籍", "是否再婚"]
    applies = {m["name"]: m["applies"] for m in data["materials"]}
    assert applies["外地户籍居住证明"] == "depends"
    assert applies["居民身份证"] == "yes"
    declaration = next(m for m in data["materials"] if m["name"] == "申请结婚登记声明书")
    assert declaration["blank_form_url"].startswith(
        "https://zwfw.example.gov.cn/media/catalog/forms/"
    )


def test_options_filter_the_materials(client, catalog):
    o, s = catalog.options, catalog.situations
    response = client.get(URL + MARRIAGE, {"option": [o["local"], o["again"]]})
    assert response.status_code == 200
    data = response.json()
    names = [m["name"] for m in data["materials"]]
    assert "外地户籍居住证明" not in names
    assert "离婚证或配偶死亡证明" in names
    assert all(m["applies"] == "yes" for m in data["materials"])
    assert data["notice_url"].endswith(
        f"notice.pdf?s{s['residence']}={o['local']}&s{s['remarriage']}={o['again']}"
    )


@pytest.mark.parametrize(
    ("options", "code"),
    [(["local", "other"], "single_choice"), ([], None)],
)
def test_options_that_do_not_fit_are_a_400(client, catalog, options, code):
    ids = [catalog.options[o] for o in options] or [987654321]
    response = client.get(URL + MARRIAGE, {"option": ids})
    assert response.status_code == 400
    assert response.json()["code"] == (code or "unknown_option")
    assert response.json()["message"]


def test_a_non_numeric_option_is_a_validation_error(client, catalog):
    assert client.get(URL + MARRIAGE, {"option": "x"}).status_code in (400, 422)


@pytest.mark.parametrize("which", ["missing", "draft", "suspended"])
def test_unknown_or_non_active_guides_are_404_json(client, catalog, which):
    code = {"missing": "NO-SUCH-CODE", "draft": catalog.draft.code, "suspended": MARRIAGE}[which]
    if which == "suspended":
        catalog.marriage.status = ImplementationStatus.SUSPENDED
        catalog.marriage.save()
    response = client.get(URL + code)
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "没有找到该办事指南，或该事项已暂停、废止。",
    }


def test_guide_is_in_the_openapi_document(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/catalog/implementations/{code}"]["get"]
    assert set(operation["responses"]) >= {"200", "400", "404"}
    assert "GuideOut" in schema["components"]["schemas"]


# ---- language: ?lang=, never Accept-Language ------------------------------------------------


@pytest.fixture
def translated(catalog):
    from tongban.catalog.models import ItemTranslation

    item = catalog.marriage.item
    ItemTranslation.objects.create(item=item, language="en", name="Marriage registration")
    ItemTranslation.objects.create(item=item, language="mn-mong", name="ᠭᠡᠷᠯᠡᠯᠲᠡ")
    return catalog


@pytest.mark.parametrize(
    ("lang", "name"),
    [("en", "Marriage registration"), ("mn-mong", "ᠭᠡᠷᠯᠡᠯᠲᠡ"), ("zh-hans", "内地居民婚姻登记")],
)
def test_lang_chooses_the_language_of_the_guide(client, translated, lang, name):
    response = client.get(URL + MARRIAGE, {"lang": lang})
    assert response.status_code == 200
    assert response.json()["item"]["name"] == name
    assert response["Content-Language"] == lang


def test_accept_language_is_ignored_and_chinese_is_the_default(client, translated):
    response = client.get(URL + MARRIAGE, headers={"accept-language": "en"})
    assert response.json()["item"]["name"] == "内地居民婚姻登记"
    assert response["Content-Language"] == "zh-hans"


def test_lang_wins_over_the_language_cookie(client, translated, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.get(URL + MARRIAGE).json()["item"]["name"] == "Marriage registration"
    chinese = client.get(URL + MARRIAGE, {"lang": "zh-hans"})
    assert chinese.json()["item"]["name"] == "内地居民婚姻登记"


@pytest.mark.parametrize("lang", ["fr", "EN", "zh", "", "en;q=1"])
def test_an_unsupported_lang_is_a_422_naming_the_parameter(client, translated, lang):
    response = client.get(URL + MARRIAGE, {"lang": lang})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_parameter"
    assert response.json()["field"] == "lang"


def test_lang_applies_to_error_messages_too(client, translated):
    response = client.get(URL + "NO-SUCH-CODE", {"lang": "en"})
    assert response.status_code == 404
    assert response["Content-Language"] == "en"
    assert response.json()["code"] == "not_found"


def test_lang_is_documented_in_openapi(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/catalog/implementations/{code}"]["get"]
    lang = next(p for p in operation["parameters"] if p["name"] == "lang")
    assert lang["in"] == "query"
    assert lang["required"] is False
    text = json.dumps(lang["schema"])
    for code in ("zh-hans", "en", "mn-mong"):
        assert f'"{code}"' in text
    assert "Accept-Language" in lang["description"]


# ---- links: the same as the portal's (catalog.guides.guide_links) ---------------------------


def test_links_carry_the_answers_like_the_portal_page(client, catalog, settings):
    settings.TONGBAN_PUBLIC_URL = "https://zwfw.example.gov.cn/"
    o, s = catalog.options, catalog.situations
    data = client.get(URL + MARRIAGE, {"option": [o["again"], o["other"]]}).json()
    query = f"s{s['residence']}={o['other']}&s{s['remarriage']}={o['again']}"
    assert data["guide_url"] == f"https://zwfw.example.gov.cn/guide/{MARRIAGE}/?{query}"
    assert data["notice_url"] == f"https://zwfw.example.gov.cn/guide/{MARRIAGE}/notice.pdf?{query}"
    page = client.get(f"/guide/{MARRIAGE}/?{query}")
    assert f'href="/guide/{MARRIAGE}/notice.pdf?{query.replace("&", "&amp;")}"' in (
        page.content.decode()
    )
