"""people registries: reg_marriage, reg_low_income (civil affairs), reg_retirement, reg_unemployment, reg_disability, reg_serious_illness (social security), reg_housing_loan (credit reference)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 22:00:00+00:00
"""
# ruff: noqa: E501

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reg_disability',
    sa.Column('assessment_no', sa.String(length=32), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('labour_ended_on', sa.Date(), nullable=True),
    sa.CheckConstraint('level BETWEEN 1 AND 10', name=op.f('ck_reg_disability_level')),
    sa.PrimaryKeyConstraint('assessment_no', name=op.f('pk_reg_disability'))
    )
    with op.batch_alter_table('reg_disability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reg_disability_id_number'), ['id_number'], unique=False)

    op.create_table('reg_housing_loan',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('contract_no', sa.String(length=40), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('lender', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('property_address', sa.String(length=200), nullable=False),
    sa.Column('principal_fen', sa.BigInteger(), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('outstanding_fen', sa.BigInteger(), nullable=False),
    sa.Column('repaid_12m_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.CheckConstraint("kind IN ('commercial', 'fund', 'portfolio')", name=op.f('ck_reg_housing_loan_kind')),
    sa.CheckConstraint("role IN ('borrower', 'co_borrower')", name=op.f('ck_reg_housing_loan_role')),
    sa.CheckConstraint("status IN ('normal', 'overdue', 'settled')", name=op.f('ck_reg_housing_loan_status')),
    sa.CheckConstraint('principal_fen > 0 AND outstanding_fen >= 0 AND repaid_12m_fen >= 0 AND outstanding_fen <= principal_fen', name=op.f('ck_reg_housing_loan_amounts')),
    sa.CheckConstraint('term_months BETWEEN 1 AND 600', name=op.f('ck_reg_housing_loan_term')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reg_housing_loan'))
    )
    with op.batch_alter_table('reg_housing_loan', schema=None) as batch_op:
        batch_op.create_index('ix_reg_housing_loan_contract', ['contract_no', 'id_number'], unique=True)
        batch_op.create_index('ix_reg_housing_loan_id_number', ['id_number'], unique=False)

    op.create_table('reg_low_income',
    sa.Column('certificate_no', sa.String(length=32), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.CheckConstraint("status = 'active' OR until IS NOT NULL", name=op.f('ck_reg_low_income_ended_until')),
    sa.CheckConstraint("status IN ('active', 'ended')", name=op.f('ck_reg_low_income_status')),
    sa.CheckConstraint('until IS NULL OR until >= since', name=op.f('ck_reg_low_income_dates')),
    sa.PrimaryKeyConstraint('certificate_no', name=op.f('pk_reg_low_income'))
    )
    with op.batch_alter_table('reg_low_income', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reg_low_income_id_number'), ['id_number'], unique=False)

    op.create_table('reg_marriage',
    sa.Column('record_no', sa.String(length=32), nullable=False),
    sa.Column('party_a_id_number', sa.String(length=18), nullable=False),
    sa.Column('party_a_name', sa.String(length=50), nullable=False),
    sa.Column('party_b_id_number', sa.String(length=18), nullable=False),
    sa.Column('party_b_name', sa.String(length=50), nullable=False),
    sa.Column('married_on', sa.Date(), nullable=False),
    sa.Column('divorced_on', sa.Date(), nullable=True),
    sa.CheckConstraint('divorced_on IS NULL OR divorced_on >= married_on', name=op.f('ck_reg_marriage_dates')),
    sa.CheckConstraint('party_a_id_number <> party_b_id_number', name=op.f('ck_reg_marriage_two_people')),
    sa.PrimaryKeyConstraint('record_no', name=op.f('pk_reg_marriage'))
    )
    with op.batch_alter_table('reg_marriage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reg_marriage_party_a_id_number'), ['party_a_id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_reg_marriage_party_b_id_number'), ['party_b_id_number'], unique=False)

    op.create_table('reg_retirement',
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('approval_no', sa.String(length=32), nullable=False),
    sa.Column('retired_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.CheckConstraint("kind IN ('normal', 'early', 'disability')", name=op.f('ck_reg_retirement_kind')),
    sa.PrimaryKeyConstraint('id_number', name=op.f('pk_reg_retirement'))
    )
    op.create_table('reg_serious_illness',
    sa.Column('record_no', sa.String(length=32), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('diagnosis', sa.String(length=100), nullable=False),
    sa.Column('hospital', sa.String(length=100), nullable=False),
    sa.Column('out_of_pocket_fen', sa.BigInteger(), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('to_date', sa.Date(), nullable=False),
    sa.CheckConstraint('out_of_pocket_fen >= 0', name=op.f('ck_reg_serious_illness_amount')),
    sa.CheckConstraint('to_date >= from_date', name=op.f('ck_reg_serious_illness_dates')),
    sa.PrimaryKeyConstraint('record_no', name=op.f('pk_reg_serious_illness'))
    )
    with op.batch_alter_table('reg_serious_illness', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reg_serious_illness_id_number'), ['id_number'], unique=False)

    op.create_table('reg_unemployment',
    sa.Column('registration_no', sa.String(length=32), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('receiving_benefit', sa.Boolean(), nullable=False),
    sa.CheckConstraint('ended_on IS NULL OR ended_on >= registered_on', name=op.f('ck_reg_unemployment_dates')),
    sa.PrimaryKeyConstraint('registration_no', name=op.f('pk_reg_unemployment'))
    )
    with op.batch_alter_table('reg_unemployment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reg_unemployment_id_number'), ['id_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reg_unemployment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reg_unemployment_id_number'))

    op.drop_table('reg_unemployment')
    with op.batch_alter_table('reg_serious_illness', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reg_serious_illness_id_number'))

    op.drop_table('reg_serious_illness')
    op.drop_table('reg_retirement')
    with op.batch_alter_table('reg_marriage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reg_marriage_party_b_id_number'))
        batch_op.drop_index(batch_op.f('ix_reg_marriage_party_a_id_number'))

    op.drop_table('reg_marriage')
    with op.batch_alter_table('reg_low_income', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reg_low_income_id_number'))

    op.drop_table('reg_low_income')
    with op.batch_alter_table('reg_housing_loan', schema=None) as batch_op:
        batch_op.drop_index('ix_reg_housing_loan_id_number')
        batch_op.drop_index('ix_reg_housing_loan_contract')

    op.drop_table('reg_housing_loan')
    with op.batch_alter_table('reg_disability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reg_disability_id_number'))

    op.drop_table('reg_disability')
