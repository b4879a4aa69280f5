"""trust and attendee control: server-side sessions, consent, reports, removals,
retention, organizer account safety, and connections that outlive a deleted account

Revision ID: d41c7a9e5b20
Revises: b7d3e9f0a412
Create Date: 2026-11-25 12:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41c7a9e5b20'
down_revision = 'b7d3e9f0a412'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'web_session',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_web_session')),
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share_on_connect', sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.alter_column('person_a_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('person_b_id', existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint('fk_connection_person_a_id_person', type_='foreignkey')
        batch_op.drop_constraint('fk_connection_person_b_id_person', type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_connection_person_a_id_person'), 'person',
                                    ['person_a_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_connection_person_b_id_person'), 'person',
                                    ['person_b_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('connection_side', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shares_contacts', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('blocked_at', sa.DateTime(), nullable=True))
    # Connections made before consent existed were seen long ago.
    op.execute("UPDATE connection_side SET acknowledged_at = updated_at")

    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_of_conduct_url', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), server_default='12', nullable=False))

    op.create_table(
        'series_removal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('organizer_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_series_removal_series_id_series'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_series_removal_person_id_person'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organizer_id'], ['organizer.id'],
                                name=op.f('fk_series_removal_organizer_id_organizer'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_series_removal')),
        sa.UniqueConstraint('series_id', 'person_id', name=op.f('uq_series_removal_series_id_person_id')),
    )
    with op.batch_alter_table('series_removal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_removal_person_id'), ['person_id'], unique=False)

    op.create_table(
        'report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=16), nullable=False),
        sa.Column('series_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('reporter_id', sa.Integer(), nullable=False),
        sa.Column('reported_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['series_id'], ['series.id'], name=op.f('fk_report_series_id_series'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_report_event_id_event'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['reporter_id'], ['person.id'], name=op.f('fk_report_reporter_id_person'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reported_id'], ['person.id'], name=op.f('fk_report_reported_id_person'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['organizer.id'],
                                name=op.f('fk_report_resolved_by_id_organizer'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report')),
        sa.UniqueConstraint('public_id', name=op.f('uq_report_public_id')),
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_reported_id'), ['reported_id'], unique=False)

    with op.batch_alter_table('organizer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_counter', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reset_secret_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reset_expires_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_organizer_reset_secret_hash'), ['reset_secret_hash'])

    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organizer_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['organizer_id'], ['organizer.id'],
                                name=op.f('fk_recovery_code_organizer_id_organizer'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_recovery_code_code_hash')),
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_organizer_id'), ['organizer_id'], unique=False)

    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_entry_series_id'), ['series_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_entry_series_id_series'), 'series',
                                    ['series_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_entry_series_id_series'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_entry_series_id'))
        batch_op.drop_column('series_id')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_organizer_id'))
    op.drop_table('recovery_code')
    with op.batch_alter_table('organizer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_organizer_reset_secret_hash'), type_='unique')
        for column in ('reset_expires_at', 'reset_secret_hash', 'locked_until', 'failed_sign_ins',
                       'totp_last_counter', 'totp_enabled_at', 'totp_secret', 'session_generation'):
            batch_op.drop_column(column)
    with op.batch_alter_table('report', schema=None) as batch_op:
        for column in ('reported_id', 'reporter_id', 'series_id'):
            batch_op.drop_index(batch_op.f(f'ix_report_{column}'))
    op.drop_table('report')
    with op.batch_alter_table('series_removal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_series_removal_person_id'))
    op.drop_table('series_removal')
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.drop_column('retention_months')
        batch_op.drop_column('code_of_conduct_url')
    with op.batch_alter_table('connection_side', schema=None) as batch_op:
        for column in ('blocked_at', 'removed_at', 'acknowledged_at', 'shares_contacts'):
            batch_op.drop_column(column)
    # Connections whose person deleted their account cannot return to NOT NULL columns. Their
    # rows go first: SQLite migrates with foreign keys off, so no ON DELETE would remove them,
    # and env.py's foreign_key_check refuses what would be left pointing at nothing.
    gone = "person_a_id IS NULL OR person_b_id IS NULL"
    for table in ('connection_side', 'encounter', 'scan', 'edit_draft'):
        op.execute(f"DELETE FROM {table} WHERE connection_id IN (SELECT id FROM connection WHERE {gone})")
    op.execute(f"DELETE FROM connection WHERE {gone}")
    with op.batch_alter_table('connection', schema=None) as batch_op:
        batch_op.drop_constraint('fk_connection_person_a_id_person', type_='foreignkey')
        batch_op.drop_constraint('fk_connection_person_b_id_person', type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_connection_person_a_id_person'), 'person',
                                    ['person_a_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_connection_person_b_id_person'), 'person',
                                    ['person_b_id'], ['id'], ondelete='CASCADE')
        batch_op.alter_column('person_a_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('person_b_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('share_on_connect')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_expires_at'))
    op.drop_table('web_session')
