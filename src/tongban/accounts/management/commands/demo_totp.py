"""``tongban demo_totp <username>``: the current dynamic code of a demo staff account.

For trying the demo without an authenticator app. Refused in production and for every account
that is not a demo account with its published secret, so it never weakens a real second factor.
"""

from __future__ import annotations

import pyotp
from django.core.management.base import BaseCommand, CommandError

from tongban.accounts.demo import demo_totp_secret
from tongban.conf import env_bool


class Command(BaseCommand):
    help = "显示演示工作人员账号当前的动态口令（仅演示环境、仅演示账号）。"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        if env_bool("TONGBAN_PRODUCTION", False):
            raise CommandError("生产环境中不可用")
        secret = demo_totp_secret(username)
        if secret is None:
            raise CommandError(f"{username} 不是使用公布密钥的演示工作人员账号")
        self.stdout.write(pyotp.TOTP(secret).now())
