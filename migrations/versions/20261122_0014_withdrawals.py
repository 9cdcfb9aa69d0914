"""withdrawals: wd_application, wd_payout_batch, wd_schedule; gateway_command.due_on

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 22:30:00+00:00
"""
# ruff: noqa: E501

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('gateway_command') as batch:
        batch.add_column(sa.Column('due_on', sa.Date(), nullable=True))
    op.create_table(
        'wd_application',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('command_id', sa.BigInteger(), nullable=False),
        sa.Column('application_no', sa.String(length=20), nullable=False),
        sa.Column('member_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('reason_code', sa.String(length=2), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('route', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('requested_fen', sa.BigInteger(), nullable=True),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('interest_fen', sa.BigInteger(), nullable=False),
        sa.Column('closes_account', sa.Boolean(), nullable=False),
        sa.Column('bank_code', sa.String(length=8), nullable=False),
        sa.Column('card_no_enc', sa.String(length=128), nullable=False),
        sa.Column('account_name', sa.String(length=50), nullable=False),
        sa.Column('document_no', sa.String(length=64), nullable=True),
        sa.Column('details_json', sa.Text(), nullable=True),
        sa.Column('review_reasons', sa.Text(), nullable=True),
        sa.Column('reservation_id', sa.BigInteger(), nullable=True),
        sa.Column('applied_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('decision_reason', sa.String(length=300), nullable=True),
        sa.Column('voucher_id', sa.BigInteger(), nullable=True),
        sa.Column('batch_no', sa.String(length=32), nullable=True),
        sa.Column('batch_seq', sa.Integer(), nullable=True),
        sa.Column('bank_txn_id', sa.String(length=64), nullable=True),
        sa.Column('paid_on', sa.Date(), nullable=True),
        sa.Column('failure_code', sa.String(length=8), nullable=True),
        sa.Column('failure_reason', sa.String(length=100), nullable=True),
        sa.Column('schedule_id', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wd_application')),
        sa.UniqueConstraint('command_id', name=op.f('uq_wd_application_command_id')),
        sa.UniqueConstraint('application_no', name=op.f('uq_wd_application_application_no')),
    )
    op.create_index('ix_wd_application_member', 'wd_application', ['member_id', 'kind', 'applied_on'])
    op.create_index('ix_wd_application_status', 'wd_application', ['status', 'bank_code'])
    op.create_index('ix_wd_application_batch', 'wd_application', ['batch_no', 'batch_seq'])
    op.create_table(
        'wd_payout_batch',
        sa.Column('batch_no', sa.String(length=32), nullable=False),
        sa.Column('bank_code', sa.String(length=8), nullable=False),
        sa.Column('created_on', sa.Date(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('total_fen', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('settled_on', sa.Date(), nullable=True),
        sa.Column('paid_count', sa.Integer(), nullable=False),
        sa.Column('failed_count', sa.Integer(), nullable=False),
        sa.Column('problems', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('batch_no', name=op.f('pk_wd_payout_batch')),
    )
    op.create_index('ix_wd_payout_batch_status', 'wd_payout_batch', ['status', 'bank_code'])
    op.create_table(
        'wd_schedule',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('member_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('bank_code', sa.String(length=8), nullable=False),
        sa.Column('card_no_enc', sa.String(length=128), nullable=False),
        sa.Column('account_name', sa.String(length=50), nullable=False),
        sa.Column('first_period', sa.Integer(), nullable=False),
        sa.Column('last_period', sa.Integer(), nullable=False),
        sa.Column('done_through', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('signed_on', sa.Date(), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('command_id', sa.BigInteger(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_wd_schedule')),
    )
    op.create_index('ix_wd_schedule_member', 'wd_schedule', ['member_id', 'status'])


def downgrade() -> None:
    op.drop_index('ix_wd_schedule_member', table_name='wd_schedule')
    op.drop_table('wd_schedule')
    op.drop_index('ix_wd_payout_batch_status', table_name='wd_payout_batch')
    op.drop_table('wd_payout_batch')
    op.drop_index('ix_wd_application_batch', table_name='wd_application')
    op.drop_index('ix_wd_application_status', table_name='wd_application')
    op.drop_index('ix_wd_application_member', table_name='wd_application')
    op.drop_table('wd_application')
    with op.batch_alter_table('gateway_command') as batch:
        batch.drop_column('due_on')
