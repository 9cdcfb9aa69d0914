"""Withdrawals at scale: automatic review and reservation of many applications against a big
city, through the gateway, against the bare money movement on the same data in the same run.

    python -m bench.withdrawals [--engine sqlite|pg|both] [--members 1000000]
                                [--applications 10000]

The city is the benchmark city of bench/data.py (members, accounts, opening balances) plus the
shared-data registries at city scale, so every lookup searches tables of realistic size:
identity records for every member, a bank card for every applicant, homes for 30 % of the
members, marriages for 40 %. Each applicant is a member who owns no home and applies at the
counter for three months of rent (wd.rent): the card check, the marriage and property
lookups for the member and the spouse, the withdrawal history, the rules, the hold, the
automatic approval posting the money to payouts pending, the stored command and the audit
record, one transaction per application as a clerk's request makes it.

Baseline, on a copy of the same city: each application's money movement alone, a hold and its
posting to payouts pending in one transaction (`ledger.reserve` + `ledger.post_reservation`).
Printed: total time, applications per second, p50/p95/p99 per application, and the ratio.
"""

import argparse
import json
import random
import statistics
import time
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import insert, select

from bench.data import build_city, log
from bench.engines import open_engine
from bench.gateway import _percentile
from hpf.deposits.models import Member
from hpf.exchange.housing_models import RegProperty, RegPropertyOwner
from hpf.exchange.models import RegBankCard, RegPerson
from hpf.exchange.people_models import RegMarriage
from hpf.gateway import service as gateway
from hpf.gateway.principal import Principal
from hpf.identity import service as identity
from hpf.kit import clock, db
from hpf.kit.clock import LOCAL_TZ
from hpf.kit.ids import luhn_check_digit
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger
from hpf.ledger.verify import verify

# A Friday at 10:00, counter hours; the city's business date.
WHEN = datetime(2026, 5, 15, 10, 0, tzinfo=LOCAL_TZ)
CHUNK = 50_000
RENT_MONTHS = 3


def _card(member_id: int) -> str:
    prefix = f"622202{member_id:09d}"
    return prefix + luhn_check_digit(prefix)


def _registries(url: str, members: int, applicants: list[int], rng: random.Random) -> None:
    """Identity for everyone, cards for the applicants, homes and marriages for the others."""
    factory = db.session_factory(url)
    chosen = set(applicants)
    with factory() as session, session.begin():
        for lo in range(1, members + 1, CHUNK):
            rows = session.execute(select(Member.id, Member.id_number, Member.name,
                                          Member.gender, Member.birth_date)
                                   .where(Member.id >= lo, Member.id < lo + CHUNK)).all()
            session.execute(insert(RegPerson), [
                {"id_number": r.id_number, "name": r.name, "gender": r.gender,
                 "birth_date": r.birth_date, "hukou_city": "530100", "status": "normal"}
                for r in rows])
            owners = [r for r in rows if r.id not in chosen and rng.random() < 0.30]
            session.execute(insert(RegProperty), [
                {"cert_no": f"云(2020)昆明市不动产权第{r.id:07d}号", "address": f"五华区{r.id}号",
                 "floor_area_dm2": 9000, "registered_on": date(2020, 6, 1), "use": "住宅",
                 "status": "active"} for r in owners])
            session.execute(insert(RegPropertyOwner), [
                {"cert_no": f"云(2020)昆明市不动产权第{r.id:07d}号", "id_number": r.id_number}
                for r in owners])
            pairs = [r for r in rows if rng.random() < 0.20]  # 40 % married: half are party A
            session.execute(insert(RegMarriage), [
                {"record_no": f"J{r.id:010d}", "party_a_id_number": r.id_number,
                 "party_a_name": r.name, "party_b_id_number": f"53011119800101{r.id % 10000:04d}",
                 "party_b_name": "配偶", "married_on": date(2015, 5, 1), "divorced_on": None}
                for r in pairs])
            session.execute(insert(RegBankCard), [
                {"card_no": _card(r.id), "bank_code": "ICBC", "holder_name": r.name,
                 "holder_id_number": r.id_number, "status": "active"}
                for r in rows if r.id in chosen])
        identity.create_staff(session, "benchclerk", "基准柜员", "Bench-Passw0rd!", {"clerk"})


def _clerk(url: str) -> Principal:
    with db.session_factory(url)() as session:
        from hpf.identity.models import UserAccount

        user = session.scalars(select(UserAccount).where(
            UserAccount.login_name == "benchclerk")).one()
        return Principal(kind="staff", user_id=user.id, name=user.display_name,
                         roles=frozenset({"clerk"}))


def _run_gateway(url: str, applicants: list[int]) -> tuple[list[float], dict[int, int]]:
    factory = db.session_factory(url)
    clerk = _clerk(url)
    with factory() as session:
        numbers = dict(session.execute(select(Member.id, Member.member_no)
                                       .where(Member.id.in_(applicants))).all())
    times, amounts = [], {}
    for member_id in applicants:
        params = {"member_no": numbers[member_id], "bank_code": "ICBC",
                  "card_no": _card(member_id), "rent_months": RENT_MONTHS}
        t0 = time.perf_counter()
        outcome = gateway.invoke(factory, "counter", clerk, "wd.rent", params)
        times.append(time.perf_counter() - t0)
        if outcome.status != 200 or outcome.body["result"]["status"] != "approved":
            raise SystemExit(f"application refused: {outcome.body}")
        amounts[member_id] = outcome.body["result"]["amount_fen"]
    return times, amounts


def _run_baseline(url: str, applicants: list[int], amounts: dict[int, int]) -> list[float]:
    factory = db.session_factory(url)
    with factory() as session:
        accounts = dict(session.execute(select(Member.id, Member.account_id)
                                        .where(Member.id.in_(applicants))).all())
        pending = ledger.system_account(session, ledger_domain.PAYOUT_PENDING).id
        session.commit()
    times = []
    for n, member_id in enumerate(applicants):
        t0 = time.perf_counter()
        with factory() as session, session.begin():
            hold = ledger.reserve(session, accounts[member_id], amounts[member_id],
                                  f"BASE{n:012d}")
            ledger.post_reservation(session, hold.id, "withdrawal", pending,
                                    summary="提取", value_date=WHEN.date())
        times.append(time.perf_counter() - t0)
    return times


def _summary(times: list[float]) -> dict:
    total = sum(times)
    return {"total_s": round(total, 1), "per_s": round(len(times) / total, 1),
            "p50_ms": round(statistics.median(times) * 1000, 2),
            "p95_ms": round(_percentile(times, 95) * 1000, 2),
            "p99_ms": round(_percentile(times, 99) * 1000, 2)}


def run(engine_name: str, members: int, applications: int) -> dict:
    """Build the city once, then time the gateway and the baseline on copies of it."""
    engine = open_engine(engine_name)
    try:
        url = engine.create_base()
        log(f"{engine_name}: building a city of {members} members")
        build_city(url, members=members, employers=max(10, members // 100))
        rng = random.Random(4)
        applicants = rng.sample(range(1, members + 1), applications)
        t0 = time.perf_counter()
        _registries(url, members, applicants, rng)
        log(f"registries in {time.perf_counter() - t0:.1f}s")
        # Statistics for the registries too (the city's were taken after its build): without
        # them PostgreSQL scans the property registry for every application.
        engine.settle(url)
        engine.seal_base()
        results = {}
        for label in ("gateway", "baseline"):
            copy = engine.clone(label)
            with clock.frozen(WHEN):
                if label == "gateway":
                    times, amounts = _run_gateway(copy, applicants)
                else:
                    times = _run_baseline(copy, applicants, amounts)
                with db.session_factory(copy)() as session:
                    report = verify(session)
                    if not report.ok:
                        raise SystemExit(f"books not clean after {label}: {report.problems[:5]}")
            results[label] = _summary(times)
            db.dispose_all()
            engine.drop(copy)
        g, b = results["gateway"], results["baseline"]
        return {"engine": engine_name, "members": members, "applications": applications,
                **{f"gateway_{k}": v for k, v in g.items()},
                **{f"baseline_{k}": v for k, v in b.items()},
                "ratio": round(g["total_s"] / b["total_s"], 2)}
    finally:
        db.dispose_all()
        engine.close()


def main(argv: list[str] | None = None) -> None:
    """Run the withdrawal benchmark and print a table row per engine."""
    parser = argparse.ArgumentParser(prog="python -m bench.withdrawals",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "pg", "both"), default="sqlite")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    engines = ("sqlite", "pg") if args.engine == "both" else (args.engine,)
    rows = [run(e, args.members, args.applications) for e in engines]
    print("| engine | members | applications | gateway s | per s | p50 ms | p95 ms | p99 ms | "
          "baseline s | baseline p95 ms | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['engine']} | {r['members']} | {r['applications']} | "
              f"{r['gateway_total_s']} | {r['gateway_per_s']} | {r['gateway_p50_ms']} | "
              f"{r['gateway_p95_ms']} | {r['gateway_p99_ms']} | {r['baseline_total_s']} | "
              f"{r['baseline_p95_ms']} | {r['ratio']}x |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
