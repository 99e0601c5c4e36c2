"""Applying: drafts, uploads and the materials library, commitments, submission."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.accounts.factories import CompanyFactory, UserFactory
from tests.accounts.helpers import sms_to
from tests.cases.factories import FORM, PNG, pdf, service, submitted
from tests.catalog.factories import SituationOptionFactory
from tongban.accounts.models import VerificationLevel
from tongban.cases import applications, numbers, queries
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import (
    Case,
    CaseCounter,
    CaseEvent,
    CaseMaterial,
    CaseStatus,
    Draft,
    LibraryFile,
    MaterialKind,
)
from tongban.catalog.models import Implementation, ImplementationStatus, OnlineDepth
from tongban.core import calendar, crypto
from tongban.core.models import Notice

pytestmark = pytest.mark.django_db
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def refused(code, call, **kwargs):
    with pytest.raises(CaseError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


def draft_of(env, user=None):
    return applications.open_draft(actor=user or env.citizen, implementation=env.implementation)


def stored(draft) -> tuple:
    fresh = Draft.objects.get(pk=draft.pk)
    return (fresh.form_data, fresh.answers, fresh.materials, fresh.commitments)


# --- Drafts --------------------------------------------------------------------------------------


def test_the_same_draft_is_resumed(env):
    first = draft_of(env)
    applications.save_draft(actor=env.citizen, draft=first, data={"shop.area": "80"})
    again = draft_of(env)
    assert again.pk == first.pk
    assert applications.draft_data(again) == {"shop.area": "80"}
    assert Draft.objects.count() == 1


def test_acting_for_a_company_is_another_draft(env):
    person_draft = draft_of(env)
    company = CompanyFactory(legal_rep=env.citizen)
    env.citizen.acting_company = company
    env.citizen.save(update_fields=["acting_company"])
    company_draft = draft_of(env)
    assert company_draft.pk != person_draft.pk
    assert (company_draft.company, company_draft.acting_key) == (company, f"company:{company.pk}")


def test_a_service_not_open_online_or_above_the_persons_level_is_refused(env):
    impl = env.implementation
    for change, code in (
        ({"status": ImplementationStatus.DRAFT}, CaseErrorCode.NOT_ONLINE),
        ({"online_depth": OnlineDepth.PUBLISHED}, CaseErrorCode.NOT_ONLINE),
        ({"handle_on_pc": False, "handle_on_mobile": False}, CaseErrorCode.NOT_ONLINE),
        ({"required_level": VerificationLevel.L3}, CaseErrorCode.LEVEL_TOO_LOW),
    ):
        original = {k: getattr(impl, k) for k in change}
        Implementation.objects.filter(pk=impl.pk).update(**change)
        impl.refresh_from_db()
        refused(code, applications.open_draft, actor=env.citizen, implementation=impl)
        Implementation.objects.filter(pk=impl.pk).update(**original)
        impl.refresh_from_db()
    assert not Draft.objects.exists()


def test_autosave_keeps_what_was_typed_and_drops_unknown_keys(env):
    draft = draft_of(env)
    applications.save_draft(
        actor=env.citizen,
        draft=draft,
        data={
            "shop.area": "不是数字",  # kept as typed: checks come at submission
            "applicant.id_number": "123",
            "unknown.key": "x",
            "property.address": ["a", "list"],
            "applicant.phone": "1" * 4001,
        },
    )
    assert applications.draft_data(draft) == {"shop.area": "不是数字", "applicant.id_number": "123"}
    applications.save_draft(actor=env.citizen, draft=draft, data={"shop.area": 95})
    assert applications.draft_data(Draft.objects.get(pk=draft.pk)) == {
        "shop.area": "95",
        "applicant.id_number": "123",
    }


def test_autosave_never_refuses_answers_that_no_longer_fit(env):
    question = SituationOptionFactory(
        situation__implementation=env.implementation, label="新设"
    ).situation
    change = SituationOptionFactory(situation=question, label="变更")
    draft = draft_of(env)
    applications.save_draft(actor=env.citizen, draft=draft, data={}, answers=[str(change.pk)])
    assert draft.answers == [change.pk]
    new = question.options.exclude(pk=change.pk).get()
    # Two options of a single-choice question, and an option of a changed guide.
    applications.save_draft(
        actor=env.citizen, draft=draft, data={"shop.area": "12"}, answers=[new.pk, change.pk]
    )
    applications.save_draft(
        actor=env.citizen, draft=draft, data={"shop.area": "13"}, answers=["987654", "x"]
    )
    fresh = Draft.objects.get(pk=draft.pk)
    assert applications.draft_data(fresh) == {"shop.area": "13"}
    assert fresh.answers in ([change.pk], [])


def test_commitments_only_for_materials_that_allow_them(env):
    draft = draft_of(env)
    applications.save_draft(
        actor=env.citizen,
        draft=draft,
        data={},
        commitments=[env.proof.pk, str(env.licence.pk), "x", 987654],
    )
    assert Draft.objects.get(pk=draft.pk).commitments == [env.proof.pk]


def test_somebody_elses_draft_reads_as_missing(env):
    draft = draft_of(env)
    before = stored(draft)
    other = UserFactory()
    refused(CaseErrorCode.NOT_FOUND, applications.save_draft, actor=other, draft=draft, data={})
    refused(
        CaseErrorCode.NOT_FOUND,
        applications.attach,
        actor=other,
        draft=draft,
        material_id=env.licence.pk,
        upload=pdf(),
    )
    refused(CaseErrorCode.NOT_FOUND, applications.submit, actor=other, draft=draft)
    assert stored(draft) == before


def test_an_autosave_does_not_undo_an_upload_made_meanwhile(env):
    draft = draft_of(env)
    autosave_view = Draft.objects.get(pk=draft.pk)  # read by a request still typing
    kept = applications.attach(
        actor=env.citizen, draft=draft, material_id=env.licence.pk, upload=pdf()
    )
    applications.save_draft(actor=env.citizen, draft=autosave_view, data={"shop.area": "50"})
    fresh = Draft.objects.get(pk=draft.pk)
    assert fresh.materials == {str(env.licence.pk): [kept.pk]}
    assert applications.draft_data(fresh) == {"shop.area": "50"}


# --- Uploads and the library ---------------------------------------------------------------------


@pytest.mark.parametrize("content", [EXE, b"plain text", b""])
def test_a_refused_upload_leaves_the_draft_unchanged(env, content):
    draft = draft_of(env)
    applications.attach(actor=env.citizen, draft=draft, material_id=env.licence.pk, upload=pdf())
    before = stored(draft)
    error = refused(
        CaseErrorCode.FILE_EMPTY if not content else CaseErrorCode.FILE_TYPE,
        applications.attach,
        actor=env.citizen,
        draft=draft,
        material_id=env.plan.pk,
        upload=SimpleUploadedFile("平面图.pdf", content, "application/pdf"),
    )
    assert error.field == f"m{env.plan.pk}"
    assert stored(draft) == before
    assert LibraryFile.objects.count() == 1


def test_a_file_over_the_limit_is_refused(env, settings):
    settings.TONGBAN_MAX_UPLOAD_MB = 1
    draft = draft_of(env)
    before = stored(draft)
    big = pdf("big.pdf", b"\x00" * (1024 * 1024))
    error = refused(
        CaseErrorCode.FILE_TOO_LARGE,
        applications.attach,
        actor=env.citizen,
        draft=draft,
        material_id=env.plan.pk,
        upload=big,
    )
    assert error.field == f"m{env.plan.pk}"
    assert stored(draft) == before
    assert not LibraryFile.objects.exists()


def test_an_unknown_material_is_refused(env):
    draft = draft_of(env)
    other = service()
    refused(
        CaseErrorCode.INVALID_FORM,
        applications.attach,
        actor=env.citizen,
        draft=draft,
        material_id=other.licence.pk,
        upload=pdf(),
    )
    assert not LibraryFile.objects.exists()


def test_the_library_stores_a_file_once_and_it_can_be_reused(env):
    draft = draft_of(env)
    first = applications.attach(
        actor=env.citizen, draft=draft, material_id=env.licence.pk, upload=pdf("执照.pdf")
    )
    same = applications.attach(
        actor=env.citizen, draft=draft, material_id=env.plan.pk, upload=pdf("复印件.pdf")
    )
    assert same.pk == first.pk
    assert LibraryFile.objects.count() == 1
    applications.attach(
        actor=env.citizen, draft=draft, material_id=env.licence.pk, upload=pdf("again.pdf")
    )
    assert draft.materials == {str(env.licence.pk): [first.pk], str(env.plan.pk): [first.pk]}

    # Another service's draft picks the file from the library.
    other = service(organization=env.organization)
    other_draft = applications.open_draft(actor=env.citizen, implementation=other.implementation)
    applications.reuse(
        actor=env.citizen, draft=other_draft, material_id=other.licence.pk, library_file_id=first.pk
    )
    assert Draft.objects.get(pk=other_draft.pk).materials == {str(other.licence.pk): [first.pk]}
    assert LibraryFile.objects.count() == 1

    stranger = UserFactory()
    theirs = applications.open_draft(actor=stranger, implementation=env.implementation)
    refused(
        CaseErrorCode.NOT_FOUND,
        applications.reuse,
        actor=stranger,
        draft=theirs,
        material_id=env.licence.pk,
        library_file_id=first.pk,
    )

    applications.detach(
        actor=env.citizen, draft=draft, material_id=env.plan.pk, library_file_id=first.pk
    )
    assert Draft.objects.get(pk=draft.pk).materials[str(env.plan.pk)] == []


# --- Submission ----------------------------------------------------------------------------------


def test_submission_lists_every_problem_at_once_and_keeps_the_draft(env):
    question = SituationOptionFactory(
        situation__implementation=env.implementation, situation__question="是否新设？"
    ).situation
    person = UserFactory(unverified=True, level=VerificationLevel.L2)
    draft = draft_of(env, person)
    applications.save_draft(actor=person, draft=draft, data={"shop.area": "0"})
    before = stored(draft)
    error = refused(CaseErrorCode.INVALID_FORM, applications.submit, actor=person, draft=draft)
    assert set(error.errors) == {
        "applicant.name",  # an unverified person's profile has only the phone number
        "applicant.id_number",
        "property.address",
        "shop.area",
        f"m{env.licence.pk}",
        f"m{env.plan.pk}",
        f"s{question.pk}",
    }
    assert "是否新设？" in error.errors[f"s{question.pk}"][0]
    assert "营业执照" in error.errors[f"m{env.licence.pk}"][0]
    assert stored(draft) == before
    assert not Case.objects.exists()
    assert not CaseCounter.objects.exists()
    assert [d["field"] for d in error.as_dict()["errors"]] == list(error.errors)


def test_a_submission_creates_the_case_and_deletes_the_draft(env):
    draft = draft_of(env)
    applications.save_draft(
        actor=env.citizen, draft=draft, data={**FORM, "applicant.name": "冒名顶替"}
    )
    licence = applications.attach(
        actor=env.citizen, draft=draft, material_id=env.licence.pk, upload=pdf("a.pdf")
    )
    plan = applications.attach(
        actor=env.citizen,
        draft=draft,
        material_id=env.plan.pk,
        upload=SimpleUploadedFile("plan.pdf", PNG, "application/pdf"),
    )
    done = applications.submit(actor=env.citizen, draft=draft, ip="192.0.2.1")
    case = done.case

    assert not Draft.objects.filter(pk=draft.pk).exists()
    assert case.status == CaseStatus.TO_ACCEPT
    assert case.version == 1
    assert (case.channel, case.organization, case.applicant) == (
        "online",
        env.organization,
        env.citizen,
    )
    assert case.phone_tail == env.citizen.phone[-4:]
    form = json.loads(Case.objects.get(pk=case.pk).form_data)
    assert form == {
        "applicant.name": env.citizen.real_name,  # locked to the verified name
        "applicant.id_number": env.citizen.id_number,
        "applicant.phone": env.citizen.phone,
        **FORM,
    }
    # Number: region, date of submission in China time, serial, check character.
    assert numbers.is_valid(case.number)
    assert case.number.startswith(f"150600{calendar.china_date(case.submitted_at):%Y%m%d}000001")
    rows = {
        m.material_id: m
        for m in CaseMaterial.objects.filter(case=case, kind=MaterialKind.APPLICATION)
    }
    assert rows[env.licence.pk].sm3 == licence.sm3
    assert rows[env.plan.pk].sm3 == plan.sm3
    assert rows[env.plan.pk].content_type == "image/png"
    assert rows[env.licence.pk].file.name == licence.file.name  # one stored copy

    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.from_status, event.to_status) == ("submit", "", "to_accept")
    assert (event.actor, event.actor_label) == (env.citizen, "申请人")
    assert event.details == {"channel": "online", "materials": 2}

    # The acknowledgement: one notice, one SMS, and a query code shown once.
    notice = Notice.objects.get(recipient=env.citizen)
    assert notice.subject == "申请已提交"
    assert case.number in notice.body
    assert env.implementation.item.name in notice.body
    assert sms_to(env.citizen.phone) == [f"【通办】{notice.body}"]
    assert len(done.query_code) == 8
    assert done.query_code.isdigit()
    assert queries.find_by_check(case.number, done.query_code) == case
    assert queries.find_by_check(case.number, case.phone_tail) == case
    assert queries.find_by_check(case.number, "0000" if case.phone_tail != "0000" else "1111") in (
        None,
    )


def test_a_depth_two_service_starts_with_pre_review(env):
    Implementation.objects.filter(pk=env.implementation.pk).update(
        online_depth=OnlineDepth.PREREVIEW
    )
    env.implementation.refresh_from_db()
    from tests.cases.factories import submitted

    assert submitted(env).status == CaseStatus.PRE_REVIEW


def test_a_commitment_replaces_a_material(env):
    env.plan.allows_commitment = True
    env.plan.save(update_fields=["allows_commitment"])
    draft = draft_of(env)
    applications.save_draft(actor=env.citizen, draft=draft, data=FORM, commitments=[env.plan.pk])
    applications.attach(actor=env.citizen, draft=draft, material_id=env.licence.pk, upload=pdf())
    case = applications.submit(actor=env.citizen, draft=draft).case
    assert case.commitments == [env.plan.pk]
    commitment = CaseMaterial.objects.get(case=case, kind=MaterialKind.COMMITMENT)
    assert commitment.material == env.plan
    assert commitment.name == "告知承诺书-场所平面图.pdf"
    content = commitment.file.open("rb").read()
    assert content.startswith(b"%PDF")
    assert commitment.sm3 == crypto.sm3(content).hex()
    assert commitment.size == len(content)
    assert not CaseMaterial.objects.filter(case=case, material=env.plan, kind="application")


def test_a_commitment_is_not_taken_for_a_material_that_does_not_allow_it(env):
    draft = draft_of(env)
    applications.save_draft(actor=env.citizen, draft=draft, data=FORM, commitments=[env.plan.pk])
    applications.attach(actor=env.citizen, draft=draft, material_id=env.licence.pk, upload=pdf())
    error = refused(CaseErrorCode.INVALID_FORM, applications.submit, actor=env.citizen, draft=draft)
    assert set(error.errors) == {f"m{env.plan.pk}"}


def test_a_material_that_applies_by_situation(env):
    branch = SituationOptionFactory(situation__implementation=env.implementation, label="设分支")
    no_branch = SituationOptionFactory(situation=branch.situation, label="不设")
    env.plan.conditions.add(branch)
    draft = draft_of(env)
    applications.save_draft(actor=env.citizen, draft=draft, data=FORM, answers=[branch.pk])
    applications.attach(actor=env.citizen, draft=draft, material_id=env.licence.pk, upload=pdf())
    error = refused(CaseErrorCode.INVALID_FORM, applications.submit, actor=env.citizen, draft=draft)
    assert set(error.errors) == {f"m{env.plan.pk}"}
    applications.save_draft(actor=env.citizen, draft=draft, data={}, answers=[no_branch.pk])
    case = applications.submit(actor=env.citizen, draft=draft).case
    assert case.answers == [no_branch.pk]


def test_a_file_removed_from_the_library_is_missing_again(env):
    draft = draft_of(env)
    applications.save_draft(actor=env.citizen, draft=draft, data=FORM)
    applications.attach(actor=env.citizen, draft=draft, material_id=env.licence.pk, upload=pdf())
    gone = applications.attach(
        actor=env.citizen, draft=draft, material_id=env.plan.pk, upload=pdf("p.pdf", b"p")
    )
    LibraryFile.objects.filter(pk=gone.pk).delete()
    error = refused(CaseErrorCode.INVALID_FORM, applications.submit, actor=env.citizen, draft=draft)
    assert set(error.errors) == {f"m{env.plan.pk}"}
    assert Draft.objects.filter(pk=draft.pk).exists()


def test_a_company_application_names_the_company(env):
    company = CompanyFactory(legal_rep=env.citizen, name="鄂尔多斯市示例商贸有限公司")
    env.citizen.acting_company = company
    env.citizen.save(update_fields=["acting_company"])
    draft = draft_of(env)
    applications.save_draft(actor=env.citizen, draft=draft, data=FORM)
    applications.attach(actor=env.citizen, draft=draft, material_id=env.licence.pk, upload=pdf())
    applications.attach(
        actor=env.citizen, draft=draft, material_id=env.plan.pk, upload=pdf("p.pdf", b"p")
    )
    case = applications.submit(actor=env.citizen, draft=draft).case
    assert case.company == company
    assert case.applicant_display.startswith("鄂尔多斯市示例商贸有限公司（")
    assert env.citizen.real_name not in case.applicant_display  # the person is masked


def test_one_answer_fills_every_form_that_uses_the_same_field(env):
    """一套表单: an address given for one service is offered for the next; a service's own
    fields do not travel."""
    from tests.cases.factories import service
    from tongban.cases import forms

    submitted(env, data={**FORM, "property.address": "东胜区天骄路8号"})
    other = service(organization=env.organization)
    earlier = applications.earlier_answers(env.citizen)
    assert earlier["property.address"] == "东胜区天骄路8号"
    assert "shop.area" not in earlier
    values = forms.prefill(forms.form_for(other.implementation), env.citizen, known=earlier)
    assert values["property.address"] == "东胜区天骄路8号"
    # Another person learns nothing from it.
    assert applications.earlier_answers(env.clerk) == {}
