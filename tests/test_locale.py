"""Every shipped translation catalog loads, and every language the platform offers has one."""

import gettext
from pathlib import Path

import pytest
from django.conf import settings

import tongban

PACKAGE = Path(tongban.__file__).parent
CATALOGS = sorted(PACKAGE.rglob("LC_MESSAGES/django.mo"))


def test_the_offered_languages_have_catalogs():
    found = {path.parts[-3] for path in CATALOGS}
    assert {"en", "mn_Mong"} <= found
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "mn-mong", "en"]


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_catalog_loads_and_its_plural_rule_works(path):
    with path.open("rb") as fileobj:
        catalog = gettext.GNUTranslations(fileobj)  # raises on a placeholder Plural-Forms
    assert catalog.ngettext("x", "xs", 1) == "x"
    assert catalog.ngettext("x", "xs", 2) == "xs"
