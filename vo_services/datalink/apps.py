from django.apps import AppConfig


class DatalinkConfig(AppConfig):
    name = "vo_services.datalink"
    label = "datalink"
    verbose_name = "DataLink and download bundles"
