from django.apps import AppConfig


class VoServicesConfig(AppConfig):
    name = "vo_services"
    verbose_name = "Lick archive VO services"
