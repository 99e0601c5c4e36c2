"""Demo data of the cases domain (``tongban demo``, idempotent): the shared data dictionary, an
application form for every demo service that can be applied for online, and a handful of cases
of the demo citizen in different states, moved by the demo staff through the real services."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from tongban.cases.models import Case, DataElement, FieldKind, FormField, ProfileSource
from tongban.catalog.models import Implementation
from tongban.catalog.models.choices import ImplementationStatus, OnlineDepth

ELEMENTS = [
    ("applicant.name", "申请人姓名", FieldKind.TEXT, ProfileSource.PERSON_NAME, True, {}),
    (
        "applicant.id_number",
        "申请人身份证号码",
        FieldKind.ID_NUMBER,
        ProfileSource.PERSON_ID_NUMBER,
        True,
        {},
    ),
    ("applicant.phone", "联系电话", FieldKind.PHONE, ProfileSource.PERSON_PHONE, True, {}),
    ("company.name", "企业名称", FieldKind.TEXT, ProfileSource.COMPANY_NAME, False, {}),
    ("company.uscc", "统一社会信用代码", FieldKind.USCC, ProfileSource.COMPANY_USCC, False, {}),
    (
        "contact.address",
        "联系地址",
        FieldKind.ADDRESS,
        ProfileSource.NONE,
        True,
        {"min_length": 5},
    ),
    ("property.address", "经营场所地址", FieldKind.ADDRESS, ProfileSource.NONE, False, {}),
    ("application.note", "申请说明", FieldKind.LONG_TEXT, ProfileSource.NONE, False, {}),
]

# Every form: who applies, how to reach them, and what they ask for.
COMMON = [
    ("applicant.name", True),
    ("applicant.id_number", True),
    ("applicant.phone", True),
    ("contact.address", True),
    ("application.note", False),
]


@dataclass
class CasesDemoResult:
    elements: int = 0
    forms: int = 0
    cases: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"数据元 {self.elements} 个，在线申请表单 {self.forms} 份，演示办件 {self.cases} 件",
            *self.notes,
        ]


def load_dictionary() -> dict[str, DataElement]:
    out = {}
    for key, label, kind, source, personal, rules in ELEMENTS:
        out[key], _ = DataElement.objects.update_or_create(
            key=key,
            defaults={
                "label": label,
                "kind": kind,
                "profile_source": source,
                "personal": personal,
                "rules": rules,
            },
        )
    return out


def load_forms(elements: dict[str, DataElement]) -> int:
    online = Implementation.objects.filter(
        status=ImplementationStatus.ACTIVE, online_depth__gte=OnlineDepth.PREREVIEW
    )
    created = 0
    for impl in online:
        if FormField.objects.filter(implementation=impl).exists():
            continue
        FormField.objects.bulk_create(
            FormField(implementation=impl, element=elements[key], required=required, order=i)
            for i, (key, required) in enumerate(COMMON)
        )
        created += 1
    return FormField.objects.values("implementation").distinct().count() or created


def load_demo_cases(*, stdout=None) -> CasesDemoResult:
    result = CasesDemoResult()
    with transaction.atomic():
        elements = load_dictionary()
        result.elements = len(elements)
        result.forms = load_forms(elements)
    result.cases = _demo_cases(result)
    return result


def _demo_cases(result: CasesDemoResult) -> int:
    """Three cases of the demo citizen at the Dongsheng market regulator: one waiting to be
    accepted, one under review, one delivered with its result (only when none exist yet)."""
    from tongban.accounts.demo import DONGSHENG_SAMR, LEGAL_REP
    from tongban.accounts.models import StaffPost, StaffRole
    from tongban.accounts.queries import find_person
    from tongban.cases import applications, services
    from tongban.core.models import Organization

    citizen = find_person(LEGAL_REP.phone)
    org = Organization.objects.filter(uscc=DONGSHENG_SAMR).first()
    if citizen is None or org is None:
        result.notes.append("未创建演示办件：缺少演示市民或演示部门")
        return Case.objects.count()
    if Case.objects.filter(applicant=citizen).exists():
        return Case.objects.filter(applicant=citizen).count()
    staff = {
        p.role: p.user for p in StaffPost.objects.filter(organization=org).select_related("user")
    }
    clerk, reviewer = staff.get(StaffRole.CLERK), staff.get(StaffRole.REVIEWER)
    impls = list(
        Implementation.objects.filter(
            organization=org,
            status=ImplementationStatus.ACTIVE,
            online_depth__gte=OnlineDepth.VERIFIED,
            form_fields__isnull=False,
        )
        .distinct()
        .order_by("code")[:3]
    )
    if clerk is None or reviewer is None or not impls:
        result.notes.append("未创建演示办件：演示部门缺少受理员、审核员或可在线申请的事项")
        return 0
    from tongban.cases import documents, uploads
    from tongban.cases.models import Channel, DeliveryMethod

    scan = documents.sample_pdf("演示材料（扫描件）")
    made = 0
    for i, impl in enumerate(impls):
        impl = applications._prefetched(impl.pk)
        answers = [s.options.all()[0].pk for s in impl.situations.all() if s.options.all()]
        needed = applications.needed_materials(impl, answers)
        kept = uploads.keep(owner=citizen, upload=scan, title="演示材料")
        files = {str(n.material.pk): [kept.pk] for n in needed if n.required}
        with transaction.atomic():
            case = applications.create_case(
                actor=citizen,
                applicant=citizen,
                company=None,
                implementation=impl,
                data={"contact.address": "内蒙古鄂尔多斯市东胜区鄂尔多斯西街1号"},
                answers=answers,
                files=files,
                commitments=[],
                channel=Channel.ONLINE,
            ).case
            if i >= 1:
                services.accept(actor=clerk, case=case, version=case.version)
            if i >= 2:
                services.approve(actor=reviewer, case=case, version=case.version)
                services.conclude(actor=reviewer, case=case, version=case.version)
                services.deliver(
                    actor=clerk, case=case, version=case.version, method=DeliveryMethod.ONLINE
                )
        made += 1
    return made
