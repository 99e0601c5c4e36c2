"""Cases test data: a service with a form and materials, people around it, and cases in named
workflow states (``make_case(accepted=True)``, ``make_case(status="decided")``…).

Personas (``setting()``): a citizen, a clerk, a reviewer and an org admin of the handling
organization, a reviewer of another organization, a counter clerk of the government service
centre.
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.accounts.factories import UserFactory, make_staff
from tests.catalog.factories import (
    ImplementationFactory,
    MaterialFactory,
    ProcessStepFactory,
)
from tests.core.factories import OrganizationFactory
from tongban.accounts.models import StaffRole
from tongban.cases import applications, services
from tongban.cases.models import DataElement, FieldKind, FormField, ProfileSource
from tongban.catalog.models import Necessity

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def pdf(name: str = "scan.pdf", extra: bytes = b"") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + extra, content_type="application/pdf")


def elements() -> dict[str, DataElement]:
    rows = {}
    for key, label, kind, source in (
        ("applicant.name", "申请人姓名", FieldKind.TEXT, ProfileSource.PERSON_NAME),
        ("applicant.id_number", "身份证号码", FieldKind.ID_NUMBER, ProfileSource.PERSON_ID_NUMBER),
        ("applicant.phone", "联系电话", FieldKind.PHONE, ProfileSource.PERSON_PHONE),
        ("property.address", "经营场所地址", FieldKind.ADDRESS, ProfileSource.NONE),
    ):
        rows[key], _ = DataElement.objects.get_or_create(
            key=key, defaults={"label": label, "kind": kind, "profile_source": source}
        )
    return rows


def service(*, organization=None, steps: int = 2, **kwargs):
    """An implementation with a four-field form, two required materials and one deferrable
    material that also allows a commitment."""
    implementation = ImplementationFactory(
        **({"organization": organization} if organization else {}), **kwargs
    )
    for order in range(steps):
        ProcessStepFactory(implementation=implementation, order=order + 1, name=f"环节{order + 1}")
    el = elements()
    for order, key in enumerate(("applicant.name", "applicant.id_number", "applicant.phone")):
        FormField.objects.create(implementation=implementation, element=el[key], order=order)
    FormField.objects.create(implementation=implementation, element=el["property.address"], order=5)
    FormField.objects.create(
        implementation=implementation,
        key="shop.area",
        label="经营面积（平方米）",
        kind=FieldKind.NUMBER,
        rules={"min": 1, "max": 100000},
        order=6,
    )
    licence = MaterialFactory(implementation=implementation, name="营业执照", order=1)
    plan = MaterialFactory(implementation=implementation, name="场所平面图", order=2)
    proof = MaterialFactory(
        implementation=implementation,
        name="场所使用证明",
        order=3,
        necessity=Necessity.DEFERRABLE,
        allows_commitment=True,
    )
    return SimpleNamespace(implementation=implementation, licence=licence, plan=plan, proof=proof)


def setting(**service_kwargs):
    """A service and the personas around it."""
    org = OrganizationFactory(name="东胜区市场监督管理局")
    centre = OrganizationFactory(name="东胜区政务服务中心", region=org.region)
    other = OrganizationFactory(name="东胜区卫生健康委员会", region=org.region)
    s = service(organization=org, **service_kwargs)
    return SimpleNamespace(
        **vars(s),
        organization=org,
        centre=centre,
        citizen=UserFactory(),
        clerk=make_staff(org, StaffRole.CLERK),
        reviewer=make_staff(org, StaffRole.REVIEWER),
        org_admin=make_staff(org, StaffRole.ORG_ADMIN),
        counter=make_staff(centre, StaffRole.CLERK),
        stranger=make_staff(other, StaffRole.REVIEWER),
    )


FORM = {"property.address": "东胜区鄂尔多斯西街1号", "shop.area": "120"}


def submitted(env, *, applicant=None, data=None):
    """An online application with both required materials, as the citizen submits it."""
    applicant = applicant or env.citizen
    draft = applications.open_draft(actor=applicant, implementation=env.implementation)
    applications.save_draft(actor=applicant, draft=draft, data=data or FORM)
    applications.attach(
        actor=applicant, draft=draft, material_id=env.licence.pk, upload=pdf("a.pdf")
    )
    applications.attach(
        actor=applicant, draft=draft, material_id=env.plan.pk, upload=pdf("b.pdf", b"plan")
    )
    return applications.submit(actor=applicant, draft=draft).case


def make_case(env, status: str = "to_accept"):
    """A case moved by the entitled staff to ``status`` (to_accept, under_review, decided,
    concluded, delivered)."""
    case = submitted(env)
    path = ["under_review", "decided", "concluded", "delivered"]
    if status == "to_accept":
        return case
    services.accept(actor=env.clerk, case=case, version=case.version)
    if status == "under_review":
        return case
    services.approve(actor=env.reviewer, case=case, version=case.version)
    if status == "decided":
        return case
    services.conclude(actor=env.reviewer, case=case, version=case.version)
    if status == "concluded":
        return case
    services.deliver(actor=env.clerk, case=case, version=case.version, method="online")
    assert status == path[-1]
    return case


def form_of(case) -> dict:
    return json.loads(case.form_data)


__all__ = ["PNG", "io", "make_case", "pdf", "setting", "submitted"]
