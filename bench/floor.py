"""The bare floor bench/http.py measures the service against: Flask + SQLAlchemy, nothing else.

Three endpoints, the least a page, a form and a probe can cost on this stack:
``/`` renders 18 rows through a small Jinja template, ``POST /insert`` stores
one row, ``/plain`` answers plain text. Gunicorn serves it as
``bench.floor:create_floor()`` from the checkout on the database named
by FLOOR_DATABASE_URL, whose two tables it makes and fills if they are missing.
"""

from __future__ import annotations

import os

from flask import Flask
from flask import render_template_string
from flask import request
from flask.typing import ResponseReturnValue
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer
from sqlalchemy import select
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

ROWS = 18

PAGE = """<!doctype html>
<html lang="zh-Hans"><head><meta charset="utf-8"><title>整改问题清单</title></head>
<body><h1>整改问题清单</h1>
<table>
<tr><th>编号</th><th>问题</th><th>状态</th></tr>
{% for row in rows %}
<tr><td>{{ row.id }}</td><td><a href="/rows/{{ row.id }}">{{ row.title }}</a></td>
<td>{{ row.status }}</td></tr>
{% endfor %}
</table></body></html>
"""


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class FloorRow(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "floor_row"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))


class FloorInsert(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "floor_insert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)


def create_floor(database_url: str = "") -> Flask:
    """Return the floor app on ``database_url`` (default: FLOOR_DATABASE_URL)."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ.get(
        "FLOOR_DATABASE_URL", "sqlite:///:memory:"
    )
    db.init_app(app)
    with app.app_context():
        db.create_all()
        if db.session.scalar(select(FloorRow.id).limit(1)) is None:
            db.session.add_all(
                FloorRow(title=f"第{n}项：食堂餐费公示不及时", status="整改中")
                for n in range(1, ROWS + 1)
            )
            db.session.commit()

    @app.get("/")
    def page() -> ResponseReturnValue:
        rows = db.session.scalars(select(FloorRow).order_by(FloorRow.id)).all()
        return render_template_string(PAGE, rows=rows)

    @app.post("/insert")
    def insert() -> ResponseReturnValue:
        db.session.add(FloorInsert(body=request.form.get("body", "")))
        db.session.commit()
        return "stored\n", 201, {"Content-Type": "text/plain"}

    @app.get("/plain")
    def plain() -> ResponseReturnValue:
        return "ok\n", 200, {"Content-Type": "text/plain"}

    return app
