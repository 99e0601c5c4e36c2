"""My companies and agents (我的企业与经办人): register a company, authorize and revoke agents,
switch between acting for oneself and for a company.

Views parse, call one service of :mod:`tongban.accounts.companies`, and render; a company or a
grant the person has no part in is "not found" (the same answer as a missing one).
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tongban.accounts import companies as services
from tongban.accounts.errors import AccountError
from tongban.accounts.models import AgentGrant, Company, VerificationLevel
from tongban.catalog.models import Item
from tongban.core.audit import request_context
from tongban.portal.account_forms import add_account_error

MAX_ITEMS = 50
_CODES = re.compile(r"[\s,，;；、]+")


class RegisterCompanyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("企业名称"), max_length=200)
    uscc = forms.CharField(
        label=gettext_lazy("统一社会信用代码"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    legal_rep_name = forms.CharField(
        label=gettext_lazy("法定代表人姓名"),
        max_length=50,
        help_text=gettext_lazy("须与您实名认证的姓名及企业登记信息一致"),
    )


class GrantForm(forms.Form):
    agent = forms.CharField(
        label=gettext_lazy("经办人手机号或身份证号"),
        max_length=30,
        help_text=gettext_lazy("经办人须已在本平台完成实名认证"),
    )
    all_services = forms.BooleanField(
        label=gettext_lazy("授权办理本企业的全部事项"), required=False
    )
    items = forms.CharField(
        label=gettext_lazy("授权事项的基本编码"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("未勾选全部事项时填写，多个编码以空格或逗号分隔"),
    )
    expires_on = forms.DateField(
        label=gettext_lazy("有效期至"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("最长三年"),
    )

    def clean_items(self) -> list[Item]:
        codes = [c for c in _CODES.split(self.cleaned_data["items"].strip()) if c]
        if len(codes) > MAX_ITEMS:
            raise forms.ValidationError(_("一次最多授权%(n)d个事项") % {"n": MAX_ITEMS})
        found = {i.code: i for i in Item.objects.filter(code__in=codes, is_active=True)}
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise forms.ValidationError(_("没有这些事项：%(c)s") % {"c": "、".join(unknown)})
        return [found[c] for c in dict.fromkeys(codes)]

    def expires_at(self) -> dt.datetime:
        """The end of the chosen day, local time."""
        day = self.cleaned_data["expires_on"]
        return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


def _default_expiry() -> str:
    return (timezone.localdate() + dt.timedelta(days=365)).isoformat()


def _page(request, *, register_form=None, grant_forms=None, status=200):
    user = request.user
    now = timezone.now()
    live = AgentGrant.objects.filter(revoked_at__isnull=True).select_related("agent")
    represented = list(
        Company.objects.filter(legal_rep=user)
        .prefetch_related(Prefetch("agent_grants", queryset=live.prefetch_related("items")))
        .order_by("name")
    )
    as_agent = list(
        AgentGrant.objects.filter(agent=user, revoked_at__isnull=True)
        .select_related("company")
        .prefetch_related("items")
        .order_by("company__name")
    )
    grant_forms = grant_forms or {}
    for company in represented:
        company.grant_form = grant_forms.get(company.pk) or GrantForm(
            initial={"expires_on": _default_expiry()}, prefix=f"c{company.pk}"
        )
    context = {
        "represented": represented,
        "as_agent": as_agent,
        "now": now,
        "party": services.acting_party(user),
        "switchable": services.companies_for_switch(user),
        "register_form": register_form or RegisterCompanyForm(),
        "can_register": user.level >= VerificationLevel.L2,
    }
    return render(request, "portal/company/companies.html", context, status=status)


@login_required
@never_cache
def companies(request):
    return _page(request)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def register(request):
    if request.method == "GET":
        return redirect("portal:account_companies")
    form = RegisterCompanyForm(request.POST)
    if form.is_valid():
        try:
            company = services.register_company(
                actor=request.user, **form.cleaned_data, **request_context(request)
            )
        except AccountError as exc:
            add_account_error(form, exc)
        else:
            messages.success(request, _("已注册企业：%(n)s") % {"n": company.name})
            return redirect("portal:account_companies")
    return _page(request, register_form=form, status=400)


@login_required
@require_POST
def grant(request, pk: int):
    company = Company.objects.filter(pk=pk, legal_rep=request.user).first()
    if company is None:
        raise Http404
    form = GrantForm(request.POST, prefix=f"c{company.pk}")
    if form.is_valid():
        try:
            services.grant_agent(
                actor=request.user,
                company=company,
                agent=form.cleaned_data["agent"],
                all_services=form.cleaned_data["all_services"],
                items=form.cleaned_data["items"],
                expires_at=form.expires_at(),
                **request_context(request),
            )
        except AccountError as exc:
            add_account_error(form, exc)
        else:
            messages.success(request, _("已授权经办人"))
            return redirect("portal:account_companies")
    return _page(request, grant_forms={company.pk: form}, status=400)


@login_required
@require_POST
def revoke(request, pk: int):
    grant = (
        AgentGrant.objects.filter(pk=pk, revoked_at__isnull=True)
        .filter(Q(company__legal_rep=request.user) | Q(agent=request.user))
        .select_related("company")
        .first()
    )
    if grant is None:
        raise Http404
    try:
        services.revoke_agent(actor=request.user, grant=grant, **request_context(request))
    except AccountError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤销授权"))
    return redirect("portal:account_companies")


@login_required
@require_POST
def switch(request):
    choice = request.POST.get("party", "self")
    company = None
    if choice != "self":
        company = Company.objects.filter(pk=choice if choice.isdigit() else None).first()
        if company is None:
            raise Http404
    try:
        party = services.switch_acting_party(
            actor=request.user, company=company, **request_context(request)
        )
    except AccountError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("当前办事身份：%(p)s") % {"p": party.label})
    return redirect("portal:account_companies")
