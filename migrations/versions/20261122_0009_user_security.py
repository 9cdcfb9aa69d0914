"""user security: captchas, channel bindings, SMS notice signing, consents, risk signals and alerts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 18:40:00+00:00

New tables only. Binding external ids are stored encrypted (hpf.kit.sealed), hence a plain
VARCHAR column here.
"""
# ruff: noqa: E501

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idn_captcha',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('answer_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idn_captcha')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_idn_captcha_token_hash'))
    )
    with op.batch_alter_table('idn_captcha', schema=None) as batch_op:
        batch_op.create_index('ix_idn_captcha_expires', ['expires_at'], unique=False)

    op.create_table('risk_alert',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.Column('subject', sa.String(length=64), nullable=True),
    sa.Column('command_id', sa.BigInteger(), nullable=True),
    sa.Column('service_code', sa.String(length=48), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('message', sa.String(length=200), nullable=False),
    sa.Column('detail_json', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('review_note', sa.String(length=300), nullable=True),
    sa.CheckConstraint("severity IN ('alert', 'hold')", name=op.f('ck_risk_alert_severity')),
    sa.CheckConstraint("status IN ('open', 'cleared', 'confirmed')", name=op.f('ck_risk_alert_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_alert'))
    )
    with op.batch_alter_table('risk_alert', schema=None) as batch_op:
        batch_op.create_index('ix_risk_alert_command', ['command_id'], unique=False)
        batch_op.create_index('ix_risk_alert_rule_subject', ['rule', 'subject', 'created_at'], unique=False)
        batch_op.create_index('ix_risk_alert_status', ['status', 'id'], unique=False)

    op.create_table('risk_signal',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_signal'))
    )
    with op.batch_alter_table('risk_signal', schema=None) as batch_op:
        batch_op.create_index('ix_risk_signal_member', ['member_id', 'kind', 'at'], unique=False)
        batch_op.create_index('ix_risk_signal_user', ['user_id', 'kind', 'at'], unique=False)

    op.create_table('idn_consent',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('party', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('granted_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['dep_member.id'], name=op.f('fk_idn_consent_member_id_dep_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idn_consent'))
    )
    with op.batch_alter_table('idn_consent', schema=None) as batch_op:
        batch_op.create_index('ix_idn_consent_member', ['member_id', 'party', 'purpose'], unique=False)

    op.create_table('idn_sms_signing',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint("method IN ('sms_code', 'bank_card', 'counter')", name=op.f('ck_idn_sms_signing_method')),
    sa.CheckConstraint("status IN ('signed', 'cancelled')", name=op.f('ck_idn_sms_signing_status')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_idn_sms_signing_version_pos')),
    sa.ForeignKeyConstraint(['member_id'], ['dep_member.id'], name=op.f('fk_idn_sms_signing_member_id_dep_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idn_sms_signing')),
    sa.UniqueConstraint('member_id', name=op.f('uq_idn_sms_signing_member_id'))
    )
    op.create_table('idn_channel_binding',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('external_enc', sa.String(length=400), nullable=False),
    sa.Column('external_bidx', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=True),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unbound_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unbound_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint("kind IN ('wechat_openid', 'app_device', 'kiosk_card')", name=op.f('ck_idn_channel_binding_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['idn_user_account.id'], name=op.f('fk_idn_channel_binding_user_id_idn_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idn_channel_binding'))
    )
    with op.batch_alter_table('idn_channel_binding', schema=None) as batch_op:
        batch_op.create_index('ix_idn_channel_binding_user', ['user_id', 'unbound_at'], unique=False)
        batch_op.create_index('ux_idn_channel_binding_live', ['kind', 'external_bidx'], unique=True, sqlite_where=sa.text('unbound_at IS NULL'), postgresql_where=sa.text('unbound_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('idn_channel_binding', schema=None) as batch_op:
        batch_op.drop_index('ux_idn_channel_binding_live', sqlite_where=sa.text('unbound_at IS NULL'), postgresql_where=sa.text('unbound_at IS NULL'))
        batch_op.drop_index('ix_idn_channel_binding_user')

    op.drop_table('idn_channel_binding')
    op.drop_table('idn_sms_signing')
    with op.batch_alter_table('idn_consent', schema=None) as batch_op:
        batch_op.drop_index('ix_idn_consent_member')

    op.drop_table('idn_consent')
    with op.batch_alter_table('risk_signal', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_signal_user')
        batch_op.drop_index('ix_risk_signal_member')

    op.drop_table('risk_signal')
    with op.batch_alter_table('risk_alert', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_alert_status')
        batch_op.drop_index('ix_risk_alert_rule_subject')
        batch_op.drop_index('ix_risk_alert_command')

    op.drop_table('risk_alert')
    with op.batch_alter_table('idn_captcha', schema=None) as batch_op:
        batch_op.drop_index('ix_idn_captcha_expires')

    op.drop_table('idn_captcha')
