"""``tongban demo``: loads the demo data idempotently and manages the demo operator account."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command

from tongban.backoffice.management.commands import demo as command
from tongban.catalog.models import Implementation, Item, Material
from tongban.core.models import Organization

pytestmark = pytest.mark.django_db

User = get_user_model()


def run(*args) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


class FakeReport:
    def lines(self):
        return ["  假数据：共 1"]


@pytest.fixture
def no_catalog(monkeypatch):
    """Account tests do not need the catalog: swap the loaders for one that records its call."""
    calls = []

    def fake(*, stdout):
        calls.append(stdout)
        return FakeReport()

    monkeypatch.setattr(command, "LOADERS", [command.DemoStep("假数据", fake)])
    return calls


@pytest.fixture(autouse=True)
def _no_cache_left_behind():
    yield
    cache.clear()


@pytest.fixture
def development(settings):
    settings.TONGBAN_PRODUCTION = False


def test_runs_twice_without_duplicates_and_prints_the_demo_account(development):
    first = run()
    counts = (Organization.objects.count(), Item.objects.count(), Implementation.objects.count())
    materials = Material.objects.count()
    second = run()

    assert counts == (
        Organization.objects.count(),
        Item.objects.count(),
        Implementation.objects.count(),
    )
    assert Material.objects.count() == materials
    assert Implementation.objects.filter(status="active").count() >= 60
    assert User.objects.filter(username="operator").count() == 1
    operator = User.objects.get(username="operator")
    assert operator.is_superuser
    assert operator.is_staff
    assert operator.check_password("tongban-demo-2026")
    for output in (first, second):
        assert "operator" in output
        assert "tongban-demo-2026" in output
        assert "仅供体验" in output
    assert "已创建" in first
    assert "已存在" in second
    assert "新建 0，更新 0" in second
    assert re.search(r"  实施清单：共 (\d+)（新建 0，更新 0，未变 \1）", second)


def test_loaders_are_a_list_any_domain_can_extend(development, no_catalog):
    output = run()
    assert len(no_catalog) == 1
    assert "载入：假数据" in output
    assert "假数据：共 1" in output


def test_production_creates_no_demo_account(settings, no_catalog):
    settings.TONGBAN_PRODUCTION = True
    output = run()
    assert not User.objects.filter(username="operator").exists()
    assert "未创建" in output
    assert "tongban-demo-2026" not in output
    assert no_catalog  # the data still loads


def test_production_is_read_from_the_environment_when_not_a_setting(settings, monkeypatch):
    del settings.TONGBAN_PRODUCTION
    monkeypatch.setenv("TONGBAN_PRODUCTION", "true")
    assert command.is_production()
    monkeypatch.setenv("TONGBAN_PRODUCTION", "false")
    assert not command.is_production()


def test_a_real_operator_account_is_never_touched(development, no_catalog):
    real = User.objects.create_user(
        username="operator", email="ops@city.example", password="a-real-secret-1", is_staff=False
    )
    before = (real.password, real.is_staff, real.is_superuser, real.email)

    output = run("--reset-demo-password")

    real.refresh_from_db()
    assert (real.password, real.is_staff, real.is_superuser, real.email) == before
    assert "不是演示账号" in output
    assert "tongban-demo-2026" not in output


def test_a_changed_demo_password_is_kept_unless_reset_is_asked(development, no_catalog):
    run()
    operator = User.objects.get(username="operator")
    operator.set_password("changed-by-the-team-9")
    operator.save()

    output = run()
    operator.refresh_from_db()
    assert operator.check_password("changed-by-the-team-9")
    assert "密码已被修改" in output
    assert "tongban-demo-2026" not in output

    output = run("--reset-demo-password")
    operator.refresh_from_db()
    assert operator.check_password("tongban-demo-2026")
    assert "已恢复演示密码" in output


def test_a_disabled_demo_account_is_restored_in_development(development, no_catalog):
    run()
    User.objects.filter(username="operator").update(is_active=False, is_superuser=False)
    run()
    operator = User.objects.get(username="operator")
    assert operator.is_active
    assert operator.is_superuser


def test_production_warns_about_a_leftover_demo_account_and_changes_nothing(settings, no_catalog):
    settings.TONGBAN_PRODUCTION = False
    run()
    before = User.objects.values().get(username="operator")
    settings.TONGBAN_PRODUCTION = True

    output = run("--reset-demo-password")

    assert User.objects.values().get(username="operator") == before
    assert "警告" in output
    assert "tongban-demo-2026" not in output


def test_ensure_demo_operator_is_idempotent(development):
    first = command.ensure_demo_operator(production=False)
    hashed = User.objects.get(username="operator").password
    second = command.ensure_demo_operator(production=False)
    assert first.status == "已创建"
    assert second.status == "已存在"
    assert second.password == "tongban-demo-2026"
    assert User.objects.get(username="operator").password == hashed
