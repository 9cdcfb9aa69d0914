"""Migration 0008: a database at 0007 with plaintext personal data upgrades; afterwards no
plaintext is left, the member is found by ID number and logs in; the downgrade restores it."""

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    create_engine,
    insert,
    select,
    text,
)

from hpf.identity import passwords
from hpf.identity import repository as identity_repository
from hpf.kit import db, migrate
from hpf.kit.sealed import id_number_index

ID18 = "530102199005170053"
ID15_LOGIN = "530102900517005"  # a failed login typed in the 15-digit form, same person
PHONE = "13912345678"
CONTACT = "13787654321"
CARD = "6222021234567890123"
PASSWORD = "Member2024pw"
PARAMS = '{"name": "张三", "id_number": "530102199005170053", "phone": "13912345678"}'


def _plain_engine(url: str) -> Engine:
    # A bare engine: foreign keys off on SQLite; on PostgreSQL the test switches them off
    # per connection, so the rows need no parents beyond what the test is about.
    return create_engine(migrate._driver_url(url))


def _dummy(column) -> object:
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 5, tzinfo=UTC)
    if isinstance(kind, Date):
        return date(2026, 1, 5)
    if isinstance(kind, Integer | Numeric):
        return 1
    return "x"[: getattr(kind, "length", None) or 1]


def _insert(conn, meta: MetaData, table: str, values: dict) -> None:
    """Insert a row giving every required column a harmless value unless `values` has one."""
    t = meta.tables[table]
    row = {c.name: _dummy(c) for c in t.columns
           if not c.nullable and c.server_default is None and not c.primary_key}
    row.update(values)
    conn.execute(insert(t), row)


def _old_city(url: str) -> None:
    engine = _plain_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET session_replication_role = replica"))
        _insert(conn, meta, "dep_employer", {"id": 1, "unit_no": "5301000001", "kind": "ordinary",
                                             "contact_phone": CONTACT, "status": "01",
                                             "unit_ratio_bps": 1200, "member_ratio_bps": 1200})
        for n in range(1, 4):
            _insert(conn, meta, "dep_member", {
                "id": n, "member_no": f"53010000{n:02d}", "id_number": ID18 if n == 1 else
                f"5301021990051700{n}{n}", "phone": PHONE if n == 1 else None, "employer_id": 1,
                "account_id": n, "status": "01", "gender": "M", "retire_group": "M60",
                "base_fen": 500_000, "unit_ratio_bps": 1200, "member_ratio_bps": 1200})
        _insert(conn, meta, "dep_flexible_agreement", {"id": 1, "member_id": 1, "card_no": CARD,
                                                       "status": "active"})
        _insert(conn, meta, "dep_receipt", {"id": 1, "payer_account": CARD, "amount_fen": 100,
                                            "bank_txn_id": "T1", "status": "matched"})
        _insert(conn, meta, "idn_user_account", {
            "id": 1, "kind": "member", "login_name": ID18, "member_id": 1, "phone": PHONE,
            "password_hash": passwords.hash_password(PASSWORD), "status": "active",
            "failed_count": 0, "roles": ""})
        for n, name in enumerate((ID18, ID15_LOGIN), start=1):
            _insert(conn, meta, "idn_login_event", {"id": n, "user_id": 1, "login_name": name,
                                                    "kind": "member", "outcome": "success"})
        _insert(conn, meta, "idn_otp_code", {"id": 1, "phone": PHONE, "purpose": "register",
                                             "attempts": 0})
        _insert(conn, meta, "notice_outbox", {"id": 1, "channel": "sms", "recipient": PHONE,
                                              "content": "验证码", "status": "queued"})
        _insert(conn, meta, "gateway_command", {
            "id": 1, "service_code": "dep.flexible_open", "params_json": PARAMS,
            "result_json": '{"status": "succeeded"}', "status": "succeeded",
            "required_approvals": 0, "approvals": 0})
    engine.dispose()


TABLES = ("dep_member", "dep_employer", "dep_flexible_agreement", "dep_receipt",
          "idn_user_account", "idn_login_event", "idn_otp_code", "notice_outbox",
          "gateway_command")


def _all_text(url: str) -> str:
    engine = _plain_engine(url)
    with engine.connect() as conn:
        text_rows = [repr(tuple(row)) for table in TABLES
                     for row in conn.execute(text(f"SELECT * FROM {table}"))]
    engine.dispose()
    return "\n".join(text_rows)


def test_upgrade_encrypts_and_lookups_work(empty_url: str) -> None:
    migrate.upgrade(empty_url, "0007")
    _old_city(empty_url)
    before = _all_text(empty_url)
    assert ID18 in before and PHONE in before and CARD in before

    migrate.upgrade(empty_url, "0008")
    after = _all_text(empty_url)
    for secret in (ID18, ID18[:17], PHONE, CONTACT, CARD, ID15_LOGIN):
        assert secret not in after, secret

    with db.transaction(empty_url) as session:
        member = identity_repository.member_by_id_number(session, ID18)
        assert (member.id, member.id_number, member.phone) == (1, ID18, PHONE)
        assert identity_repository.member_by_id_number(session, ID18[:6] + ID18[8:17]).id == 1
        user = identity_repository.user_by_login(session, "member", id_number_index(ID18))
        assert user is not None and user.phone == PHONE
        assert passwords.verify_password(user.password_hash, PASSWORD)
        names = session.execute(text("SELECT login_name FROM idn_login_event ORDER BY id"))
        # The 15-digit spelling lands on the same index as the 18-digit one.
        assert [n for (n,) in names] == [id_number_index(ID18)] * 2
        assert identity_repository.latest_otp(session, PHONE).purpose == "register"
        payer = session.scalar(text("SELECT payer_account FROM dep_receipt"))
        assert payer == "6222****0123"
        from hpf.deposits.models import Employer, FlexibleAgreement
        from hpf.gateway.models import Command
        from hpf.notices.service import latest

        # Single columns, not whole rows: the models are at head, the schema at 0008.
        assert session.scalar(select(Employer.contact_phone).where(Employer.id == 1)) == CONTACT
        assert session.scalar(select(FlexibleAgreement.card_no)
                              .where(FlexibleAgreement.id == 1)) == CARD
        assert session.scalar(select(Command.params_json).where(Command.id == 1)) == PARAMS
        assert [m.recipient for m in latest(session, PHONE)] == [PHONE]
    db.dispose_all()

    migrate.downgrade(empty_url, "0007")
    restored = _all_text(empty_url)
    assert ID18 in restored and PHONE in restored and CARD in restored and PARAMS in restored
