"""Migrations are history: released revisions stay as they are, in one line."""

import ast
import hashlib
from pathlib import Path

from alembic.script import Script
from alembic.script import ScriptDirectory
from helpers import imported_modules

from feedback import PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "migrations"
THIS_FILE = Path(__file__).relative_to(PROJECT_ROOT)

# SHA-256 of every migration but the newest, oldest first. A database that has
# run a revision never runs it again, so an edit to one reaches only new
# databases and leaves the others silently different: the schema changes only
# through a new migration, reviewed like any code. The newest revision is left
# out while nothing has run it yet; when you add a migration, add the line the
# failure message prints for the one it follows.
RELEASED = {
    "4b75a69e0261_initial_schema_the_whole_domain.py": "d83093661b1823dbc03600055eb219142150b426f8ece4c9ae89b6809d51c2c4",
    "c0c5630746f5_notice_imports_contacts_and_on_site_.py": "0ad355a343750db8e9224954f92c82a308e8fef2cb86906d58b3d57a2121ec5e",
    "eecd8ddd04ce_mail_raw_bytes_and_reply_text_of_.py": "957984656ab5d38b5f7e4146535bc9bafe7389af849e539ced06b38a9026c738",
    "0ff6085fa8f6_deadline_alert_log_each_reminder_and_.py": "4b9abc58ed4cf95cf7f0ba7a82818c4e2202cf48db07715534bb01e93a460e5b",
    "179edb195599_staff_lockout_wrong_passwords_in_a_row_.py": "246a75a08c44b7180ab75fd6798702f0dbd05cf7b8070a697db65397d752c8f3",
    "383a13e49538_lead_decisions_refusal_and_duplicate_.py": "5e9ba1b5d420bb454c161412f1c4a210bc0de0605790ef35d2307c542f6f5602",
    "8e3666a523ea_indexes_for_the_lead_s_queues.py": "803d26f82347e67240c0f4366e82434d8019128398675dbb564ec2381ec396a7",
    "ebf80076dbe2_info_requests_ratings_reopening_results.py": "c13e3ed2e098c22c9c70428547efd1f500c680966e7b25af7c12b1357d874b9d",
    "f27d77343854_api_keys_for_the_open311_api.py": "30474cd59b4253af2a2fee97afebff653036aff5dda0152369545f500dc6d968",
    "d0cf0f992aa7_repair_databases_that_ran_ebf80076dbe2_.py": "83699be7641071495a3c7d291c221e3842975810ec4e6fe0343b5c6004d1f336",
    "1105f747c1cc_outbox_lease_tokens_failing_since_.py": "6e88375d17ad3c13a314447018fc7d0325d4e4f72fb301885d6e2f20b7a04e49",
    "13f78496e383_attachment_bytes_in_the_database_chunked.py": "2977915a2dcd375b261e8f29449f680112ab95cc265dae128f659842e88aae6a",
    "270bcfc3568c_form_key_hash_and_receipt_nonce_active_.py": "d63d10ffeaf0234cec54e353eb92d452dc0829058d919a33d3c0323fc191c0d0",
    "12622f057c3d_submissions_remember_the_author_s_.py": "e8f484275d8d4aad721b726dee602939404d7f2040b551db52686feb986b1653",
    "17cd43ecfa8d_index_the_receipt_nonce_looked_up_on_.py": "08d0349fedb0bddf8571f2debfd5d2327d4878dd6c20548e892baef19ffce0e5",
}


def revisions() -> list[Script]:
    """Every revision, oldest first, following down_revision (not file times)."""
    return list(reversed(list(ScriptDirectory(str(MIGRATIONS)).walk_revisions())))


def file_name(revision: Script) -> str:
    assert revision.path is not None
    return Path(revision.path).name


def sha256(revision: Script) -> str:
    assert revision.path is not None
    return hashlib.sha256(Path(revision.path).read_bytes()).hexdigest()


def test_history_is_one_line() -> None:
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert len(heads) == 1, (
        f"the migrations have {len(heads)} heads ({', '.join(sorted(heads))}): "
        "point the down_revision of the one written last at the other"
    )


def test_released_migrations_are_unchanged() -> None:
    problems = []
    for revision in revisions():
        name = file_name(revision)
        expected = RELEASED.get(name)
        if revision.is_head:
            if expected is not None:
                problems.append(
                    f"{name} is the newest migration, yet in RELEASED: the "
                    "migration after it is gone, or its line came too early"
                )
        elif expected is None:
            problems.append(
                f"{name} is no longer the newest migration, so it is history "
                f"now: add this line to RELEASED in {THIS_FILE}:\n"
                f'    "{name}": "{sha256(revision)}",'
            )
        elif sha256(revision) != expected:
            problems.append(
                f"{name} has changed, but a database already past it never "
                "runs it again: restore it and make the change in a new "
                "migration"
            )
    present = {file_name(revision) for revision in revisions()}
    problems.extend(
        f"{name} is gone or renamed: a released migration stays in "
        "migrations/versions under its name"
        for name in RELEASED
        if name not in present
    )
    assert not problems, "\n".join(problems)


def test_migrations_import_nothing_from_the_app() -> None:
    """A revision that imported the app would change whenever the app does."""
    importers = []
    for revision in revisions():
        assert revision.path is not None
        modules = [found.module for found in imported_modules(Path(revision.path))]
        if any(module.lstrip(".").split(".")[0] == "feedback" for module in modules):
            importers.append(file_name(revision))
    assert not importers, (
        f"importing the app: {', '.join(importers)}; copy what a migration "
        "needs into it instead (as the older ones carry UTCDateTime)"
    )


# Schema changes that the release before would not survive, and why each was
# allowed. During a rolling upgrade the database is migrated first while old
# nodes still serve (docs/deploy.md), so a migration only adds: a column the
# code stops using is dropped in a later release than the one that stops.
BREAKS_THE_RELEASE_BEFORE = {
    # Raw mail turned from text to bytes, before rolling upgrades were offered.
    "eecd8ddd04ce": "alter_column",
}
BREAKING_CALLS = {
    "drop_table",
    "drop_column",
    "rename_table",
    "alter_column",
    "drop_constraint",
}


def _breaking_calls(path: Path) -> list[str]:
    """Name each call in ``upgrade()`` that could break code written for the schema before."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for function in tree.body:
        if not (isinstance(function, ast.FunctionDef) and function.name == "upgrade"):
            continue
        for node in ast.walk(function):
            if not (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            ):
                continue
            name = node.func.attr
            if name in BREAKING_CALLS:
                found.append(name)
            elif name == "add_column":
                # A NOT NULL column without a default refuses the old code's inserts.
                column = node.args[-1] if node.args else None
                if isinstance(column, ast.Call):
                    column_keywords = {k.arg: k.value for k in column.keywords}
                    nullable = column_keywords.get("nullable")
                    if (
                        isinstance(nullable, ast.Constant)
                        and nullable.value is False
                        and "server_default" not in column_keywords
                    ):
                        found.append("add_column NOT NULL without server_default")
    return found


def test_a_migration_never_breaks_the_release_before_it() -> None:
    problems = []
    for revision in revisions():
        assert revision.path is not None
        calls = _breaking_calls(Path(revision.path))
        allowed = BREAKS_THE_RELEASE_BEFORE.get(revision.revision)
        unexpected = [call for call in calls if call != allowed]
        if unexpected:
            problems.append(
                f"{file_name(revision)} upgrades with {', '.join(unexpected)}: nodes "
                "still running the release before would fail on it during a rolling "
                "upgrade. Add now, remove in a later release (docs/deploy.md)."
            )
    assert not problems, "\n".join(problems)
