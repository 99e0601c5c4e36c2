"""Sessions of logged-in people: start, idle timeout, and "log out everywhere".

* :func:`start_session` is what every login view calls (persons here, staff in the staff login):
  Django's ``login`` (which gives the session a new key, against fixation), plus the person's
  current ``session_epoch`` and the time of the last request.
* :class:`SessionPolicyMiddleware` (right after ``AuthenticationMiddleware``) logs a session out
  when it has been idle longer than ``TONGBAN_SESSION_IDLE_MINUTES`` (30; staff
  ``TONGBAN_STAFF_SESSION_IDLE_MINUTES``, 15), or when its epoch is older than the person's
  (:func:`tongban.accounts.auth.logout_everywhere`, a password change). The end is audited as
  ``auth.logout`` with the reason, and the next page can say why (:func:`pop_expired`).

The last-request time is written at most once a minute, so an active session does not cost a
session write on every request. A session made by a login that did not go through
:func:`start_session` (``Client.force_login`` in tests, the stock admin login) adopts the
person's current epoch on its first request.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, login, logout, update_session_auth_hash

from tongban.accounts.auth import record_logout
from tongban.accounts.models import User
from tongban.core.audit import request_context

SESSION_EPOCH = "_tb_epoch"
SESSION_SEEN = "_tb_seen"
SESSION_EXPIRED = "_tb_expired"
TOUCH_SECONDS = 60
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def idle_seconds(user: User) -> int:
    if getattr(user, "is_staff", False):
        minutes = getattr(settings, "TONGBAN_STAFF_SESSION_IDLE_MINUTES", 15)
    else:
        minutes = getattr(settings, "TONGBAN_SESSION_IDLE_MINUTES", 30)
    return int(minutes) * 60


def start_session(request, user: User, *, backend: str = MODEL_BACKEND) -> None:
    """Log ``user`` in on ``request`` with a fresh session key, its epoch and the idle clock."""
    login(request, user, backend=backend)
    request.session[SESSION_EPOCH] = user.session_epoch
    request.session[SESSION_SEEN] = int(time.time())


def refresh_session(request, user: User) -> None:
    """Keep this session after the person changed their password (which moved the epoch on and
    ended the others)."""
    update_session_auth_hash(request, user)
    request.session[SESSION_EPOCH] = user.session_epoch
    request.session[SESSION_SEEN] = int(time.time())


def end_session(request, *, reason: str = "") -> None:
    """Audit the logout and end the session (a new anonymous session remains)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        record_logout(actor=user, reason=reason, **request_context(request))
    logout(request)


def pop_expired(request) -> str:
    """Why the previous session was ended by the middleware (``idle_timeout`` or
    ``logout_everywhere``), once; ``""`` otherwise."""
    session = getattr(request, "session", None)
    if session is None or SESSION_EXPIRED not in session:
        return ""
    return session.pop(SESSION_EXPIRED)


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        self.enforce(request)
        return self.get_response(request)

    @staticmethod
    def enforce(request) -> None:
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session:
            return
        user = request.user
        if not user.is_authenticated:
            return
        now = int(time.time())
        epoch = session.get(SESSION_EPOCH)
        if epoch is None:
            session[SESSION_EPOCH] = user.session_epoch
        elif epoch != user.session_epoch:
            _expire(request, "logout_everywhere")
            return
        seen = session.get(SESSION_SEEN)
        if seen is not None and now - int(seen) > idle_seconds(user):
            _expire(request, "idle_timeout")
            return
        if seen is None or now - int(seen) >= TOUCH_SECONDS:
            session[SESSION_SEEN] = now


def _expire(request, reason: str) -> None:
    end_session(request, reason=reason)
    request.session[SESSION_EXPIRED] = reason
