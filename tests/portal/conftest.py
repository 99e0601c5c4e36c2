import pytest
from django.core.cache import cache

from tests.portal.fixtures import build_catalog


@pytest.fixture(autouse=True)
def _empty_cache():
    """Pages and lists are cached per process: every test starts cold."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def catalog(db):
    return build_catalog()


@pytest.fixture(autouse=True)
def _fresh_stamps(settings):
    """Most tests check that a change shows at once: the stamp cache is tested on its own."""
    settings.TONGBAN_GUIDE_STAMP_SECONDS = 0
