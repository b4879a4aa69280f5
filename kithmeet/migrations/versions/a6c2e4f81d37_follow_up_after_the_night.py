"""follow-up after the night: e-mailed sign-in links, a confirmed address, mail choices,
snoozes and the reconnect rotation, and the record of digests sent

Revision ID: a6c2e4f81d37
Revises: f3a8c1d5e7b9
Create Date: 2026-11-25 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a6c2e4f81d37'
down_revision = 'f3a8c1d5e7b9'
branch_labels = None
depends_on = None


def upgrade():
    # Only ADD COLUMN and new indexes on person: on SQLite a batch that recreated the table
    # would cascade-delete every row that refers to a person.
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('mail_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('digest_mail', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('nudge_mail', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('nudge_sent_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_person_mail_token'), ['mail_token'], unique=True)

    op.create_table(
        'email_signin',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_email_signin_person_id_person'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_signin')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_email_signin_token_hash')),
    )
    with op.batch_alter_table('email_signin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_signin_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('connection_side', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snoozed_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('touched_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reconnected_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('skipped_on', sa.Date(), nullable=True))
    # Until now the last touch of a side was its last change.
    op.execute("UPDATE connection_side SET touched_at = updated_at")

    op.create_table(
        'event_digest',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('messages', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_digest_event_id_event'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('event_id', name=op.f('pk_event_digest')),
    )


def downgrade():
    op.drop_table('event_digest')
    with op.batch_alter_table('connection_side', schema=None) as batch_op:
        batch_op.drop_column('skipped_on')
        batch_op.drop_column('reconnected_at')
        batch_op.drop_column('touched_at')
        batch_op.drop_column('snoozed_until')
    with op.batch_alter_table('email_signin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_signin_person_id'))
    op.drop_table('email_signin')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_mail_token'))
        batch_op.drop_column('nudge_sent_at')
        batch_op.drop_column('nudge_mail')
        batch_op.drop_column('digest_mail')
        batch_op.drop_column('mail_token')
        batch_op.drop_column('email_confirmed_at')
