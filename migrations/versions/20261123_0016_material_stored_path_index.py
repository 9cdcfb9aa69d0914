"""mat_material.stored_path index for the materials sweep

The sweep (hpf jobs run materials-sweep) deletes a material file only when no row names it;
that question is asked per chunk of files and must not scan the whole table each time.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 01:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_mat_material_stored_path', 'mat_material', ['stored_path'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_mat_material_stored_path', table_name='mat_material')
