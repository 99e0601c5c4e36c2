from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tongban.accounts"
    label = "accounts"
    verbose_name = _("统一身份认证")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # Infrastructure, not a business rule: after every migrate, each staff role's group
        # holds exactly the permissions of accounts.staff.ROLE_PERMISSIONS. Run on the signal of
        # the last installed app, when every app's permissions (seals, cases …) exist.
        post_migrate.connect(_sync_role_groups, dispatch_uid="accounts_role_groups")


def _sync_role_groups(sender, using="default", **kwargs) -> None:
    from django.apps import apps

    from tongban.accounts.staff import sync_role_groups

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if using == "default" and sender is with_models[-1]:
        sync_role_groups()
