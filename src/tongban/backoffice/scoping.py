"""Object-level scope in the back office: a staff member sees and changes only the
implementations of their organization within their regions (:mod:`tongban.accounts.queries`).

Why here: ``catalog`` sits below ``accounts`` in the layers and must not import it, so the
catalog admin cannot ask who may see what. The back office is a channel that may use both, so it
*composes* them: :func:`install` (called from ``BackofficeConfig.ready``, after the admin's
autodiscovery) re-registers the catalog's own admin classes as subclasses whose querysets and
choices are filtered by the staff member's scope. The catalog admin stays unaware of accounts,
and there is one rule (``scope_q``) for every page: the admin changelist and change form, the
actions (they act on the filtered queryset), the guide audit, the Excel export and import.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tongban.accounts.queries import scope_q, staff_scope
from tongban.catalog.admin import ImplementationAdmin, SituationAdmin
from tongban.catalog.models import Implementation, Situation
from tongban.core.models import Organization, Region

OUT_OF_SCOPE = _("超出您的管辖范围：只能维护本部门、本辖区的实施清单")


def implementations_for(user):
    """The implementations ``user`` may see, as a ``Q`` on Implementation."""
    return scope_q(user, "organization", "region_code")


def organizations_for(user):
    scope = staff_scope(user)
    if scope.everything:
        return Organization.objects.all()
    return Organization.objects.filter(pk__in=scope.organization_ids)


def regions_for(user):
    scope = staff_scope(user)
    if scope.everything:
        return Region.objects.all()
    return Region.objects.filter(scope_q(user, None, "code"))


class ScopedImplementationAdmin(ImplementationAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).filter(implementations_for(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organization":
            kwargs["queryset"] = organizations_for(request.user)
        elif db_field.name == "region":
            kwargs["queryset"] = regions_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        scope = staff_scope(request.user)
        if scope.everything:
            return form

        class ScopedForm(form):
            def clean(self):
                cleaned = super().clean()
                org, region = cleaned.get("organization"), cleaned.get("region")
                if org and region and not scope.covers(org.pk, region.code):
                    self.add_error("organization", forms.ValidationError(OUT_OF_SCOPE))
                return cleaned

        return ScopedForm


class ScopedSituationAdmin(SituationAdmin):
    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(
                scope_q(request.user, "implementation__organization", "implementation__region_code")
            )
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "implementation":
            kwargs["queryset"] = Implementation.objects.filter(implementations_for(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def install(site: admin.AdminSite = admin.site) -> None:
    for model, scoped in (
        (Implementation, ScopedImplementationAdmin),
        (Situation, ScopedSituationAdmin),
    ):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, scoped)
