from django.apps import AppConfig


class CurationConfig(AppConfig):
    name = "vo_services.curation"
    label = "curation"
    verbose_name = "Archive curation: programs, observations and access"
