"""The staff workbench: queues, the case page, its action forms and material previews.

Every page has its authorization matrix (anonymous, citizen, staff of another organization,
entitled staff) and a denied call is checked to have changed nothing; the queue and case pages
have query-count tests that stay constant as rows grow."""

import datetime as dt
import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.backoffice.helpers import login_backoffice
from tests.cases.factories import PDF, PNG, make_case, pdf, setting, submitted
from tongban.cases import services
from tongban.cases.models import Case, CaseEvent, CaseMaterial, CaseStatus
from tongban.core.models import AuditAction, AuditRecord

pytestmark = pytest.mark.django_db

QUEUES = reverse("workbench:queues")


def case_url(case):
    return reverse("workbench:case", args=[case.pk])


def act_url(case, action):
    return reverse("workbench:act", args=[case.pk, action])


def material_url(case, row):
    return reverse("workbench:material", args=[case.pk, row.pk])


def post_action(client, case, action, version=None, files=None, **fields):
    data = {f"{action}-version": case.version if version is None else version}
    data.update({f"{action}-{name}": value for name, value in fields.items()})
    data.update({f"{action}-{name}": upload for name, upload in (files or {}).items()})
    return client.post(act_url(case, action), data)


def snapshot(case):
    fresh = Case.objects.get(pk=case.pk)
    return (fresh.status, fresh.version, fresh.events.count(), fresh.materials.count())


_serial = itertools.count(1)


def clone(case, count):
    """``count`` more cases like ``case`` (fast: no uploads), each with its own number."""
    for _ in range(count):
        copy = Case.objects.get(pk=case.pk)
        copy.pk = None
        copy._state.adding = True
        copy.number = f"{case.number}{next(_serial):03d}"
        copy.save()


@pytest.fixture
def env():
    return setting()


# --- Authorization matrix ------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_staff_login(client, env):
    case = make_case(env)
    row = case.materials.first()
    for url in (QUEUES, case_url(case), material_url(case, row)):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]
    before = snapshot(case)
    response = post_action(client, case, "accept")
    assert response.status_code == 302
    assert snapshot(case) == before


def test_a_citizen_is_sent_to_the_staff_login_even_with_a_second_factor(client, env):
    case = make_case(env)
    login_backoffice(client, env.citizen)  # not staff
    for url in (QUEUES, case_url(case)):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]
    before = snapshot(case)
    assert post_action(client, case, "accept").status_code == 302
    assert snapshot(case) == before


def test_staff_without_the_second_factor_is_sent_to_the_staff_login(client, env):
    case = make_case(env)
    client.force_login(env.clerk)
    assert client.get(case_url(case)).status_code == 302
    before = snapshot(case)
    assert post_action(client, case, "accept").status_code == 302
    assert snapshot(case) == before


def test_staff_of_another_organization_gets_404_and_changes_nothing(client, env):
    case = make_case(env)
    login_backoffice(client, env.stranger)
    assert client.get(case_url(case)).status_code == 404
    assert client.get(material_url(case, case.materials.first())).status_code == 404
    before = snapshot(case)
    for action, fields in (
        ("accept", {}),
        ("request_correction", {"fields": "property.address", "opinion": "请补正"}),
        ("reject", {"opinion": "不符合条件"}),
    ):
        assert post_action(client, case, action, **fields).status_code == 404
    assert snapshot(case) == before
    assert not AuditRecord.objects.filter(action=AuditAction.PERSONAL_READ).exists()
    # Their queue does not list it either.
    html = client.get(QUEUES, {"queue": "to_accept"}).content.decode()
    assert case.number not in html


def test_a_counter_clerk_does_not_see_cases_their_counter_did_not_take_in(client, env):
    case = make_case(env)
    login_backoffice(client, env.counter)
    assert client.get(case_url(case)).status_code == 404


def test_entitled_staff_open_the_queue_and_the_case(client, env):
    case = make_case(env)
    for person in (env.clerk, env.reviewer, env.org_admin):
        login_backoffice(client, person)
        assert client.get(QUEUES).status_code == 200
        response = client.get(case_url(case))
        assert response.status_code == 200
        assert case.number in response.content.decode()


def test_the_back_office_nav_links_the_workbench(client, env):
    login_backoffice(client, env.clerk)
    html = client.get(QUEUES).content.decode()
    assert f'href="{QUEUES}" aria-current="page"' in html


# --- Queues --------------------------------------------------------------------------------------


def test_queue_tabs_carry_the_counts_and_list_the_chosen_queue(client, env):
    waiting = make_case(env)
    reviewing = make_case(env, "under_review")
    login_backoffice(client, env.clerk)
    response = client.get(QUEUES, {"queue": "to_accept"})
    html = response.content.decode()
    assert (
        'data-queue="to_accept" aria-current="page">待受理 <span class="wb-count">1</span>' in html
    )
    assert 'data-queue="to_review">待审查 <span class="wb-count">1</span>' in html
    assert waiting.number in html
    assert reviewing.number not in html
    assert waiting.applicant_display in html
    assert waiting.implementation.item.name in html
    html = client.get(QUEUES, {"queue": "to_review"}).content.decode()
    assert reviewing.number in html
    assert waiting.number not in html


def test_unknown_queue_falls_back_to_the_first_with_cases(client, env):
    case = make_case(env, "under_review")
    login_backoffice(client, env.reviewer)
    html = client.get(QUEUES, {"queue": "nonsense"}).content.decode()
    assert 'data-queue="to_review" aria-current="page"' in html
    assert case.number in html


def test_queue_search_by_number_and_applicant_and_filter_by_item(client, env):
    first = make_case(env)
    second = make_case(env)
    other = setting()
    login_backoffice(client, env.clerk)
    html = client.get(QUEUES, {"queue": "to_accept", "search": first.number}).content.decode()
    assert first.number in html
    assert second.number not in html
    html = client.get(
        QUEUES, {"queue": "to_accept", "search": first.applicant_display}
    ).content.decode()
    assert first.number in html
    item = env.implementation.item
    html = client.get(QUEUES, {"queue": "to_accept", "item": item.pk}).content.decode()
    assert first.number in html
    html = client.get(
        QUEUES, {"queue": "to_accept", "item": other.implementation.item.pk}
    ).content.decode()
    assert first.number not in html
    assert 'data-empty="1"' in html


def test_queue_pages_by_twenty(client, env):
    case = make_case(env)
    clone(case, 24)
    login_backoffice(client, env.clerk)
    first = client.get(QUEUES, {"queue": "to_accept"}).content.decode()
    assert first.count('class="wb-row"') == 20
    assert 'rel="next"' in first
    second = client.get(QUEUES, {"queue": "to_accept", "page": 2}).content.decode()
    assert second.count('class="wb-row"') == 5


def test_clock_badges_show_due_soon_and_overdue(client, env):
    soon = make_case(env, "under_review")
    late = make_case(env, "under_review")
    today = dt.date.today()
    Case.objects.filter(pk=soon.pk).update(
        warn_on=today - dt.timedelta(days=1), promised_due=today + dt.timedelta(days=30)
    )
    Case.objects.filter(pk=late.pk).update(
        warn_on=today - dt.timedelta(days=40), promised_due=today - dt.timedelta(days=30)
    )
    login_backoffice(client, env.reviewer)
    html = client.get(QUEUES, {"queue": "to_review"}).content.decode()
    assert html.count("wb-clock-due_soon") == 1
    assert html.count("wb-clock-overdue") == 1
    html = client.get(QUEUES, {"queue": "overdue"}).content.decode()
    assert late.number in html
    assert soon.number not in html


def _count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_queue_page_query_count_is_constant_in_rows(client, env):
    case = make_case(env)
    clone(case, 2)
    login_backoffice(client, env.clerk)
    params = {"queue": "to_accept"}
    _count_queries(client, QUEUES, params)  # warm caches (calendar, content types)
    with_three = _count_queries(client, QUEUES, params)
    clone(case, 22)
    assert Case.objects.count() == 25
    with_twenty_five = _count_queries(client, QUEUES, params)
    assert with_three == with_twenty_five


# --- The case page -------------------------------------------------------------------------------


def test_case_page_masks_personal_data_and_records_the_read(client, env):
    case = make_case(env)
    login_backoffice(client, env.reviewer)
    html = client.get(case_url(case)).content.decode()
    assert env.citizen.id_number not in html
    assert env.citizen.phone not in html
    assert env.citizen.masked_id_number in html
    assert env.citizen.masked_phone in html
    assert "东胜区鄂尔多斯西街1号" in html
    read = AuditRecord.objects.get(action=AuditAction.PERSONAL_READ)
    assert (read.actor_id, read.object_type, read.object_id, read.subject) == (
        env.reviewer.pk,
        "cases.case",
        str(case.pk),
        f"user:{env.citizen.pk}",
    )


def test_case_page_shows_clock_materials_and_timeline(client, env):
    case = make_case(env, "under_review")
    login_backoffice(client, env.reviewer)
    html = client.get(case_url(case)).content.decode()
    assert case.promised_due.isoformat() in html
    assert case.statutory_due.isoformat() in html
    assert "data-remaining=" in html
    assert "wb-clock-on_time" in html
    for row in case.materials.all():
        assert material_url(case, row) in html
    assert 'data-event="submit"' in html
    assert 'data-event="accept"' in html


def _offered(html):
    return re.findall(r'data-action="([a-z_]+)"', html)


def test_forms_are_exactly_the_actions_the_transition_table_allows(client, env):
    case = make_case(env)
    login_backoffice(client, env.clerk)
    assert _offered(client.get(case_url(case)).content.decode()) == [
        "request_correction",
        "accept",
        "accept_with_deficiencies",
        "reject",
    ]
    login_backoffice(client, env.reviewer)
    assert _offered(client.get(case_url(case)).content.decode()) == [
        "request_correction",
        "reject",
    ]
    login_backoffice(client, env.org_admin)
    html = client.get(case_url(case)).content.decode()
    assert _offered(html) == []
    assert 'data-no-actions="1"' in html


def test_moves_whose_guard_must_fail_are_not_offered(client, env):
    case = make_case(env, "under_review")
    login_backoffice(client, env.clerk)
    assert "supply" not in _offered(client.get(case_url(case)).content.decode())
    login_backoffice(client, env.org_admin)
    assert "approve_extension" not in _offered(client.get(case_url(case)).content.decode())


def test_an_instant_service_offers_handling_on_the_spot(client):
    env = setting(is_instant=True, promised_limit=0, statutory_limit=1)
    case = make_case(env)
    login_backoffice(client, env.clerk)
    assert "handle_instantly" in _offered(client.get(case_url(case)).content.decode())
    response = post_action(client, case, "handle_instantly")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CONCLUDED


def test_case_page_query_count_is_constant_in_events_and_materials(client, env):
    case = make_case(env, "under_review")
    login_backoffice(client, env.reviewer)
    url = case_url(case)
    _count_queries(client, url)
    few = _count_queries(client, url)
    row = case.materials.first()
    for i in range(10):
        CaseEvent.objects.create(
            case=case, action="advance", from_status="under_review", to_status="under_review"
        )
        CaseMaterial.objects.create(
            case=case,
            material=row.material,
            kind=row.kind,
            name=f"extra{i}.pdf",
            file=row.file.name,
            sm3=row.sm3,
            size=row.size,
            content_type=row.content_type,
        )
    many = _count_queries(client, url)
    assert few == many


# --- Actions -------------------------------------------------------------------------------------


def test_accept_posts_through_to_the_service(client, env):
    case = make_case(env)
    login_backoffice(client, env.clerk)
    response = post_action(client, case, "accept", opinion="材料齐全")
    assert response.status_code == 302
    assert response["Location"] == case_url(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.UNDER_REVIEW
    assert case.promised_due is not None
    event = case.events.get(action="accept")
    assert (event.actor_id, event.opinion) == (env.clerk.pk, "材料齐全")
    html = client.get(case_url(case)).content.decode()
    assert "受理：已完成" in html


def test_request_correction_names_fields_and_materials(client, env):
    case = make_case(env)
    login_backoffice(client, env.clerk)
    response = client.post(
        act_url(case, "request_correction"),
        {
            "request_correction-version": case.version,
            "request_correction-fields": ["property.address", "shop.area"],
            "request_correction-materials": [env.plan.pk],
            "request_correction-opinion": "地址不完整，平面图不清晰",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTING
    assert case.correction == {
        "fields": ["property.address", "shop.area"],
        "materials": [env.plan.pk],
        "note": "地址不完整，平面图不清晰",
    }
    html = client.get(case_url(case)).content.decode()
    assert 'data-correction="1"' in html
    assert "场所平面图" in html


def test_request_correction_naming_nothing_is_refused_beside_the_form(client, env):
    case = make_case(env)
    login_backoffice(client, env.clerk)
    before = snapshot(case)
    response = post_action(client, case, "request_correction", opinion="请补正")
    assert response.status_code == 400
    assert "请至少指明一项需要补正的字段或材料" in response.content.decode()
    assert snapshot(case) == before


def test_an_opinion_the_table_requires_is_asked_for(client, env):
    case = make_case(env)
    login_backoffice(client, env.clerk)
    before = snapshot(case)
    response = post_action(client, case, "reject")
    assert response.status_code == 400
    assert "请填写意见或理由" in response.content.decode()
    assert snapshot(case) == before


def test_accept_with_deficiencies_and_supply_at_the_counter(client, env):
    case = make_case(env)
    login_backoffice(client, env.clerk)
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    response = client.post(
        act_url(case, "accept_with_deficiencies"),
        {
            "accept_with_deficiencies-version": case.version,
            "accept_with_deficiencies-materials": [env.proof.pk],
            "accept_with_deficiencies-due": due,
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.UNDER_REVIEW
    assert [d["material"] for d in case.deficiencies] == [env.proof.pk]
    response = post_action(
        client, case, "supply", material_id=env.proof.pk, files={"upload": pdf("proof.pdf")}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.deficiencies[0]["supplied_at"]
    assert case.materials.filter(material=env.proof).exists()


def test_accept_with_deficiencies_refuses_a_past_deadline(client, env):
    case = make_case(env)
    login_backoffice(client, env.clerk)
    before = snapshot(case)
    response = client.post(
        act_url(case, "accept_with_deficiencies"),
        {
            "accept_with_deficiencies-version": case.version,
            "accept_with_deficiencies-materials": [env.proof.pk],
            "accept_with_deficiencies-due": "2020-01-01",
        },
    )
    assert response.status_code == 400
    assert "补交期限应晚于今天" in response.content.decode()
    assert snapshot(case) == before


def test_supply_refuses_a_file_of_the_wrong_type(client, env):
    case = make_case(env)
    services.accept_with_deficiencies(
        actor=env.clerk,
        case=case,
        version=case.version,
        materials=[env.proof.pk],
        due=dt.date.today() + dt.timedelta(days=5),
    )
    login_backoffice(client, env.clerk)
    before = snapshot(case)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.exe", b"MZ\x90\x00not a scan", content_type="application/pdf")
    response = post_action(client, case, "supply", material_id=env.proof.pk, files={"upload": bad})
    assert response.status_code == 400
    assert 'data-error-for="upload"' in response.content.decode()
    assert snapshot(case) == before


def test_approve_posts_through_with_a_generated_or_uploaded_document(client, env):
    case = make_case(env, "under_review")
    login_backoffice(client, env.reviewer)
    response = post_action(client, case, "approve", opinion="符合条件")
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.decision) == (CaseStatus.DECIDED, "approved")
    assert case.materials.filter(kind="decision").count() == 1
    other = make_case(env, "under_review")
    response = post_action(client, other, "approve", files={"document": pdf("decision.pdf")})
    assert response.status_code == 302
    document = other.materials.get(kind="decision")
    assert document.name == "decision.pdf"


def test_deny_needs_reasons(client, env):
    case = make_case(env, "under_review")
    login_backoffice(client, env.reviewer)
    before = snapshot(case)
    assert post_action(client, case, "deny").status_code == 400
    assert snapshot(case) == before
    assert post_action(client, case, "deny", opinion="不符合条件").status_code == 302
    case.refresh_from_db()
    assert case.decision == "denied"


def test_suspend_resume_and_extension(client, env):
    case = make_case(env, "under_review")
    login_backoffice(client, env.reviewer)
    assert post_action(client, case, "suspend", opinion="需要核查").status_code == 400
    response = post_action(client, case, "suspend", procedure="现场核查", opinion="需要核查")
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.suspension["procedure"]) == (CaseStatus.SUSPENDED, "现场核查")
    assert "wb-clock-paused" in client.get(case_url(case)).content.decode()
    response = post_action(client, case, "request_extension", days=5, opinion="现场核查需时")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.pending_extension["days"] == 5
    login_backoffice(client, env.org_admin)
    html = client.get(case_url(case)).content.decode()
    assert 'data-extension="1"' in html
    assert _offered(html) == ["approve_extension"]
    assert post_action(client, case, "approve_extension").status_code == 302
    case.refresh_from_db()
    assert case.extension_days == 5
    login_backoffice(client, env.reviewer)
    assert post_action(client, case, "resume").status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.UNDER_REVIEW


def test_request_extension_days_out_of_range_is_refused(client, env):
    case = make_case(env, "under_review")
    login_backoffice(client, env.reviewer)
    before = snapshot(case)
    response = post_action(client, case, "request_extension", days=999, opinion="太久")
    assert response.status_code == 400
    assert "延长天数应为1至法定时限之间的整数" in response.content.decode()
    assert snapshot(case) == before


def test_conclude_with_a_result_and_deliver(client, env):
    case = make_case(env, "decided")
    login_backoffice(client, env.reviewer)
    response = post_action(client, case, "conclude", files={"result": pdf("licence.pdf")})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CONCLUDED
    assert case.materials.filter(kind="result").exists()
    login_backoffice(client, env.clerk)
    response = post_action(client, case, "deliver", method="window", note="申请人本人领取")
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.delivery_method) == (CaseStatus.DELIVERED, "window")


def test_deliver_by_express_needs_the_waybill(client, env):
    case = make_case(env, "concluded")
    login_backoffice(client, env.clerk)
    before = snapshot(case)
    response = post_action(client, case, "deliver", method="express", note="")
    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写快递单号" in html
    assert 'data-error-for="note"' in html
    assert snapshot(case) == before


def test_a_version_conflict_returns_409_and_changes_nothing(client, env):
    case = make_case(env)
    seen = case.version
    # Someone else accepts first.
    services.accept(actor=env.clerk, case=case, version=case.version)
    before = snapshot(case)
    login_backoffice(client, env.clerk)
    response = post_action(
        client, case, "request_correction", version=seen, fields="shop.area", opinion="补正"
    )
    assert response.status_code == 409
    assert "该办件已被他人处理，请刷新后查看最新状态" in response.content.decode()
    assert snapshot(case) == before


def test_a_move_that_loses_a_race_inside_the_service_returns_409(client, env, monkeypatch):
    case = make_case(env)
    accept = services.ACTIONS["accept"]

    def racing(**kwargs):
        # Another clerk asks for a correction between the page's read and this move.
        rival = Case.objects.get(pk=case.pk)
        services.request_correction(
            actor=env.clerk,
            case=rival,
            version=rival.version,
            opinion="先补正",
            fields=["shop.area"],
            materials=[],
        )
        return accept(**kwargs)

    monkeypatch.setitem(services.ACTIONS, "accept", racing)
    login_backoffice(client, env.clerk)
    response = post_action(client, case, "accept")
    assert response.status_code == 409
    assert "该办件已被他人处理" in response.content.decode()
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == CaseStatus.CORRECTING
    assert not fresh.events.filter(action="accept").exists()


def test_a_move_the_reader_may_not_make_is_refused(client, env):
    case = make_case(env)
    login_backoffice(client, env.reviewer)  # reviewers do not accept
    before = snapshot(case)
    response = post_action(client, case, "accept")
    assert response.status_code == 403
    assert "您没有办理该办件的权限" in response.content.decode()
    assert snapshot(case) == before


def test_applicant_moves_and_unknown_actions_are_not_found(client, env):
    case = make_case(env)
    login_backoffice(client, env.clerk)
    before = snapshot(case)
    assert post_action(client, case, "withdraw", opinion="不办了").status_code == 404
    assert post_action(client, case, "explode").status_code == 404
    assert client.get(act_url(case, "accept")).status_code == 405
    assert snapshot(case) == before


# --- Material preview ----------------------------------------------------------------------------


def test_material_preview_streams_the_file_inline_for_entitled_staff(client, env):
    case = make_case(env)
    row = case.materials.first()
    login_backoffice(client, env.clerk)
    response = client.get(material_url(case, row))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(PDF)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert "no-store" in response["Cache-Control"]


def test_an_image_material_is_shown_inline_on_the_case_page(client, env):
    case = make_case(env, "under_review")
    login_backoffice(client, env.reviewer)
    row = CaseMaterial.objects.create(
        case=case,
        kind="attachment",
        name="photo.png",
        file=case.materials.first().file.name,
        sm3="0" * 64,
        size=len(PNG),
        content_type="image/png",
    )
    html = client.get(case_url(case)).content.decode()
    assert f'<img src="{material_url(case, row)}"' in html


def test_material_preview_is_404_for_others_and_for_another_cases_file(client, env):
    case = make_case(env)
    other = submitted(env)
    row = case.materials.first()
    login_backoffice(client, env.stranger)
    assert client.get(material_url(case, row)).status_code == 404
    login_backoffice(client, env.clerk)
    assert client.get(reverse("workbench:material", args=[other.pk, row.pk])).status_code == 404


def test_concluding_on_the_workbench_issues_the_license_with_confirmed_fields(client):
    from tests.cases.factories import make_case as _make_case
    from tests.cases.factories import setting as _setting
    from tests.licenses.factories import LicenseTypeFactory
    from tests.seals.factories import SealFactory
    from tongban.licenses.models import License
    from tongban.seals.codes import SealType

    env = _setting()
    license_type = LicenseTypeFactory(
        fields=[
            {"key": "address", "label": "经营场所", "required": True},
            {"key": "scope", "label": "经营项目", "required": True},
        ]
    )
    license_type.items.add(env.implementation.item)
    SealFactory(organization=env.organization, seal_type=SealType.LICENSE)
    case = _make_case(env, "decided")
    login_backoffice(client, env.reviewer)
    page = client.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert 'name="conclude-license_address"' in page
    assert "东胜区鄂尔多斯西街1号" in page
    url = f"/workbench/cases/{case.pk}/act/conclude/"
    missing = client.post(url, {"conclude-version": case.version, "conclude-license_address": "x"})
    assert missing.status_code == 400
    assert not License.objects.exists()
    done = client.post(
        url,
        {
            "conclude-version": case.version,
            "conclude-license_address": "东胜区鄂尔多斯西街1号",
            "conclude-license_scope": "预包装食品销售",
        },
    )
    assert done.status_code == 302
    lic = License.objects.get(case_reference=case.number)
    assert lic.data == {"address": "东胜区鄂尔多斯西街1号", "scope": "预包装食品销售"}


def test_the_case_page_shows_a_pending_push_to_the_department_system(client):
    from tongban.cases.models import DepartmentEndpoint, Dispatch

    env = setting()
    DepartmentEndpoint.objects.create(
        organization=env.organization, url="http://127.0.0.1:9/", secret="s" * 40
    )
    case = submitted(env)
    Dispatch.objects.filter(case=case).update(attempts=2, last_error="HTTP 503")
    login_backoffice(client, env.clerk)
    page = client.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert 'data-dispatch="pending"' in page
    assert "HTTP 503" in page
