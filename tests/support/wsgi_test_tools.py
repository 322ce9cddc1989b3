"""WSGI entry for integration tests: the real app with the test tools registered.

Run as `gunicorn -c gunicorn.conf.py tests.support.wsgi_test_tools:app`.
"""

from app import create_app
from tests.support.tools import test_registry

app = create_app(registry=test_registry())
