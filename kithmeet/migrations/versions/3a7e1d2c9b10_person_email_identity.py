"""person e-mail identity

Adds person.email, the optional e-mail identity (sign-in by e-mail, account recovery,
guest-list matching), and fills it from the "email" contact field where that is unambiguous.

Revision ID: 3a7e1d2c9b10
Revises: cfa047e649cc
Create Date: 2026-11-25 10:00:00.000000

"""
import unicodedata
from collections import defaultdict

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3a7e1d2c9b10'
down_revision = 'cfa047e649cc'
branch_labels = None
depends_on = None

# recreate="never": every step here is a plain ALTER on SQLite too (ADD COLUMN, CREATE/DROP
# INDEX, DROP COLUMN since SQLite 3.35). Letting batch mode recreate `person` instead would drop
# the old table with foreign_keys=ON, which cascade-deletes every row that references a person.

person = sa.table('person', sa.column('id', sa.Integer), sa.column('email', sa.String))
contact_field = sa.table('contact_field', sa.column('person_id', sa.Integer),
                         sa.column('kind', sa.String), sa.column('value', sa.String))


def _normalize(value):
    # A frozen copy of kithmeet.people.identity.normalize_email (migrations never import the app).
    return unicodedata.normalize('NFC', (value or '').strip()).lower()


def _is_address(value):
    from email_validator import EmailNotValidError, validate_email

    if len(value) > 254:
        return False
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def upgrade():
    with op.batch_alter_table('person', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))

    # Fill the identity from the contact e-mail only where it is unambiguous: the address
    # (compared normalised) is one person's alone. Shared addresses stay NULL for everyone;
    # those people can claim theirs later. Normalised in Python, not SQL, so SQLite (ASCII-only
    # lower()) and PostgreSQL agree with the app's own normalize_email.
    bind = op.get_bind()
    owners = defaultdict(set)
    rows = bind.execute(sa.select(contact_field.c.person_id, contact_field.c.value)
                        .where(contact_field.c.kind == 'email'))
    for person_id, value in rows:
        address = _normalize(value)
        if address:
            owners[address].add(person_id)
    fills = [{'b_id': ids.pop(), 'b_email': address}
             for address, ids in owners.items() if len(ids) == 1 and _is_address(address)]
    if fills:
        bind.execute(person.update().where(person.c.id == sa.bindparam('b_id'))
                     .values(email=sa.bindparam('b_email')), fills)

    with op.batch_alter_table('person', schema=None, recreate='never') as batch_op:
        batch_op.create_index(batch_op.f('ix_person_email'), ['email'], unique=True)


def downgrade():
    with op.batch_alter_table('person', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_email'))
        batch_op.drop_column('email')
