"""Which provider checks what: ``TONGBAN_REAL_NAME_PROVIDER`` (L2) and
``TONGBAN_FACE_PROVIDER`` (L3), each ``local`` by default or the dotted path of a provider
class (``myorg.ctid.CtidFaceProvider``)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from tongban.accounts.verification.base import FaceProvider, RealNameProvider
from tongban.accounts.verification.providers.local import LocalFaceProvider, LocalRealNameProvider

_REAL_NAME: dict[str, type[RealNameProvider]] = {}
_FACE: dict[str, type[FaceProvider]] = {}


def register(provider: type) -> type:
    """Make a provider class selectable by its ``name`` (usable as a decorator)."""
    if issubclass(provider, RealNameProvider):
        _REAL_NAME[provider.name] = provider
    if issubclass(provider, FaceProvider):
        _FACE[provider.name] = provider
    return provider


register(LocalRealNameProvider)
register(LocalFaceProvider)


def _load(setting: str, table: dict, base: type):
    name = str(getattr(settings, setting, "local") or "local")
    cls = table.get(name)
    if cls is None:
        try:
            cls = import_string(name)
        except ImportError as exc:
            raise ImproperlyConfigured(f"{setting}={name!r}: no such provider ({exc})") from exc
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise ImproperlyConfigured(f"{setting}={name!r} is not a {base.__name__}")
    return cls()


def real_name_provider() -> RealNameProvider:
    return _load("TONGBAN_REAL_NAME_PROVIDER", _REAL_NAME, RealNameProvider)


def face_provider() -> FaceProvider:
    return _load("TONGBAN_FACE_PROVIDER", _FACE, FaceProvider)
