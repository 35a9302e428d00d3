"""WSGI entry point for gunicorn: ``gunicorn vo_services.wsgi``."""
import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from vo_services.body_deadline import BodyDeadline
from vo_services.chunked import BoundedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
application = BodyDeadline(BoundedBodies(get_wsgi_application()))

# Import the URL map, and so every view, as the worker starts rather than in its first request
# (about 0.2 s: the views import astropy, pyarrow and the encoders).
get_resolver().url_patterns  # noqa: B018  (the property's side effect is the point)

# What start-up made lives as long as the worker: keep it out of the garbage collector's full
# collections, which would otherwise scan it all (~80 ms) whenever a large result allocates enough
# rows to trigger one.
gc.collect()
gc.freeze()
