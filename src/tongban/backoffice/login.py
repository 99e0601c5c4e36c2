"""The staff login, which replaces the admin's: password, then the TOTP code; the first time
after being given a post, the authenticator is enrolled from a QR code on the way.

Between the two steps the session holds only a *pending* user id (for
:data:`tongban.accounts.staff_auth.PENDING_SECONDS`); nobody is logged in until the code is right.
"""

from __future__ import annotations

import time

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from tongban.accounts import staff_auth, totp
from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.models import User
from tongban.accounts.sessions import end_session, start_session
from tongban.backoffice.access import is_backoffice_user, mark_second_factor
from tongban.core.audit import request_context

PENDING = "_tb_staff_pending"


class PasswordForm(forms.Form):
    login = forms.CharField(
        label=_("账号"),
        max_length=150,
        help_text=_("登录名、手机号或身份证号"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("动态口令"),
        min_length=6,
        max_length=7,
        help_text=_("身份验证器应用中显示的6位数字"),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _pending_user(request) -> User | None:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > staff_auth.PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    return User.objects.filter(pk=pending.get("uid"), is_active=True).first()


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login(request, extra_context=None):
    """Step 1 (also serves ``admin:login``)."""
    if is_backoffice_user(request):
        return redirect(_next(request))
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = staff_auth.check_password(
                login=form.cleaned_data["login"],
                password=form.cleaned_data["password"],
                **request_context(request),
            )
        except AccountError as exc:
            form.add_error(None, exc.message)
        else:
            request.session.cycle_key()
            request.session[PENDING] = {"uid": user.pk, "at": time.time(), "next": _next(request)}
            step = "backoffice:login_totp" if user.has_totp else "backoffice:login_enrol"
            return redirect(step)
    context = {"form": form, "next": request.GET.get("next", "")}
    return render(request, "backoffice/login.html", context)


def _finish(request, user: User, form: CodeForm, *, enrol: bool):
    try:
        staff_auth.complete_login(
            user=user, code=form.cleaned_data["code"], enrol=enrol, **request_context(request)
        )
    except AccountError as exc:
        if exc.code == AccountErrorCode.LOCKED:
            request.session.pop(PENDING, None)
            messages.error(request, exc.message)
            return redirect("backoffice:login")
        form.add_error("code", exc.message)
        return None
    target = request.session.pop(PENDING, {}).get("next") or reverse("admin:index")
    start_session(request, user)
    mark_second_factor(request)
    return redirect(target)


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_totp(request):
    """Step 2: the code of an enrolled authenticator."""
    user = _pending_user(request)
    if user is None:
        return redirect("backoffice:login")
    if not user.has_totp:
        return redirect("backoffice:login_enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        response = _finish(request, user, form, enrol=False)
        if response is not None:
            return response
    return render(request, "backoffice/login_totp.html", {"form": form, "person": user})


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_enrol(request):
    """Step 2 the first time: scan the QR code, then confirm with a code."""
    user = _pending_user(request)
    if user is None:
        return redirect("backoffice:login")
    if user.has_totp:
        return redirect("backoffice:login_totp")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        response = _finish(request, user, form, enrol=True)
        if response is not None:
            return response
    if user.totp_secret:  # keep the secret shown until it is confirmed (a reload changes nothing)
        secret, uri = user.totp_secret, totp.provisioning_uri(user, user.totp_secret)
    else:
        secret, uri = totp.begin_enrolment(user)
    context = {
        "form": form,
        "person": user,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr": totp.qr_svg(uri),
    }
    return render(request, "backoffice/login_enrol.html", context)


@require_http_methods(["GET", "POST"])
def logout(request, extra_context=None):
    """Serves ``admin:logout`` too: audit the end, end the session."""
    if request.method == "POST":
        end_session(request)
        messages.info(request, _("您已退出登录"))
        return redirect("backoffice:login")
    return render(request, "backoffice/login_logout.html", {})
