"""repair databases that ran ebf80076dbe2 before its audit columns and list indexes

Revision ID: d0cf0f992aa7
Revises: f27d77343854
Create Date: 2026-12-06 03:22:35.488348

ebf80076dbe2 was edited after some databases had run it: they lack the two
audit columns and three indexes added to it later, and Alembic, which runs a
revision only once, never gave them these. This revision creates each of them
where it is missing and leaves a complete database as it is.
"""
from alembic import context
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd0cf0f992aa7'
down_revision = 'f27d77343854'
branch_labels = None
depends_on = None


# What was added to ebf80076dbe2 after its first version (commit 4d78624):
# per table, the columns (all nullable Text) and the indexes with their columns.
LATE_ADDITIONS = {
    'events': (['before', 'after'], {}),
    'replies': ([], {'ix_replies_published_at': ['published_at', 'id']}),
    'submissions': ([], {
        'ix_submissions_pending_received': ['info_pending', 'received_at', 'id'],
        'ix_submissions_rating_received': ['rating', 'received_at', 'id'],
    }),
}


def upgrade():
    # Offline (--sql) there is no database to look at: the script asks the
    # server to skip what exists instead, which PostgreSQL can.
    offline = context.is_offline_mode()
    inspector = None if offline else sa.inspect(op.get_bind())
    for table, (columns, indexes) in LATE_ADDITIONS.items():
        present_columns = set() if offline else {
            column['name'] for column in inspector.get_columns(table)
        }
        present_indexes = set() if offline else {
            index['name'] for index in inspector.get_indexes(table)
        }
        new_columns = [name for name in columns if name not in present_columns]
        new_indexes = {
            name: indexed for name, indexed in indexes.items()
            if name not in present_indexes
        }
        if not new_columns and not new_indexes:
            continue
        # Adding columns and indexes needs no table copy, on SQLite either.
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in new_columns:
                batch_op.add_column(
                    sa.Column(name, sa.Text(), nullable=True),
                    if_not_exists=offline,
                )
            for name, indexed in new_indexes.items():
                batch_op.create_index(
                    name, indexed, unique=False, if_not_exists=offline
                )


def downgrade():
    # Nothing to undo: this revision cannot know which of these objects a
    # database had before it ran, and the downgrade of ebf80076dbe2 drops
    # them all.
    pass
