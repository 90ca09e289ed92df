"""Measure notice parsing, reply extraction and mail ingest, and print the figures.

Run: .venv/bin/python bench/mail_and_notices.py
Reads the seed notice and the e-mail corpus from ../shared/ when present.
"""

from __future__ import annotations

import statistics
import tempfile
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
import bench_paths  # noqa: E402, F401 - before anything imports http
from scratch import samples  # noqa: E402

from feedback import create_app  # noqa: E402
from feedback import demo  # noqa: E402
from feedback import notices  # noqa: E402
from feedback.extensions import db  # noqa: E402
from feedback.mail import extract  # noqa: E402
from feedback.services import inbound  # noqa: E402

SHARED = ROOT.parent / "shared"


def report(name: str, taken: list[float]) -> None:
    print(
        f"{name:40} n={len(taken):5}  median {statistics.median(taken):8.2f} ms  max {max(taken):8.2f} ms"
    )


def main() -> None:
    seed = SHARED / "seed" / "meijiang-education-rectification-2025-07-08.txt"
    if seed.exists():
        data = seed.read_bytes()
        report(
            "parse the seed notice (traditional)",
            samples(lambda: notices.parse_bytes(data, "seed.txt"), 50),
        )
    corpus = sorted((SHARED / "corpora" / "email-replies" / "standard").glob("*.eml"))
    if corpus:
        raws = [p.read_bytes() for p in corpus]
        report(
            f"extract replies ({len(raws)} corpus mails)",
            samples(
                lambda: [extract.extract_reply(extract.parse(r)) for r in raws], 50
            ),
        )
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/b.sqlite",
        }
    )
    with app.app_context():
        db.create_all()
        demo.load(db.session)
        db.session.commit()
        letters = []
        for number in range(300):
            letter = EmailMessage()
            letter["From"] = f"c{number}@example.com"
            letter["To"] = app.config["PUBLIC_MAIL_ADDRESS"]
            letter["Subject"] = f"来信 {number}"
            letter["Message-ID"] = f"<bench-{number}@example.com>"
            letter.set_content("希望公开整改进展。" * 10, charset="gb18030")
            letters.append(letter.as_bytes())
        queue = iter(letters)

        def ingest_one() -> None:
            inbound.ingest(db.session, next(queue))
            db.session.commit()

        report(
            "ingest public mail -> new submission", samples(ingest_one, len(letters))
        )


if __name__ == "__main__":
    main()
