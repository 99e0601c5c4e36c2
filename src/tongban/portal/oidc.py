"""The pages of Tongban's OpenID Connect provider: consent, logout, and the citizen's list of
authorized department systems. The protocol is django-oauth-toolkit's; what a client may receive
is decided in :mod:`tongban.accounts.oidc`.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from oauth2_provider import views as dot_views

from tongban.accounts import oidc
from tongban.accounts.auth import record_logout
from tongban.core import audit
from tongban.core.audit import AuditResult


class AuthorizationView(dot_views.AuthorizationView):
    """DOT's authorization endpoint with Tongban's consent screen.

    A person who is not signed in is sent to ``settings.LOGIN_URL`` and comes back here.
    Consent and refusal are written to the audit trail.
    """

    template_name = "portal/oidc/authorize.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = kwargs.get("application") or context.get("application")
        scopes = kwargs.get("scopes") or []
        if application is not None:
            policy = oidc.policy_for(application)
            company = oidc.acting_company_of(self.request.user)
            context.update(
                {
                    "policy": policy,
                    "organization": policy.organization if policy is not None else None,
                    "scope_items": oidc.describe_scopes(scopes),
                    "asks_full_id_number": oidc.ID_NUMBER_SCOPE in scopes,
                    "asks_acting_party": oidc.ACTING_PARTY_SCOPE in scopes,
                    "acting_company": company,
                }
            )
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        application = oidc.Application.objects.filter(
            client_id=form.cleaned_data.get("client_id")
        ).first()
        if application is not None:
            allowed = bool(form.cleaned_data.get("allow"))
            with transaction.atomic():
                audit.record(
                    actor=self.request.user,
                    action="oidc.consent",
                    result=AuditResult.SUCCESS if allowed else AuditResult.FAILURE,
                    on_behalf_of=_party(self.request.user),
                    object_type="oauth2_provider.application",
                    object_id=application.pk,
                    subject=f"user:{self.request.user.pk}",
                    details={
                        "client_id": application.client_id,
                        "client_name": application.name,
                        "scopes": sorted(str(form.cleaned_data.get("scope") or "").split()),
                        "decision": "allow" if allowed else "deny",
                    },
                    **audit.request_context(self.request),
                )
        return response


class LogoutView(dot_views.RPInitiatedLogoutView):
    """RP-initiated logout (OIDC RP-Initiated Logout 1.0), audited, with a Chinese page."""

    template_name = "portal/oidc/logout_confirm.html"

    def do_logout(
        self, application=None, post_logout_redirect_uri=None, state=None, token_user=None
    ):
        user = self.request.user if self.request.user.is_authenticated else None
        context = audit.request_context(self.request)
        response = super().do_logout(application, post_logout_redirect_uri, state, token_user)
        if user is not None:
            record_logout(actor=user, reason="rp_initiated", **context)
        return response


def _party(user) -> str:
    company = oidc.acting_company_of(user)
    return company.party if company is not None else ""


@login_required
def authorized_apps(request: HttpRequest) -> HttpResponse:
    """The department systems the person has authorized, with what they may read."""
    return render(
        request,
        "portal/oidc/authorized_apps.html",
        {"grants": oidc.authorized_clients(user=request.user)},
    )


@login_required
@require_http_methods(["POST"])
def revoke_app(request: HttpRequest, client_id: str) -> HttpResponse:
    revoked = oidc.revoke_authorization(
        actor=request.user, client_id=client_id, **audit.request_context(request)
    )
    if not revoked:
        raise Http404
    return redirect("oidc_account:apps")
