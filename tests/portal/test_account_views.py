"""The account pages: register, log in, log out, verify, profile, who looked at my data, and
the demo SMS page. Authorization matrix and open-redirect checks included."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.accounts.factories import (
    PASSWORD,
    StaffPostFactory,
    UserFactory,
    make_id_number,
    make_phone,
)
from tests.accounts.helpers import last_code
from tongban.accounts.models import OneTimeCode, PopulationRecord, User, VerificationLevel
from tongban.core.audit import AuditAction, AuditResult, record
from tongban.core.models import AuditRecord

pytestmark = pytest.mark.django_db

PROFILE = "/account/"


def _html(response) -> str:
    return response.content.decode()


def _error_beside(html: str, field: str) -> str:
    """The error text shown right after the input named ``field``."""
    match = re.search(
        rf'name="{field}"[^>]*>.*?<p class="field-error"[^>]*>([^<]+)</p>', html, re.S
    )
    assert match, f"no error beside {field}"
    return match.group(1)


def _password_login(client, user, **extra):
    return client.post(
        reverse("portal:account_login"),
        {"method": "password", "login": user.phone, "password": PASSWORD, **extra},
    )


# --- Register ------------------------------------------------------------------------------------


def test_register_by_sms_without_javascript(client):
    url = reverse("portal:account_register")
    assert client.get(url).status_code == 200
    phone = make_phone()
    response = client.post(url, {"phone": phone, "action": "send_code"})
    html = _html(response)
    assert response.status_code == 200
    assert "验证码已发送" in html
    assert 'data-countdown="60"' in html
    assert f'value="{phone}"' in html
    assert 'class="field-error"' not in html  # only the phone was required
    code = last_code(phone)
    response = client.post(
        url,
        {
            "phone": phone,
            "code": code,
            "password": "",
            "password2": "",
            "agree": "on",
            "action": "register",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:account_verify")
    user = User.objects.get()
    assert user.level == VerificationLevel.L1
    assert user.phone == phone
    assert client.get(PROFILE).status_code == 200


def test_register_errors_are_shown_beside_the_fields(client):
    url = reverse("portal:account_register")
    phone = make_phone()
    client.post(url, {"phone": phone, "action": "send_code"})
    code = last_code(phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(
        url,
        {
            "phone": phone,
            "code": wrong,
            "password": "Abcdefg-1",
            "password2": "Abcdefg-2",
            "agree": "on",
            "action": "register",
        },
    )
    html = _html(response)
    assert _error_beside(html, "password2") == "两次输入的密码不一致"
    response = client.post(
        url, {"phone": phone, "code": wrong, "agree": "on", "action": "register"}
    )
    assert _error_beside(_html(response), "code") == "验证码错误或已失效"
    response = client.post(url, {"phone": "1234", "action": "send_code"})
    assert _error_beside(_html(response), "phone") == "请输入正确的11位手机号码"
    assert not User.objects.exists()


def test_send_code_twice_in_a_minute_is_refused_beside_the_phone(client):
    url = reverse("portal:account_register")
    phone = make_phone()
    client.post(url, {"phone": phone, "action": "send_code"})
    response = client.post(url, {"phone": phone, "action": "send_code"})
    assert _error_beside(_html(response), "phone") == "操作过于频繁，请稍后再试"
    assert OneTimeCode.objects.count() == 1


# --- Login ---------------------------------------------------------------------------------------


def test_sms_login_tab(client):
    user = UserFactory()
    url = reverse("portal:account_login")
    html = _html(client.get(url))
    assert 'aria-current="page"' in html
    assert "短信验证码登录" in html
    assert "密码登录" in html
    client.post(url, {"method": "sms", "phone": user.phone, "action": "send_code"})
    response = client.post(
        url,
        {"method": "sms", "phone": user.phone, "code": last_code(user.phone), "action": "login"},
    )
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    assert AuditRecord.objects.filter(action=AuditAction.LOGIN, actor_id=user.pk).exists()


def test_password_tab_answers_the_same_for_unknown_accounts(client):
    user = UserFactory()
    url = reverse("portal:account_login")
    assert 'name="password"' in _html(client.get(url + "?method=password"))
    wrong = client.post(url, {"method": "password", "login": user.phone, "password": "nope"})
    unknown = client.post(url, {"method": "password", "login": make_phone(), "password": "nope"})
    message = "账号或密码错误，或验证码无效"
    assert message in _html(wrong)
    assert message in _html(unknown)
    assert client.get(PROFILE).status_code != 200


def test_lockout_message(client):
    user = UserFactory()
    url = reverse("portal:account_login")
    for _ in range(5):
        response = client.post(url, {"method": "password", "login": user.phone, "password": "x"})
    assert "尝试次数过多" in _html(response)
    assert "尝试次数过多" in _html(_password_login(client, user))


@pytest.mark.parametrize("target", ["/guide/X1/?a=1", "/account/verify/"])
def test_next_inside_the_site_is_followed(client, target):
    response = _password_login(client, UserFactory(), next=target)
    assert response["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
        "https:///evil.example",
        "\\\\evil.example",
    ],
)
def test_next_outside_the_site_is_ignored(client, target):
    response = _password_login(client, UserFactory(), next=target)
    assert response.status_code == 302
    assert response["Location"] == PROFILE


def test_login_page_keeps_a_safe_next_only(client):
    html = _html(client.get(reverse("portal:account_login") + "?next=https://evil.example/"))
    form_part = html[html.index('<section class="card account-card">') :]
    assert "evil.example" not in form_part  # neither in the hidden field nor in the tab links
    html = _html(client.get(reverse("portal:account_login") + "?next=/account/verify/"))
    assert 'name="next" value="/account/verify/"' in html


@pytest.mark.parametrize(
    "name",
    ["account_profile", "account_verify", "account_verify_face", "account_access_log"],
)
def test_anonymous_is_sent_to_the_portal_login(client, name):
    url = reverse(f"portal:{name}")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:account_login')}?next={url}"


@pytest.mark.parametrize("name", ["account_password", "account_logout_all"])
def test_anonymous_posts_change_nothing(client, name):
    response = client.post(reverse(f"portal:{name}"), {"new_password": "X"})
    assert response.status_code == 302
    assert not AuditRecord.objects.exists()


def test_header_link(client):
    assert "/account/login/" in _html(client.get(reverse("portal:account_register")))
    client.force_login(UserFactory())
    html = _html(client.get(reverse("portal:account_verify")))
    assert 'class="care-btn account-btn" href="/account/"' in html


def test_logout_needs_a_post(client):
    user = UserFactory()
    client.force_login(user)
    assert "确定要退出登录吗" in _html(client.get(reverse("portal:account_logout")))
    assert client.get(PROFILE).status_code == 200
    response = client.post(reverse("portal:account_logout"))
    assert response["Location"] == reverse("portal:account_login")
    assert client.get(PROFILE).status_code == 302
    assert AuditRecord.objects.get(action=AuditAction.LOGOUT).actor_id == user.pk


# --- Profile -------------------------------------------------------------------------------------


def test_profile_shows_masked_numbers_only(client):
    user = UserFactory(real_name="王晓明")
    client.force_login(user)
    response = client.get(PROFILE)
    html = _html(response)
    assert user.masked_id_number in html
    assert user.masked_phone in html
    assert "王**" in html
    assert user.id_number not in html
    assert user.phone not in html
    assert "王晓明" not in html
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_change_password_page(client):
    user = UserFactory()
    _password_login(client, user)
    url = reverse("portal:account_password")
    response = client.post(
        url,
        {
            "old_password": "wrong",
            "new_password": "Neue-Pass-2027",
            "new_password2": "Neue-Pass-2027",
        },
    )
    assert response.status_code == 400
    assert _error_beside(_html(response), "old_password") == "原密码错误"
    response = client.post(
        url, {"old_password": PASSWORD, "new_password": "abc", "new_password2": "abc"}
    )
    assert "至少8位" in _error_beside(_html(response), "new_password")
    response = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password": "Neue-Pass-2027",
            "new_password2": "Neue-Pass-2027",
        },
    )
    assert response.status_code == 302
    assert client.get(PROFILE).status_code == 200  # this session stays
    assert User.objects.get(pk=user.pk).check_password("Neue-Pass-2027")


def test_log_out_all_devices(client):
    from django.test import Client

    user = UserFactory()
    other = Client()
    _password_login(client, user)
    _password_login(other, user)
    response = client.post(reverse("portal:account_logout_all"))
    assert response["Location"] == reverse("portal:account_login")
    assert client.get(PROFILE).status_code == 302
    assert other.get(PROFILE).status_code == 302
    assert User.objects.get(pk=user.pk).session_epoch == 1


# --- Verification --------------------------------------------------------------------------------


def test_real_name_verification_page(client):
    number = make_id_number()
    PopulationRecord.objects.create(name="王晓明", id_number=number)
    user = UserFactory(unverified=True)
    client.force_login(user)
    url = reverse("portal:account_verify")
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    response = client.post(url, {"real_name": "王晓明", "id_number": bad})
    assert response.status_code == 400
    assert "校验码错误" in _error_beside(_html(response), "id_number")
    response = client.post(url, {"real_name": "王晓明", "id_number": "150602199002301234"})
    assert "19900230" in _error_beside(_html(response), "id_number")
    response = client.post(url, {"real_name": "李四", "id_number": number})
    assert "姓名与身份证号不一致" in _html(response)
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L1
    response = client.post(url, {"real_name": "王晓明", "id_number": number})
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L2
    assert "您已完成实名认证" in _html(client.get(url))


def test_id_number_taken_page(client):
    holder = UserFactory(real_name="刘晓红")
    PopulationRecord.objects.create(name="刘晓红", id_number=holder.id_number)
    client.force_login(UserFactory(unverified=True))
    response = client.post(
        reverse("portal:account_verify"), {"real_name": "刘晓红", "id_number": holder.id_number}
    )
    assert "已被其他账号认证" in _error_beside(_html(response), "id_number")


def test_face_page(client):
    url = reverse("portal:account_verify_face")
    newcomer = UserFactory(unverified=True)
    client.force_login(newcomer)
    assert "请先完成实名认证" in _html(client.get(url))
    client.post(url, {"consent": "on"})
    assert User.objects.get(pk=newcomer.pk).level == VerificationLevel.L1
    user = UserFactory()
    PopulationRecord.objects.create(name=user.real_name, id_number=user.id_number)
    client.force_login(user)
    html = _html(client.get(url))
    assert "演示环境" in html
    assert 'name="photo"' not in html
    response = client.post(url, {})
    assert "请确认由本人操作" in _error_beside(_html(response), "consent")
    response = client.post(url, {"consent": "on"})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L3


def test_face_page_in_production_says_why(client, settings):
    settings.TONGBAN_PRODUCTION = True
    user = UserFactory()
    PopulationRecord.objects.create(name=user.real_name, id_number=user.id_number)
    client.force_login(user)
    response = client.post(reverse("portal:account_verify_face"), {"consent": "on"})
    assert "生产环境不可使用" in _html(response)
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L2


# --- Who looked at my data -----------------------------------------------------------------------


def _reads(subject, staff, n, **kwargs):
    for i in range(n):
        record(
            actor=staff,
            action=AuditAction.PERSONAL_REVEAL,
            subject=f"user:{subject.pk}",
            reason=f"核对材料{i}",
            details={"field": "id_number"},
            **kwargs,
        )


def test_access_log_shows_who_when_what_and_why(client):
    me = UserFactory()
    post = StaffPostFactory(user__real_name="赵审核", organization__name="鄂尔多斯市民政局")
    _reads(me, post.user, 1, on_behalf_of="")
    record(
        actor=post.user,
        action=AuditAction.PERSONAL_REVEAL,
        result=AuditResult.FAILURE,
        subject=f"user:{me.pk}",
        details={"field": "phone"},
    )
    someone_else = UserFactory()
    _reads(someone_else, post.user, 1)
    client.force_login(me)
    html = _html(client.get(reverse("portal:account_access_log")))
    assert "赵**" in html
    assert "赵审核" not in html
    assert "鄂尔多斯市民政局" in html
    assert "核对材料0" in html
    assert "查看完整个人信息：身份证号" in html
    assert "手机号" in html
    assert "已拒绝" in html
    assert html.count('class="access-item') == 2


def test_access_log_is_paginated_with_constant_queries(client):
    me = UserFactory()
    client.force_login(me)
    url = reverse("portal:account_access_log")
    staff = [StaffPostFactory().user for _ in range(3)]
    for person in staff:
        _reads(me, person, 1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    more = [StaffPostFactory().user for _ in range(10)]
    for person in more:
        _reads(me, person, 3)
    with CaptureQueriesContext(connection) as many:
        html = _html(client.get(url))
    assert len(many) == len(few)
    assert html.count('class="access-item') == 20
    assert "第 1 / 2 页" in html
    html = _html(client.get(url + "?page=2"))
    assert html.count('class="access-item') == 13


# --- Demo SMS page -------------------------------------------------------------------------------


def test_dev_messages_page_shows_recorded_sms(client):
    phone = make_phone()
    client.post(reverse("portal:account_register"), {"phone": phone, "action": "send_code"})
    html = _html(client.get(reverse("portal:account_dev_messages")))
    assert last_code(phone) in html
    assert phone not in html


def test_dev_messages_page_is_gone_in_production_or_with_a_gateway(client, settings):
    url = reverse("portal:account_dev_messages")
    settings.TONGBAN_PRODUCTION = True
    assert client.get(url).status_code == 404
    settings.TONGBAN_PRODUCTION = False
    settings.TONGBAN_SMS_BACKEND = "tests.accounts.test_messaging.RecordingGateway"
    assert client.get(url).status_code == 404


def test_face_page_uploads_a_photo_when_the_provider_needs_one(client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.TONGBAN_FACE_PROVIDER = "tests.accounts.test_verification.PhotoComparingProvider"
    user = UserFactory()
    client.force_login(user)
    url = reverse("portal:account_verify_face")
    html = _html(client.get(url))
    assert 'name="photo"' in html
    assert "演示环境" not in html
    response = client.post(url, {"consent": "on"})
    assert _error_beside(_html(response), "photo") == "请拍摄或上传本人正面照片"
    photo = SimpleUploadedFile("me.jpg", b"same face", content_type="image/jpeg")
    response = client.post(url, {"consent": "on", "photo": photo})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).level == VerificationLevel.L3


def test_forgotten_password_page_resets_by_sms(client):
    user = UserFactory()
    url = reverse("portal:account_reset_password")
    assert "忘记密码" in _html(client.get(reverse("portal:account_login") + "?method=password"))
    client.post(url, {"phone": user.phone, "action": "send_code"})
    data = {"phone": user.phone, "code": last_code(user.phone), "action": "reset"}
    mismatch = client.post(url, {**data, "password": "Reset#2026-a", "password2": "Reset#2026-b"})
    assert "两次输入的密码不一致" in _error_beside(_html(mismatch), "password2")
    done = client.post(url, {**data, "password": "Reset#2026-a", "password2": "Reset#2026-a"})
    assert done.status_code == 302
    assert done["Location"] == reverse("portal:account_login") + "?method=password"
    user.refresh_from_db()
    assert user.check_password("Reset#2026-a")


def test_the_guide_says_which_level_online_application_needs(client):
    from tests.catalog.factories import ImplementationFactory

    impl = ImplementationFactory(handle_on_mobile=True, required_level=3)
    html = _html(client.get(reverse("portal:guide", args=[impl.code])))
    assert 'data-required-level="3"' in html
    assert "L3 人脸已核验" in html
