"""Who may enter the back office (the Django admin and the operator pages).

A staff session counts only after both factors: the staff login (:mod:`tongban.backoffice.login`)
marks the session with the user's id once the TOTP code was right. Every admin view (through
``admin.site.has_permission``, wrapped in :class:`tongban.backoffice.apps.BackofficeConfig`) and
every operator page (:func:`staff_required`) checks that mark; a session logged in any other way
(the citizen login, ``force_login``) is sent to the staff login.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

SECOND_FACTOR_SESSION = "_tb_2fa"


def second_factor_ok(request) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    session = getattr(request, "session", None)
    return session is not None and session.get(SECOND_FACTOR_SESSION) == user.pk


def mark_second_factor(request) -> None:
    request.session[SECOND_FACTOR_SESSION] = request.user.pk


def is_backoffice_user(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_active and user.is_staff and second_factor_ok(request))


def staff_required(view):
    """Like ``staff_member_required``, plus the second factor."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_backoffice_user(request):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapped
