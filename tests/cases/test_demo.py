"""``tongban demo`` for cases: the data dictionary, forms for every online service and three
demo cases moved by the demo staff — twice without duplicates."""

from __future__ import annotations

import pytest

from tongban.accounts.demo import LEGAL_REP, load_demo_identities
from tongban.accounts.queries import find_person
from tongban.cases.demo import load_demo_cases
from tongban.cases.models import Case, CaseStatus, DataElement, FormField
from tongban.catalog.demo import load_demo

pytestmark = pytest.mark.django_db


def test_the_demo_loads_forms_and_cases_once(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    load_demo()
    load_demo_identities(production=False)
    first = load_demo_cases()
    second = load_demo_cases()
    assert first.cases == second.cases == 3
    assert Case.objects.count() == 3
    assert DataElement.objects.count() == first.elements
    assert FormField.objects.values("implementation").distinct().count() == first.forms > 0
    citizen = find_person(LEGAL_REP.phone)
    statuses = sorted(Case.objects.filter(applicant=citizen).values_list("status", flat=True))
    assert statuses == sorted([CaseStatus.TO_ACCEPT, CaseStatus.UNDER_REVIEW, CaseStatus.DELIVERED])
    delivered = Case.objects.get(status=CaseStatus.DELIVERED)
    assert delivered.events.count() == 5
