"""Entry point found by ``flask --app app`` and by WSGI servers."""

from feedback import create_app

app = create_app()
