"""窗口收件: a counter clerk finds the service and the applicant, fills in the application and
starts a case routed to the handling organization; every problem is listed at once."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.accounts.factories import UserFactory
from tests.backoffice.helpers import login_backoffice
from tests.cases.factories import make_case, pdf, setting
from tests.catalog.factories import SituationFactory, SituationOptionFactory
from tongban.backoffice import workbench_counter
from tongban.cases import queries
from tongban.cases.models import Case, CaseStatus, Channel, LibraryFile
from tongban.core.models import AuditAction, AuditRecord

pytestmark = pytest.mark.django_db

URL = reverse("workbench:counter")


@pytest.fixture
def env():
    return setting()


def chosen(env):
    return f"{URL}?impl={env.implementation.pk}"


def find(client, env, number):
    return client.post(
        chosen(env), {"impl": env.implementation.pk, "step": "find", "number": number}
    )


def token(env, applicant=None):
    return workbench_counter._token_for(applicant or env.citizen, env.counter)


def application(env, *, data=None, files=None, answers=(), step="submit", applicant=None):
    body = {
        "impl": env.implementation.pk,
        "applicant": token(env, applicant),
        "step": step,
        "answers": [str(a) for a in answers],
        "f-property.address": "东胜区鄂尔多斯西街1号",
        "f-shop.area": "120",
    }
    body.update({f"f-{k}": v for k, v in (data or {}).items()})
    if files is None:
        files = {f"m{env.licence.pk}": pdf("licence.pdf"), f"m{env.plan.pk}": pdf("p.pdf", b"p")}
    body.update(files)
    return body


# --- Authorization -------------------------------------------------------------------------------


def test_anonymous_and_citizens_are_sent_to_the_staff_login(client, env):
    assert client.get(URL).status_code == 302
    login_backoffice(client, env.citizen)
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_staff_without_a_counter_post_are_refused_and_nothing_is_created(client, env):
    for person in (env.reviewer, env.stranger, env.org_admin):
        login_backoffice(client, person)
        assert client.get(URL).status_code == 403
        response = client.post(chosen(env), application(env))
        assert response.status_code == 403
    assert not Case.objects.exists()


def test_counter_clerks_open_the_page(client, env):
    login_backoffice(client, env.counter)
    response = client.get(URL)
    assert response.status_code == 200
    assert f'href="{URL}" aria-current="page"' in response.content.decode()


# --- Finding the service and the applicant -------------------------------------------------------


def test_search_finds_any_organizations_service_by_code_or_item_name(client, env):
    login_backoffice(client, env.counter)
    impl = env.implementation
    for query in (impl.code, impl.item.name[:3]):
        html = client.get(URL, {"q": query}).content.decode()
        assert f'data-impl="{impl.pk}"' in html
        assert impl.organization.name in html
    html = client.get(URL, {"q": "没有这个事项"}).content.decode()
    assert 'data-no-results="1"' in html


def test_an_unknown_or_inactive_service_is_not_found(client, env):
    login_backoffice(client, env.counter)
    assert client.get(URL, {"impl": 999999}).status_code == 404
    env.implementation.status = "draft"
    env.implementation.save()
    assert client.get(chosen(env)).status_code == 404


@pytest.mark.parametrize("by", ["id_number", "phone"])
def test_finding_the_applicant_shows_the_masked_profile_and_records_the_read(client, env, by):
    login_backoffice(client, env.counter)
    citizen = env.citizen
    response = find(client, env, getattr(citizen, by))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-applicant="{citizen.pk}"' in html
    assert citizen.masked_id_number in html
    assert citizen.id_number not in html
    assert citizen.phone not in html
    read = AuditRecord.objects.get(action=AuditAction.PERSONAL_READ)
    assert (read.actor_id, read.subject) == (env.counter.pk, f"user:{citizen.pk}")
    # The form is there, with the fields known from the verified identity locked and masked.
    assert 'data-field="applicant.id_number"' in html
    assert 'name="f-applicant.id_number"' not in html
    assert 'name="f-property.address"' in html
    assert f'name="m{env.licence.pk}"' in html


def test_an_unknown_applicant_is_a_clear_error(client, env):
    login_backoffice(client, env.counter)
    response = find(client, env, "13900000000")
    assert response.status_code == 400
    assert "未找到该申请人" in response.content.decode()
    assert not AuditRecord.objects.filter(action=AuditAction.PERSONAL_READ).exists()


def test_an_unverified_applicant_cannot_apply(client, env):
    person = UserFactory(unverified=True)
    login_backoffice(client, env.counter)
    response = find(client, env, person.phone)
    assert response.status_code == 400
    assert "尚未完成实名认证" in response.content.decode()


def test_a_forged_or_foreign_applicant_token_is_refused(client, env):
    login_backoffice(client, env.counter)
    body = application(env)
    body["applicant"] = "forged"
    response = client.post(chosen(env), body)
    assert response.status_code == 400
    assert "申请人信息已过期" in response.content.decode()
    # A token made out to another clerk does not work either.
    body = application(env)
    body["applicant"] = workbench_counter._token_for(env.citizen, env.clerk)
    assert client.post(chosen(env), body).status_code == 400
    assert not Case.objects.exists()


# --- Submitting ----------------------------------------------------------------------------------


def test_the_counter_starts_a_case_routed_to_the_handling_organization(client, env):
    login_backoffice(client, env.counter)
    response = client.post(chosen(env), application(env))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == reverse("workbench:case", args=[case.pk])
    assert case.channel == Channel.COUNTER
    assert case.organization == env.organization
    assert case.counter_organization == env.centre
    assert case.applicant == env.citizen
    assert case.status == CaseStatus.TO_ACCEPT
    assert case.materials.count() == 2
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'data-receipt="1"' in html
    code = html.split("data-query-code><strong>")[1].split("</strong>")[0]
    assert len(code) == 8
    assert queries.find_by_check(case.number, code) == case
    # The code is shown once.
    assert 'data-receipt="1"' not in client.get(response["Location"]).content.decode()
    # The counter may act on what it took in.
    assert 'data-action="accept"' in html


def test_invalid_input_lists_every_error_at_once_and_keeps_what_was_typed(client, env):
    login_backoffice(client, env.counter)
    body = application(
        env,
        data={"property.address": "", "shop.area": "-5"},
        files={f"m{env.plan.pk}": pdf("p.pdf")},
    )
    response = client.post(chosen(env), body)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-errors="1"' in html
    assert 'data-error-for="property.address"' in html
    assert 'data-error-for="shop.area"' in html
    assert f'data-error-for="m{env.licence.pk}"' in html
    assert 'value="-5"' in html
    assert not Case.objects.exists()


def test_a_bad_file_is_listed_with_the_other_errors_and_nothing_is_stored(client, env):
    login_backoffice(client, env.counter)
    bad = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a scan", content_type="application/pdf")
    body = application(
        env,
        data={"shop.area": "abc"},
        files={f"m{env.licence.pk}": bad, f"m{env.plan.pk}": pdf("p.pdf")},
    )
    response = client.post(chosen(env), body)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-error-for="m{env.licence.pk}"' in html
    assert "文件类型不支持" in html
    assert 'data-error-for="shop.area"' in html
    assert not LibraryFile.objects.exists()
    assert not Case.objects.exists()


def test_situations_must_be_answered_and_decide_the_materials(client, env):
    situation = SituationFactory(implementation=env.implementation, question="是否租赁场所？")
    yes = SituationOptionFactory(situation=situation, label="是")
    SituationOptionFactory(situation=situation, label="否")
    env.proof.conditions.add(yes)
    login_backoffice(client, env.counter)
    response = client.post(chosen(env), application(env))
    assert response.status_code == 400
    html = response.content.decode()
    assert "请回答：是否租赁场所？" in html
    assert f'data-situation="{situation.pk}"' in html
    # Refreshing with an answer keeps it chosen and lists the material it brings.
    response = client.post(chosen(env), application(env, answers=[yes.pk], step="refresh"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{yes.pk}" checked' in html
    assert f'data-material="{env.proof.pk}"' in html
    response = client.post(chosen(env), application(env, answers=[yes.pk]))
    assert response.status_code == 302
    assert Case.objects.get().answers == [yes.pk]


def test_the_counter_clerk_sees_counter_cases_in_the_queue(client, env):
    login_backoffice(client, env.counter)
    client.post(chosen(env), application(env))
    case = Case.objects.get()
    html = client.get(reverse("workbench:queues"), {"queue": "to_accept"}).content.decode()
    assert case.number in html
    # …but not the organization's online cases.
    online = make_case(env)
    html = client.get(reverse("workbench:queues"), {"queue": "to_accept"}).content.decode()
    assert online.number not in html


def test_a_correction_is_brought_back_to_the_counter(client, env):
    login_backoffice(client, env.counter)
    client.post(chosen(env), application(env))
    case = Case.objects.get()
    case_page = reverse("workbench:case", args=[case.pk])
    response = client.post(
        reverse("workbench:act", args=[case.pk, "request_correction"]),
        {
            "request_correction-version": case.version,
            "request_correction-fields": ["property.address"],
            "request_correction-materials": [env.plan.pk],
            "request_correction-opinion": "地址写到门牌号，平面图重新扫描",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    html = client.get(case_page).content.decode()
    assert 'data-action="resubmit"' in html
    assert 'name="resubmit-property.address"' in html
    assert f'name="resubmit-m{env.plan.pk}"' in html
    assert 'name="resubmit-shop.area"' not in html
    resubmit = reverse("workbench:act", args=[case.pk, "resubmit"])
    # Leaving out the named material is refused, and the field it names is marked.
    response = client.post(
        resubmit,
        {"resubmit-version": case.version, "resubmit-property.address": "西街1号101室"},
    )
    assert response.status_code == 400
    assert f'data-error-for="m{env.plan.pk}"' in response.content.decode()
    response = client.post(
        resubmit,
        {
            "resubmit-version": case.version,
            "resubmit-property.address": "西街1号101室",
            f"resubmit-m{env.plan.pk}": pdf("plan2.pdf", b"v2"),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.TO_ACCEPT
    assert case.correction == {}
