"""办事人查询 (person lookup) with audited reveal, for staff holding ``core.reveal_personal_data``
(reviewers and organization admins, after both login factors).

A person is found only by an exact ID or mobile number (by digest, never a list to browse), and
only with a stated purpose: the masked profile shown is itself a read of personal data and is
recorded (``personal.read``, subject ``user:<pk>``). Revealing the full ID or mobile number is a
second, explicit action with its own reason through :func:`tongban.core.personal.reveal`
(``personal.reveal``, refusals recorded too). The reveal form carries a signed, short-lived token
of the person found, so a reveal can only follow a recorded lookup. The person sees both in
their 谁查看了我的信息 page. Everyone else gets 404 and nothing is written.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tongban.accounts.models import User
from tongban.accounts.queries import find_person
from tongban.backoffice.access import is_backoffice_user
from tongban.backoffice.audit_trail import NoEchoInput
from tongban.core.audit import AuditAction, record, request_context
from tongban.core.personal import REVEAL_PERMISSION, PersonalDataError, reveal

TOKEN_SALT = "tongban.backoffice.persons"  # noqa: S105 (a signing salt, not a secret)
TOKEN_MAX_AGE = 600  # seconds a lookup may be followed by a reveal
REVEALABLE = {"id_number": _("身份证号"), "phone": _("手机号")}


class LookupForm(forms.Form):
    number = forms.CharField(
        label=_("身份证号或手机号"), max_length=30, widget=NoEchoInput, help_text=_("精确匹配")
    )
    reason = forms.CharField(
        label=_("查询事由"), max_length=200, help_text=_("如：受理案件的申请人核对")
    )


class RevealForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    field = forms.ChoiceField(label=_("查看项目"), choices=list(REVEALABLE.items()))
    reason = forms.CharField(label=_("查看事由"), max_length=200)


def _gate(request):
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not (user.is_active and user.has_perm(REVEAL_PERMISSION)):
        raise Http404
    if not is_backoffice_user(request):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    return None


def _token_for(person: User, staff: User) -> str:
    return signing.dumps({"p": person.pk, "s": staff.pk}, salt=TOKEN_SALT)


def _person_from(token: str, staff: User) -> User | None:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("s") != staff.pk:
        return None
    return User.objects.filter(pk=data.get("p"), is_active=True).first()


@never_cache
@require_http_methods(["GET", "POST"])
def persons(request):
    refused = _gate(request)
    if refused is not None:
        return refused
    ctx = request_context(request)
    lookup = LookupForm(request.POST if "lookup" in request.POST else None)
    reveal_form = RevealForm(request.POST if "reveal" in request.POST else None, prefix="reveal")
    person, revealed, not_found, expired = None, None, False, False
    if lookup.is_bound and lookup.is_valid():
        person = find_person(lookup.cleaned_data["number"])
        if person is None:
            not_found = True
        else:
            with transaction.atomic():
                record(
                    actor=request.user,
                    action=AuditAction.PERSONAL_READ,
                    object_type="accounts.user",
                    object_id=person.pk,
                    subject=f"user:{person.pk}",
                    reason=lookup.cleaned_data["reason"].strip(),
                    details={"fields": ["real_name", "id_number", "phone"], "masked": True},
                    **ctx,
                )
    elif reveal_form.is_bound:
        person = _person_from(request.POST.get("reveal-token", ""), request.user)
        if person is None:
            expired = True
        elif reveal_form.is_valid():
            field = reveal_form.cleaned_data["field"]
            try:
                value = reveal(
                    actor=request.user,
                    instance=person,
                    field_name=field,
                    reason=reveal_form.cleaned_data["reason"],
                    **ctx,
                )
            except PersonalDataError as exc:
                reveal_form.add_error("reason", exc.message)
            else:
                revealed = {"label": REVEALABLE[field], "value": value}
    if person is not None and (revealed or not reveal_form.is_bound):
        reveal_form = RevealForm(
            initial={"token": _token_for(person, request.user)}, prefix="reveal"
        )
    return render(
        request,
        "backoffice/persons.html",
        {
            "lookup": lookup if not lookup.is_bound or lookup.errors else LookupForm(),
            "reveal_form": reveal_form,
            "person": person,
            "revealed": revealed,
            "not_found": not_found,
            "expired": expired,
        },
    )
