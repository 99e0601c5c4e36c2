import pytest

from tests.catalog.factories import ImplementationFactory, ItemFactory
from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.catalog.models import Item
from tongban.catalog.search import reindex_items

pytestmark = pytest.mark.django_db
URL = "/api/v1/catalog/search"


@pytest.fixture
def catalog():
    dongsheng = RegionFactory(dongsheng=True)
    erenhot = RegionFactory(erenhot=True)
    marriage = ItemFactory(name="婚姻登记", popularity=10)
    passport = ItemFactory(name="普通护照签发", popularity=5)
    org_d = OrganizationFactory(region=dongsheng, name="东胜区民政局")
    org_e = OrganizationFactory(region=erenhot, name="二连浩特市民政局")
    impls = [
        ImplementationFactory(item=marriage, organization=org_d, popularity=3),
        ImplementationFactory(item=marriage, organization=org_e, popularity=2),
        ImplementationFactory(item=passport, organization=org_d, online_depth=2, visits_required=1),
    ]
    reindex_items(Item.objects.all())
    return impls


def test_search_answers_a_page_of_results(client, catalog):
    response = client.get(URL, {"q": "hydj"})
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["page_size"], body["pages"]) == (2, 1, 20, 1)
    first = body["results"][0]
    assert first == {
        "item_code": catalog[0].item.code,
        "item_name": "婚姻登记",
        "implementation_code": catalog[0].code,
        "organization": "东胜区民政局",
        "organization_id": catalog[0].organization_id,
        "region": {"code": "150602", "name": "东胜区"},
        "online_depth": 4,
        "online_depth_label": "Ⅳ级 全程网办",
        "is_instant": False,
        "promised_limit": 5,
        "promised_unit": "working",
    }
    assert body["query_terms"] == ["hydj"]


def test_search_filters_by_region_and_depth(client, catalog):
    body = client.get(URL, {"q": "婚姻", "region": "152501"}).json()
    assert [r["region"]["code"] for r in body["results"]] == ["152501"]
    body = client.get(URL, {"q": "", "region": "150602", "depth": 4}).json()
    assert [r["item_name"] for r in body["results"]] == ["婚姻登记"]


def test_search_pages(client, catalog):
    body = client.get(URL, {"q": "", "page_size": 2, "page": 2}).json()
    assert (body["total"], body["pages"], len(body["results"])) == (3, 2, 1)


def test_two_character_word_and_traditional_characters(client, catalog):
    assert client.get(URL, {"q": "護照"}).json()["results"][0]["item_name"] == "普通护照签发"


def test_syntax_characters_answer_normally(client, catalog):
    response = client.get(URL, {"q": "护照 & !(婚姻) :* \"'"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"region": "15"}, "invalid_region", "region"),
        ({"region": "1506O2"}, "invalid_region", "region"),
        ({"depth": "5"}, "invalid_depth", "depth"),
        ({"depth": "x"}, "invalid_parameter", "depth"),
        ({"page": "0"}, "invalid_page", "page"),
        ({"page": "abc"}, "invalid_parameter", "page"),
        ({"page_size": "51"}, "invalid_page_size", "page_size"),
        ({"audience": "7"}, "invalid_audience", "audience"),
        ({"organization": "-1"}, "invalid_organization", "organization"),
        ({"theme": "<script>"}, "invalid_theme", "theme"),
        ({"q": "证" * 101}, "query_too_long", "q"),
    ],
)
def test_bad_parameters_answer_422_with_a_code_and_a_chinese_message(
    client, catalog, params, code, field
):
    response = client.get(URL, {"q": "护照", **params})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == code
    assert body["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])


def test_openapi_documents_the_endpoint_with_an_example(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/catalog/search"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "q",
        "region",
        "audience",
        "theme",
        "organization",
        "depth",
        "page",
        "page_size",
    }
    assert set(operation["responses"]) >= {"200", "422"}
    schema = document["components"]["schemas"]["SearchPageOut"]
    assert schema["examples"][0]["results"][0]["item_name"] == "内地居民婚姻登记"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"organization": "99999999999999999999"}, "organization"),
        ({"organization": str(2**63)}, "organization"),
        ({"page": "501"}, "page"),
        ({"page": "99999999999999999999"}, "page"),
    ],
)
def test_integers_beyond_the_bounds_are_a_422_not_a_database_error(client, catalog, params, field):
    response = client.get(URL, {"q": "护照", **params})
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_the_bounds_themselves_are_accepted(client, catalog):
    from tongban.catalog.queries import MAX_ID, MAX_PAGE

    response = client.get(URL, {"q": "护照", "organization": str(MAX_ID), "page": str(MAX_PAGE)})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_openapi_documents_the_bounds(client):
    from tongban.catalog.queries import MAX_ID, MAX_PAGE

    document = client.get("/api/v1/openapi.json").json()
    parameters = {
        p["name"]: p["schema"]
        for p in document["paths"]["/api/v1/catalog/search"]["get"]["parameters"]
    }
    assert "maximum" in str(parameters["organization"])
    assert str(MAX_ID) in str(parameters["organization"])
    assert parameters["page"]["maximum"] == MAX_PAGE
