"""Intake guards: pre-review, correction and resubmission, acceptance (with deficiencies),
rejection, instant handling, withdrawal; the one-stop counter and department systems."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from tests.cases.builders import NEW_ADDRESS, act, case_in, last_event, snapshot, today
from tests.cases.factories import FORM, PNG, pdf
from tests.core.factories import OrganizationFactory
from tongban.cases import applications, clock, services
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import Case, CaseMaterial, CaseStatus, LibraryFile, MaterialKind
from tongban.core import calendar

S = CaseStatus
pytestmark = pytest.mark.django_db


def refused(code, call, **kwargs):
    with pytest.raises(CaseError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


def form_of(case) -> dict:
    return json.loads(Case.objects.get(pk=case.pk).form_data)


# --- Correction ----------------------------------------------------------------------------------


def test_correction_must_name_a_known_field_or_material(env):
    case = case_in(env, "to_accept")
    before = snapshot(case)
    for fields, materials in (([], []), (["no.such.field"], [987654]), (None, None)):
        error = refused(
            CaseErrorCode.CORRECTION_EMPTY,
            services.request_correction,
            actor=env.clerk,
            case=case,
            version=case.version,
            opinion="请补正",
            fields=fields,
            materials=materials,
        )
        assert error.field == "fields"
    assert snapshot(case) == before
    foreign = case_in(env, "to_accept", instant=True)  # another implementation's material
    refused(
        CaseErrorCode.CORRECTION_EMPTY,
        services.request_correction,
        actor=env.clerk,
        case=case,
        version=case.version,
        opinion="请补正",
        fields=[],
        materials=[foreign.implementation.materials.first().pk],
    )
    assert Case.objects.get(pk=case.pk).version == before.version


def test_correction_keeps_only_known_names_and_remembers_where_to_return(env):
    case = case_in(env, "to_accept")
    services.request_correction(
        actor=env.clerk,
        case=case,
        version=case.version,
        opinion="  平面图不清晰  ",
        fields=["shop.area", "nope", "shop.area"],
        materials=[str(env.plan.pk), 987654],
    )
    assert case.status == S.CORRECTING
    assert case.correction == {
        "fields": ["shop.area"],
        "materials": [env.plan.pk],
        "note": "平面图不清晰",
    }
    assert case.resume_status == S.TO_ACCEPT
    assert case.paused_at is None  # nothing was counted yet
    assert "平面图不清晰" in last_event(case).opinion


def test_correction_during_review_stops_the_clock(env):
    case = case_in(env, "correcting", after_review=True)
    assert case.resume_status == S.UNDER_REVIEW
    assert case.paused_at is not None
    assert clock.state(case) == clock.ClockState.PAUSED


def _resubmit(env, case, **kwargs):
    args = {
        "actor": env.citizen,
        "case": case,
        "version": case.version,
        "data": {"property.address": NEW_ADDRESS},
        "uploads_by_material": {str(env.licence.pk): [pdf("licence2.pdf", b"v2")]},
    }
    return services.resubmit(**{**args, **kwargs})


def test_resubmit_changes_only_the_named_field_and_material(env):
    case = case_in(env, "correcting")
    old_plan = list(CaseMaterial.objects.filter(case=case, material=env.plan).values_list("pk"))
    _resubmit(env, case)
    assert case.status == S.TO_ACCEPT
    assert case.correction == {}
    assert case.resume_status == ""
    form = form_of(case)
    assert (form["property.address"], form["shop.area"]) == (NEW_ADDRESS, "120")
    licence_rows = CaseMaterial.objects.filter(case=case, material=env.licence).order_by("id")
    assert [r.replaced for r in licence_rows] == [True, False]
    assert (
        licence_rows.last().file.open("rb").read()
        == b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\nv2"
    )
    assert (
        list(
            CaseMaterial.objects.filter(case=case, material=env.plan, replaced=False).values_list(
                "pk"
            )
        )
        == old_plan
    )


@pytest.mark.parametrize(
    ("data", "uploads", "field"),
    [
        ({"property.address": NEW_ADDRESS, "shop.area": "99"}, None, "shop.area"),
        (None, "plan", None),
    ],
)
def test_resubmit_refuses_anything_not_named(env, data, uploads, field):
    case = case_in(env, "correcting")
    before = snapshot(case)
    kwargs = {}
    if data is not None:
        kwargs["data"] = data
    if uploads == "plan":
        kwargs["uploads_by_material"] = {
            str(env.licence.pk): [pdf("l.pdf", b"l")],
            env.plan.pk: [pdf("p.pdf", b"p")],  # an int key is the same material
        }
        field = f"m{env.plan.pk}"
    error = refused(CaseErrorCode.CORRECTION_OUTSIDE, _resubmit, env=env, case=case, **kwargs)
    assert error.field == field
    assert snapshot(case) == before
    assert form_of(case)["property.address"] == FORM["property.address"]


def test_resubmit_refuses_an_incomplete_correction_listing_every_missing_item(env):
    case = case_in(env, "correcting")
    before = snapshot(case)
    error = refused(
        CaseErrorCode.CORRECTION_INCOMPLETE,
        _resubmit,
        env=env,
        case=case,
        data={"property.address": "   "},
        uploads_by_material={str(env.licence.pk): []},
    )
    assert set(error.errors) == {"property.address", f"m{env.licence.pk}"}
    assert snapshot(case) == before


def test_resubmit_checks_the_corrected_values_and_files(env):
    case = case_in(env, "correcting")
    before = snapshot(case)
    error = refused(
        CaseErrorCode.INVALID_FORM,
        _resubmit,
        env=env,
        case=case,
        data={"property.address": "x" * 201},
    )
    assert set(error.errors) == {"property.address"}
    error = refused(
        CaseErrorCode.FILE_TYPE,
        _resubmit,
        env=env,
        case=case,
        uploads_by_material={str(env.licence.pk): [_exe("evil.pdf")]},
    )
    assert error.field == f"m{env.licence.pk}"
    assert snapshot(case) == before


def test_an_empty_list_for_an_unnamed_material_leaves_its_files_alone(env):
    case = case_in(env, "correcting")
    _resubmit(
        env,
        case,
        uploads_by_material={
            str(env.licence.pk): [pdf("l.pdf", b"new")],
            str(env.plan.pk): [],
        },
    )
    assert CaseMaterial.objects.filter(case=case, material=env.plan, replaced=False).exists()


def test_resubmit_after_review_adds_the_paused_working_days_back(env):
    case = case_in(env, "correcting", after_review=True)
    due_before = case.promised_due
    # The correction was asked fifteen calendar days ago: at least one working day passed.
    paused_at = timezone.now() - dt.timedelta(days=15)
    Case.objects.filter(pk=case.pk).update(paused_at=paused_at)
    case.refresh_from_db()
    _resubmit(env, case)
    case.refresh_from_db()
    assert case.status == S.UNDER_REVIEW
    assert case.paused_at is None
    working, natural = clock.paused_days(
        Case(paused_at=paused_at, region_code=case.region_code), last_event(case).at
    )
    assert (case.paused_working_days, case.paused_natural_days) == (working, natural)
    assert working >= 1
    assert (
        case.promised_due
        == calendar.add_days(case.accepted_at, 5 + working, region=case.region_code).due
    )
    assert case.promised_due > due_before


def test_the_counter_may_resubmit_for_the_applicant(env):
    case = _at_counter(env)
    services.request_correction(
        actor=env.counter,
        case=case,
        version=case.version,
        opinion="补充平面图",
        fields=[],
        materials=[env.plan.pk],
    )
    services.resubmit(
        actor=env.counter,
        case=case,
        version=case.version,
        data={},
        uploads_by_material={str(env.plan.pk): [pdf("plan.pdf", b"counter")]},
    )
    assert case.status == S.TO_ACCEPT
    assert last_event(case).actor == env.counter


# --- Acceptance ----------------------------------------------------------------------------------


def test_accept_starts_the_clock_at_the_first_review_step(env):
    case = case_in(env, "to_accept")
    services.accept(actor=env.clerk, case=case, version=case.version, opinion="材料齐全")
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.step == 1
    assert fresh.accepted_at == last_event(case).at
    dates = clock.due_dates(fresh, env.implementation)
    assert (fresh.promised_due, fresh.statutory_due, fresh.warn_on) == (
        dates.promised_due,
        dates.statutory_due,
        dates.warn_on,
    )
    assert fresh.promised_due == calendar.add_days(fresh.accepted_at, 5, region="150600").due
    assert fresh.statutory_due == calendar.add_days(fresh.accepted_at, 20, region="150600").due


def test_accept_with_deficiencies_needs_materials_and_a_future_date(env):
    case = case_in(env, "to_accept")
    before = snapshot(case)
    good_due = today() + dt.timedelta(days=10)
    for materials in ([], [987654]):
        error = refused(
            CaseErrorCode.DEFICIENCIES_EMPTY,
            services.accept_with_deficiencies,
            actor=env.clerk,
            case=case,
            version=case.version,
            materials=materials,
            due=good_due,
        )
        assert error.field == "materials"
    for due in (today(), today() - dt.timedelta(days=1)):
        error = refused(
            CaseErrorCode.BAD_DEADLINE,
            services.accept_with_deficiencies,
            actor=env.clerk,
            case=case,
            version=case.version,
            materials=[env.proof.pk],
            due=due,
        )
        assert error.field == "due"
    assert snapshot(case) == before


def test_deficiencies_block_conclusion_until_supplied(env):
    case = case_in(env, "decided", deficient=True)
    due = today() + dt.timedelta(days=10)
    assert case.deficiencies == [
        {
            "material": env.proof.pk,
            "name": "场所使用证明",
            "due": due.isoformat(),
            "supplied_at": None,
        }
    ]
    assert case.step == 1
    assert case.accepted_at is not None
    before = snapshot(case)
    refused(
        CaseErrorCode.DEFICIENCIES_OPEN,
        services.conclude,
        actor=env.reviewer,
        case=case,
        version=case.version,
    )
    assert snapshot(case) == before

    services.supply(
        actor=env.citizen,
        case=case,
        version=case.version,
        material_id=env.proof.pk,
        upload=pdf("proof.pdf", b"supplied"),
    )
    assert case.status == S.DECIDED
    assert case.deficiencies[0]["supplied_at"] is not None
    row = CaseMaterial.objects.filter(case=case, material=env.proof).get()
    assert row.kind == MaterialKind.APPLICATION
    assert row.uploaded_by == env.citizen
    services.conclude(actor=env.reviewer, case=case, version=case.version)
    assert case.status == S.CONCLUDED


def test_supply_only_what_is_open(env):
    case = case_in(env, "under_review", deficient=True)
    before = snapshot(case)
    for material in (env.licence.pk, 987654):
        refused(
            CaseErrorCode.NOT_ALLOWED,
            services.supply,
            actor=env.citizen,
            case=case,
            version=case.version,
            material_id=material,
            upload=pdf("x.pdf", b"x"),
        )
    refused(
        CaseErrorCode.FILE_TYPE,
        services.supply,
        actor=env.citizen,
        case=case,
        version=case.version,
        material_id=env.proof.pk,
        upload=_exe("proof.pdf"),
    )
    assert snapshot(case) == before
    services.supply(
        actor=env.clerk,
        case=case,
        version=case.version,
        material_id=env.proof.pk,
        upload=pdf("proof.pdf", b"at the window"),
    )
    refused(
        CaseErrorCode.NOT_ALLOWED,
        services.supply,
        actor=env.citizen,
        case=case,
        version=case.version,
        material_id=env.proof.pk,
        upload=pdf("again.pdf", b"again"),
    )


def test_supply_is_refused_on_a_case_without_deficiencies(env):
    case = case_in(env, "under_review")
    refused(
        CaseErrorCode.NOT_ALLOWED,
        services.supply,
        actor=env.citizen,
        case=case,
        version=case.version,
        material_id=env.proof.pk,
        upload=pdf("x.pdf", b"x"),
    )


# --- Rejection, instant handling, withdrawal ------------------------------------------------------


def test_reject_ends_the_case_with_its_reason(env):
    case = case_in(env, "pre_review")
    services.reject(actor=env.reviewer, case=case, version=case.version, opinion="不属于本部门")
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == S.REJECTED
    assert fresh.concluded_at is not None
    assert fresh.accepted_at is None
    assert clock.state(fresh) == clock.ClockState.NOT_STARTED


def test_handle_instantly_only_for_instant_services(env):
    case = case_in(env, "to_accept")
    before = snapshot(case)
    refused(
        CaseErrorCode.NOT_INSTANT,
        services.handle_instantly,
        actor=env.clerk,
        case=case,
        version=case.version,
    )
    assert snapshot(case) == before

    instant = case_in(env, "to_accept", instant=True)
    services.handle_instantly(actor=env.clerk, case=instant, version=instant.version)
    fresh = Case.objects.get(pk=instant.pk)
    assert fresh.status == S.CONCLUDED
    assert fresh.decision == "approved"
    assert fresh.accepted_at == fresh.decided_at == fresh.concluded_at
    document = CaseMaterial.objects.get(case=fresh, kind=MaterialKind.DECISION)
    assert document.file.open("rb").read().startswith(b"%PDF")
    assert services.may_download_results(fresh)


def test_handle_instantly_keeps_an_uploaded_document(env):
    case = case_in(env, "to_accept", instant=True)
    services.handle_instantly(
        actor=env.clerk, case=case, version=case.version, document=pdf("证明.pdf", b"own")
    )
    document = CaseMaterial.objects.get(case=case, kind=MaterialKind.DECISION)
    assert document.name == "证明.pdf"


@pytest.mark.parametrize(
    ("state", "traits"),
    [("to_accept", {}), ("correcting", {"after_review": True}), ("suspended", {})],
)
def test_withdraw_stops_the_clock_and_ends_the_case(env, state, traits):
    case = case_in(env, state, **traits)
    services.withdraw(actor=env.citizen, case=case, version=case.version, opinion="不再需要")
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == S.WITHDRAWN
    assert fresh.paused_at is None
    assert fresh.concluded_at is not None
    assert clock.state(fresh) in (clock.ClockState.STOPPED, clock.ClockState.NOT_STARTED)


# --- The one-stop counter -------------------------------------------------------------------------


def _at_counter(env):
    return applications.start_at_counter(
        actor=env.counter,
        applicant=env.citizen,
        implementation=env.implementation,
        data=FORM,
        answers=[],
        uploads_by_material={
            str(env.licence.pk): [pdf("l.pdf", b"counter-l")],
            str(env.plan.pk): [pdf("p.pdf", b"counter-p")],
        },
    ).case


def test_the_counter_takes_in_accepts_and_hands_out(env):
    case = _at_counter(env)
    assert case.channel == "counter"
    assert case.counter_organization == env.centre
    assert case.status == S.TO_ACCEPT
    assert last_event(case).actor_label.startswith("窗口：")
    services.accept(actor=env.counter, case=case, version=case.version)
    before = snapshot(case)
    refused(  # the counter does not decide
        CaseErrorCode.FORBIDDEN,
        services.approve,
        actor=env.counter,
        case=case,
        version=case.version,
    )
    assert snapshot(case) == before
    services.approve(actor=env.reviewer, case=case, version=case.version)
    services.conclude(actor=env.reviewer, case=case, version=case.version)
    services.deliver(actor=env.counter, case=case, version=case.version, method="window")
    services.archive(actor=env.counter, case=case, version=case.version)
    assert case.status == S.ARCHIVED


def test_only_a_clerk_takes_in_at_the_counter(env):
    with pytest.raises(CaseError) as caught:
        applications.start_at_counter(
            actor=env.stranger,  # a reviewer
            applicant=env.citizen,
            implementation=env.implementation,
            data=FORM,
            answers=[],
            uploads_by_material={},
        )
    assert caught.value.code == CaseErrorCode.FORBIDDEN
    assert not Case.objects.exists()


def test_counter_scans_are_checked_by_content(env):
    with pytest.raises(CaseError) as caught:
        applications.start_at_counter(
            actor=env.counter,
            applicant=env.citizen,
            implementation=env.implementation,
            data=FORM,
            answers=[],
            uploads_by_material={str(env.licence.pk): [_exe("scan.pdf")]},
        )
    # Every problem at once: the refused scan and the material still missing.
    assert caught.value.code == CaseErrorCode.INVALID_FORM
    assert "文件类型不支持" in caught.value.errors[f"m{env.licence.pk}"][0]
    assert f"m{env.plan.pk}" in caught.value.errors
    assert not Case.objects.exists()
    assert not LibraryFile.objects.exists()


def test_the_counter_takes_only_verified_applicants(env):
    from tests.accounts.factories import UserFactory

    with pytest.raises(CaseError) as caught:
        applications.start_at_counter(
            actor=env.counter,
            applicant=UserFactory(unverified=True),
            implementation=env.implementation,
            data=FORM,
            answers=[],
            uploads_by_material={},
        )
    assert caught.value.code == CaseErrorCode.LEVEL_TOO_LOW
    assert not Case.objects.exists()


def test_staff_never_handle_their_own_application(env):
    draft = applications.open_draft(actor=env.clerk, implementation=env.implementation)
    applications.save_draft(actor=env.clerk, draft=draft, data=FORM)
    applications.attach(
        actor=env.clerk, draft=draft, material_id=env.licence.pk, upload=pdf("a.pdf")
    )
    applications.attach(
        actor=env.clerk, draft=draft, material_id=env.plan.pk, upload=pdf("b.pdf", b"b")
    )
    case = applications.submit(actor=env.clerk, draft=draft).case
    with pytest.raises(CaseError) as caught:
        services.accept(actor=env.clerk, case=case, version=case.version)
    assert caught.value.code == CaseErrorCode.FORBIDDEN


# --- Department systems ---------------------------------------------------------------------------


def test_the_handling_organizations_system_acts_as_department(env):
    case = case_in(env, "to_accept")
    services.accept(actor=None, case=case, version=case.version, department=env.organization)
    event = last_event(case)
    assert event.actor is None
    assert event.actor_label == f"部门系统：{env.organization.name}"
    services.approve(actor=None, case=case, version=case.version, department=env.organization)
    services.conclude(
        actor=None,
        case=case,
        version=case.version,
        department=env.organization,
        result=pdf("证照.pdf", b"licence"),
    )
    result = CaseMaterial.objects.get(case=case, kind=MaterialKind.RESULT)
    assert last_event(case).details == {"result": result.pk, "sm3": result.sm3}
    services.deliver(
        actor=None, case=case, version=case.version, method="online", department=env.organization
    )
    assert case.status == S.DELIVERED


def test_another_organizations_system_is_forbidden(env):
    case = case_in(env, "to_accept")
    before = snapshot(case)
    for action in ("accept", "reject", "request_correction"):
        with pytest.raises(CaseError) as caught:
            act(env, action, actor=None, case=case, department=OrganizationFactory())
        assert caught.value.code == CaseErrorCode.FORBIDDEN
    assert snapshot(case) == before


def test_a_department_move_is_not_dispatched_back_but_the_applicants_are(env):
    from tongban.cases.models import DepartmentEndpoint, Dispatch

    DepartmentEndpoint.objects.create(
        organization=env.organization, url="http://127.0.0.1:9/hook", secret="s" * 32
    )
    case = case_in(env, "to_accept")
    assert Dispatch.objects.filter(case=case, event__action="submit").count() == 1
    services.request_correction(
        actor=None,
        case=case,
        version=case.version,
        opinion="补正",
        fields=["property.address"],
        materials=[],
        department=env.organization,
    )
    assert not Dispatch.objects.filter(case=case, event__action="request_correction").exists()
    _resubmit(env, case, uploads_by_material={})
    assert Dispatch.objects.filter(case=case, event__action="resubmit").count() == 1


def _exe(name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        name, b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "application/pdf"
    )


def test_png_bytes_are_stored_as_png_whatever_the_name(env):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = case_in(env, "under_review", deficient=True)
    services.supply(
        actor=env.citizen,
        case=case,
        version=case.version,
        material_id=env.proof.pk,
        upload=SimpleUploadedFile("photo.pdf", PNG, "application/pdf"),
    )
    row = CaseMaterial.objects.get(case=case, material=env.proof)
    assert (row.name, row.content_type) == ("photo.png", "image/png")
