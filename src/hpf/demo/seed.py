"""The demo city: employers, members and years of history made by the real jobs.

Employers and their operators are registered through the deposit service; members are
inserted in bulk (valid ID numbers, matching identity-registry rows); the history is produced
month by month by the real remittance path (list → confirm → bank receipt → match → credit)
and by the real interest settlement job each 30 June, so the ledger verifies at the end.
"""

import json
import random
from datetime import date, timedelta

from sqlalchemy import func, insert, select, text

from hpf.catalog import params
from hpf.config import get_settings
from hpf.demo import housing_registries, names, people_registries
from hpf.deposits import service
from hpf.deposits.batch import run_monthly_debit
from hpf.deposits.domain import BANKS
from hpf.deposits.jobs import run_interest_settlement
from hpf.deposits.models import M_NORMAL, M_SEALED, Employer, Member
from hpf.exchange.models import RegBankCard, RegEnterprise, RegPerson
from hpf.kit import clock
from hpf.kit.clock import add_months, month_key, month_start
from hpf.kit.db import session_factory
from hpf.kit.ids import _USCC_ALPHABET, id_check_digit, luhn_check_digit, uscc_check_char
from hpf.kit.sealed import id_number_index, phone_index
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount

DEMO_PASSWORD = "Demo@2026"
CHUNK = 5_000


def make_id_number(rng: random.Random, born: date, male: bool, seq: int) -> str:
    """A valid 18-digit ID number for a birth date and gender."""
    region = rng.choice(names.REGIONS)
    order = (seq % 499) * 2 + (1 if male else 0)
    first17 = f"{region}{born:%Y%m%d}{order:03d}"
    return first17 + id_check_digit(first17)


def make_uscc(rng: random.Random, n: int) -> str:
    """A valid unified social credit code (legal entity, enterprise: 91; region 530100)."""
    body = "91530100" + "".join(rng.choice(_USCC_ALPHABET) for _ in range(8)) + \
        _USCC_ALPHABET[n % 31]
    return body + uscc_check_char(body)


def _person_name(rng: random.Random) -> str:
    given = rng.choice(names.GIVEN) + (rng.choice(names.GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(names.SURNAMES) + given


def seed_city(url: str, *, members: int, seed: int, years: int,
              show_progress: bool = False) -> dict:
    """Build the demo city into an empty, migrated database; return a summary."""

    rng = random.Random(seed)
    factory = session_factory(url)
    today = clock.today()
    current = month_key(today)
    start_month = add_months(current, -12 * years)
    logins: list[dict] = []
    with factory() as session, session.begin():
        ledger.ensure_chart(session)
        params.seed_defaults(session)
        logins += _staff(session)
        channel_clients = _channel_clients(session)

    # Employer sizes follow a Pareto law; about 250 members per employer on average.
    n_employers = max(3, members // 250)
    employer_ids: list[int] = []
    with clock.frozen(month_start(start_month) - timedelta(days=20)), factory() as session, \
            session.begin():
        used_uscc: set[str] = set()
        for i in range(n_employers):
            uscc = make_uscc(rng, i)
            while uscc in used_uscc:
                uscc = make_uscc(rng, i + rng.randrange(1000))
            used_uscc.add(uscc)
            name = (f"{rng.choice(names.DISTRICTS)}{rng.choice(names.ORG_PREFIX)}"
                    f"{rng.choice(names.ORG_KIND)}")
            if i:
                name = f"{name}（{i}）"
            session.add(RegEnterprise(uscc=uscc, name=name, legal_rep=_person_name(rng)))
            session.flush()
            ratio = rng.choice([500, 800, 1000, 1200, 1200, 1200])
            employer = service.register_employer(
                session, name=name, uscc=uscc, legal_rep=_person_name(rng),
                contact_name=_person_name(rng), contact_phone=f"139{rng.randrange(10**8):08d}",
                address=f"{rng.choice(names.DISTRICTS)}{rng.choice(names.STREETS)}"
                        f"{rng.randrange(1, 400)}号",
                bank_code=rng.choice(list(BANKS)), unit_ratio_bps=ratio,
                member_ratio_bps=ratio, first_month=start_month)
            employer.debit_account_no = f"62220{rng.randrange(10**13):013d}"
            employer_ids.append(employer.id)
        logins += _unit_operators(session, employer_ids[:2])

    member_rows = _bulk_members(factory, rng, members, employer_ids, start_month, current,
                                show_progress)
    history = _history(factory, employer_ids, start_month, current, show_progress)
    with factory() as session, session.begin():
        logins += _member_logins(session, member_rows[:3])
        _events(session, rng, employer_ids)
        if url == get_settings().database_url:  # key files only for the city on disk
            _demo_certificate(session, logins, get_settings().var_dir / "demo-certs")
    path = get_settings().var_dir / "demo-credentials.json"
    if url == get_settings().database_url:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"logins": logins, "clients": channel_clients,
                                    "generated_on": str(today)},
                                   ensure_ascii=False, indent=2), encoding="utf-8")
    return {"employers": n_employers, "members": members, "months": history["months"],
            "interest_runs": history["interest_runs"], "credentials": str(path)}


def ensure_demo_clients(url: str, path) -> bool:
    """Give a demo city seeded before channel clients existed its clients (credentials file
    without them): register them and add them to the file. True when it did."""
    if not path.exists():
        return False
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("clients"):
        return False
    from hpf.gateway import clients

    with session_factory(url)() as session, session.begin():
        if clients.by_client_id(session, "demo-hall") is not None:
            return False  # registered, secrets unknown here: nothing to write
        data["clients"] = _channel_clients(session)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return True


def _channel_clients(session) -> dict[str, dict]:
    """One registered client per channel, as the channels' own back ends would hold."""
    from hpf.catalog.domain import CHANNELS
    from hpf.gateway import clients

    out = {}
    for channel, name in CHANNELS.items():
        client, secret = clients.register(session, channel, f"演示终端（{name}）",
                                          client_id=f"demo-{channel}")
        out[channel] = {"client_id": client.client_id, "secret": secret}
    return out


def _staff(session) -> list[dict]:
    from hpf.identity import service as identity

    staff = [("admin", "系统管理员", {"admin"}), ("clerk", "柜员小李", {"clerk"}),
             ("reviewer1", "审核员张", {"reviewer"}), ("reviewer2", "审批员王", {"approver"}),
             ("operator", "渠道运营员赵", {"channel_operator"}),
             ("publisher", "信息发布员孙", {"publisher"}), ("auditor", "审计员周", {"auditor"})]
    out = []
    for login, name, roles in staff:
        identity.create_staff(session, login, name, DEMO_PASSWORD, roles)
        out.append({"role": f"中心工作人员（{name}）", "kind": "staff", "login_name": login,
                    "password": DEMO_PASSWORD, "note": ",".join(sorted(roles)),
                    "totp_secret": identity.staff_totp_secret(session, login)})
    return out


def ensure_demo_staff_totp(url: str, path) -> int:
    """Enrol the demo staff of a city seeded before staff TOTP (their secrets go into the
    credentials file); returns how many were enrolled."""
    if not path.exists():
        return 0
    from hpf.identity import service as identity

    data = json.loads(path.read_text(encoding="utf-8"))
    enrolled = 0
    with session_factory(url)() as session, session.begin():
        for login in data.get("logins", []):
            if login.get("kind") != "staff" or login.get("totp_secret"):
                continue
            if identity.staff_totp_secret(session, login["login_name"]) is None:
                login["totp_secret"] = identity.enrol_totp(session, login["login_name"])
                enrolled += 1
    if enrolled:
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return enrolled


def _unit_operators(session, employer_ids: list[int]) -> list[dict]:
    from hpf.identity import service as identity

    out = []
    for eid in employer_ids:
        employer = session.get(Employer, eid)
        login = f"unit{employer.unit_no[-4:]}"
        identity.create_unit_operator(session, eid, login, employer.contact_name,
                                      DEMO_PASSWORD, employer.contact_phone)
        out.append({"role": f"单位经办人（{employer.name}）", "kind": "unit",
                    "login_name": login, "password": DEMO_PASSWORD,
                    "note": f"单位账号 {employer.unit_no}"})
    return out


def _demo_certificate(session, logins: list[dict], directory) -> None:
    """Issue the first demo unit operator a certificate (数字证书); the key and certificate
    files go under var/demo-certs and their paths into that login's entry."""
    from hpf.gateway.principal import SYSTEM
    from hpf.identity import certificates

    login = next((entry for entry in logins if entry["kind"] == "unit"), None)
    if login is None:
        return
    issued = certificates.issue_certificate(session, SYSTEM, "unit", login["login_name"])
    key_path, cert_path = certificates.write_key_and_cert(
        directory / login["login_name"], issued.private_key_pem, issued.certificate_pem)
    login["certificate"] = {"serial": issued.record.serial, "key": str(key_path),
                            "cert": str(cert_path)}


def demo_card_no(member_id: int) -> str:
    """The demo member's own debit card number (Luhn-valid, distinct per member)."""
    payload = f"622202{member_id:09d}"
    return payload + luhn_check_digit(payload)


def _member_logins(session, rows: list[dict]) -> list[dict]:
    from hpf.identity import service as identity

    out = []
    for row in rows:
        member = session.scalars(select(Member).where(Member.id == row["id"])).one()
        identity.create_member_login(session, member.id, DEMO_PASSWORD)
        out.append({"role": f"缴存职工（{member.name}）", "kind": "member",
                    "login_name": member.id_number, "password": DEMO_PASSWORD,
                    "note": f"个人账号 {member.member_no}，手机 {member.phone}，"
                            f"银行卡 {demo_card_no(member.id)}"})
    return out


def _bulk_members(factory, rng: random.Random, count: int, employer_ids: list[int],
                  start_month: int, current: int, show_progress: bool) -> list[dict]:
    """Insert members, their ledger accounts and identity records in chunks."""
    from rich.progress import Progress

    weights = [rng.paretovariate(1.2) for _ in employer_ids]
    with factory() as session:
        next_account = (session.scalar(select(func.max(LedgerAccount.id))) or 0) + 1
        next_member = (session.scalar(select(func.max(Member.id))) or 0) + 1
        employers = {e.id: e for e in session.scalars(select(Employer))}
        floor = params.get(session, "deposit.base_floor_fen")
        cap = params.get(session, "deposit.base_cap_fen")
    seen_ids: set[str] = set()
    first_rows: list[dict] = []
    horizon = max(1, clock.months_between(start_month, current))
    with Progress(disable=not show_progress) as progress:
        task = progress.add_task("职工开户", total=count)
        done = 0
        while done < count:
            batch = min(CHUNK, count - done)
            accounts, members, persons = [], [], []
            for _ in range(batch):
                male = rng.random() < 0.52
                born = date(1966, 1, 1) + timedelta(days=rng.randrange(365 * 37))
                id_number = make_id_number(rng, born, male, done)
                while id_number in seen_ids:
                    id_number = make_id_number(rng, born, male, rng.randrange(10**6))
                seen_ids.add(id_number)
                eid = rng.choices(employer_ids, weights)[0]
                employer = employers[eid]
                joined = start_month if rng.random() < 0.7 else \
                    add_months(start_month, rng.randrange(horizon))
                opened = month_start(joined)
                base = max(floor, min(cap, int(rng.lognormvariate(8.7, 0.45)) * 100))
                name = _person_name(rng)
                accounts.append({
                    "id": next_account, "subject_code": ledger_domain.MEMBER_DEPOSITS,
                    "owner_kind": "member", "owner_id": next_member, "name": f"公积金-{name}",
                    "balance_fen": 0, "reserved_fen": 0, "accrual_fen_days": 0,
                    "year_open_balance_fen": 0, "last_interest_fen": 0,
                    "accrual_year": ledger_domain.interest_year_of(opened), "opened_on": opened,
                })
                row = {
                    "id": next_member, "member_no": f"{service.CITY_CODE}{next_member:010d}",
                    "name": name, "id_type": "01", "id_number": id_number,
                    "gender": "M" if male else "F", "birth_date": born,
                    "retire_group": "M60" if male else ("F50" if rng.random() < 0.3 else "F55"),
                    "phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
                    # insert(Member) skips the model's validators: the indexes go in here
                    # (the sealed columns encrypt themselves on the way in).
                    "id_number_bidx": id_number_index(id_number),
                    "address": f"{rng.choice(names.DISTRICTS)}{rng.choice(names.STREETS)}"
                               f"{rng.randrange(1, 999)}号",
                    "employer_id": eid, "status": M_NORMAL, "base_fen": base,
                    "unit_ratio_bps": employer.unit_ratio_bps,
                    "member_ratio_bps": employer.member_ratio_bps,
                    "base_year": opened.year, "account_id": next_account, "opened_on": opened,
                    "first_month": joined, "retired": False,
                }
                row["phone_bidx"] = phone_index(row["phone"])
                members.append(row)
                persons.append({"id_number": id_number, "name": name,
                                "gender": row["gender"], "birth_date": born,
                                "hukou_city": "530100" if rng.random() < 0.8 else "510100",
                                "status": "normal"})
                next_account += 1
                next_member += 1
            with factory() as session, session.begin():
                session.execute(insert(LedgerAccount), accounts)
                session.execute(insert(Member), members)
                session.execute(insert(RegPerson), persons)
                # Each member's debit card (withdrawals are paid only to a card in the
                # member's name), at the employer's bank, as the banks' card registry holds it.
                session.execute(insert(RegBankCard), [
                    {"card_no": demo_card_no(m["id"]),
                     "bank_code": employers[m["employer_id"]].bank_code,
                     "holder_name": m["name"], "holder_id_number": m["id_number"],
                     "status": "active"} for m in members])
                people_registries.fill(session, members, housing=housing_registries.fill)
                _advance_sequences(session)
            if not first_rows:
                first_rows = members[:5]
            done += batch
            progress.advance(task, batch)
    return first_rows


def _advance_sequences(session) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them (SQLite needs
    nothing: it takes max(id) + 1)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("ledger_account", "dep_member"):
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT MAX(id) FROM {table}))"))


def _history(factory, employer_ids: list[int], start_month: int, current: int,
             show_progress: bool) -> dict:
    """Run every month's remittance and each 30 June's settlement up to last month."""
    from rich.progress import Progress

    months = 0
    interest_runs = 0
    month = start_month
    total = clock.months_between(start_month, current)
    with Progress(disable=not show_progress) as progress:
        task = progress.add_task("历史汇缴与结息", total=total)
        while month < current:
            day = month_start(month) + timedelta(days=14)
            with clock.frozen(day):
                run_monthly_debit(factory, month)
            if month % 100 == 6:
                settle = date(month // 100, 6, 30)
                with clock.frozen(settle):
                    run_interest_settlement(factory, settle)
                interest_runs += 1
            months += 1
            month = add_months(month, 1)
            progress.advance(task)
    return {"months": months, "interest_runs": interest_runs}


def _events(session, rng: random.Random, employer_ids: list[int]) -> None:
    """A few everyday states: some sealed accounts."""
    rows = session.scalars(select(Member).where(Member.status == M_NORMAL)
                           .order_by(Member.id.desc()).limit(5)).all()
    for member in rows[:2]:
        member.status = M_SEALED
        member.sealed_on = clock.today()
        member.seal_reason = "离职"
    session.flush()
