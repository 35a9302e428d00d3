"""URL map of the TAP service, below /tap."""
from django.urls import path

from vo_services.tap import async_views, views

urlpatterns = [
    path("", views.index),
    path("availability", views.availability),
    path("capabilities", views.capabilities),
    path("sync", views.sync),
    path("sync/", views.sync),
    path("tables", views.tables),
    path("tables/<str:name>", views.table),
    path("examples", views.examples),
    path("async", async_views.job_list),
    path("async/", async_views.job_list),
    path("async/<str:job_id>", async_views.job_detail),
    path("async/<str:job_id>/phase", async_views.phase),
    path("async/<str:job_id>/executionduration", async_views.execution_duration),
    path("async/<str:job_id>/destruction", async_views.destruction),
    path("async/<str:job_id>/quote", async_views.quote),
    path("async/<str:job_id>/owner", async_views.owner),
    path("async/<str:job_id>/parameters", async_views.parameters),
    path("async/<str:job_id>/error", async_views.error),
    path("async/<str:job_id>/results", async_views.result_list),
    path("async/<str:job_id>/results/<str:result_id>", async_views.result),
]
