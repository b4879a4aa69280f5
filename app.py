"""WSGI entry point: `gunicorn app:app`, `flask --app app ...`."""
from kithmeet import create_app

app = create_app()
