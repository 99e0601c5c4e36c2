import pytest

from tests.cases.factories import setting


@pytest.fixture
def env(db):
    """The personas around a three-step service (acceptance, review, decision), so a reviewer
    can advance once before the last step."""
    return setting(steps=3)
