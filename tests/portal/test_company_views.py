"""My companies and agents: register, grant, revoke, switch the acting party; the header shows
whom the person acts for; strangers get 404 and change nothing."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.accounts.factories import AgentGrantFactory, CompanyFactory, UserFactory
from tests.catalog.factories import ItemFactory
from tests.core.factories import RegionFactory, make_uscc
from tongban.accounts.models import AgentGrant, Company, EnterpriseRecord

pytestmark = pytest.mark.django_db

PAGE = reverse("portal:account_companies")


@pytest.fixture(autouse=True)
def _region():
    RegionFactory()


def grants_state():
    return sorted(AgentGrant.objects.values_list("pk", "agent_id", "revoked_at", "expires_at"))


def in_a_year():
    return (timezone.localdate() + dt.timedelta(days=365)).isoformat()


def test_anonymous_is_sent_to_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:account_login"))
    assert (
        client.post(reverse("portal:account_company_switch"), {"party": "self"}).status_code == 302
    )


def test_register_a_company(client):
    person = UserFactory()
    uscc = make_uscc("150602", "9", "1")
    EnterpriseRecord.objects.create(
        uscc=uscc,
        name="鄂尔多斯市甲乙商贸有限公司",
        legal_rep_name=person.real_name,
        legal_rep_id_number=person.id_number,
    )
    client.force_login(person)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "注册企业" in page.content.decode()
    bad = client.post(
        reverse("portal:account_company_register"),
        {"name": "鄂尔多斯市甲乙商贸有限公司", "uscc": uscc[:-1] + "0", "legal_rep_name": "x"},
    )
    assert bad.status_code == 400
    assert not Company.objects.exists()
    response = client.post(
        reverse("portal:account_company_register"),
        {"name": "鄂尔多斯市甲乙商贸有限公司", "uscc": uscc, "legal_rep_name": person.real_name},
    )
    assert response.status_code == 302
    assert Company.objects.get().legal_rep == person
    assert "鄂尔多斯市甲乙商贸有限公司" in client.get(PAGE).content.decode()


def test_grant_and_revoke_an_agent(client):
    company = CompanyFactory()
    agent = UserFactory()
    item = ItemFactory()
    client.force_login(company.legal_rep)
    prefix = f"c{company.pk}"
    response = client.post(
        reverse("portal:account_company_grant", args=[company.pk]),
        {
            f"{prefix}-agent": agent.phone,
            f"{prefix}-items": item.code,
            f"{prefix}-expires_on": in_a_year(),
        },
    )
    assert response.status_code == 302
    grant = AgentGrant.objects.get()
    assert list(grant.items.all()) == [item]
    body = client.get(PAGE).content.decode()
    assert agent.masked_phone in body
    assert agent.phone not in body
    bad = client.post(
        reverse("portal:account_company_grant", args=[company.pk]),
        {
            f"{prefix}-agent": agent.phone,
            f"{prefix}-items": "NOPE",
            f"{prefix}-expires_on": in_a_year(),
        },
    )
    assert bad.status_code == 400
    assert "没有这些事项" in bad.content.decode()
    response = client.post(reverse("portal:account_company_revoke", args=[grant.pk]))
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_strangers_get_404_and_change_nothing(client):
    grant = AgentGrantFactory()
    stranger = UserFactory()
    client.force_login(stranger)
    before = grants_state()
    company = grant.company
    prefix = f"c{company.pk}"
    assert (
        client.post(
            reverse("portal:account_company_grant", args=[company.pk]),
            {
                f"{prefix}-agent": stranger.phone,
                f"{prefix}-all_services": "on",
                f"{prefix}-expires_on": in_a_year(),
            },
        ).status_code
        == 404
    )
    assert client.post(reverse("portal:account_company_revoke", args=[grant.pk])).status_code == 404
    response = client.post(reverse("portal:account_company_switch"), {"party": company.pk})
    assert response.status_code == 302
    stranger.refresh_from_db()
    assert stranger.acting_company is None
    assert grants_state() == before


def test_switch_party_shows_in_the_header(client):
    grant = AgentGrantFactory()
    client.force_login(grant.agent)
    page = client.get(PAGE).content.decode()
    assert 'data-acting-party="person"' in page
    client.post(reverse("portal:account_company_switch"), {"party": grant.company.pk})
    home = client.get(PAGE).content.decode()
    assert f"代表：{grant.company.name}" in home
    client.post(reverse("portal:account_company_switch"), {"party": "self"})
    assert 'data-acting-party="person"' in client.get(PAGE).content.decode()


def test_page_query_count_is_constant(client, django_assert_max_num_queries):
    company = CompanyFactory()
    client.force_login(company.legal_rep)
    client.get(PAGE)
    for _ in range(6):
        grant = AgentGrantFactory(company=company, all_services=False)
        grant.items.add(ItemFactory())
    with django_assert_max_num_queries(20) as ctx:
        client.get(PAGE)
    baseline = len(ctx.captured_queries)
    for _ in range(6):
        AgentGrantFactory(company=company)
    with django_assert_max_num_queries(baseline):
        client.get(PAGE)
