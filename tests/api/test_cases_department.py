"""The department-system interface: a citizen's submission is pushed to the organization's own
business system (a local fake server), which then reads the case and handles it through
``/api/v1/cases/department/…`` with a client-credentials token. Another organization's system
sees nothing and changes nothing."""

from __future__ import annotations

import base64

import pytest
from django.core.management import call_command

from tests.accounts.factories import UserFactory
from tests.accounts.oidc_support import issue_token, make_client, make_machine_client
from tests.cases.department_server import PROXY_VARIABLES, FakeDepartment, connect
from tests.cases.factories import PDF, setting, submitted
from tests.core.factories import OrganizationFactory
from tongban.cases import effects, services
from tongban.cases.models import Case, CaseEvent, CaseMaterial, Dispatch, DispatchStatus
from tongban.core.models import AuditRecord

pytestmark = pytest.mark.django_db

NOT_FOUND = {"code": "not_found", "message": "办件不存在", "field": "", "errors": []}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake():
    server = FakeDepartment().start()
    yield server
    server.stop()


@pytest.fixture
def env(fake):
    env = setting()
    env.endpoint, env.token = connect(env.organization, fake.url)
    return env


def _case_url(number: str) -> str:
    return f"/api/v1/cases/department/cases/{number}"


def _get(client, token, number):
    return client.get(_case_url(number), HTTP_AUTHORIZATION=f"Bearer {token}")


def _act(client, token, number, action, body=None, *, raw=None):
    return client.post(
        f"{_case_url(number)}/actions/{action}",
        data=raw if raw is not None else ({} if body is None else body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _snapshot(case):
    case = Case.objects.get(pk=case.pk)
    return (
        case.status,
        case.version,
        CaseEvent.objects.filter(case=case).count(),
        CaseMaterial.objects.filter(case=case).count(),
    )


# --- The whole round trip ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_submission_is_pushed_and_the_department_handles_the_case(client, env, fake):
    case = submitted(env)
    dispatch = Dispatch.objects.get(case=case)

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    (push,) = fake.received
    assert push.signature_is_valid()
    assert push.headers["Idempotency-Key"] == dispatch.idempotency_key
    assert push.json["event"] == "submit"
    assert push.json["case"]["number"] == case.number
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.DELIVERED

    # The department system reads the case: the same as the push's case.
    read = _get(client, env.token, case.number)
    assert read.status_code == 200
    assert read.json() == push.json["case"]
    assert read.json()["applicant"]["id_number"] == env.citizen.id_number
    audit = AuditRecord.objects.get(action="personal.read", subject=f"user:{env.citizen.pk}")
    assert audit.details["number"] == case.number
    assert audit.details["client_id"] == env.endpoint.client_id

    accepted = _act(client, env.token, case.number, "accept", {"version": 1, "opinion": "受理"})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json() == {
        "number": case.number,
        "action": "accept",
        "status": "under_review",
        "version": 2,
    }
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.action, event.actor_id) == ("accept", None)
    assert event.actor_label == "部门系统：东胜区市场监督管理局"
    # The department's own moves are not pushed back to it.
    assert Dispatch.objects.filter(case=case).count() == 1

    correction = _act(
        client,
        env.token,
        case.number,
        "request_correction",
        {"version": 2, "opinion": "地址与平面图不一致", "fields": ["property.address"]},
    )
    assert correction.status_code == 200, correction.content
    assert correction.json()["status"] == "correcting"

    # The citizen corrects: that is pushed.
    case.refresh_from_db()
    services.resubmit(
        actor=env.citizen,
        case=case,
        version=case.version,
        data={"property.address": "东胜区鄂尔多斯西街2号"},
        uploads_by_material={},
    )
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert [r.json["event"] for r in fake.received] == ["submit", "resubmit"]
    assert fake.received[1].json["case"]["form"]["property.address"] == "东胜区鄂尔多斯西街2号"
    assert fake.received[1].signature_is_valid()
    version = fake.received[1].json["case"]["version"]

    approved = _act(client, env.token, case.number, "approve", {"version": version})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "decided"

    result = base64.b64encode(PDF + b"licence").decode()
    concluded = _act(
        client,
        env.token,
        case.number,
        "conclude",
        {"version": version + 1, "document_base64": result, "document_name": "许可证.pdf"},
    )
    assert concluded.status_code == 200, concluded.content
    assert concluded.json()["status"] == "concluded"
    stored = CaseMaterial.objects.get(case=case, kind="result")
    assert stored.name == "许可证.pdf"
    assert stored.file.read() == PDF + b"licence"

    delivered = _act(client, env.token, case.number, "deliver", {"method": "online"})
    assert delivered.status_code == 200, delivered.content
    case.refresh_from_db()
    assert (case.status, case.delivery_method) == ("delivered", "online")
    assert list(case.events.values_list("action", flat=True)) == [
        "submit",
        "accept",
        "request_correction",
        "resubmit",
        "approve",
        "conclude",
        "deliver",
    ]


def test_the_case_read_is_the_payload_of_a_push(client, env):
    case = submitted(env)
    dispatch = Dispatch.objects.get(case=case)

    response = _get(client, env.token, case.number.lower())

    assert response.status_code == 200
    assert response.json() == effects.department_payload(dispatch)["case"]


def test_reject_and_deny_need_a_reason(client, env):
    case = submitted(env)
    before = _snapshot(case)

    refused = _act(client, env.token, case.number, "reject", {"version": 1})

    assert refused.status_code == 422
    assert refused.json() == {
        "code": "opinion_required",
        "message": "请填写意见或理由",
        "field": "opinion",
        "errors": [],
    }
    assert _snapshot(case) == before
    rejected = _act(client, env.token, case.number, "reject", {"opinion": "不属于本部门职权"})
    assert rejected.json()["status"] == "rejected"


def test_deny_with_a_decision_document(client, env):
    case = submitted(env)
    services.accept(actor=env.clerk, case=case, version=case.version)

    document = base64.b64encode(PDF + b"deny").decode()
    response = _act(
        client,
        env.token,
        case.number,
        "deny",
        {"opinion": "场所不符合要求", "document_base64": document, "document_name": "决定书.pdf"},
    )

    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert (case.status, case.decision) == ("decided", "denied")
    assert CaseMaterial.objects.get(case=case, kind="decision").file.read() == PDF + b"deny"


# --- Errors: each changes nothing ---------------------------------------------------------------


def test_a_stale_version_is_a_conflict(client, env):
    case = submitted(env)
    before = _snapshot(case)

    response = _act(client, env.token, case.number, "accept", {"version": 7})

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert _snapshot(case) == before


def test_an_action_the_state_does_not_allow_is_409(client, env):
    case = submitted(env)
    before = _snapshot(case)

    response = _act(client, env.token, case.number, "deliver", {"method": "window"})

    assert response.status_code == 409
    assert response.json()["code"] == "not_allowed"
    assert _snapshot(case) == before


def test_a_correction_must_name_something(client, env):
    case = submitted(env)
    response = _act(
        client, env.token, case.number, "request_correction", {"opinion": "请补正", "fields": []}
    )
    assert (response.status_code, response.json()["code"]) == (422, "correction_empty")


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("not base64 at all!", "invalid_parameter"),
        (base64.b64encode(b"MZ\x90\x00 an executable").decode(), "file_type"),
    ],
)
def test_a_bad_document_is_refused(client, env, document, code):
    case = submitted(env)
    services.accept(actor=env.clerk, case=case, version=case.version)
    before = _snapshot(case)

    response = _act(
        client, env.token, case.number, "approve", {"opinion": "准予", "document_base64": document}
    )

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == (code, "document_base64")
    assert _snapshot(case) == before


def test_an_unknown_action_and_a_body_that_is_not_json(client, env):
    case = submitted(env)

    unknown = _act(client, env.token, case.number, "archive")
    broken = _act(client, env.token, case.number, "accept", raw="{not json")

    assert (unknown.status_code, unknown.json()["field"]) == (422, "action")
    assert (broken.status_code, broken.json()["code"]) == (400, "invalid_json")
    assert _snapshot(case)[:2] == ("to_accept", 1)


def test_the_body_may_be_left_out(client, env):
    case = submitted(env)
    response = client.post(
        f"{_case_url(case.number)}/actions/accept",
        data="",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {env.token}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "under_review"


# --- Who may call -----------------------------------------------------------------------------


def test_another_organizations_system_sees_nothing_and_changes_nothing(client, env, fake):
    case = submitted(env)
    _other_endpoint, other_token = connect(
        OrganizationFactory(name="东胜区卫生健康委员会"), fake.url
    )
    before = _snapshot(case)
    audits = AuditRecord.objects.count()

    read = _get(client, other_token, case.number)
    acted = _act(client, other_token, case.number, "accept", {"version": 1})
    unknown = _get(client, other_token, "150602202611230000172")

    assert (read.status_code, acted.status_code, unknown.status_code) == (404, 404, 404)
    assert read.json() == acted.json() == unknown.json() == NOT_FOUND
    assert _snapshot(case) == before
    assert AuditRecord.objects.count() == audits


def test_a_client_that_is_no_department_system_is_refused(client, env):
    case = submitted(env)
    registered = make_machine_client(scopes=("cases:read", "cases:handle"))
    token = issue_token(registered.application, scopes=("cases:read", "cases:handle"))

    response = _act(client, token, case.number, "accept")

    assert response.status_code == 403
    assert response.json()["code"] == "no_endpoint"
    assert _snapshot(case)[:2] == ("to_accept", 1)


def test_a_disabled_endpoint_no_longer_acts(client, env):
    case = submitted(env)
    env.endpoint.enabled = False
    env.endpoint.save()
    assert _act(client, env.token, case.number, "accept").json()["code"] == "no_endpoint"


def _application(env):
    from oauth2_provider.models import Application

    return Application.objects.get(client_id=env.endpoint.client_id)


def test_reading_and_handling_need_their_scopes(client, env):
    case = submitted(env)
    read_only = issue_token(_application(env), scopes=("cases:read",))
    handle_only = issue_token(_application(env), scopes=("cases:handle",))

    refused = _act(client, read_only, case.number, "accept")

    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"
    assert 'scope="cases:handle"' in refused["WWW-Authenticate"]
    assert _get(client, read_only, case.number).status_code == 200
    assert _get(client, handle_only, case.number).status_code == 403
    assert _snapshot(case)[:2] == ("to_accept", 1)


def test_a_person_token_cannot_act_as_the_department(client, env):
    case = submitted(env)
    registered = make_client(
        scopes=("openid", "profile", "cases:read", "cases:handle"), organization=env.organization
    )
    env.endpoint.client_id = registered.application.client_id
    env.endpoint.save()
    token = issue_token(
        registered.application, user=UserFactory(), scopes=("openid", "cases:handle")
    )

    response = _act(client, token, case.number, "accept")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert _snapshot(case)[:2] == ("to_accept", 1)


def test_no_token(client, env):
    case = submitted(env)
    response = client.get(_case_url(case.number))
    assert (response.status_code, response.json()["code"]) == (401, "token_missing")


# --- The OpenAPI document ----------------------------------------------------------------------


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_push_is_documented_as_it_is_sent(client, env, fake):
    from tongban.api.cases import CaseEventPush, DepartmentCaseOut
    from tongban.cases import tasks

    case = submitted(env)
    tasks.attempt(Dispatch.objects.get(case=case).pk)
    doc = client.get("/api/v1/openapi.json").json()

    push = doc["webhooks"]["caseEvent"]["post"]
    assert {p["name"] for p in push["parameters"] if p["in"] == "header"} == {
        "Idempotency-Key",
        "X-Tongban-Timestamp",
        "X-Tongban-Signature",
    }
    assert set(fake.received[0].headers) >= {p["name"] for p in push["parameters"]}
    schemas = doc["components"]["schemas"]
    assert all(ref.removeprefix("#/components/schemas/") in schemas for ref in _refs(doc))
    # What is sent, and what a department reads, fit the documented schemas exactly.
    sent = fake.received[0].json
    assert CaseEventPush.model_validate(sent).model_dump(mode="json") == sent
    read = _get(client, env.token, case.number).json()
    assert DepartmentCaseOut.model_validate(read).model_dump(mode="json") == read
    for path in ("/api/v1/cases/progress", "/api/v1/cases/department/cases/{number}"):
        operation = doc["paths"][path]["get"]
        assert operation["summary"]
        assert operation["description"]
    action = doc["paths"]["/api/v1/cases/department/cases/{number}/actions/{action}"]["post"]
    assert set(action["requestBody"]["content"]["application/json"]["examples"]) == {
        "accept",
        "reject",
        "request_correction",
        "approve",
        "deny",
        "conclude",
        "deliver",
    }


def test_a_department_downloads_a_material_and_checks_its_digest(client, env):
    case = submitted(env)
    row = case.materials.order_by("id").first()
    url = f"{_case_url(case.number)}/materials/{row.pk}"
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {env.token}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    from tongban.core import crypto

    assert crypto.sm3(body).hex() == row.sm3 == response["X-Content-SM3"]
    assert AuditRecord.objects.filter(
        object_type="cases.casematerial", object_id=str(row.pk)
    ).exists()


def test_another_organizations_material_reads_as_not_found(client, env):
    other = setting()
    case = submitted(other)
    row = case.materials.first()
    url = f"{_case_url(case.number)}/materials/{row.pk}"
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {env.token}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    mine = submitted(env)
    wrong = client.get(
        f"{_case_url(mine.number)}/materials/{row.pk}", HTTP_AUTHORIZATION=f"Bearer {env.token}"
    )
    assert wrong.status_code == 404
