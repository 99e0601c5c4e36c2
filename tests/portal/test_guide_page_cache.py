"""The guide page is served from a cache shared by every visitor: what depends on the visitor
(the header's account links, the acting party) is rendered per request and never cached; an
anonymous reader costs no query and gets no session."""

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.accounts.factories import AgentGrantFactory, UserFactory
from tests.portal.fixtures import MARRIAGE

pytestmark = pytest.mark.django_db

URL = f"/guide/{MARRIAGE}/"
NAV = re.compile(r"<nav .*?</nav>", re.S)


def _account_links(response) -> str:
    """The header's account links: from the account button to the end of the tools."""
    nav = NAV.search(response.content.decode()).group(0)
    return nav[nav.index('<a class="care-btn account-btn"') :]


def _acting_for(client, grant):
    client.force_login(grant.agent)
    client.post("/account/companies/switch/", {"party": grant.company.pk})


def test_a_logged_in_header_is_never_served_to_others(catalog):
    grant = AgentGrantFactory()
    agent = Client()
    _acting_for(agent, grant)
    page = agent.get(URL).content.decode()  # renders and caches the page
    assert f"代表：{grant.company.name}" in page
    assert 'href="/account/"' in page

    anonymous = Client().get(URL).content.decode()  # served from the cache
    assert grant.company.name not in anonymous
    assert 'class="care-btn account-btn" href="/account/login/"' in anonymous
    assert "party-btn" not in anonymous

    other = Client()
    other.force_login(UserFactory())
    mine = other.get(URL).content.decode()
    assert grant.company.name not in mine
    assert 'data-acting-party="person"' in mine


def test_a_logged_in_visitor_sees_their_own_header_on_a_cached_page(catalog):
    Client().get(URL)  # an anonymous visitor fills the cache
    grant = AgentGrantFactory()
    agent = Client()
    agent.force_login(grant.agent)
    assert 'data-acting-party="person"' in agent.get(URL).content.decode()
    agent.post("/account/companies/switch/", {"party": grant.company.pk})
    page = agent.get(URL).content.decode()  # same guide stamp: the body comes from the cache
    assert f"代表：{grant.company.name}" in page
    assert "登录</a>" not in page


@pytest.mark.parametrize("logged_in", [False, True])
def test_cached_guide_header_is_the_one_every_page_renders(catalog, logged_in):
    client = Client()
    if logged_in:
        client.force_login(AgentGrantFactory().agent)
    client.get(URL)
    cached = _account_links(client.get(URL))
    assert cached == _account_links(client.get("/search", {"q": "婚姻"}))  # rendered whole
    assert ("我的" in cached) is logged_in


def test_anonymous_guide_reads_cost_no_query_and_make_no_session(
    client, catalog, settings, django_assert_num_queries
):
    settings.TONGBAN_GUIDE_STAMP_SECONDS = 60
    client.get(URL)
    client.get(f"/guide/{catalog.business.code}/")
    with django_assert_num_queries(0):
        response = client.get(URL)
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert "csrftoken" not in response.cookies
    assert "Cookie" in response["Vary"]  # the region and the account links follow the cookies
    assert response["Last-Modified"]


def test_anonymous_account_links_follow_the_language(client, catalog):
    client.get(URL)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert ">Log in</a>" in _account_links(client.get(URL))
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert ">登录</a>" in _account_links(client.get(URL))
