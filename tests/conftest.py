import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files of a test go to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """The working-day calendar caches years in process memory; no test sees another's table."""
    from tongban.core import calendar

    calendar.invalidate_cache()
    yield
    calendar.invalidate_cache()


@pytest.fixture(autouse=True)
def _chinese_by_default():
    """Every test starts in the default language, whatever an earlier test activated."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings, request):
    """Argon2 costs ~50 ms a hash by design; tests use MD5 unless marked ``real_hashing``."""
    if request.node.get_closest_marker("real_hashing") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
