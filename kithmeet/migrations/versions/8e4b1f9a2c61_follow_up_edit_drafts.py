"""follow-up edit drafts

Revision ID: 8e4b1f9a2c61
Revises: 5c2f8e41d7a3
Create Date: 2026-11-25 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8e4b1f9a2c61'
down_revision = '5c2f8e41d7a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'edit_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('connection_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('typed', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['connection_id'], ['connection.id'],
                                name=op.f('fk_edit_draft_connection_id_connection'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_edit_draft_person_id_person'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_edit_draft')),
        sa.UniqueConstraint('connection_id', 'person_id', name=op.f('uq_edit_draft_connection_id_person_id')),
    )
    with op.batch_alter_table('edit_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_edit_draft_person_id'), ['person_id'], unique=False)


def downgrade():
    with op.batch_alter_table('edit_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_edit_draft_person_id'))
    op.drop_table('edit_draft')
