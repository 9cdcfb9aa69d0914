"""tax invoices of construction and repair; wd_application.document_no as text

Build and repair withdrawals rest on construction (建房工程) and major-repair (大修) invoices,
which the tax registry refused; a withdrawal on several invoices keeps all their numbers.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22 23:00:00+00:00
"""
# ruff: noqa: E501

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "kind IN ('deed_tax', 'house_sale', 'renovation', 'property_fee')"
NEW = "kind IN ('deed_tax', 'house_sale', 'renovation', 'property_fee', 'construction', 'repair')"


def upgrade() -> None:
    with op.batch_alter_table('reg_tax_invoice') as batch:
        batch.drop_constraint(op.f('ck_reg_tax_invoice_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_reg_tax_invoice_kind'), NEW)
    with op.batch_alter_table('wd_application') as batch:
        batch.alter_column('document_no', existing_type=sa.String(length=64), type_=sa.Text(),
                           existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('wd_application') as batch:
        batch.alter_column('document_no', existing_type=sa.Text(), type_=sa.String(length=64),
                           existing_nullable=True)
    with op.batch_alter_table('reg_tax_invoice') as batch:
        batch.drop_constraint(op.f('ck_reg_tax_invoice_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_reg_tax_invoice_kind'), OLD)
