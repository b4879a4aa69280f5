"""an index of a person's sides still listed, for the follow-up list and the unseen-connections
banner counted on every page

Revision ID: 5e1d0c7a9b21
Revises: b0d58770db18
Create Date: 2026-11-26 07:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e1d0c7a9b21'
down_revision = 'b0d58770db18'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('connection_side', schema=None) as batch_op:
        batch_op.create_index('ix_connection_side_listed',
                              ['person_id', 'removed_at', 'status', 'connection_id', 'acknowledged_at'], unique=False)


def downgrade():
    with op.batch_alter_table('connection_side', schema=None) as batch_op:
        batch_op.drop_index('ix_connection_side_listed')
