"""The application factory: configuration, extensions and blueprints."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask import Response
from werkzeug.middleware.proxy_fix import ProxyFix

from feedback.config import DefaultConfig
from feedback.config import reply_templates_setting

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure an instance of the application."""
    # Imported here, like the blueprints below, so that importing one of the
    # package's plain helpers loads no SQLAlchemy (feedback.logs reads its errors).
    from feedback.logs import App

    app = App(
        __name__,
        instance_path=str(instance_folder(test_config)),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("FEEDBACK")
    else:
        app.config.from_mapping(test_config)
    if app.config["SECRET_KEY"] == DefaultConfig.SECRET_KEY and not (
        app.debug or app.testing
    ):
        raise RuntimeError(
            "Refusing to start with the default SECRET_KEY. Run "
            "`python -m feedback.quickstart` once (it writes a random key to "
            "instance/config.py), or set SECRET_KEY there or in FEEDBACK_SECRET_KEY."
        )

    # Imported here rather than at the top, so that importing one of the
    # package's plain helpers loads no SQLAlchemy, models or services.
    from feedback import api
    from feedback import auth
    from feedback import cli
    from feedback import errors
    from feedback import health
    from feedback import logs
    from feedback import metrics
    from feedback import open311
    from feedback import page_cache
    from feedback import public
    from feedback import section
    from feedback import security
    from feedback import staff
    from feedback import templating
    from feedback.extensions import babel
    from feedback.extensions import csrf
    from feedback.extensions import db
    from feedback.extensions import limiter
    from feedback.extensions import mail
    from feedback.extensions import migrate
    from feedback.i18n import ScriptDomain
    from feedback.i18n import select_locale
    from feedback.i18n import vary_by_reader
    from feedback.services.attachments import read_storage
    from feedback.services.deadlines import read_mode
    from feedback.services.notifications import receipt_limits
    from feedback.urls import IdConverter

    # First, so that each request has its id and start time before any other
    # hook can refuse it.
    logs.init_app(app)
    if app.config["PUBLIC_URL"].startswith("https://"):
        # Served over TLS: the session cookie never travels in clear, and
        # browsers are told to come back over https only.
        app.config["SESSION_COOKIE_SECURE"] = True
        app.after_request(strict_transport)
    app.config["DEADLINE_MODE"] = read_mode(app.config["DEADLINE_MODE"])
    app.config["ATTACHMENT_STORAGE"] = read_storage(app.config["ATTACHMENT_STORAGE"])
    receipt_limits(app.config["RECEIPT_RATE_LIMIT"])  # a typo stops the start
    app.config["REPLY_TEMPLATES"] = reply_templates_setting(
        app.config["REPLY_TEMPLATES"]
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(
        app.config["DATABASE_URL"], Path(app.instance_path)
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    # Before any route is added: each rule takes its converter when added.
    app.url_map.converters["int"] = IdConverter
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    errors.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    if app.config["PROXY_FIX_X_FOR"]:
        # Flask declares wsgi_app a method, yet its docs wrap it just like this.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])  # type: ignore[method-assign]
    app.wsgi_app = health.Liveness(app.wsgi_app)  # type: ignore[method-assign]
    mail.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    babel.domain_instance = ScriptDomain()
    app.after_request(vary_by_reader)
    metrics.init_app(app)
    cli.init_app(app)
    templating.init_app(app)
    page_cache.init_app(app, PROJECT_ROOT)
    for blueprint in (
        public.bp,
        auth.bp,
        staff.bp,
        section.bp,
        api.bp,
        open311.bp,
        health.bp,
    ):
        app.register_blueprint(blueprint)
    return app


def instance_folder(test_config: Mapping[str, Any] | None) -> Path:
    """Return the folder of the machine's own files: its config.py, SQLite, attachments.

    ``instance/`` in the checkout, unless ``FEEDBACK_INSTANCE_PATH`` names
    another, as when several processes of one checkout must each have their
    own. A test's settings are taken whole, so it ignores the variable.
    """
    named = os.environ.get("FEEDBACK_INSTANCE_PATH") if test_config is None else None
    return Path(named).resolve() if named else PROJECT_ROOT / "instance"


HSTS = "max-age=31536000"  # a year, the usual; no preload, which is hard to undo


def strict_transport(response: Response) -> Response:
    """Tell browsers to use https for this site from now on (HSTS)."""
    response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def database_uri(url: str | None, instance_path: Path) -> str:
    """Turn the ``DATABASE_URL`` setting into a SQLAlchemy URI.

    A plain ``postgresql://`` URL is mapped to the psycopg 3 driver, and no
    setting at all means SQLite in the instance folder.
    """
    if not url:
        return f"sqlite:///{instance_path / 'feedback.sqlite'}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url
