"""Flask extensions, created unbound and initialised in create_app."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from feedback.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
mail = Mail()
babel = Babel()
# Storage and on/off come from RATELIMIT_* settings when the app is created.
limiter = Limiter(key_func=get_remote_address)
