"""``tongban create_security_admin <username> <organization-uscc>``: the first security admin.

Production has no superuser. The first security administrator (安全管理员) is made here, on the
server, and only while the installation has none; every later post is granted by a security
administrator in the back office (:func:`tongban.accounts.staff.grant_post`).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tongban.accounts.errors import AccountError
from tongban.accounts.models import User
from tongban.accounts.staff import bootstrap_security_admin
from tongban.core.models import Organization


class Command(BaseCommand):
    help = "Give an existing user the first security-admin post (only while there is none)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("organization", help="unified social credit code of the organization")

    def handle(self, *args, username: str, organization: str, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        org = Organization.objects.filter(uscc=organization.strip().upper()).first()
        if user is None or org is None:
            raise CommandError("no such active user or organization")
        try:
            bootstrap_security_admin(user=user, organization=org)
        except AccountError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"{username} is now security administrator"))
