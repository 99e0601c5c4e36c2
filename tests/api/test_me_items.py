"""``GET /api/v1/me/items/{code}``: may the person, as the party they act for, handle an item?
An agent outside their grant gets 403 with the reason and an audit record."""

import pytest

from tests.accounts.factories import AgentGrantFactory, CompanyFactory, UserFactory
from tests.accounts.oidc_support import issue_token, make_client
from tests.catalog.factories import ItemFactory
from tongban.core.models import AuditRecord

pytestmark = pytest.mark.django_db


def _ask(client, user, code):
    token = issue_token(make_client().application, user=user)
    return client.get(f"/api/v1/me/items/{code}", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_person_acting_for_themself_may_handle_any_item(client):
    item = ItemFactory()
    body = _ask(client, UserFactory(), item.code).json()
    assert (body["basis"], body["acting_for"]["type"]) == ("self", "person")


def test_the_legal_representative_and_a_granted_agent_may(client):
    item = ItemFactory()
    company = CompanyFactory()
    rep = company.legal_rep
    rep.acting_company = company
    rep.save()
    assert _ask(client, rep, item.code).json()["basis"] == "legal_representative"
    agent = UserFactory(acting_company=company)
    grant = AgentGrantFactory(company=company, agent=agent, all_services=False)
    grant.items.add(item)
    body = _ask(client, agent, item.code).json()
    assert body["basis"] == "agent_grant"
    assert body["acting_for"]["uscc"] == company.uscc
    assert not AuditRecord.objects.filter(result="failure").exists()


def test_an_agent_outside_the_grant_gets_403_and_an_audit_record(client):
    item, other = ItemFactory(), ItemFactory()
    company = CompanyFactory()
    agent = UserFactory(acting_company=company)
    AgentGrantFactory(company=company, agent=agent, all_services=False).items.add(other)
    response = _ask(client, agent, item.code)
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"
    denied = AuditRecord.objects.get(result="failure")
    assert (denied.actor_id, denied.on_behalf_of) == (agent.pk, company.party)
    assert denied.details["item"] == item.code


@pytest.mark.parametrize("trait", ["expired", "revoked"])
def test_a_lapsed_grant_leaves_the_person_acting_for_themself(client, trait):
    """The acting party is checked on every read: a lapsed grant never lets anyone act for the
    company, so the answer is for the person themself."""
    item = ItemFactory()
    company = CompanyFactory()
    agent = UserFactory(acting_company=company)
    AgentGrantFactory(company=company, agent=agent, **{trait: True})
    body = _ask(client, agent, item.code).json()
    assert (body["basis"], body["acting_for"]["type"]) == ("self", "person")


def test_an_unknown_item_is_404(client):
    response = _ask(client, UserFactory(), "NO-SUCH-ITEM")
    assert response.status_code == 404
    assert response.json()["field"] == "code"
