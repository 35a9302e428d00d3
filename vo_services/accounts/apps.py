from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vo_services.accounts"
    label = "accounts"
    verbose_name = "Users, tokens and log-ins"
