"""Forms of the staff workbench: one per case action, plus the counter's search forms.

An action form only *parses* what a page posted (types, choices, files) and hands the service its
keyword arguments (:meth:`ActionForm.service_kwargs`); every rule of the move (roles, state,
version, what a correction must name, deadlines …) stays in :mod:`tongban.cases.services`, whose
:class:`~tongban.cases.errors.CaseError` the view puts back beside the field it names. Each form
carries the case ``version`` the page showed, so a form left open while someone else moved the
case is answered with a conflict instead of acting on a state its author never saw.

Forms are prefixed with their action, so every action form can sit on one page with its own ids.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tongban.backoffice.audit_trail import NoEchoInput
from tongban.cases import licensing, workflow
from tongban.cases.errors import CaseErrorCode
from tongban.cases.models import CaseAction, DeliveryMethod

A = CaseAction

PROCEDURES = [
    ("听证", _("听证")),
    ("现场核查", _("现场核查")),
    ("检验检测", _("检验检测")),
    ("专家评审", _("专家评审")),
    ("公示", _("公示")),
]
OPINION_REQUIRED = CaseErrorCode.OPINION_REQUIRED.label


class ActionForm(forms.Form):
    """Base of every action form: the version the page showed and, where the transition table
    asks for one, the opinion."""

    action: str = ""
    opinion_label = _("意见")
    # Fields of a CaseError (``error.field`` / keys of ``error.errors``) → fields of this form.
    error_aliases: dict[str, str] = {}

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    opinion = forms.CharField(
        label=_("意见"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, case: Any, context: dict[str, Any], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", self.action)
        kwargs.setdefault("initial", {"version": case.version})
        super().__init__(*args, **kwargs)
        self.case = case
        self.context = context
        transition = workflow.TRANSITIONS[self.action]
        opinion = self.fields["opinion"]
        opinion.label = self.opinion_label
        if transition.needs_opinion:
            opinion.required = True
            opinion.error_messages["required"] = OPINION_REQUIRED
        self.setup()

    @property
    def label(self) -> str:
        return str(CaseAction(self.action).label)

    def setup(self) -> None:
        """Fill choices from the case (``self.context`` has what the page loaded once)."""

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"version": data["version"], "opinion": data.get("opinion", "")}

    def field_for(self, name: str | None) -> str | None:
        if not name:
            return None
        name = self.error_aliases.get(name, name)
        return name if name in self.fields else None


class SimpleForm(ActionForm):
    """An action that needs nothing but the version and an opinion."""


class PreApproveForm(SimpleForm):
    action = A.PRE_APPROVE


class AcceptForm(SimpleForm):
    action = A.ACCEPT


class RejectForm(SimpleForm):
    action = A.REJECT
    opinion_label = _("不予受理理由")


class AdvanceForm(SimpleForm):
    action = A.ADVANCE


class ResumeForm(SimpleForm):
    action = A.RESUME


class ApproveExtensionForm(SimpleForm):
    action = A.APPROVE_EXTENSION


class ArchiveForm(ActionForm):
    action = A.ARCHIVE

    def setup(self) -> None:
        del self.fields["opinion"]

    def service_kwargs(self) -> dict[str, Any]:
        return {"version": self.cleaned_data["version"]}


class RequestCorrectionForm(ActionForm):
    action = A.REQUEST_CORRECTION
    opinion_label = _("补正说明")

    def setup(self) -> None:
        self.fields["fields"] = forms.MultipleChoiceField(
            label=_("需补正的表单内容"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            choices=[(s.key, s.label) for s in self.context["specs"]],
        )
        self.fields["materials"] = forms.TypedMultipleChoiceField(
            label=_("需补正的材料"),
            required=False,
            coerce=int,
            widget=forms.CheckboxSelectMultiple,
            choices=[(m.pk, m.name) for m in self.context["catalog_materials"]],
        )
        self.order_fields(["fields", "materials", "opinion"])

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **super().service_kwargs(),
            "fields": list(data["fields"]),
            "materials": list(data["materials"]),
        }


class ResubmitForm(ActionForm):
    """A correction brought to the counter: the named fields and a file for each named
    material (``m<material id>``, the keys the domain reports errors under)."""

    action = A.RESUBMIT

    def setup(self) -> None:
        del self.fields["opinion"]
        correction = self.case.correction or {}
        wanted = set(correction.get("fields", []))
        self.field_keys = [s.key for s in self.context["specs"] if s.key in wanted]
        for spec in self.context["specs"]:
            if spec.key in wanted:
                self.fields[spec.key] = forms.CharField(
                    label=spec.label,
                    required=False,
                    max_length=4000,
                    widget=forms.TextInput(attrs={"type": spec.input_type}),
                )
        names = {m.pk: m.name for m in self.context["catalog_materials"]}
        self.material_ids = [int(m) for m in correction.get("materials", [])]
        for material_id in self.material_ids:
            self.fields[f"m{material_id}"] = forms.FileField(
                label=names.get(material_id, str(material_id)), required=False
            )

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        uploads = {str(m): [data[f"m{m}"]] for m in self.material_ids if data.get(f"m{m}")}
        return {
            "version": data["version"],
            "data": {k: data[k] for k in self.field_keys if data.get(k)},
            "uploads_by_material": uploads,
        }


class AcceptWithDeficienciesForm(ActionForm):
    action = A.ACCEPT_WITH_DEFICIENCIES

    def setup(self) -> None:
        self.fields["materials"] = forms.TypedMultipleChoiceField(
            label=_("容缺的材料"),
            required=False,
            coerce=int,
            widget=forms.CheckboxSelectMultiple,
            choices=[(m.pk, m.name) for m in self.context["catalog_materials"]],
        )
        self.fields["due"] = forms.DateField(
            label=_("补交期限"),
            widget=forms.DateInput(attrs={"type": "date"}),
            error_messages={"required": CaseErrorCode.BAD_DEADLINE.label},
        )
        self.order_fields(["materials", "due", "opinion"])

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **super().service_kwargs(),
            "materials": list(data["materials"]),
            "due": data["due"],
        }


class SupplyForm(ActionForm):
    action = A.SUPPLY

    def setup(self) -> None:
        del self.fields["opinion"]
        open_rows = [d for d in self.case.deficiencies or [] if not d.get("supplied_at")]
        self.fields["material_id"] = forms.TypedChoiceField(
            label=_("补交的材料"),
            coerce=int,
            choices=[(d["material"], d["name"]) for d in open_rows],
        )
        self.fields["upload"] = forms.FileField(label=_("文件"))

    def field_for(self, name: str | None) -> str | None:
        if name and (name.startswith("m") or name == "file"):
            return "upload"
        return super().field_for(name)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "version": data["version"],
            "material_id": data["material_id"],
            "upload": data["upload"],
        }


class SuspendForm(ActionForm):
    action = A.SUSPEND
    opinion_label = _("启动理由")

    def setup(self) -> None:
        self.fields["procedure"] = forms.ChoiceField(
            label=_("特别程序"), choices=[("", "—"), *PROCEDURES]
        )
        self.order_fields(["procedure", "opinion"])

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "procedure": self.cleaned_data["procedure"]}


class RequestExtensionForm(ActionForm):
    action = A.REQUEST_EXTENSION
    opinion_label = _("延期理由")

    def setup(self) -> None:
        self.fields["days"] = forms.IntegerField(
            label=_("延长天数"),
            min_value=1,
            error_messages={"required": CaseErrorCode.BAD_DAYS.label},
        )
        self.order_fields(["days", "opinion"])

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "days": self.cleaned_data["days"]}


class DecisionForm(ActionForm):
    """准予 / 不予准予 / 即办: an optional uploaded document, else the platform draws one up."""

    error_aliases = {"file": "document"}

    def setup(self) -> None:
        self.fields["document"] = forms.FileField(
            label=_("决定文书（可选，不上传则自动生成）"), required=False
        )

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "document": self.cleaned_data.get("document")}


class ApproveForm(DecisionForm):
    action = A.APPROVE


class DenyForm(DecisionForm):
    action = A.DENY
    opinion_label = _("不予准予理由")


class HandleInstantlyForm(DecisionForm):
    action = A.HANDLE_INSTANTLY


class ConcludeForm(ActionForm):
    action = A.CONCLUDE
    error_aliases = {"file": "result"}

    def setup(self) -> None:
        self.fields["result"] = forms.FileField(label=_("办理结果（可选）"), required=False)
        # An approved case whose item issues an e-license: the reviewer confirms its fields,
        # prefilled from the application (tongban.cases.licensing).
        self.license_keys: list[str] = []
        license_type = licensing.license_type_for(self.case)
        if license_type is None:
            return
        for field in licensing.fields_for(self.case, license_type):
            name = f"license_{field.key}"
            self.fields[name] = forms.CharField(
                label=_("证照：%(label)s") % {"label": field.label},
                required=field.required,
                initial=field.value,
                max_length=500,
            )
            self.license_keys.append(field.key)
            self.error_aliases = {**self.error_aliases, f"license.{field.key}": name}

    def service_kwargs(self) -> dict[str, Any]:
        kwargs = {**super().service_kwargs(), "result": self.cleaned_data.get("result")}
        if self.license_keys:
            kwargs["license_data"] = {
                key: self.cleaned_data.get(f"license_{key}", "") for key in self.license_keys
            }
        return kwargs


class DeliverForm(ActionForm):
    action = A.DELIVER

    def setup(self) -> None:
        del self.fields["opinion"]
        self.fields["method"] = forms.ChoiceField(
            label=_("送达方式"), choices=DeliveryMethod.choices
        )
        self.fields["note"] = forms.CharField(
            label=_("送达说明"),
            required=False,
            max_length=300,
            help_text=_("快递送达请填写快递单号"),
        )

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"version": data["version"], "method": data["method"], "note": data["note"]}


FORMS: dict[str, type[ActionForm]] = {
    form.action: form
    for form in (
        PreApproveForm,
        RequestCorrectionForm,
        ResubmitForm,
        AcceptForm,
        AcceptWithDeficienciesForm,
        RejectForm,
        SupplyForm,
        AdvanceForm,
        SuspendForm,
        ResumeForm,
        RequestExtensionForm,
        ApproveExtensionForm,
        ApproveForm,
        DenyForm,
        HandleInstantlyForm,
        ConcludeForm,
        DeliverForm,
        ArchiveForm,
    )
}
# Forms whose fields include a file: the page posts them as multipart.
MULTIPART = frozenset({A.RESUBMIT, A.SUPPLY, A.APPROVE, A.DENY, A.HANDLE_INSTANTLY, A.CONCLUDE})


# --- Queues and counter --------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    search = forms.CharField(
        label=_("办件编号或申请人"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("如 150602…或 张*")}),
    )
    # Any item id filters (one the reader has no cases of simply lists nothing); the choices
    # offered are the items of the reader's cases.
    item = forms.IntegerField(label=_("事项"), required=False, min_value=1, widget=forms.Select)

    def __init__(self, *args: Any, items: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].widget.choices = [("", _("全部事项")), *items]


class ServiceSearchForm(forms.Form):
    q = forms.CharField(
        label=_("实施编码或事项名称"),
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class ApplicantLookupForm(forms.Form):
    number = forms.CharField(
        label=_("申请人身份证号或手机号"),
        max_length=30,
        widget=NoEchoInput(attrs={"autocomplete": "off"}),
        help_text=_("申请人须已注册并完成实名认证"),
    )
