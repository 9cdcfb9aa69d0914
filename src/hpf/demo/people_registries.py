"""The demo city's people-side registries: civil affairs, social security, credit reference.

`fill` takes each chunk of member rows the seed inserts and writes what the sources would say
of them, consistently: about 40% married (mostly to one another, so a spouse's withdrawal can
be shown; the rest to spouses outside the fund, who get an identity record), some divorced
earlier; ~2% on the minimum living allowance, ~3% registered unemployed; a retirement approval
for most members past the statutory retirement age (domain-rules §7) and a few early
retirements; ~1% working capacity assessments; ~1% serious illness records; and a housing
loan on the credit report for about two in three purchases the property registry holds (~20%
of members), each an equal-instalment schedule whose outstanding amount and 12-month
repayments follow from its principal, rate and term.

Each chunk draws from its own random stream seeded by its first ID number, so the seed's own
stream is not shifted and the same city seed gives the same registries.
"""

import calendar
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hpf.demo import names
from hpf.deposits.domain import BANKS
from hpf.exchange.housing_models import RegHousingContract, RegHousingContractBuyer
from hpf.exchange.models import RegPerson
from hpf.exchange.people_models import (
    RegDisability,
    RegHousingLoan,
    RegLowIncome,
    RegMarriage,
    RegRetirement,
    RegSeriousIllness,
    RegUnemployment,
)
from hpf.kit import clock
from hpf.kit.clock import add_months, month_end, month_key
from hpf.kit.ids import id_check_digit
from hpf.kit.money import round_half_up

CHUNK = 5_000
SPOUSE_REGION = "530125"  # not among names.REGIONS: outside spouses never collide with members
CITY = "530100"
FUND_LENDER = "昆明住房公积金管理中心"

# Statutory retirement (domain-rules §7): base age, first birth month delayed, birth months
# per month of delay, maximum delay in months.
RETIREMENT_RULES = {"M60": (60, 196501, 4, 36), "F55": (55, 197001, 4, 36),
                    "F50": (50, 197501, 2, 60)}
DIAGNOSES = ["恶性肿瘤", "急性心肌梗死", "脑卒中后遗症", "重大器官移植术", "冠状动脉搭桥术",
             "终末期肾病", "再生障碍性贫血", "严重烧伤"]
HOSPITALS = ["昆明医科大学第一附属医院", "云南省第一人民医院", "昆明市延安医院",
             "云南省肿瘤医院", "昆明市第一人民医院"]


def statutory_retirement_date(birth: date, group: str) -> date:
    """The day a member of retirement group M60/F55/F50 reaches the statutory age (§7)."""
    base, start, per, cap = RETIREMENT_RULES[group]
    since = clock.months_between(start, month_key(birth))
    delay = min(cap, since // per + 1) if since >= 0 else 0
    month = add_months(month_key(birth), base * 12 + delay)
    year, mon = divmod(month, 100)
    return date(year, mon, min(birth.day, calendar.monthrange(year, mon)[1]))


def _years_after(d: date, years: int) -> date:
    return d.replace(year=d.year + years, day=28) if (d.month, d.day) == (2, 29) else \
        d.replace(year=d.year + years)


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _name(rng: random.Random) -> str:
    given = rng.choice(names.GIVEN) + (rng.choice(names.GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(names.SURNAMES) + given


# --- loans: an equal-instalment (等额本息) schedule, exact fractions, rounded once -------------

def annual_rate_bps(kind: str, start: date) -> int:
    """A plausible contract rate of the loan's start (commercial LPR-based; fund per §6)."""
    if kind == "fund":
        for since, bps in ((date(2025, 5, 8), 260), (date(2024, 5, 18), 285),
                           (date(2022, 10, 1), 310)):
            if start >= since:
                return bps
        return 325
    for since, bps in ((date(2024, 1, 1), 365), (date(2023, 1, 1), 410),
                       (date(2022, 1, 1), 430), (date(2020, 1, 1), 465)):
        if start >= since:
            return bps
    return 490


@lru_cache(maxsize=4096)
def _growth(bps: int, months: int) -> Fraction:
    return (1 + Fraction(bps, 120_000)) ** months


def monthly_payment_fen(principal_fen: int, bps: int, term_months: int) -> int:
    """Equal instalment: P·r·(1+r)^n / ((1+r)^n − 1), rounded half-up to the fen."""
    growth = _growth(bps, term_months)
    return round_half_up(principal_fen * Fraction(bps, 120_000) * growth / (growth - 1))


def balance_after_fen(principal_fen: int, bps: int, payment_fen: int, paid: int) -> int:
    """Outstanding principal after `paid` instalments: P(1+r)^k − A((1+r)^k − 1)/r."""
    if paid <= 0:
        return principal_fen
    growth = _growth(bps, paid)
    value = principal_fen * growth - payment_fen * (growth - 1) / Fraction(bps, 120_000)
    return max(0, round_half_up(value))


def _loan(rng: random.Random, contract: dict, today: date, reported_on: date) -> dict | None:
    """The mortgage of a purchase: 50-70% of the price, drawn a few weeks after signing."""
    start = contract["signed_on"] + timedelta(days=rng.randrange(15, 60))
    if start > reported_on:
        return None
    roll = rng.random()
    kind = "commercial" if roll < 0.75 else ("fund" if roll < 0.9 else "portfolio")
    term = rng.choice([120, 180, 240, 300, 360])
    principal = max(100_000, contract["price_fen"] * rng.randrange(50, 71) // 100
                    // 100_000 * 100_000)  # whole thousands of yuan
    bps = annual_rate_bps(kind, start)
    payment = monthly_payment_fen(principal, bps, term)
    elapsed = clock.months_between(month_key(start), month_key(reported_on))
    if reported_on.day < start.day:  # this month's instalment is not due yet
        elapsed -= 1
    paid = max(0, min(term, elapsed))
    in_last_12 = max(0, paid - max(0, elapsed - 12))
    status = "normal"
    missed = 0
    if paid >= term:
        status = "settled"
    elif paid > 3 and rng.random() < 0.03:
        status, missed = "overdue", rng.randint(1, 3)
    outstanding = 0 if status == "settled" else \
        balance_after_fen(principal, bps, payment, paid - missed)
    bank = rng.choice(list(BANKS))
    return {"contract_no": f"HL{start:%Y}{bank}{contract['contract_no'][-8:]}",
            "lender": FUND_LENDER if kind == "fund" else BANKS[bank], "kind": kind,
            "property_address": contract["address"], "principal_fen": principal,
            "term_months": term, "start_date": start, "outstanding_fen": outstanding,
            "repaid_12m_fen": payment * max(0, in_last_12 - missed), "status": status,
            "reported_on": reported_on}


# --- the filler --------------------------------------------------------------------------------

class _Chunk:
    """One chunk of the seed's members: its random stream, its rows, what it counted."""

    def __init__(self, members: Sequence[Mapping[str, Any]], today: date) -> None:
        # Seeded by the chunk's first ID number: the same city seed gives the same registries.
        self.rng = random.Random(f"hpf-demo-people:{members[0]['id_number']}")
        self.today = today
        self.reported_on = month_end(add_months(month_key(today), -1))
        self.people = [{"id": m["id"], "id_number": m["id_number"], "name": m["name"],
                        "gender": m["gender"], "birth_date": m["birth_date"],
                        "retire_group": m["retire_group"], "member": True} for m in members]
        self.names = {p["id_number"]: p["name"] for p in self.people}
        self.outside: dict[str, dict] = {}
        self.rows: dict[str, list[dict]] = {key: [] for key in TABLES}

    def outside_person(self, born: date, male: bool) -> dict:
        """An identity record for someone outside the fund (a spouse, an ex-spouse)."""
        while True:
            order = self.rng.randrange(500) * 2 + (1 if male else 0)
            first17 = f"{SPOUSE_REGION}{born:%Y%m%d}{order:03d}"
            id_number = first17 + id_check_digit(first17)
            if id_number not in self.outside:
                break
        person = {"id_number": id_number, "name": _name(self.rng),
                  "gender": "M" if male else "F", "birth_date": born, "hukou_city": CITY,
                  "status": "normal"}
        self.outside[id_number] = person
        self.names[id_number] = person["name"]
        return person


def _marriage_row(a: dict, b: dict, married_on: date, nth: int) -> dict:
    return {"record_no": f"J{CITY}{married_on:%Y}{a['id']:010d}{nth}",
            "party_a_id_number": a["id_number"], "party_a_name": a["name"],
            "party_b_id_number": b["id_number"], "party_b_name": b["name"],
            "married_on": married_on, "divorced_on": None}


def _marriages(chunk: _Chunk) -> dict[str, str]:
    """Marry ~40% of the chunk; returns ID number -> current spouse's ID number."""
    rng, today, people = chunk.rng, chunk.today, chunk.people
    chosen = [m for m in people if rng.random() < 0.40]
    men = sorted((m for m in chosen if m["gender"] == "M"), key=lambda m: m["birth_date"])
    women = sorted((m for m in chosen if m["gender"] == "F"), key=lambda m: m["birth_date"])
    # About three in four married members are married to another member: pair the men and
    # women chosen, oldest with oldest, so the ages stay plausible.
    pairs = min(len(men), len(women), round(len(chosen) * 0.75 / 2))
    spouse_of: dict[str, str] = {}
    married_on_of: dict[str, date] = {}
    latest = today - timedelta(days=30)

    def marry(a: dict, b: dict, earliest: date) -> None:
        married_on = _day_between(rng, earliest, latest)
        chunk.rows["marriage"].append(_marriage_row(a, b, married_on, 0))
        spouse_of[a["id_number"]], spouse_of[b["id_number"]] = b["id_number"], a["id_number"]
        married_on_of[a["id_number"]] = married_on

    for man, woman in zip(men[:pairs], women[:pairs], strict=True):
        earliest = max(_years_after(man["birth_date"], 22), _years_after(woman["birth_date"], 20))
        if earliest <= latest:
            marry(man, woman, earliest)
    for member in men[pairs:] + women[pairs:]:
        male = member["gender"] == "M"
        born = member["birth_date"] + timedelta(days=rng.randrange(-3 * 365, 3 * 365))
        earliest = max(_years_after(member["birth_date"], 22 if male else 20),
                       _years_after(born, 20 if male else 22))
        if earliest <= latest:
            marry(member, chunk.outside_person(born, not male), earliest)
    # Some people divorced before: an ended record that marriage_of must pass over.
    for member in people:
        if rng.random() >= 0.05:
            continue
        first = _years_after(member["birth_date"], 22)
        last = married_on_of.get(member["id_number"], today) - timedelta(days=400)
        if (last - first).days < 60:
            continue
        ex = chunk.outside_person(member["birth_date"], member["gender"] != "M")
        row = _marriage_row(member, ex, _day_between(rng, first, last - timedelta(days=60)), 1)
        row["divorced_on"] = _day_between(rng, row["married_on"], last)
        chunk.rows["marriage"].append(row)
    return spouse_of


def _welfare(chunk: _Chunk, member: dict) -> None:
    """Allowance, unemployment, retirement, disability and illness records of one member."""
    rng, today, rows = chunk.rng, chunk.today, chunk.rows
    person = {"id_number": member["id_number"], "name": member["name"]}
    serial = f"{member['id']:010d}"
    roll = rng.random()
    if roll < 0.025:  # ~2% active now, ~0.5% ended earlier
        active = roll < 0.02
        since = today - timedelta(days=rng.randrange(30, 1000) if active else
                                  rng.randrange(800, 2000))
        until = (None if rng.random() < 0.5 else today + timedelta(days=rng.randrange(30, 700))) \
            if active else since + timedelta(days=365)
        rows["low_income"].append({**person, "certificate_no": f"DB{since:%Y}{serial}",
                                   "since": since, "until": until,
                                   "status": "active" if active else "ended"})
    roll = rng.random()
    if roll < 0.04:  # ~3% registered now, ~1% found a job again
        active = roll < 0.03
        registered = today - timedelta(days=rng.randrange(10, 300) if active else
                                       rng.randrange(400, 1500))
        ended = None if active else registered + timedelta(days=rng.randrange(30, 300))
        rows["unemployment"].append({**person, "registration_no": f"SY{registered:%Y}{serial}",
                                     "registered_on": registered, "ended_on": ended,
                                     "receiving_benefit": active and rng.random() < 0.75})
    statutory = statutory_retirement_date(member["birth_date"], member["retire_group"])
    if statutory <= today and rng.random() < 0.6:
        rows["retirement"].append({**person, "approval_no": f"TX{statutory:%Y}{serial}",
                                   "retired_on": statutory, "kind": "normal"})
    elif today < statutory < today + timedelta(days=5 * 365) and rng.random() < 0.02:
        retired_on = today - timedelta(days=rng.randrange(1, 200))
        rows["retirement"].append({**person, "approval_no": f"TX{retired_on:%Y}{serial}",
                                   "retired_on": retired_on, "kind": "early"})
    if rng.random() < 0.01:
        level = rng.choices(range(1, 11), weights=[1, 2, 3, 4, 5, 5, 6, 6, 7, 8])[0]
        assessed = today - timedelta(days=rng.randrange(30, 900))
        ended = None
        if level <= 4 or (level <= 6 and rng.random() < 0.5):
            ended = min(today, assessed + timedelta(days=rng.randrange(0, 60)))
        rows["disability"].append({**person, "assessment_no": f"JD{assessed:%Y}{serial}",
                                   "level": level, "assessed_on": assessed,
                                   "labour_ended_on": ended})
    if rng.random() < 0.01:
        for nth in range(rng.choice([1, 1, 2])):
            start = today - timedelta(days=rng.randrange(20, 720))
            rows["illness"].append({
                **person, "record_no": f"ZB{start:%Y}{serial}{nth}",
                "diagnosis": rng.choice(DIAGNOSES), "hospital": rng.choice(HOSPITALS),
                "out_of_pocket_fen": rng.randrange(20_000, 300_000) * 100, "from_date": start,
                "to_date": min(today, start + timedelta(days=rng.randrange(3, 90)))})


def _loans(session: Session, chunk: _Chunk) -> None:
    """A mortgage on ~2/3 of the purchases the property registry holds for the chunk's
    members: the buyers are the borrower and co-borrowers, the address the home's."""
    found = session.execute(
        select(RegHousingContract.contract_no, RegHousingContract.price_fen,
               RegHousingContract.signed_on, RegHousingContract.address,
               RegHousingContractBuyer.id_number)
        .join(RegHousingContractBuyer,
              RegHousingContractBuyer.contract_no == RegHousingContract.contract_no)
        .where(RegHousingContract.contract_no.in_(
            select(RegHousingContractBuyer.contract_no).where(
                RegHousingContractBuyer.id_number.in_([p["id_number"] for p in chunk.people]))))
        .order_by(RegHousingContract.contract_no, RegHousingContractBuyer.id_number)).all()
    contracts: dict[str, dict] = {}
    for row in found:
        contract = contracts.setdefault(row.contract_no, {
            "contract_no": row.contract_no, "price_fen": row.price_fen,
            "signed_on": row.signed_on, "address": row.address, "buyers": []})
        contract["buyers"].append(row.id_number)
    for contract in contracts.values():
        rng = random.Random(f"hpf-demo-credit:{contract['contract_no']}")
        if rng.random() >= 2 / 3:
            continue
        loan = _loan(rng, contract, chunk.today, chunk.reported_on)
        if loan is None:
            continue
        buyers = [b for b in contract["buyers"] if b in chunk.names]
        for nth, id_number in enumerate(buyers):
            chunk.rows["loan"].append({**loan, "id_number": id_number,
                                       "name": chunk.names[id_number],
                                       "role": "borrower" if nth == 0 else "co_borrower"})


TABLES = {"persons": RegPerson, "marriage": RegMarriage, "low_income": RegLowIncome,
          "unemployment": RegUnemployment, "retirement": RegRetirement,
          "disability": RegDisability, "illness": RegSeriousIllness, "loan": RegHousingLoan}

HousingFill = Callable[..., Any]


def fill(session: Session, members: Sequence[Mapping[str, Any]], *,
         housing: HousingFill | None = None, today: date | None = None) -> dict[str, int]:
    """Add the people-side registries of one chunk of the seed's member rows (`id`,
    `id_number`, `name`, `gender`, `birth_date`, `retire_group` are read); flushes.

    `housing` (housing_registries.fill) is called in between with the marriages made here, so
    couples co-own their home, and the housing loans on the credit report follow the
    purchases it registered. Returns how many rows of each kind were added.
    """
    if not members:
        return {key: 0 for key in TABLES}
    chunk = _Chunk(members, today or clock.today())
    spouse_of = _marriages(chunk)
    # An outside spouse drawn in an earlier chunk may hold the same ID number: such a
    # marriage is left out rather than giving two people one number.
    taken = set(session.scalars(select(RegPerson.id_number)
                                .where(RegPerson.id_number.in_(list(chunk.outside)))))
    if taken:
        chunk.rows["marriage"] = [
            r for r in chunk.rows["marriage"]
            if r["party_a_id_number"] not in taken and r["party_b_id_number"] not in taken]
        spouse_of = {a: b for a, b in spouse_of.items() if a not in taken and b not in taken}
    chunk.rows["persons"] = [p for n, p in chunk.outside.items() if n not in taken]
    for member in chunk.people:
        _welfare(chunk, member)
    for key, table in TABLES.items():
        if chunk.rows[key]:
            session.execute(insert(table), chunk.rows[key])
    if housing is not None:
        housing(session, members, spouse_of=spouse_of, today=chunk.today)
    _loans(session, chunk)
    if chunk.rows["loan"]:
        session.execute(insert(RegHousingLoan), chunk.rows["loan"])
    session.flush()
    return {key: len(rows) for key, rows in chunk.rows.items()}
