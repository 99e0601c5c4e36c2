"""Log a staff member into the back office in a test, both factors done (the staff login itself
is tested in test_staff_login.py)."""

from tongban.backoffice.access import SECOND_FACTOR_SESSION


def login_backoffice(client, user):
    client.force_login(user)
    session = client.session
    session[SECOND_FACTOR_SESSION] = user.pk
    session.save()
    return client
