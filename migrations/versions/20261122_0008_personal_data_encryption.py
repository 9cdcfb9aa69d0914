"""personal data: ID numbers and phones encrypted at rest with blind indexes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 18:40:00+00:00

ID numbers, phones and flexible depositors' bank cards move from plaintext columns to
AES-GCM ciphertext columns (`*_enc`, hpf.kit.sealed) with blind-index columns (`*_bidx`) for
lookups. Rows are rewritten in Python, in chunks of CHUNK rows by primary key, under the key
derived from HPF_SECRET_KEY: the key the application runs with must be set when this runs.
A member's login name (and a member's login log entries) become the ID number's blind index;
receipts of flexible-deposit debits keep the card only masked; OTP codes keep only the phone's
blind index; stored calls (gateway_command) keep their parameters and results encrypted in
place. The downgrade decrypts everything back (same key required).
"""
# ruff: noqa: E501

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from hpf.kit.ids import mask_id_number
from hpf.kit.sealed import (
    DOCUMENT_MAX_CHARS,
    id_number_index,
    phone_index,
    recipient_index,
    seal,
    unseal,
)

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 5_000
# The contexts of the model columns (hpf/*/models.py): a token only opens under its own.
MEMBER_ID = "dep_member.id_number"
MEMBER_PHONE = "dep_member.phone"
EMPLOYER_PHONE = "dep_employer.contact_phone"
CARD = "dep_flexible_agreement.card_no"
USER_PHONE = "idn_user_account.phone"
RECIPIENT = "notice_outbox.recipient"
COMMAND_PARAMS = "gateway_command.params_json"
COMMAND_RESULT = "gateway_command.result_json"
# A stored call's result can be a whole roster export: fewer rows per chunk.
COMMAND_CHUNK = 200
SEALED = sa.String(length=128)
INDEX = sa.String(length=32)


def _rewrite(table: str, columns: Sequence[str], fn: Callable[[Any], dict | None],
             where: str = "1 = 1", chunk: int = CHUNK) -> None:
    """Read `columns` of `table` in id order, `chunk` rows at a time, and write back what `fn`
    returns for each row (a dict of new values; None leaves the row alone)."""
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(sa.text(
            f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > :last AND ({where}) "
            f"ORDER BY id LIMIT {chunk}"), {"last": last}).all()
        if not rows:
            return
        updates = []
        for row in rows:
            values = fn(row)
            if values is not None:
                updates.append({**values, "row_id": row.id})
        if updates:
            names = list(updates[0].keys() - {"row_id"})
            conn.execute(sa.text(
                f"UPDATE {table} SET {', '.join(f'{n} = :{n}' for n in names)} "
                "WHERE id = :row_id"), updates)
        last = rows[-1].id


def _mask_card(card: str) -> str:
    return card[:4] + "****" + card[-4:]


def upgrade() -> None:
    # 1. New columns, nullable while they are filled.
    with op.batch_alter_table('dep_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_number_enc', SEALED, nullable=True))
        batch_op.add_column(sa.Column('id_number_bidx', INDEX, nullable=True))
        batch_op.add_column(sa.Column('phone_enc', SEALED, nullable=True))
        batch_op.add_column(sa.Column('phone_bidx', INDEX, nullable=True))
    with op.batch_alter_table('dep_employer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_phone_enc', SEALED, nullable=True))
    with op.batch_alter_table('dep_flexible_agreement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_no_enc', SEALED, nullable=True))
    with op.batch_alter_table('idn_user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_enc', SEALED, nullable=True))
    with op.batch_alter_table('idn_otp_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_bidx', INDEX, nullable=True))
    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_enc', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('recipient_bidx', INDEX, nullable=True))

    # 2. Fill them from the plaintext, in Python (encryption needs the application's key).
    _rewrite('dep_member', ('id_number', 'phone'), lambda r: {
        'id_number_enc': seal(r.id_number, MEMBER_ID), 'id_number_bidx': id_number_index(r.id_number),
        'phone_enc': seal(r.phone, MEMBER_PHONE), 'phone_bidx': phone_index(r.phone) if r.phone else None})
    _rewrite('dep_employer', ('contact_phone',),
             lambda r: {'contact_phone_enc': seal(r.contact_phone, EMPLOYER_PHONE)},
             "contact_phone IS NOT NULL")
    cards: set[str] = set()

    def card(r: Any) -> dict:
        cards.add(r.card_no)
        return {'card_no_enc': seal(r.card_no, CARD)}
    _rewrite('dep_flexible_agreement', ('card_no',), card)
    if cards:
        # The debit receipts of flexible depositors named the card: keep it masked only.
        _rewrite('dep_receipt', ('payer_account',),
                 lambda r: {'payer_account': _mask_card(r.payer_account)}
                 if r.payer_account in cards else None, "payer_account IS NOT NULL")
    _rewrite('idn_user_account', ('phone',), lambda r: {'phone_enc': seal(r.phone, USER_PHONE)},
             "phone IS NOT NULL")
    _rewrite('idn_user_account', ('login_name',),
             lambda r: {'login_name': id_number_index(r.login_name)}, "kind = 'member'")
    _rewrite('idn_login_event', ('login_name',),
             lambda r: {'login_name': id_number_index(r.login_name)}, "kind = 'member'")
    _rewrite('idn_otp_code', ('phone',), lambda r: {'phone_bidx': phone_index(r.phone)})
    _rewrite('notice_outbox', ('recipient',), lambda r: {
        'recipient_enc': seal(r.recipient, RECIPIENT), 'recipient_bidx': recipient_index(r.recipient)})
    # Stored calls keep their columns; parameters and results become ciphertext in place.
    _rewrite('gateway_command', ('params_json', 'result_json'), lambda r: {
        'params_json': seal(r.params_json, COMMAND_PARAMS),
        'result_json': seal(r.result_json, COMMAND_RESULT)}, chunk=COMMAND_CHUNK)

    # 3. Drop the plaintext, make the new columns required, index them.
    with op.batch_alter_table('dep_member', schema=None) as batch_op:
        batch_op.drop_constraint('uq_dep_member_id_number', type_='unique')
        batch_op.drop_column('id_number')
        batch_op.drop_column('phone')
        batch_op.alter_column('id_number_enc', existing_type=SEALED, nullable=False)
        batch_op.alter_column('id_number_bidx', existing_type=INDEX, nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_dep_member_id_number_bidx'), ['id_number_bidx'])
        batch_op.create_index('ix_dep_member_phone_bidx', ['phone_bidx'], unique=False)
    with op.batch_alter_table('dep_employer', schema=None) as batch_op:
        batch_op.drop_column('contact_phone')
    with op.batch_alter_table('dep_flexible_agreement', schema=None) as batch_op:
        batch_op.drop_column('card_no')
        batch_op.alter_column('card_no_enc', existing_type=SEALED, nullable=False)
    with op.batch_alter_table('idn_user_account', schema=None) as batch_op:
        batch_op.drop_column('phone')
    with op.batch_alter_table('idn_otp_code', schema=None) as batch_op:
        batch_op.drop_index('ix_idn_otp_code_phone')
        batch_op.drop_index('ix_idn_otp_code_recent')
        batch_op.drop_column('phone')
        batch_op.alter_column('phone_bidx', existing_type=INDEX, nullable=False)
        batch_op.create_index('ix_idn_otp_code_phone', ['phone_bidx', 'purpose', 'id'], unique=False)
        batch_op.create_index('ix_idn_otp_code_recent', ['phone_bidx', 'created_at'], unique=False)
    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_outbox_recipient')
        batch_op.drop_column('recipient')
        batch_op.alter_column('recipient_enc', existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column('recipient_bidx', existing_type=INDEX, nullable=False)
        batch_op.create_index('ix_notice_outbox_recipient', ['recipient_bidx', 'id'], unique=False)


def downgrade() -> None:
    # The plaintext columns come back and are filled by decryption; blind indexes cannot be
    # reversed, so member login names are taken from the member record they belong to.
    with op.batch_alter_table('dep_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_number', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
    with op.batch_alter_table('dep_employer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=20), nullable=True))
    with op.batch_alter_table('dep_flexible_agreement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_no', sa.String(length=19), nullable=True))
    with op.batch_alter_table('idn_user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
    with op.batch_alter_table('idn_otp_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient', sa.String(length=64), nullable=True))

    ids: dict[str, str] = {}

    def member(r: Any) -> dict:
        id_number = unseal(r.id_number_enc, MEMBER_ID)
        ids[r.id_number_bidx] = id_number
        return {'id_number': id_number, 'phone': unseal(r.phone_enc, MEMBER_PHONE)}
    _rewrite('dep_member', ('id_number_enc', 'id_number_bidx', 'phone_enc'), member)
    _rewrite('dep_employer', ('contact_phone_enc',),
             lambda r: {'contact_phone': unseal(r.contact_phone_enc, EMPLOYER_PHONE)},
             "contact_phone_enc IS NOT NULL")
    _rewrite('dep_flexible_agreement', ('card_no_enc',), lambda r: {'card_no': unseal(r.card_no_enc, CARD)})
    _rewrite('idn_user_account', ('phone_enc',), lambda r: {'phone': unseal(r.phone_enc, USER_PHONE)},
             "phone_enc IS NOT NULL")
    _rewrite('idn_user_account', ('login_name',),
             lambda r: {'login_name': ids[r.login_name]} if r.login_name in ids else None,
             "kind = 'member'")
    # A failed attempt under an ID number nobody holds has no plaintext to return to.
    _rewrite('idn_login_event', ('login_name',),
             lambda r: {'login_name': ids[r.login_name] if r.login_name in ids
                        else mask_id_number('0' * 18)}, "kind = 'member'")
    _rewrite('idn_otp_code', ('phone_bidx',), lambda r: {'phone': ''})
    _rewrite('notice_outbox', ('recipient_enc',),
             lambda r: {'recipient': unseal(r.recipient_enc, RECIPIENT)})
    _rewrite('gateway_command', ('params_json', 'result_json'), lambda r: {
        'params_json': unseal(r.params_json, COMMAND_PARAMS, DOCUMENT_MAX_CHARS),
        'result_json': unseal(r.result_json, COMMAND_RESULT, DOCUMENT_MAX_CHARS)},
             chunk=COMMAND_CHUNK)

    with op.batch_alter_table('notice_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_outbox_recipient')
        batch_op.drop_column('recipient_bidx')
        batch_op.drop_column('recipient_enc')
        batch_op.alter_column('recipient', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ix_notice_outbox_recipient', ['recipient', 'id'], unique=False)
    with op.batch_alter_table('idn_otp_code', schema=None) as batch_op:
        batch_op.drop_index('ix_idn_otp_code_phone')
        batch_op.drop_index('ix_idn_otp_code_recent')
        batch_op.drop_column('phone_bidx')
        batch_op.alter_column('phone', existing_type=sa.String(length=20), nullable=False)
        batch_op.create_index('ix_idn_otp_code_phone', ['phone', 'purpose', 'id'], unique=False)
        batch_op.create_index('ix_idn_otp_code_recent', ['phone', 'created_at'], unique=False)
    with op.batch_alter_table('idn_user_account', schema=None) as batch_op:
        batch_op.drop_column('phone_enc')
    with op.batch_alter_table('dep_flexible_agreement', schema=None) as batch_op:
        batch_op.drop_column('card_no_enc')
        batch_op.alter_column('card_no', existing_type=sa.String(length=19), nullable=False)
    with op.batch_alter_table('dep_employer', schema=None) as batch_op:
        batch_op.drop_column('contact_phone_enc')
    with op.batch_alter_table('dep_member', schema=None) as batch_op:
        batch_op.drop_index('ix_dep_member_phone_bidx')
        batch_op.drop_constraint('uq_dep_member_id_number_bidx', type_='unique')
        batch_op.drop_column('phone_bidx')
        batch_op.drop_column('phone_enc')
        batch_op.drop_column('id_number_bidx')
        batch_op.drop_column('id_number_enc')
        batch_op.alter_column('id_number', existing_type=sa.String(length=18), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_dep_member_id_number'), ['id_number'])
