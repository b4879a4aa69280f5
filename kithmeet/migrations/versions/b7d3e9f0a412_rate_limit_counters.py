"""rate-limit counters shared by every worker

Revision ID: b7d3e9f0a412
Revises: 8e4b1f9a2c61
Create Date: 2026-11-25 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3e9f0a412'
down_revision = '8e4b1f9a2c61'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rate_limit_counter',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counter')),
    )


def downgrade():
    op.drop_table('rate_limit_counter')
