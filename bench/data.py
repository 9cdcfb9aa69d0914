"""The benchmark city: employers registered through the deposit service, members and their
ledger accounts bulk-loaded, and opening balances posted as one balanced voucher.

State after the build (business date 2026-05-15, interest year 2025 = 2025-07-01..2026-06-30):
- chart of accounts and dated parameters (hpf defaults: 1.5 % a year, rounding to the yuan);
- `employers` employers (5 % to 12 % ratios), every one paid through 202604, first month 202507;
- `members` active members, each with a deposit account in interest year 2025, shuffled over
  the employers (layout "shuffled": an employer's members have ids spread over the whole
  table, as when people join over the years) or in one block per employer ("grouped");
- one opening voucher (上年结转, value date 2025-07-01) crediting every member account with its
  balance against the bank settlement account, so `hpf.ledger.verify.verify` is clean:
  balances equal postings, subjects equal accounts, product-sums equal balance × 365 days.

Rows go in through the DBAPI in chunks (executemany on SQLite, COPY on PostgreSQL); Python holds
one chunk at a time. The opening postings are written by one INSERT ... SELECT.
"""

import random
import time
from datetime import date
from typing import Any

from sqlalchemy import text

from hpf.catalog import params
from hpf.deposits import service
from hpf.deposits.domain import BANKS
from hpf.deposits.models import Member
from hpf.kit import clock, db, migrate
from hpf.kit.sealed import id_number_index, phone_index, seal
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger

YEAR = 2025  # the open interest year of every member account
YEAR_START, YEAR_END = ledger_domain.interest_year_bounds(YEAR)
FIRST_MONTH = 202507
PAID_THROUGH = 202604
CHUNK_ROWS = 50_000
ID_CONTEXT = Member.__table__.c.id_number_enc.type.context
PHONE_CONTEXT = Member.__table__.c.phone_enc.type.context

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬燕彬斌辉鹏宇浩凯健俊帆帅旭宁琳晨"

ACCOUNT_COLUMNS = ("id", "subject_code", "owner_kind", "owner_id", "name", "balance_fen",
                   "reserved_fen", "accrual_year", "accrual_fen_days", "year_open_balance_fen",
                   "last_interest_fen", "opened_on")
MEMBER_COLUMNS = ("id", "member_no", "name", "id_type", "id_number_enc", "id_number_bidx",
                  "gender", "birth_date", "retire_group", "phone_enc", "phone_bidx",
                  "employer_id", "status", "base_fen",
                  "unit_ratio_bps", "member_ratio_bps", "base_year", "account_id", "opened_on",
                  "first_month", "retired")


def log(message: str) -> None:
    print(f"  {message}", flush=True)


def build_city(url: str, *, members: int, employers: int, layout: str = "shuffled",
               seed: int = 20260515) -> dict[str, Any]:
    """Migrate an empty database at `url` and load the benchmark city into it."""
    started = time.perf_counter()
    migrate.upgrade(url)
    factory = db.session_factory(url)
    rng = random.Random(seed)
    with clock.frozen(YEAR_START), factory() as session, session.begin():
        ledger.ensure_chart(session)
        params.seed_defaults(session)
        bank_id = ledger.system_account(session, ledger_domain.BANK_SETTLEMENT, "bank", None,
                                        f"委托银行结算户-{BANKS['ICBC']}").id
        ledger.system_account(session, ledger_domain.INTEREST_EXPENSE)
    t0 = time.perf_counter()
    employer_rows = _register_employers(factory, rng, employers)
    log(f"{employers} employers registered through the deposit service "
        f"in {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    total_fen = _load_members(url, rng, members, employer_rows, layout)
    log(f"{members} members and accounts loaded in {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    _post_opening_balances(factory, bank_id, members, total_fen)
    log(f"opening voucher ({members + 1} postings) in {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    _analyze(url)
    if db.make_engine(url).dialect.name != "sqlite":
        log(f"VACUUM ANALYZE in {time.perf_counter() - t0:.1f}s")
    return {"members": members, "employers": employers, "opening_fen": total_fen,
            "build_s": time.perf_counter() - started}


def _register_employers(factory, rng: random.Random, count: int) -> dict[int, int]:
    """Register employers the way the counter does; returns {employer id: ratio bps}."""
    banks = list(BANKS)
    ratios: dict[int, int] = {}
    with clock.frozen(date(2025, 6, 20)), factory() as session, session.begin():
        for i in range(count):
            ratio = rng.choice([500, 800, 1000, 1200, 1200, 1200])
            employer = service.register_employer(
                session, name=f"基准测试单位{i + 1:05d}", uscc=f"915301{i + 1:012d}",
                legal_rep="张三", contact_name="李四", contact_phone=f"139{i:08d}",
                address="五华区人民中路1号", bank_code=banks[i % len(banks)],
                unit_ratio_bps=ratio, member_ratio_bps=ratio, first_month=FIRST_MONTH)
            ratios[employer.id] = ratio
        session.execute(text("UPDATE dep_employer SET paid_through = :p"), {"p": PAID_THROUGH})
    return ratios


def _load_members(url: str, rng: random.Random, count: int, employers: dict[int, int],
                  layout: str) -> int:
    """Bulk-load members and their deposit accounts; returns the sum of opening balances.

    `shuffled` spreads each employer's members over the whole id range (people join over
    years); `grouped` gives each employer one contiguous block of ids (staff opened together).
    """
    engine = db.make_engine(url)
    with engine.connect() as conn:
        next_account = conn.execute(text("SELECT MAX(id) FROM ledger_account")).scalar() + 1
    ids = sorted(employers)
    per, extra = divmod(count, len(ids))
    assignment = [eid for n, eid in enumerate(ids) for _ in range(per + (1 if n < extra else 0))]
    if layout == "shuffled":
        rng.shuffle(assignment)
    elif layout != "grouped":
        raise ValueError(f"unknown layout {layout}")
    days = (YEAR_END - YEAR_START).days
    total_fen = 0
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        sqlite = engine.dialect.name == "sqlite"
        for lo in range(0, count, CHUNK_ROWS):
            accounts, members = [], []
            for n in range(lo, min(lo + CHUNK_ROWS, count)):
                member_id, account_id = n + 1, next_account + n
                eid = assignment[n]
                ratio = employers[eid]
                base = max(210_000, min(3_000_000, int(rng.lognormvariate(8.9, 0.45)) * 100))
                months = rng.randrange(1, 240)
                balance = base * ratio * 2 // 10_000 * months
                total_fen += balance
                male = rng.random() < 0.52
                name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                opened = date(2006 + rng.randrange(19), rng.randrange(1, 13), 1)
                born = date(1966 + rng.randrange(37), rng.randrange(1, 13), rng.randrange(1, 29))
                accounts.append((
                    account_id, ledger_domain.MEMBER_DEPOSITS, "member", member_id,
                    f"公积金-{name}", balance, 0, YEAR, balance * days, balance, 0, opened))
                # Personal data is sealed here, per row, as the platform stores it
                # (hpf.kit.sealed): ciphertext plus blind index for the ID number and phone.
                id_number, phone = f"530102{member_id:012d}", f"139{member_id:08d}"
                members.append((
                    member_id, f"{service.CITY_CODE}{member_id:010d}", name, "01",
                    seal(id_number, ID_CONTEXT), id_number_index(id_number),
                    "M" if male else "F", born, "M60" if male else "F55",
                    seal(phone, PHONE_CONTEXT), phone_index(phone), eid, "01", base, ratio,
                    ratio, 2025, account_id, opened, FIRST_MONTH, False))
            if sqlite:
                _sqlite_load(dbapi, "ledger_account", ACCOUNT_COLUMNS, accounts)
                _sqlite_load(dbapi, "dep_member", MEMBER_COLUMNS, members)
            else:
                _pg_copy(dbapi, "ledger_account", ACCOUNT_COLUMNS, accounts)
                _pg_copy(dbapi, "dep_member", MEMBER_COLUMNS, members)
        if not sqlite:
            # Explicit ids leave the serial sequences behind; later inserts would collide.
            cur = dbapi.cursor()
            for table in ("ledger_account", "dep_member"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT MAX(id) FROM {table}))")
            dbapi.commit()
    finally:
        raw.close()
    return total_fen


def _sqlite_load(conn, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    def plain(value: Any) -> Any:
        # Stored the way SQLAlchemy stores them on SQLite: ISO dates, 0/1 booleans.
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    marks = ", ".join("?" for _ in columns)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                     ([plain(v) for v in row] for row in rows))
    conn.execute("COMMIT")


def _pg_copy(conn, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)
    conn.commit()


def _post_opening_balances(factory, bank_id: int, members: int, total_fen: int) -> None:
    """One balanced voucher: credit every member with its balance, debit the bank account."""
    with factory() as session, session.begin():
        vid = session.execute(text(
            "INSERT INTO ledger_voucher (entry_type, posted_on, value_date, total_fen, "
            "line_count, summary) VALUES ('carry_over', :d, :d, :total, :lines, :summary) "
            "RETURNING id"),
            {"d": YEAR_START, "total": total_fen, "lines": members + 1,
             "summary": "基准测试期初余额"}).scalar_one()
        session.execute(text(
            "INSERT INTO ledger_posting (voucher_id, account_id, side, amount_fen, "
            "balance_after_fen, value_date, entry_type) "
            "SELECT :vid, id, 'C', balance_fen, balance_fen, :d, 'carry_over' FROM ledger_account "
            "WHERE subject_code = :subj AND balance_fen > 0"),
            {"vid": vid, "d": YEAR_START, "subj": ledger_domain.MEMBER_DEPOSITS})
        session.execute(text(
            "INSERT INTO ledger_posting (voucher_id, account_id, side, amount_fen, "
            "balance_after_fen, value_date, entry_type) "
            "VALUES (:vid, :bank, 'D', :total, :total, :d, 'carry_over')"),
            {"vid": vid, "bank": bank_id, "total": total_fen, "d": YEAR_START})
        session.execute(text("UPDATE ledger_account SET balance_fen = :total WHERE id = :bank"),
                        {"total": total_fen, "bank": bank_id})
        session.execute(text(
            "UPDATE ledger_subject SET balance_fen = balance_fen + :total "
            "WHERE code IN (:deposits, :bank)"),
            {"total": total_fen, "deposits": ledger_domain.MEMBER_DEPOSITS,
             "bank": ledger_domain.BANK_SETTLEMENT})


def _analyze(url: str) -> None:
    """Planner statistics as a running database has them.

    PostgreSQL: what autovacuum would have done by now (VACUUM ANALYZE). SQLite: nothing, as
    the platform never runs ANALYZE; statistics taken now would also mislead, since they would
    describe one voucher of a million postings (verify's voucher check then scans every
    posting once per voucher).
    """
    engine = db.make_engine(url)
    if engine.dialect.name == "sqlite":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
