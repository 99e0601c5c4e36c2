"""Operator pages beyond the Django admin: the guide audit and the catalog's Excel import/export.

Every page needs a staff login with the second factor (:mod:`tongban.backoffice.access`) and a
catalog permission, and shows or changes only the implementations of the staff member's scope
(:mod:`tongban.backoffice.scoping`); views parse the request, call one domain function and render.
A rejected upload changes nothing: the import validates the whole workbook first (see
:mod:`tongban.catalog.importexport`), and a workbook reaching outside the scope is rejected whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import storages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from tongban.accounts.queries import staff_scope
from tongban.backoffice.access import staff_required
from tongban.backoffice.scoping import implementations_for, organizations_for
from tongban.catalog.excel_read import ImportReport, read_workbook
from tongban.catalog.guide_audit import INDICATORS, audit, write_xlsx
from tongban.catalog.importexport import export_catalog, import_catalog
from tongban.catalog.models import Implementation
from tongban.core.models import Organization, Region
from tongban.core.models.regions import region_prefix

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_DEFECTS_SHOWN = 500
SESSION_IMPORT = "backoffice_catalog_import"
IMPORT_DIR = "catalog-imports"
# A previewed upload nobody confirmed is deleted after this long (at the next upload).
PENDING_LIFETIME = dt.timedelta(hours=24)


def _private():
    """Uploads waiting for confirmation: the private storage, never served under MEDIA_URL."""
    return storages["private"]


def _sweep_abandoned() -> None:
    storage = _private()
    try:
        _dirs, names = storage.listdir(IMPORT_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - PENDING_LIFETIME
    for name in names:
        path = f"{IMPORT_DIR}/{name}"
        try:
            if storage.get_modified_time(path) < cutoff:
                storage.delete(path)
        except FileNotFoundError:  # another process swept it first
            continue


VIEW_PERMS = ("catalog.view_implementation",)
IMPORT_PERMS = (
    "catalog.add_implementation",
    "catalog.change_implementation",
)


def _require(request, perms) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied


def _xlsx_response(filename: str) -> HttpResponse:
    response = HttpResponse(content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ScopeForm(forms.Form):
    region = forms.CharField(label=_("区划代码"), required=False, max_length=12)
    organization = forms.ModelChoiceField(
        label=_("实施主体"),
        queryset=Organization.objects.filter(is_active=True).order_by("region__code", "name"),
        required=False,
        empty_label=_("全部部门"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = staff_scope(user)
        if not self.scope.everything:
            # A scoped staff member audits or exports one of their organizations at a time.
            self.fields["organization"].queryset = organizations_for(user).filter(is_active=True)
            self.fields["organization"].required = True

    def clean_region(self) -> str:
        code = self.cleaned_data["region"].strip()
        if code and not Region.objects.filter(code=code).exists():
            raise forms.ValidationError(_("区划代码“%(c)s”不存在") % {"c": code})
        return code

    def clean(self):
        cleaned = super().clean()
        org, code = cleaned.get("organization"), cleaned.get("region")
        scoped = not self.scope.everything and org is not None
        if scoped and not self.scope.covers(org.pk, code or org.region.code):
            self.add_error("region", _("超出您的管辖范围：请选择您所辖的区划"))
        return cleaned


# --- the audit --------------------------------------------------------------------------------
CHART_ROW = 26
CHART_LABEL = 230
CHART_WIDTH = 330


def chart_rows(indicators) -> tuple[list[dict], int]:
    """Bars for the server-rendered SVG: value and target of each measured indicator."""
    rows = []
    for i in (i for i in indicators if i.value is not None):
        y = len(rows) * CHART_ROW
        value = max(0.0, min(i.value, 1.0))
        rows.append(
            {
                "indicator": i,
                "y": y,
                "text_y": y + 16,
                "bar_width": round(value * CHART_WIDTH, 1),
                "target_x": round(CHART_LABEL + i.target * CHART_WIDTH, 1),
                "passed": i.passed,
            }
        )
    return rows, len(rows) * CHART_ROW + 4


@staff_required
def audit_page(request):
    _require(request, VIEW_PERMS)
    form = ScopeForm(request.GET or None, user=request.user)
    if not form.is_bound and len(form.scope.organization_ids) == 1 and not form.scope.everything:
        (only,) = form.scope.organization_ids
        form = ScopeForm({"organization": only, "region": ""}, user=request.user)
    region = organization = None
    if form.is_bound and form.is_valid():
        region = form.cleaned_data["region"] or None
        org = form.cleaned_data["organization"]
        organization = org.pk if org else None
        if org and region is None and not form.scope.everything:
            region = org.region.code  # a post without listed regions covers its organization's
    report = None
    if (not form.is_bound and form.scope.everything) or (form.is_bound and form.is_valid()):
        report = audit(region=region, organization=organization)
        if request.GET.get("format") == "xlsx":
            response = _xlsx_response(f"guide-audit-{timezone.localdate():%Y%m%d}.xlsx")
            write_xlsx(report, response)
            return response
    rows, height = chart_rows(report.overall.indicators) if report else ([], 0)
    context = {
        "form": form,
        "report": report,
        "chart": rows,
        "chart_height": height,
        "chart_label": CHART_LABEL,
        "chart_width": CHART_WIDTH,
        "chart_total": CHART_LABEL + CHART_WIDTH + 70,
        "defects": report.defects[:MAX_DEFECTS_SHOWN] if report else [],
        "more_defects": max(0, len(report.defects) - MAX_DEFECTS_SHOWN) if report else 0,
        "indicator_specs": INDICATORS,
        "query": request.GET.urlencode(),
    }
    return render(request, "backoffice/audit.html", context)


# --- export and import ------------------------------------------------------------------------
@staff_required
def export_page(request):
    _require(request, VIEW_PERMS)
    form = ScopeForm(request.GET or None, user=request.user)
    if not form.is_bound or not form.is_valid():
        return render(request, "backoffice/export.html", {"form": form})
    queryset = Implementation.objects.filter(implementations_for(request.user))
    region, org = form.cleaned_data["region"], form.cleaned_data["organization"]
    if region:
        queryset = queryset.filter(region_code__startswith=region_prefix(region))
    if org:
        queryset = queryset.filter(organization=org)
    response = _xlsx_response(f"catalog-{region or 'all'}-{timezone.localdate():%Y%m%d}.xlsx")
    whole = (region or org) is None and form.scope.everything
    export_catalog(None if whole else queryset, response)
    return response


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Excel工作簿（.xlsx）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("请上传 .xlsx 格式的Excel工作簿"))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件超过20MB，请按部门或区划拆分后导入"))
        return upload


def _forget_pending(request) -> None:
    pending = request.session.pop(SESSION_IMPORT, None)
    if pending:
        _private().delete(pending["name"])


@staff_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    _require(request, IMPORT_PERMS)
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm_import(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "backoffice/import.html", {"form": form})
    _forget_pending(request)
    _sweep_abandoned()
    content = form.cleaned_data["file"].read()
    report = import_catalog(io.BytesIO(content), actor=request.user, dry_run=True)
    if report.ok:
        _check_import_scope(request.user, content, report)
    context = {"form": UploadForm(), "report": report, "filename": form.cleaned_data["file"].name}
    if report.ok:
        name = _private().save(f"{IMPORT_DIR}/{uuid.uuid4().hex}.xlsx", io.BytesIO(content))
        token = uuid.uuid4().hex
        request.session[SESSION_IMPORT] = {
            "name": name,
            "token": token,
            "sha256": hashlib.sha256(content).hexdigest(),
            "filename": context["filename"],
        }
        context["token"] = token
    return render(request, "backoffice/import.html", context)


def _check_import_scope(user, content: bytes, report) -> None:
    """A scoped staff member's workbook may only touch implementations of their scope (the rows'
    organizations and regions, and the implementations the codes already name), and change no
    item (items are shared by every region: operators maintain them)."""
    if (report.created["items"] or report.updated["items"]) and not user.has_perms(
        ("catalog.add_item", "catalog.change_item")
    ):
        report.error(
            _("事项"), None, "", "items_read_only", _("事项由平台运营人员统一维护，不能在此修改")
        )
    scope = staff_scope(user)
    if scope.everything:
        return
    rows = read_workbook(io.BytesIO(content), ImportReport()) or {}
    impl_rows = rows.get("implementations", [])
    orgs = dict(
        Organization.objects.filter(
            uscc__in=[str(r.values.get("organization_uscc") or "").upper() for r in impl_rows]
        ).values_list("uscc", "pk")
    )
    sheet = _("实施清单")
    for row in impl_rows:
        org_id = orgs.get(str(row.values.get("organization_uscc") or "").upper())
        if not scope.covers(org_id, str(row.values.get("region_code") or "")):
            report.error(sheet, row.number, "", "out_of_scope", _scope_message())
    codes = [r.values.get("code") for r in impl_rows]
    foreign = (
        Implementation.objects.filter(code__in=codes)
        .exclude(implementations_for(user))
        .values_list("code", flat=True)
    )
    for code in foreign:
        report.error(
            sheet, None, "", "out_of_scope", _("实施编码“%(c)s”属于其他部门或区划") % {"c": code}
        )


def _scope_message():
    return _("超出您的管辖范围：只能导入本部门、本辖区的实施清单")


def _confirm_import(request):
    pending = request.session.get(SESSION_IMPORT)
    if not pending or pending["token"] != request.POST.get("token"):
        messages.error(request, _("预检结果已失效，请重新上传文件"))
        return redirect("backoffice:import")
    with _private().open(pending["name"], "rb") as fileobj:
        content = fileobj.read()
    if hashlib.sha256(content).hexdigest() != pending["sha256"]:
        _forget_pending(request)
        messages.error(request, _("预检后的文件已被改动，请重新上传"))
        return redirect("backoffice:import")
    preview = import_catalog(io.BytesIO(content), actor=request.user, dry_run=True)
    _check_import_scope(request.user, content, preview)
    if not preview.ok:
        _forget_pending(request)
        return render(request, "backoffice/import.html", {"form": UploadForm(), "report": preview})
    report = import_catalog(io.BytesIO(content), actor=request.user)
    _forget_pending(request)
    context = {
        "form": UploadForm(),
        "report": report,
        "filename": pending["filename"],
        "done": True,
    }
    return render(request, "backoffice/import.html", context)
