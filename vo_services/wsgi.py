"""WSGI entry point for gunicorn: ``gunicorn vo_services.wsgi``."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
application = get_wsgi_application()
