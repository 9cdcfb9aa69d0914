"""application materials: mat_material (uploaded supporting documents, files encrypted on disk)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 22:10:00+00:00
"""
# ruff: noqa: E501

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mat_material',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner_kind', sa.String(length=10), nullable=False),
    sa.Column('owner_id', sa.BigInteger(), nullable=False),
    sa.Column('uploaded_by', sa.BigInteger(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('file_name_enc', sa.String(length=600), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_path', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_by_command_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("content_type IN ('application/pdf', 'image/jpeg', 'image/png')", name=op.f('ck_mat_material_content_type')),
    sa.CheckConstraint("owner_kind IN ('member', 'employer', 'developer')", name=op.f('ck_mat_material_owner_kind')),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_mat_material_size_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mat_material'))
    )
    with op.batch_alter_table('mat_material', schema=None) as batch_op:
        batch_op.create_index('ix_mat_material_command', ['used_by_command_id'], unique=False)
        batch_op.create_index('ix_mat_material_owner', ['owner_kind', 'owner_id', 'used_by_command_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mat_material', schema=None) as batch_op:
        batch_op.drop_index('ix_mat_material_owner')
        batch_op.drop_index('ix_mat_material_command')

    op.drop_table('mat_material')
