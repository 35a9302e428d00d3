from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "vo_services.portal"
    label = "portal"
    verbose_name = "Web portal"
