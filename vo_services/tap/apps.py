from django.apps import AppConfig


class TapConfig(AppConfig):
    name = "vo_services.tap"
    label = "tap"
    verbose_name = "TAP service"
