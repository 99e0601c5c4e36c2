import pytest

from tongban.backoffice.management.commands.serve import demo_account_lines

pytestmark = pytest.mark.django_db


def test_no_demo_login_is_announced_without_the_demo_account():
    assert demo_account_lines() == []


def test_the_demo_login_is_announced_when_the_demo_account_exists(monkeypatch):
    from tongban.backoffice.management.commands import demo

    monkeypatch.delenv("TONGBAN_PRODUCTION", raising=False)
    demo.ensure_demo_operator(production=False)
    lines = demo_account_lines()
    assert any("tongban-demo-2026" in line and "operator" in line for line in lines)
    assert any("demo_totp" in line for line in lines)


def test_production_never_announces_a_demo_login(monkeypatch, settings):
    from tongban.backoffice.management.commands import demo

    demo.ensure_demo_operator(production=False)
    monkeypatch.setenv("TONGBAN_PRODUCTION", "true")
    settings.TONGBAN_PRODUCTION = True
    assert demo_account_lines() == []
