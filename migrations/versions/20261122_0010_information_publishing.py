"""information publishing: pub_article (news, policies, guides, FAQs, downloads), versioned

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 19:05:00+00:00
"""
# ruff: noqa: E501

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pub_article',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('channels', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('made_by', sa.String(length=64), nullable=True),
    sa.Column('command_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("kind IN ('news', 'policy', 'guide', 'faq', 'download')", name=op.f('ck_pub_article_kind')),
    sa.CheckConstraint("status IN ('published', 'superseded', 'withdrawn')", name=op.f('ck_pub_article_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pub_article'))
    )
    with op.batch_alter_table('pub_article', schema=None) as batch_op:
        batch_op.create_index('ix_pub_article_list', ['kind', 'status', 'published_at'], unique=False)
        batch_op.create_index('ix_pub_article_slug', ['slug', 'version'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('pub_article', schema=None) as batch_op:
        batch_op.drop_index('ix_pub_article_slug')
        batch_op.drop_index('ix_pub_article_list')

    op.drop_table('pub_article')
