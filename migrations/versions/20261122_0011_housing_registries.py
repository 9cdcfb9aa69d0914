"""housing registries: reg_property(+_owner), reg_housing_contract(+_buyer), reg_maintenance_payment, reg_tax_invoice

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 21:58:00+00:00
"""
# ruff: noqa: E501

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reg_housing_contract',
    sa.Column('contract_no', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('floor_area_dm2', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('new', 'resale')", name=op.f('ck_reg_housing_contract_kind')),
    sa.CheckConstraint('floor_area_dm2 > 0', name=op.f('ck_reg_housing_contract_area')),
    sa.CheckConstraint('price_fen > 0', name=op.f('ck_reg_housing_contract_price')),
    sa.PrimaryKeyConstraint('contract_no', name=op.f('pk_reg_housing_contract'))
    )
    op.create_table('reg_maintenance_payment',
    sa.Column('receipt_no', sa.String(length=40), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_reg_maintenance_payment_amount')),
    sa.PrimaryKeyConstraint('receipt_no', name=op.f('pk_reg_maintenance_payment'))
    )
    with op.batch_alter_table('reg_maintenance_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reg_maintenance_payment_id_number'), ['id_number'], unique=False)

    op.create_table('reg_property',
    sa.Column('cert_no', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('floor_area_dm2', sa.Integer(), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('use', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.CheckConstraint("status IN ('active', 'cancelled')", name=op.f('ck_reg_property_status')),
    sa.CheckConstraint('floor_area_dm2 > 0', name=op.f('ck_reg_property_area')),
    sa.PrimaryKeyConstraint('cert_no', name=op.f('pk_reg_property'))
    )
    op.create_table('reg_tax_invoice',
    sa.Column('invoice_no', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('buyer_id_number', sa.String(length=18), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('seller', sa.String(length=100), nullable=False),
    sa.CheckConstraint("kind IN ('deed_tax', 'house_sale', 'renovation', 'property_fee')", name=op.f('ck_reg_tax_invoice_kind')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_reg_tax_invoice_amount')),
    sa.PrimaryKeyConstraint('invoice_no', name=op.f('pk_reg_tax_invoice'))
    )
    with op.batch_alter_table('reg_tax_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reg_tax_invoice_buyer_id_number'), ['buyer_id_number'], unique=False)

    op.create_table('reg_housing_contract_buyer',
    sa.Column('contract_no', sa.String(length=40), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.ForeignKeyConstraint(['contract_no'], ['reg_housing_contract.contract_no'], name=op.f('fk_reg_housing_contract_buyer_contract_no_reg_housing_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_no', 'id_number', name=op.f('pk_reg_housing_contract_buyer'))
    )
    with op.batch_alter_table('reg_housing_contract_buyer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reg_housing_contract_buyer_id_number'), ['id_number'], unique=False)

    op.create_table('reg_property_owner',
    sa.Column('cert_no', sa.String(length=64), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.ForeignKeyConstraint(['cert_no'], ['reg_property.cert_no'], name=op.f('fk_reg_property_owner_cert_no_reg_property'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cert_no', 'id_number', name=op.f('pk_reg_property_owner'))
    )
    with op.batch_alter_table('reg_property_owner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reg_property_owner_id_number'), ['id_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reg_property_owner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reg_property_owner_id_number'))

    op.drop_table('reg_property_owner')
    with op.batch_alter_table('reg_housing_contract_buyer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reg_housing_contract_buyer_id_number'))

    op.drop_table('reg_housing_contract_buyer')
    with op.batch_alter_table('reg_tax_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reg_tax_invoice_buyer_id_number'))

    op.drop_table('reg_tax_invoice')
    op.drop_table('reg_property')
    with op.batch_alter_table('reg_maintenance_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reg_maintenance_payment_id_number'))

    op.drop_table('reg_maintenance_payment')
    op.drop_table('reg_housing_contract')
