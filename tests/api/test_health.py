from unittest import mock

import pytest
from django.db.utils import OperationalError


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_the_database_vendor(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] in {"sqlite", "postgresql"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_fails(client):
    with mock.patch("tongban.api.health.connection") as connection:
        connection.cursor.side_effect = OperationalError("down")
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "OperationalError"}


def test_health_endpoints_refuse_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Tongban API"


@pytest.mark.django_db
def test_api_docs_use_local_assets_not_a_cdn(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "cdn.jsdelivr.net" not in response.content.decode()
