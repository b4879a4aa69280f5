"""indexes for the pages every signed-in person sees: the unseen-connections banner (partial)
and the follow-up list (a person's sides still listed)

Revision ID: 5e1d0c7a9b21
Revises: b0d58770db18
Create Date: 2026-11-26 07:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1d0c7a9b21'
down_revision = 'b0d58770db18'
branch_labels = None
depends_on = None

UNSEEN = "acknowledged_at IS NULL AND removed_at IS NULL"


def upgrade():
    with op.batch_alter_table('connection_side', schema=None) as batch_op:
        batch_op.create_index('ix_connection_side_unseen', ['person_id'], unique=False,
                              sqlite_where=sa.text(UNSEEN), postgresql_where=sa.text(UNSEEN))
        batch_op.create_index('ix_connection_side_listed', ['person_id', 'removed_at', 'status', 'connection_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('connection_side', schema=None) as batch_op:
        batch_op.drop_index('ix_connection_side_listed')
        batch_op.drop_index('ix_connection_side_unseen',
                            sqlite_where=sa.text(UNSEEN), postgresql_where=sa.text(UNSEEN))
