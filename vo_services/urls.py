"""URL map of the public VO services."""
from django.contrib import admin
from django.urls import include, path

from vo_services import views
from vo_services.coverage import views as coverage_views
from vo_services.datalink import bundle_views, views as datalink_views
from vo_services.registry import views as registry_views
from vo_services.scs import views as scs_views
from vo_services.soda import views as soda_views
from vo_services.sia import views as sia_views
from vo_services.tap import views as tap_views

urlpatterns = [
    path("auth/", include("vo_services.accounts.urls")),
    path("admin/", admin.site.urls),
    path("tap", tap_views.index),  # the TAP base URL itself, without a slash
    path("tap/", include("vo_services.tap.urls")),
    path("scs", scs_views.cone_search),
    path("scs/capabilities", scs_views.capabilities),
    path("scs/availability", views.availability),
    path("sia/query", sia_views.query),
    path("sia/capabilities", sia_views.capabilities),
    path("sia/availability", views.availability),
    path("oai", registry_views.oai),
    path("soda/sync", soda_views.sync),
    path("soda/capabilities", soda_views.capabilities),
    path("soda/availability", views.availability),
    path("coverage", coverage_views.coverage),
    path("coverage/sky.png", coverage_views.sky_picture),
    path("datalink/links", datalink_views.links),
    path("datalink/download/<path:obs_id>", datalink_views.download),
    path("datalink/header/<path:obs_id>", datalink_views.header),
    path("datalink/preview/<path:obs_id>", datalink_views.preview),
    path("datalink/bundles", bundle_views.bundles),
    path("datalink/bundles/<str:bundle_id>", bundle_views.bundle_status),
    path("datalink/bundles/<str:bundle_id>/result", bundle_views.bundle_result),
    path("", include("vo_services.portal.urls")),  # the pages for people: the front page, search, ...
]

handler400 = "vo_services.errors.bad_request"
handler404 = "vo_services.views.not_found"
handler500 = "vo_services.views.server_error"
