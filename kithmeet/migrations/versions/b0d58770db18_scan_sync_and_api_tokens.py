"""the night itself: scans that sync later and can be undone, personal API tokens

Revision ID: b0d58770db18
Revises: c81f4d2a9e60
Create Date: 2026-11-25 20:49:37.954237

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b0d58770db18'
down_revision = 'c81f4d2a9e60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_api_token_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('public_id', name=op.f('uq_api_token_public_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('scan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scanned_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('made_connection', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('made_encounter', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('undone_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('connection_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_scan_connection_id'), ['connection_id'], unique=False)
        batch_op.drop_constraint(batch_op.f('fk_scan_connection_id_connection'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_scan_connection_id_connection'), 'connection', ['connection_id'], ['id'], ondelete='SET NULL')



def downgrade():
    # An undone scan whose connection is gone has no row to point at under the old schema.
    op.execute("DELETE FROM scan WHERE connection_id IS NULL")
    with op.batch_alter_table('scan', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_scan_connection_id_connection'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_scan_connection_id_connection'), 'connection', ['connection_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_index(batch_op.f('ix_scan_connection_id'))
        batch_op.alter_column('connection_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('undone_at')
        batch_op.drop_column('made_encounter')
        batch_op.drop_column('made_connection')
        batch_op.drop_column('scanned_at')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_person_id'))

    op.drop_table('api_token')
