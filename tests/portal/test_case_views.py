"""The applicant's case pages: apply, my cases, the case page, correction, withdrawal, results,
messages and the public progress query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.cases.factories import PNG, make_case, pdf, setting, submitted
from tongban.cases import queries, services
from tongban.cases.models import Case, CaseStatus, Draft
from tongban.core.models import Notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    return setting()


def login(client, user):
    client.force_login(user)
    return client


def apply_url(env):
    return reverse("portal:apply", args=[env.implementation.code])


def test_anonymous_visitors_are_sent_to_log_in(client, env):
    response = client.get(apply_url(env))
    assert response.status_code == 302
    assert reverse("portal:account_login") in response["Location"]


def test_the_apply_page_prefills_and_locks_what_identity_knows(client, env):
    response = login(client, env.citizen).get(apply_url(env))
    assert response.status_code == 200
    body = response.content.decode()
    assert "已根据您的实名信息自动填写" in body
    assert env.citizen.id_number not in body  # shown masked only
    assert "营业执照" in body
    assert "场所平面图" in body


def test_an_unverified_person_is_told_to_verify(client, env):
    person = UserFactory(unverified=True)
    env.implementation.required_level = 2
    env.implementation.save()
    response = login(client, person).get(apply_url(env))
    assert response.status_code == 403
    assert reverse("portal:account_verify") in response.content.decode()


def test_autosave_stores_the_draft_and_never_refuses(client, env):
    login(client, env.citizen)
    response = client.post(
        apply_url(env), {"action": "autosave", "shop.area": "not a number", "x.unknown": "1"}
    )
    assert response.status_code == 200
    assert response.json()["saved"]
    draft = Draft.objects.get(applicant=env.citizen)
    assert '"shop.area": "not a number"' in draft.form_data
    assert "x.unknown" not in draft.form_data


def test_submitting_lists_every_problem_at_once_and_keeps_the_draft(client, env):
    login(client, env.citizen)
    response = client.post(apply_url(env), {"action": "submit", "shop.area": "0"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "请填写经营场所地址" in body
    assert "经营面积（平方米）不能小于1" in body
    assert "请上传：营业执照" in body
    assert "请上传：场所平面图" in body
    assert Case.objects.count() == 0
    assert Draft.objects.filter(applicant=env.citizen).exists()


def test_a_wrong_file_is_refused_by_content_and_the_rest_is_kept(client, env):
    login(client, env.citizen)
    fake = pdf("virus.pdf")
    fake.file.seek(0)
    fake.file.truncate()
    fake.file.write(b"MZ\x90\x00 this is an executable")
    fake.file.seek(0)
    response = client.post(
        apply_url(env),
        {
            "action": "save",
            "property.address": "东胜区鄂尔多斯西街1号",
            f"m{env.licence.pk}": fake,
            f"m{env.plan.pk}": pdf("plan.pdf"),
        },
    )
    assert response.status_code == 400
    assert "文件类型不支持" in response.content.decode()
    draft = Draft.objects.get(applicant=env.citizen)
    assert "鄂尔多斯西街" in draft.form_data
    assert list(draft.materials) == [str(env.plan.pk)]


def test_the_upload_endpoint_answers_json(client, env):
    login(client, env.citizen)
    url = reverse("portal:apply_upload", args=[env.implementation.code, env.licence.pk])
    ok = client.post(url, {"file": pdf()})
    assert ok.status_code == 201
    assert len(ok.json()["sm3"]) == 64
    bad = client.post(url, {"file": pdf("x.pdf", b"")} | {"file": _bytes("x.png", b"GIF89a")})
    assert bad.status_code == 400
    assert bad.json()["code"] == "file_type"


def _bytes(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_a_complete_application_becomes_a_case_with_an_acknowledgement(client, env):
    login(client, env.citizen)
    response = client.post(
        apply_url(env),
        {
            "action": "submit",
            "property.address": "东胜区鄂尔多斯西街1号",
            "shop.area": "120",
            f"m{env.licence.pk}": pdf("a.pdf"),
            f"m{env.plan.pk}": _bytes("plan.png", PNG),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    assert response["Location"] == reverse("portal:case_submitted", args=[case.number])
    page = client.get(response["Location"]).content.decode()
    assert case.number in page
    assert "查询码" in page
    code = page.split("data-query-code>")[1].split("<")[0]
    assert queries.find_by_check(case.number, code) == case
    # The code is shown once.
    assert "data-query-code" not in client.get(response["Location"]).content.decode()
    assert not Draft.objects.filter(applicant=env.citizen).exists()
    assert Notice.objects.filter(recipient=env.citizen, subject="申请已提交").count() == 1


def test_my_cases_take_the_same_queries_for_few_and_many(client, env):
    login(client, env.citizen)
    submitted(env)
    client.get(reverse("portal:my_cases"))  # warm: session and per-process caches
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("portal:my_cases"))
    for _ in range(4):
        submitted(env)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("portal:my_cases"))
    assert response.status_code == 200
    assert len(many) == len(few)


def test_another_person_cannot_see_my_case(client, env):
    case = submitted(env)
    login(client, UserFactory())
    assert client.get(reverse("portal:case", args=[case.number])).status_code == 404


def test_correction_shows_exactly_the_named_fields_and_accepts_only_those(client, env):
    case = submitted(env)
    services.request_correction(
        actor=env.clerk,
        case=case,
        version=case.version,
        opinion="地址不完整",
        fields=["property.address"],
        materials=[env.plan.pk],
    )
    login(client, env.citizen)
    page = client.get(reverse("portal:case", args=[case.number])).content.decode()
    assert 'name="property.address"' in page
    assert 'name="shop.area"' not in page
    assert f'name="m{env.plan.pk}"' in page
    assert f'name="m{env.licence.pk}"' not in page
    url = reverse("portal:case_resubmit", args=[case.number])
    outside = client.post(
        url,
        {
            "version": case.version,
            "property.address": "新地址1号",
            "shop.area": "99",
            f"m{env.plan.pk}": pdf("p.pdf", b"2"),
        },
    )
    assert outside.status_code == 200 or outside.status_code == 302
    case.refresh_from_db()
    # shop.area is not among the named fields: the view never passes it on.
    client.post(
        url,
        {
            "version": case.version,
            "property.address": "东胜区鄂尔多斯西街1号院2栋",
            f"m{env.plan.pk}": pdf("p.pdf", b"3"),
        },
    )
    case.refresh_from_db()
    assert case.status in (CaseStatus.TO_ACCEPT, CaseStatus.CORRECTING)


def test_an_incomplete_correction_is_refused_and_changes_nothing(client, env):
    case = submitted(env)
    services.request_correction(
        actor=env.clerk,
        case=case,
        version=case.version,
        opinion="请补正",
        fields=["property.address"],
        materials=[env.plan.pk],
    )
    login(client, env.citizen)
    response = client.post(
        reverse("portal:case_resubmit", args=[case.number]),
        {"version": case.version, "property.address": "东胜区鄂尔多斯西街1号院"},
    )
    assert response.status_code == 400
    assert "请补正此项" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTING


def test_withdrawing_needs_a_reason_and_a_fresh_version(client, env):
    case = submitted(env)
    login(client, env.citizen)
    url = reverse("portal:case_withdraw", args=[case.number])
    assert client.post(url, {"version": case.version, "opinion": ""}).status_code == 400
    stale = client.post(url, {"version": case.version - 1, "opinion": "不办了"})
    assert stale.status_code == 409
    assert client.post(url, {"version": case.version, "opinion": "不办了"}).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN


def test_the_result_downloads_only_for_the_applicant_after_conclusion(client, env):
    case = make_case(env, "delivered")
    row = services.result_files(case).first()
    url = reverse("portal:case_result", args=[case.number, row.pk])
    login(client, env.citizen)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.logout()
    login(client, UserFactory())
    assert client.get(url).status_code == 404


def test_progress_reveals_nothing_personal_and_the_same_not_found(client, env):
    case = submitted(env)
    url = reverse("portal:progress")
    ok = client.get(url, {"number": case.number, "check": env.citizen.phone[-4:]})
    body = ok.content.decode()
    assert ok.status_code == 200
    assert "您提交了申请" in body
    assert env.citizen.real_name not in body
    assert env.citizen.phone not in body
    wrong = client.get(
        url,
        {"number": case.number, "check": "0000" if env.citizen.phone[-4:] != "0000" else "1111"},
    )
    unknown = client.get(url, {"number": "150600202611230000019", "check": "1234"})
    assert wrong.status_code == unknown.status_code == 404
    assert "data-not-found" in wrong.content.decode()
    assert wrong.content.decode().replace(case.number, "").count("data-not-found") == 1


def test_messages_can_be_read(client, env):
    submitted(env)
    login(client, env.citizen)
    page = client.get(reverse("portal:notices")).content.decode()
    assert "申请已提交" in page
    client.post(reverse("portal:notices"))
    assert not Notice.objects.filter(recipient=env.citizen, read_at__isnull=True).exists()


def test_the_case_page_takes_the_same_queries_with_more_history(client, env):
    case = submitted(env)
    login(client, env.citizen)
    url = reverse("portal:case", args=[case.number])
    client.get(url)
    with CaptureQueriesContext(connection) as short:
        assert client.get(url).status_code == 200
    for _round in range(3):
        services.request_correction(
            actor=env.clerk,
            case=case,
            version=case.version,
            opinion="请补正",
            fields=["property.address"],
            materials=[env.plan.pk],
        )
        services.resubmit(
            actor=env.citizen,
            case=case,
            version=case.version,
            data={"property.address": f"东胜区鄂尔多斯西街{_round + 2}号"},
            uploads_by_material={str(env.plan.pk): [pdf("p.pdf", bytes([_round]))]},
        )
    with CaptureQueriesContext(connection) as long:
        assert client.get(url).status_code == 200
    assert len(long) == len(short)


def test_a_file_field_keeps_its_upload_and_travels_with_the_case(client, env):
    from tongban.cases.models import FieldKind, FormField, MaterialKind

    FormField.objects.create(
        implementation=env.implementation,
        key="shop.photo",
        label="门头照片",
        kind=FieldKind.FILE,
        order=9,
    )
    login(client, env.citizen)
    first = client.post(apply_url(env), {"action": "submit", "property.address": "东胜区1号"})
    assert "请上传门头照片" in first.content.decode()
    response = client.post(
        apply_url(env),
        {
            "action": "submit",
            "property.address": "东胜区鄂尔多斯西街1号",
            "shop.area": "120",
            "shop.photo": _bytes("门头.png", PNG),
            f"m{env.licence.pk}": pdf("a.pdf"),
            f"m{env.plan.pk}": pdf("b.pdf", b"b"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get()
    attachment = case.materials.get(kind=MaterialKind.ATTACHMENT)
    assert attachment.content_type == "image/png"


def test_a_file_field_cannot_point_at_someone_elses_file(client, env):
    from tongban.cases import uploads
    from tongban.cases.models import FieldKind, FormField

    FormField.objects.create(
        implementation=env.implementation,
        key="shop.photo",
        label="门头照片",
        kind=FieldKind.FILE,
        order=9,
    )
    theirs = uploads.keep(owner=UserFactory(), upload=_bytes("x.png", PNG), title="x")
    login(client, env.citizen)
    response = client.post(
        apply_url(env),
        {
            "action": "submit",
            "property.address": "东胜区鄂尔多斯西街1号",
            "shop.area": "120",
            "shop.photo": f"library:{theirs.pk}",
            f"m{env.licence.pk}": pdf("a.pdf"),
            f"m{env.plan.pk}": pdf("b.pdf", b"b"),
        },
    )
    assert response.status_code == 400
    assert "请上传门头照片" in response.content.decode()
    assert "x.png" not in response.content.decode()
    assert not Case.objects.exists()


def test_the_apply_page_offers_the_wallet_and_the_workbench_shows_the_license(client, env):
    from tests.backoffice.helpers import login_backoffice
    from tests.licenses.factories import LicenseFactory, LicenseTypeFactory

    license_type = LicenseTypeFactory(name="营业执照（电子）")
    license_type.materials.add(env.licence)
    lic = LicenseFactory(holder=env.citizen, license_type=license_type)
    login(client, env.citizen)
    page = client.get(apply_url(env)).content.decode()
    assert f'value="{env.licence.pk}:{lic.pk}"' in page
    response = client.post(
        apply_url(env),
        {
            "action": "submit",
            "property.address": "东胜区鄂尔多斯西街1号",
            "shop.area": "120",
            "use_license": f"{env.licence.pk}:{lic.pk}",
            f"m{env.plan.pk}": pdf("b.pdf", b"b"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    case = Case.objects.get()
    client.logout()
    login_backoffice(client, env.clerk)
    staff_page = client.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert 'data-license-status="valid"' in staff_page
