"""The catalog admin: a contradiction is shown beside its field and nothing is saved."""

import io

import openpyxl
import pytest
from django.urls import reverse

from tests.backoffice.helpers import login_backoffice
from tests.catalog.factories import ImplementationFactory, ItemFactory
from tests.core.factories import OrganizationFactory
from tongban.catalog.models import Implementation, ImplementationStatus, ServiceHours

pytestmark = pytest.mark.django_db

INLINES = (
    "locations",
    "hours",
    "steps",
    "materials",
    "situations",
    "fees",
    "intermediaries",
    "faqs",
)


@pytest.fixture
def operator(client, django_user_model):
    user = django_user_model.objects.create_superuser("operator", "op@example.com", "x-pass-123")
    login_backoffice(client, user)
    return client


def form_data(
    impl_values: dict, inlines: dict[str, list[dict]] | None = None, initial: dict | None = None
) -> dict:
    data = {
        "statutory_limit": 20,
        "statutory_unit": "working",
        "promised_limit": 5,
        "promised_unit": "working",
        "online_depth": 4,
        "visits_required": 0,
        "required_level": 2,
        "handle_at_window": "on",
        "handle_on_pc": "on",
        "conditions": "符合条件",
        "result_name": "决定书",
        "consultation_phone": "0477-12345",
        "status": "draft",
        "version": 1,
        "deliver_at_window": "on",
    }
    data.update(impl_values)
    for prefix in INLINES:
        rows = (inlines or {}).get(prefix, [])
        data[f"{prefix}-TOTAL_FORMS"] = len(rows)
        data[f"{prefix}-INITIAL_FORMS"] = (initial or {}).get(prefix, 0)
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
        data[f"{prefix}-MAX_NUM_FORMS"] = 1000
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{i}-{key}"] = value
    return {k: v for k, v in data.items() if v is not None}


def new_values() -> dict:
    org = OrganizationFactory()
    return {
        "item": ItemFactory().pk,
        "organization": org.pk,
        "region": org.region.pk,
        "code": "NEW-1",
    }


def test_add_with_depth4_and_visits_shows_the_error_and_saves_nothing(operator):
    url = reverse("admin:catalog_implementation_add")
    response = operator.post(url, form_data({**new_values(), "visits_required": 2}))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["visits_required"] == [
        "全程网办（Ⅳ级）事项无需到现场，到办事现场次数应为0，当前为2次"
    ]
    assert "全程网办（Ⅳ级）事项无需到现场" in response.content.decode()
    assert not Implementation.objects.filter(code="NEW-1").exists()


def test_promised_longer_than_statutory_is_refused(operator):
    url = reverse("admin:catalog_implementation_add")
    response = operator.post(
        url, form_data({**new_values(), "promised_limit": 30, "promised_unit": "natural"})
    )
    assert response.status_code == 200
    assert "promised_limit" in response.context["adminform"].form.errors
    assert not Implementation.objects.exists()


def test_inline_contradiction_blocks_the_change(operator):
    impl = ImplementationFactory(complete=True, draft=True)
    hours = impl.hours.get()
    url = reverse("admin:catalog_implementation_change", args=[impl.pk])
    rows = {
        "hours": [
            {
                "id": hours.pk,
                "implementation": impl.pk,
                "weekday_from": 1,
                "weekday_to": 5,
                "opens": "17:00",
                "closes": "09:00",
            },
        ]
    }
    values = {
        "item": impl.item.pk,
        "organization": impl.organization.pk,
        "region": impl.region.pk,
        "code": impl.code,
        "promised_limit": 3,
    }
    response = operator.post(url, form_data(values, rows, initial={"hours": 1}))
    assert response.status_code == 200
    formset = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "hours"
    )
    assert formset.formset.forms[0].errors["closes"] == ["办理时间有误：开始时间不早于结束时间"]
    impl.refresh_from_db()
    assert impl.promised_limit == 5  # the implementation was not saved either
    assert ServiceHours.objects.get(pk=hours.pk).opens.hour == 9


def test_valid_add_saves_and_warns_about_defects(operator):
    url = reverse("admin:catalog_implementation_add")
    response = operator.post(url, form_data(new_values()), follow=True)
    assert response.status_code == 200
    impl = Implementation.objects.get(code="NEW-1")
    assert impl.region_code == impl.region.code
    texts = [str(m) for m in response.context["messages"]]
    assert any("未标注办理地点" in t for t in texts)
    assert any("未列明办理流程" in t for t in texts)


def test_item_elements_are_read_only_on_the_implementation(operator):
    impl = ImplementationFactory(complete=True)
    response = operator.get(reverse("admin:catalog_implementation_change", args=[impl.pk]))
    body = response.content.decode()
    assert impl.item.legal_basis in body
    form = response.context["adminform"].form
    assert "item_name" not in form.fields
    assert "legal_basis" not in form.fields


def test_publish_action_refuses_a_guide_with_errors(operator):
    bad = ImplementationFactory(complete=True, draft=True, visits_required=1)
    good = ImplementationFactory(complete=True, draft=True)
    url = reverse("admin:catalog_implementation_changelist")
    response = operator.post(
        url, {"action": "publish_selected", "_selected_action": [bad.pk, good.pk]}, follow=True
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any(bad.code in t and "到办事现场次数应为0" in t for t in texts)
    assert any("已发布1项" in t for t in texts)
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.status, good.status) == (ImplementationStatus.DRAFT, ImplementationStatus.ACTIVE)


def test_export_action_returns_the_selected_implementations(operator):
    chosen = ImplementationFactory(complete=True)
    ImplementationFactory(complete=True)
    response = operator.post(
        reverse("admin:catalog_implementation_changelist"),
        {"action": "export_selected", "_selected_action": [chosen.pk]},
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [r[0].value for r in book["实施清单"].iter_rows(min_row=3)] == [chosen.code]


def test_changelist_query_count_is_constant(operator, django_assert_max_num_queries):
    url = reverse("admin:catalog_implementation_changelist")
    ImplementationFactory.create_batch(2)
    operator.get(url)
    ImplementationFactory.create_batch(10)
    with django_assert_max_num_queries(12):
        response = operator.get(url)
    assert response.status_code == 200


def test_item_admin_lists_and_changes(operator):
    item = ItemFactory(name="婚姻登记")
    response = operator.get(reverse("admin:catalog_item_changelist") + "?q=婚姻")
    assert "婚姻登记" in response.content.decode()
    response = operator.get(reverse("admin:catalog_item_change", args=[item.pk]))
    assert response.status_code == 200


def test_a_saved_change_is_recorded_in_the_audit_trail(operator):
    from tongban.core.models import AuditRecord

    url = reverse("admin:catalog_implementation_add")
    response = operator.post(url, form_data(new_values()))
    assert response.status_code == 302
    impl = Implementation.objects.get(code="NEW-1")
    record = AuditRecord.objects.get(action="admin.catalog.implementation.add")
    assert record.object_id == str(impl.pk)
    assert "code" in record.details["fields"]


def test_status_cannot_be_changed_in_the_form_only_by_publishing(operator):
    url = reverse("admin:catalog_implementation_add")
    operator.post(url, form_data({**new_values(), "status": "active"}))
    assert Implementation.objects.get(code="NEW-1").status == ImplementationStatus.DRAFT


def test_situation_inline_query_count_does_not_grow_with_situations(
    operator, django_assert_max_num_queries
):
    from tests.catalog.factories import SituationFactory

    impl = ImplementationFactory(complete=True)
    url = reverse("admin:catalog_implementation_change", args=[impl.pk])
    SituationFactory(implementation=impl)
    operator.get(url)  # warm caches (content types, sessions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        operator.get(url)
    for _ in range(5):
        SituationFactory(implementation=impl)
    with django_assert_max_num_queries(len(one.captured_queries)):
        operator.get(url)
