"""The audit viewer (审计记录查阅), for the audit administrator only.

Search by person (whose data: an exact ID or mobile number, found by digest, becomes the subject
``user:<pk>``), by staff member (the actor), by action, result and time range; newest first, 50 a
page, paged by ``seq`` (no COUNT over a table of hundreds of millions of rows). Every page read
appends an ``audit.read`` record (naming the searched person as its subject, never the typed
number); "verify chain" runs :func:`tongban.core.audit.verify_chain` and shows its report.

Anyone else gets 404: the page does not exist for them, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from tongban.accounts.models import User
from tongban.accounts.queries import find_person
from tongban.backoffice.access import second_factor_ok
from tongban.core.audit import (
    AuditAction,
    AuditResult,
    can_read_audit,
    record,
    request_context,
    search,
    verify_chain,
)
from tongban.core.personal import mask_id_number, mask_phone

PAGE_SIZE = 50
_ACTION = re.compile(r"^[a-z0-9_.]{3,64}$")


class NoEchoInput(forms.TextInput):
    """A search box for an ID or mobile number that is not written back into the page."""

    def format_value(self, value):
        return None


class TrailForm(forms.Form):
    person = forms.CharField(
        label=_("信息主体"),
        required=False,
        max_length=30,
        help_text=_("身份证号或手机号，精确匹配"),
        widget=NoEchoInput,
    )
    staff = forms.CharField(
        label=_("操作人"),
        required=False,
        max_length=150,
        help_text=_("登录名、手机号或身份证号，精确匹配"),
        widget=NoEchoInput,
    )
    # What a person or staff search resolved to, carried by the paging links instead of the
    # numbers typed (which would otherwise sit in URLs and server logs).
    subject = forms.RegexField(regex=r"^user:\d{1,18}$", required=False, widget=forms.HiddenInput)
    actor = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    action = forms.CharField(label=_("事件类型"), required=False, max_length=64)
    result = forms.ChoiceField(
        label=_("结果"), required=False, choices=[("", _("全部")), *AuditResult.choices]
    )
    since = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean_action(self) -> str:
        value = self.cleaned_data["action"].strip()
        if value and not _ACTION.match(value):
            raise forms.ValidationError(_("事件类型形如 auth.login"))
        return value

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("截止日期不能早于起始日期"))
        return cleaned


def _masked(identifier: str) -> str:
    text = identifier.strip()
    return mask_id_number(text.upper()) if len(text) == 18 else mask_phone(text)


def _staff(identifier: str) -> User | None:
    text = identifier.strip()
    return User.objects.filter(username=text).first() or find_person(text)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _gate(request):
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not can_read_audit(user):
        raise Http404
    if not second_factor_ok(request):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    return None


@require_http_methods(["GET", "POST"])
def audit_trail(request):
    refused = _gate(request)
    if refused is not None:
        return refused
    ctx = request_context(request)
    report = None
    if request.method == "POST" and "verify" in request.POST:
        report = verify_chain()
        record(
            actor=request.user,
            action=AuditAction.AUDIT_READ,
            details={"verify": True, "ok": report.ok, "count": report.count},
            **ctx,
        )
    form = TrailForm(request.GET or None)
    records, subject, not_found, older = [], "", False, None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        query: dict = {}
        details: dict = {}
        if data.get("person"):
            person = find_person(data["person"])
            details["person"] = _masked(data["person"])
            if person is None:
                not_found = True
            else:
                subject = f"user:{person.pk}"
                query["subject"] = subject
        elif data.get("subject"):
            subject = query["subject"] = details["person"] = data["subject"]
        if data.get("staff"):
            staff = _staff(data["staff"])
            details["staff"] = _masked(data["staff"]) if staff is None else f"user:{staff.pk}"
            if staff is None:
                not_found = True
            else:
                query["actor_id"] = staff.pk
        elif data.get("actor"):
            query["actor_id"] = data["actor"]
            details["staff"] = f"user:{data['actor']}"
        for name in ("action", "result"):
            if data.get(name):
                query[name] = details[name] = data[name]
        if data.get("since"):
            query["since"] = _day_start(data["since"])
            details["since"] = data["since"].isoformat()
        if data.get("until"):
            query["until"] = _day_start(data["until"] + dt.timedelta(days=1))
            details["until"] = data["until"].isoformat()
        if not not_found:
            qs = search(**query)
            if data.get("before"):
                qs = qs.filter(seq__lt=data["before"])
            page = list(qs[: PAGE_SIZE + 1])
            records = page[:PAGE_SIZE]
            if len(page) > PAGE_SIZE:
                params = request.GET.copy()
                params["before"] = records[-1].seq
                for typed in ("person", "staff"):
                    params.pop(typed, None)
                if subject:
                    params["subject"] = subject
                if "actor_id" in query:
                    params["actor"] = query["actor_id"]
                older = params.urlencode()
        if report is None:
            record(
                actor=request.user,
                action=AuditAction.AUDIT_READ,
                subject=subject,
                details={**details, "shown": len(records)},
                **ctx,
            )
    context = {
        "form": form,
        "records": records,
        "not_found": not_found,
        "older": older,
        "report": report,
        "actions": AuditAction.choices,
        "can_read_audit": True,
    }
    return render(request, "backoffice/audit_trail.html", context)
