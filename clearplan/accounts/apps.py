from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clearplan.accounts"
    label = "accounts"
    verbose_name = "Organisations, clinics and staff"

    def ready(self) -> None:
        from clearplan.accounts import signals  # noqa: F401  (connects the receivers)
