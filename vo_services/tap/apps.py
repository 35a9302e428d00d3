from django.apps import AppConfig


class TapConfig(AppConfig):
    name = "vo_services.tap"
    label = "tap"
    verbose_name = "TAP service"

    def ready(self) -> None:
        # Building the LALR parser takes about half a second: pay it at start-up, not per query.
        from vo_services.tap.adql import parse
        from vo_services.tap.catalog import catalog

        parse("SELECT a FROM t")
        catalog()
