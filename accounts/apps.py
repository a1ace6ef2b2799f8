from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from rest_framework.authtoken.models import Token, TokenProxy

        from core.history import track

        from .models import ApiToken, User

        # Users and tokens are not CoordinationRecords (Django and DRF own their bases).
        track(User, mask_fields=["password"], m2m_fields={"groups", "user_permissions"})
        for model in (Token, TokenProxy, ApiToken):
            track(model, mask_fields=["key"])
