"""The staff login: password, then TOTP (enrolment the first time); no admin or back-office page
without both factors; lockout; citizens refused."""

import time

import pyotp
import pytest
from django.urls import reverse

from tests.accounts.factories import PASSWORD, StaffPostFactory, UserFactory
from tongban.accounts import totp
from tongban.accounts.models import User
from tongban.accounts.staff import role_group
from tongban.backoffice.access import SECOND_FACTOR_SESSION
from tongban.backoffice.login import PENDING
from tongban.core.models import AuditAction, AuditRecord

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def staff(**kwargs):
    user = StaffPostFactory(operator=True, **kwargs).user
    user.groups.add(role_group("operator"))
    return user


def password_step(client, user, password=PASSWORD, next_url=""):
    data = {"login": user.username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("backoffice:login"), data)


def enrol(user):
    secret, _uri = totp.begin_enrolment(user)
    gen = pyotp.TOTP(secret)
    totp.confirm_enrolment(user, gen.at(time.time() - 30))  # leaves the current step unused
    return gen


def test_admin_login_is_the_staff_login(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert "工作人员登录" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_first_login_enrols_the_authenticator(client):
    user = staff()
    response = password_step(client, user, next_url="/admin/catalog/implementation/")
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:login_enrol")
    assert "_auth_user_id" not in client.session  # nobody is logged in yet
    page = client.get(reverse("backoffice:login_enrol"))
    body = page.content.decode()
    assert "<svg" in body
    assert "绑定动态口令" in body
    user.refresh_from_db()
    secret = user.totp_secret
    assert secret
    assert not user.has_totp
    # a reload shows the same secret
    client.get(reverse("backoffice:login_enrol"))
    user.refresh_from_db()
    assert user.totp_secret == secret
    wrong = client.post(
        reverse("backoffice:login_enrol"),
        {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"},
    )
    assert wrong.status_code == 200
    assert "动态口令错误" in wrong.content.decode()
    done = client.post(reverse("backoffice:login_enrol"), {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    assert done["Location"] == "/admin/catalog/implementation/"
    user.refresh_from_db()
    assert user.has_totp
    assert client.session[SECOND_FACTOR_SESSION] == user.pk
    assert client.get("/admin/").status_code == 200
    login = AuditRecord.objects.filter(action=AuditAction.LOGIN, actor_id=user.pk).get()
    assert login.details == {"method": "password+totp", "enrolled": True}


def test_enrolled_staff_type_the_code(client):
    user = staff()
    gen = enrol(user)
    response = password_step(client, user)
    assert response["Location"] == reverse("backoffice:login_totp")
    assert client.get("/admin/").status_code == 302  # not yet
    done = client.post(reverse("backoffice:login_totp"), {"code": gen.now()})
    assert done.status_code == 302
    assert done["Location"] == reverse("admin:index")
    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("backoffice:audit")).status_code == 200


def test_a_session_without_the_second_factor_reaches_nothing(client):
    user = staff()
    client.force_login(user)  # e.g. logged in through the citizen login
    for url in ("/admin/", "/admin/catalog/implementation/", reverse("backoffice:export")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(LOGIN)


def test_the_code_step_needs_the_password_step_first(client):
    assert client.get(reverse("backoffice:login_totp"))["Location"] == reverse("backoffice:login")
    assert client.post(reverse("backoffice:login_enrol"), {"code": "123456"})[
        "Location"
    ] == reverse("backoffice:login")


def test_wrong_passwords_lock_and_say_nothing_about_existence(client):
    user = staff()
    unknown = client.post(reverse("backoffice:login"), {"login": "nobody", "password": "x" * 10})
    wrong = password_step(client, user, password="wrong-password-1")
    assert "账号或密码错误" in unknown.content.decode()
    assert "账号或密码错误" in wrong.content.decode()
    for _ in range(3):
        password_step(client, user, password="wrong-password-1")
    locked = password_step(client, user, password="wrong-password-1")
    assert "尝试次数过多" in locked.content.decode()
    right = password_step(client, user)  # the right password while locked
    assert right.status_code == 200
    assert PENDING not in client.session
    assert AuditRecord.objects.filter(action=AuditAction.LOCKOUT, actor_id=user.pk).exists()


def test_wrong_codes_lock_the_second_step(client):
    user = staff()
    gen = enrol(user)
    password_step(client, user)
    wrong = "000000" if gen.now() != "000000" else "111111"
    for _ in range(totp.RULE.limit - 1):
        assert client.post(reverse("backoffice:login_totp"), {"code": wrong}).status_code == 200
    locked = client.post(reverse("backoffice:login_totp"), {"code": wrong})
    assert locked["Location"] == reverse("backoffice:login")
    assert PENDING not in client.session
    assert "_auth_user_id" not in client.session


def test_a_citizen_cannot_use_the_staff_login(client):
    citizen = UserFactory()
    response = password_step(client, citizen)
    assert response.status_code == 200
    assert "没有权限" in response.content.decode()
    assert PENDING not in client.session


def test_the_demo_superuser_needs_the_second_factor_too(client):
    root = User.objects.create_superuser("operator", "op@example.invalid", PASSWORD)
    response = password_step(client, root)
    assert response["Location"] == reverse("backoffice:login_enrol")


def test_logout_is_audited(client):
    user = staff()
    gen = enrol(user)
    password_step(client, user)
    client.post(reverse("backoffice:login_totp"), {"code": gen.now()})
    response = client.post("/admin/logout/")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302
    assert AuditRecord.objects.filter(action=AuditAction.LOGOUT, actor_id=user.pk).exists()


def test_next_must_stay_on_this_site(client):
    user = staff()
    gen = enrol(user)
    password_step(client, user, next_url="https://evil.example/")
    done = client.post(reverse("backoffice:login_totp"), {"code": gen.now()})
    assert done["Location"] == reverse("admin:index")
