"""``tongban register_client``: register a department system as an OAuth2 / OIDC client.

Prints the client id and (for confidential clients) the secret, once: only its hash is stored.
"""

from django.core.management.base import BaseCommand, CommandError

from tongban.accounts.clients import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, register_client
from tongban.accounts.errors import AccountError
from tongban.core.models import Organization


class Command(BaseCommand):
    help = "Register a department system as an OAuth2 / OpenID Connect client of Tongban."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="the system's name, shown to people")
        parser.add_argument(
            "--organization", required=True, help="USCC of the organization answerable for it"
        )
        parser.add_argument(
            "--grant", required=True, choices=[AUTHORIZATION_CODE, CLIENT_CREDENTIALS]
        )
        parser.add_argument(
            "--scopes", required=True, help='space- or comma-separated, e.g. "openid profile"'
        )
        parser.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")
        parser.add_argument(
            "--post-logout-redirect-uri",
            action="append",
            default=[],
            dest="post_logout_redirect_uris",
        )
        parser.add_argument(
            "--public", action="store_true", help="a public client (mobile app): no secret, PKCE"
        )
        parser.add_argument("--full-id-number", action="store_true")
        parser.add_argument("--full-phone", action="store_true")
        parser.add_argument("--notes", default="")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(uscc=options["organization"].strip()).first()
        if organization is None:
            raise CommandError(f"no organization with USCC {options['organization']}")
        scopes = options["scopes"].replace(",", " ").split()
        try:
            registered = register_client(
                actor=None,
                name=options["name"],
                organization=organization,
                grant=options["grant"],
                scopes=scopes,
                redirect_uris=options["redirect_uris"],
                post_logout_redirect_uris=options["post_logout_redirect_uris"],
                public=options["public"],
                may_receive_full_id_number=options["full_id_number"],
                may_receive_full_phone=options["full_phone"],
                notes=options["notes"],
            )
        except AccountError as exc:
            raise CommandError(f"{exc.field or 'client'}: {exc.message}") from exc
        self.stdout.write(f"client_id={registered.application.client_id}")
        if registered.client_secret:
            self.stdout.write(f"client_secret={registered.client_secret}")
            self.stdout.write(
                self.style.WARNING(
                    "The secret is shown only now; store it in the department system."
                )
            )
