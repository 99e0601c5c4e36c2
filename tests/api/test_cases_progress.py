"""``GET /api/v1/cases/progress``: anyone with the number and the check (phone tail or query code)
sees the progress and nothing personal; a wrong check reads exactly like an unknown number;
guessing is limited per address."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cases.factories import FORM, pdf, setting
from tongban.cases import applications, services
from tongban.core import calendar

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/progress"
NOT_FOUND = {"code": "not_found", "message": "办件不存在"}


def _submit(env):
    """Submit as the citizen; returns the case and the query code of the acknowledgement."""
    citizen = env.citizen
    draft = applications.open_draft(actor=citizen, implementation=env.implementation)
    applications.save_draft(actor=citizen, draft=draft, data=FORM)
    applications.attach(actor=citizen, draft=draft, material_id=env.licence.pk, upload=pdf())
    applications.attach(
        actor=citizen, draft=draft, material_id=env.plan.pk, upload=pdf("b.pdf", b"plan")
    )
    done = applications.submit(actor=citizen, draft=draft)
    return done.case, done.query_code


def _ask(client, number, check, **extra):
    return client.get(URL, {"number": number, "check": check}, **extra)


def _assert_nothing_personal(response, env, *also):
    text = response.content.decode()
    citizen = env.citizen
    for secret in (
        citizen.real_name,
        citizen.real_name[1:],  # a masked form would still show the given name
        citizen.phone,
        citizen.id_number,
        citizen.username,
        FORM["property.address"],
        env.clerk.real_name,
        env.reviewer.real_name,
        *also,
    ):
        assert secret
        assert secret not in text, secret
    assert set(response.json()) == {
        "number",
        "status",
        "item",
        "organization",
        "submitted_on",
        "accepted_on",
        "promised_due",
        "clock",
        "steps",
    }
    for step in response.json()["steps"]:
        assert set(step) == {"action", "label", "on"}


def test_by_phone_tail(client):
    env = setting()
    case, _code = _submit(env)

    response = _ask(client, case.number, env.citizen.phone[-4:])

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["number"] == case.number
    assert body["status"] == {"code": "to_accept", "label": "待受理"}
    assert body["item"] == env.implementation.item.name
    assert body["organization"] == "东胜区市场监督管理局"
    assert body["submitted_on"] == calendar.china_date(case.submitted_at).isoformat()
    assert (body["accepted_on"], body["promised_due"]) == (None, None)
    assert body["clock"] == {"code": "not_started", "label": "未开始计时"}
    assert [(s["action"], s["label"]) for s in body["steps"]] == [("submit", "提交申请")]
    _assert_nothing_personal(response, env)


def test_by_query_code_after_acceptance_and_a_correction(client):
    env = setting()
    case, code = _submit(env)
    services.accept(
        actor=env.clerk, case=case, version=case.version, opinion="经办人李雷：材料齐全"
    )
    services.request_correction(
        actor=env.reviewer,
        case=case,
        version=case.version,
        opinion="平面图与身份证复印件不清晰",
        fields=["property.address"],
        materials=[],
    )

    response = _ask(client, case.number.lower(), code)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == {"code": "correcting", "label": "待补正"}
    assert body["accepted_on"] is not None
    assert body["promised_due"] == case.promised_due.isoformat()
    assert body["clock"]["code"] == "paused"
    assert [s["action"] for s in body["steps"]] == ["submit", "accept", "request_correction"]
    _assert_nothing_personal(response, env, "李雷", "身份证复印件", "property.address")


def test_a_pending_extension_is_not_shown(client):
    env = setting()
    case, code = _submit(env)
    services.accept(actor=env.clerk, case=case, version=case.version)
    services.request_extension(
        actor=env.reviewer, case=case, version=case.version, days=5, opinion="需现场核查"
    )

    body = _ask(client, case.number, code).json()

    assert [s["action"] for s in body["steps"]] == ["submit", "accept"]
    assert "现场核查" not in str(body)


@pytest.mark.parametrize(
    "check",
    ["0000", "12345678", "", "1"],
    ids=["wrong-tail", "wrong-code", "empty", "short"],
)
def test_a_wrong_check_reads_like_an_unknown_number(client, check):
    env = setting()
    case, code = _submit(env)
    if check == "0000" and env.citizen.phone.endswith("0000"):
        check = "9999"
    assert check != code

    wrong = _ask(client, case.number, check)
    unknown = _ask(client, "150602202611230000172", env.citizen.phone[-4:])

    assert (wrong.status_code, unknown.status_code) == (404, 404)
    assert wrong.content == unknown.content
    assert wrong.json() == NOT_FOUND
    assert wrong.headers.keys() == unknown.headers.keys()


def test_the_phone_tail_must_be_exactly_the_last_four_digits(client):
    env = setting()
    case, _code = _submit(env)
    assert _ask(client, case.number, env.citizen.phone[-5:]).status_code == 404
    assert _ask(client, case.number, env.citizen.phone[-3:]).status_code == 404


def test_missing_parameters_answer_422(client):
    response = client.get(URL, {"number": "150602202611230000172"})
    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_parameter",
        "message": "缺少必填参数",
        "field": "check",
    }


def test_guessing_is_limited_per_address(client):
    env = setting()
    case, code = _submit(env)

    answers = [_ask(client, case.number, f"{n:04d}").status_code for n in range(30)]
    assert set(answers) <= {404, 200}

    limited = _ask(client, case.number, code)  # even the right check, once over the limit
    assert limited.status_code == 429
    assert limited.json() == {"code": "rate_limited", "message": "查询过于频繁，请一分钟后再试"}
    assert limited["Retry-After"] == "60"
    # Another address may still ask about another case …
    second, second_code = _submit(env)
    other = _ask(client, second.number, second_code, REMOTE_ADDR="10.20.30.40")
    assert other.status_code == 200
    # … but the number guessed at is locked for an hour from every address, and says only 404.
    locked = _ask(client, case.number, code, REMOTE_ADDR="10.20.30.40")
    assert locked.status_code == 404
    assert locked.json() == {"code": "not_found", "message": "办件不存在"}


def test_the_number_of_queries_does_not_grow_with_the_steps(client):
    env = setting()
    short, short_code = _submit(env)
    long, long_code = _submit(env)
    services.accept(actor=env.clerk, case=long, version=long.version)
    services.approve(actor=env.reviewer, case=long, version=long.version)
    services.conclude(actor=env.reviewer, case=long, version=long.version)

    _ask(client, "150602202611230000172", "0000")  # the address's throttle row now exists
    with CaptureQueriesContext(connection) as few:
        assert _ask(client, short.number, short_code).status_code == 200
    with CaptureQueriesContext(connection) as many:
        body = _ask(client, long.number, long_code).json()

    assert len(body["steps"]) == 4
    assert len(many) == len(few)
