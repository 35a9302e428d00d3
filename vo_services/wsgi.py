"""WSGI entry point for gunicorn: ``gunicorn vo_services.wsgi``."""
import os

from django.core.wsgi import get_wsgi_application

from vo_services.chunked import ChunkedBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
application = ChunkedBodies(get_wsgi_application())
