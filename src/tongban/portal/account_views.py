"""The person's account pages: register, log in (SMS code or password), log out, real-name
verification, my profile, and who looked at my data.

Views parse the form, call one service of :mod:`tongban.accounts` and render; a service's error
is shown beside its field. Every page works without JavaScript: "send code" is a submit button of
the same form (``action=send_code``); ``account.js`` only adds the countdown. Pages with personal
data are never cached (``never_cache``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tongban.accounts import auth, sessions
from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.messaging import is_local
from tongban.accounts.models import (
    MessageChannel,
    OneTimeCodePurpose,
    OutgoingMessage,
    StaffPost,
    User,
    VerificationLevel,
)
from tongban.accounts.verification import (
    FaceEvidence,
    face_provider,
    verify_face,
    verify_real_name,
)
from tongban.core.audit import AuditAction, AuditResult, request_context, search
from tongban.core.personal import mask_name
from tongban.portal.account_forms import (
    ChangePasswordForm,
    FaceForm,
    PasswordLoginForm,
    RealNameForm,
    RegisterForm,
    ResetPasswordForm,
    SmsLoginForm,
    add_account_error,
)

LOGIN_METHODS = ("sms", "password")
ACCESS_LOG_PAGE_SIZE = 20
DEV_MESSAGES_LIMIT = 50
MAX_PHOTO_BYTES = 5 * 1024 * 1024
EXPIRED_MESSAGES = {
    "idle_timeout": gettext_lazy("长时间未操作，已自动退出登录，请重新登录"),
    "logout_everywhere": gettext_lazy("您的账号已在所有设备上退出，请重新登录"),
}


def safe_next(request, default: str = "") -> str:
    """The ``next`` parameter if it points into this site, else ``default`` (my profile)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or reverse("portal:account_profile")


def _ctx(request) -> dict:
    return request_context(request)


def _send_code(request, form, purpose: str) -> bool:
    """Handle the "send code" button of ``form`` (bound with ``sending_code=True``); errors go
    beside the phone field. Returns whether the code request was accepted."""
    if not form.is_valid():
        return False
    try:
        auth.request_sms_code(phone=form.cleaned_data["phone"], purpose=purpose, **_ctx(request))
    except AccountError as exc:
        add_account_error(form, exc)
        return False
    return True


def _code_sent_context(sent: bool) -> dict:
    if not sent:
        return {}
    return {
        "code_sent": True,
        "resend_after": auth.RESEND_SECONDS,
        "dev_messages": _dev_messages_enabled(),
    }


# --- Register and log in -------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def register(request):
    """``account/register/``: mobile number + SMS code (+ optional password) → an L1 account."""
    next_url = safe_next(request, reverse("portal:account_verify"))
    form = RegisterForm()
    extra: dict = {}
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            form = RegisterForm(request.POST, sending_code=True)
            extra = _code_sent_context(_send_code(request, form, OneTimeCodePurpose.REGISTER))
        else:
            form = RegisterForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    user = auth.register_person(
                        phone=data["phone"],
                        code=data["code"],
                        password=data["password"],
                        **_ctx(request),
                    )
                except AccountError as exc:
                    add_account_error(form, exc)
                else:
                    sessions.start_session(request, user)
                    messages.success(request, _("注册成功。完成实名认证后即可办理更多事项。"))
                    return HttpResponseRedirect(next_url)
    return render(
        request,
        "portal/account/register.html",
        {"form": form, "next": next_url, **extra},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def reset_password(request):
    """``account/password/reset/``: forgotten password, by an SMS code to the account's number."""
    form = ResetPasswordForm()
    extra: dict = {}
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            form = ResetPasswordForm(request.POST, sending_code=True)
            purpose = OneTimeCodePurpose.RESET_PASSWORD
            extra = _code_sent_context(_send_code(request, form, purpose))
        else:
            form = ResetPasswordForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    auth.reset_password(
                        phone=data["phone"],
                        code=data["code"],
                        new_password=data["password"],
                        **_ctx(request),
                    )
                except AccountError as exc:
                    add_account_error(form, exc)
                else:
                    messages.success(request, _("密码已重置，请用新密码登录。"))
                    login_url = reverse("portal:account_login") + "?method=password"
                    return HttpResponseRedirect(login_url)
    return render(request, "portal/account/reset_password.html", {"form": form, **extra})


@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    """``account/login/``: two tabs, SMS code (default) and password; ``next`` is honoured only
    when it points into this site."""
    method = request.POST.get("method") or request.GET.get("method") or "sms"
    if method not in LOGIN_METHODS:
        method = "sms"
    next_url = safe_next(request)
    if request.method == "GET" and request.user.is_authenticated:
        return HttpResponseRedirect(next_url)
    expired = sessions.pop_expired(request)
    if expired in EXPIRED_MESSAGES:
        messages.warning(request, EXPIRED_MESSAGES[expired])
    sms_form, password_form = SmsLoginForm(), PasswordLoginForm()
    extra: dict = {}
    if request.method == "POST" and method == "sms":
        if request.POST.get("action") == "send_code":
            sms_form = SmsLoginForm(request.POST, sending_code=True)
            extra = _code_sent_context(_send_code(request, sms_form, OneTimeCodePurpose.LOGIN))
        else:
            sms_form = SmsLoginForm(request.POST)
            if sms_form.is_valid():
                try:
                    user = auth.login_with_sms(
                        phone=sms_form.cleaned_data["phone"],
                        code=sms_form.cleaned_data["code"],
                        **_ctx(request),
                    )
                except AccountError as exc:
                    add_account_error(sms_form, exc)
                else:
                    sessions.start_session(request, user)
                    return HttpResponseRedirect(next_url)
    elif request.method == "POST":
        password_form = PasswordLoginForm(request.POST)
        if password_form.is_valid():
            try:
                user = auth.login_with_password(
                    login=password_form.cleaned_data["login"],
                    password=password_form.cleaned_data["password"],
                    **_ctx(request),
                )
            except AccountError as exc:
                add_account_error(password_form, exc)
            else:
                sessions.start_session(request, user)
                return HttpResponseRedirect(next_url)
    return render(
        request,
        "portal/account/login.html",
        {
            "method": method,
            "sms_form": sms_form,
            "password_form": password_form,
            "next": next_url if next_url != reverse("portal:account_profile") else "",
            **extra,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def logout(request):
    """GET asks for confirmation (a link must not log anyone out); POST logs out."""
    if request.method == "POST":
        sessions.end_session(request)
        messages.success(request, _("您已安全退出登录"))
        return HttpResponseRedirect(reverse("portal:account_login"))
    if not request.user.is_authenticated:
        return HttpResponseRedirect(reverse("portal:account_login"))
    return render(request, "portal/account/logout.html")


# --- My profile ------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET"])
def profile(request):
    return _render_profile(request, ChangePasswordForm(user=request.user))


def _render_profile(request, password_form, status: int = 200):
    user = request.user
    return render(
        request,
        "portal/account/profile.html",
        {
            "account": user,
            "level_label": VerificationLevel(user.level).label,
            "password_form": password_form,
            "levels": VerificationLevel,
        },
        status=status,
    )


@never_cache
@login_required
@require_POST
def change_password(request):
    form = ChangePasswordForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            user = auth.change_password(
                actor=request.user,
                old_password=form.cleaned_data.get("old_password", ""),
                new_password=form.cleaned_data["new_password"],
                **_ctx(request),
            )
        except AccountError as exc:
            if exc.code == AccountErrorCode.LOCKED:
                sessions.end_session(request, reason="locked")
                messages.error(request, exc.message)
                return HttpResponseRedirect(reverse("portal:account_login"))
            add_account_error(form, exc)
        else:
            sessions.refresh_session(request, user)
            messages.success(request, _("密码已修改，其他设备上的登录已失效"))
            return HttpResponseRedirect(reverse("portal:account_profile"))
    return _render_profile(request, form, status=400)


@never_cache
@login_required
@require_POST
def logout_all(request):
    """End every session of the person, this one included."""
    auth.logout_everywhere(actor=request.user, **_ctx(request))
    sessions.end_session(request, reason="logout_everywhere")
    messages.success(request, _("已退出所有设备上的登录，请重新登录"))
    return HttpResponseRedirect(reverse("portal:account_login"))


# --- Real-name verification ----------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """L2: name and ID number checked by the verification provider."""
    user = request.user
    form = RealNameForm()
    if request.method == "POST" and user.level < VerificationLevel.L2:
        form = RealNameForm(request.POST)
        if form.is_valid():
            try:
                verify_real_name(
                    actor=user,
                    real_name=form.cleaned_data["real_name"],
                    id_number=form.cleaned_data["id_number"],
                    **_ctx(request),
                )
            except AccountError as exc:
                add_account_error(form, exc)
            else:
                messages.success(request, _("实名认证成功，认证级别为 L2"))
                return HttpResponseRedirect(safe_next(request))
    return render(
        request,
        "portal/account/verify.html",
        {"form": form, "account": user, "verified": user.level >= VerificationLevel.L2},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify_face_view(request):
    """L3: face check by the face provider; requires L2."""
    user = request.user
    provider = face_provider()
    needs_photo = provider.capture == "photo"
    form = FaceForm(needs_photo=needs_photo)
    ready = user.level >= VerificationLevel.L2
    if request.method == "POST" and ready and user.level < VerificationLevel.L3:
        form = FaceForm(request.POST, request.FILES, needs_photo=needs_photo)
        if form.is_valid():
            photo = form.cleaned_data.get("photo")
            if photo is not None and photo.size > MAX_PHOTO_BYTES:
                form.add_error("photo", _("照片不能超过5MB"))
            else:
                evidence = FaceEvidence(
                    consent=True,
                    photo=photo.read() if photo is not None else None,
                    photo_type=getattr(photo, "content_type", "") or "",
                )
                try:
                    verify_face(actor=user, evidence=evidence, **_ctx(request))
                except AccountError as exc:
                    add_account_error(form, exc)
                else:
                    messages.success(request, _("人脸核验成功，认证级别为 L3"))
                    return HttpResponseRedirect(reverse("portal:account_profile"))
    return render(
        request,
        "portal/account/verify_face.html",
        {
            "form": form,
            "account": user,
            "ready": ready,
            "done": user.level >= VerificationLevel.L3,
            "local_provider": provider.name == "local",
        },
        status=400 if form.errors else 200,
    )


# --- Who looked at my data -------------------------------------------------------------------


def _action_label(code: str) -> str:
    try:
        return str(AuditAction(code).label)
    except ValueError:
        return code


def _field_label(name: str) -> str:
    try:
        return str(User._meta.get_field(name).verbose_name)
    except Exception:  # a field of another model, or none
        return ""


@never_cache
@login_required
@require_http_methods(["GET"])
def access_log(request):
    """谁查看了我的信息: audit records whose subject is this person (``user:<pk>``), newest
    first, 20 a page; three queries a page whatever the number of records."""
    user = request.user
    page = Paginator(search(subject=f"user:{user.pk}"), ACCESS_LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    records = list(page.object_list)
    actor_ids = {rec.actor_id for rec in records if rec.actor_id and rec.actor_id != user.pk}
    organizations: dict[int, list[str]] = {}
    for post in (
        StaffPost.objects.filter(user_id__in=actor_ids)
        .select_related("organization")
        .order_by("organization__name")
    ):
        names = organizations.setdefault(post.user_id, [])
        if post.organization.name not in names:
            names.append(post.organization.name)
    rows = []
    for rec in records:
        if rec.actor_id == user.pk:
            who = _("本人")
        elif rec.actor_id is None:
            who = _("系统")
        else:
            who = mask_name(rec.actor_display)
        field = _field_label(str((rec.details or {}).get("field", "")))
        rows.append(
            {
                "at": rec.at,
                "who": who,
                "organization": "、".join(organizations.get(rec.actor_id, [])),
                "on_behalf_of": rec.on_behalf_of,
                "what": _action_label(rec.action),
                "field": field,
                "reason": rec.reason,
                "refused": rec.result == AuditResult.FAILURE,
            }
        )
    return render(request, "portal/account/access_log.html", {"rows": rows, "page": page})


# --- Demo: recorded SMS ----------------------------------------------------------------------


def _dev_messages_enabled() -> bool:
    return not getattr(settings, "TONGBAN_PRODUCTION", False) and is_local(MessageChannel.SMS)


@never_cache
@require_http_methods(["GET"])
def dev_messages(request):
    """The SMS the local backend recorded instead of sending (demo and tests only; 404 in
    production or with a real gateway)."""
    if not _dev_messages_enabled():
        raise Http404
    rows = OutgoingMessage.objects.filter(channel=MessageChannel.SMS).order_by("-created_at", "-pk")
    return render(
        request,
        "portal/account/dev_messages.html",
        {"rows": rows[:DEV_MESSAGES_LIMIT]},
    )
