"""mail: raw bytes and reply text of inbound mail, kinds per section

Revision ID: eecd8ddd04ce
Revises: c0c5630746f5
Create Date: 2026-11-28 10:36:45.759170

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'eecd8ddd04ce'
down_revision = 'c0c5630746f5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_text', sa.Text(), nullable=True))
        # Raw mail is bytes: a message's charset is only known after parsing it.
        batch_op.alter_column('raw',
               existing_type=sa.TEXT(),
               type_=sa.LargeBinary(),
               existing_nullable=False,
               postgresql_using="convert_to(raw, 'UTF8')")

    with op.batch_alter_table('sections', schema=None) as batch_op:
        # Existing sections start mapped to no kind.
        batch_op.add_column(sa.Column('kinds', sa.String(length=200), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.drop_column('kinds')

    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.alter_column('raw',
               existing_type=sa.LargeBinary(),
               type_=sa.TEXT(),
               existing_nullable=False,
               postgresql_using="convert_from(raw, 'UTF8')")
        batch_op.drop_column('reply_text')
