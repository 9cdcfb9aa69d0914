"""The demo city's housing registries hang together: every home has the contract it came from,
every invoice and deposit belongs to a buyer of a home at that address, the amounts follow the
documents' arithmetic, and the shares are about what the demo promises."""

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import delete, select

from hpf.demo import housing_registries as hr
from hpf.demo.seed import seed_city
from hpf.deposits.models import Member
from hpf.exchange.housing import LocalHousingSource
from hpf.exchange.housing_models import (
    RegHousingContract,
    RegHousingContractBuyer,
    RegMaintenancePayment,
    RegProperty,
    RegPropertyOwner,
    RegTaxInvoice,
)
from hpf.exchange.property import LocalPropertySource
from hpf.exchange.tax import LocalTaxSource
from hpf.kit import clock
from hpf.kit.db import transaction
from hpf.kit.ids import id_check_digit

TODAY = date(2026, 11, 22)
MODELS = (RegPropertyOwner, RegProperty, RegHousingContractBuyer, RegHousingContract,
          RegMaintenancePayment, RegTaxInvoice)


def test_deed_tax_and_fee_worked_examples() -> None:
    # 89.50 m² at 12,000 yuan/m²: price 1,074,000.00 yuan; ≤ 90 m² pays 1%: 10,740.00 yuan.
    assert hr.deed_tax_fen(8950 * 12_000, 8950) == 1_074_000
    # 120.00 m² at 15,000 yuan/m²: 1,800,000.00 yuan; > 90 m² pays 1.5%: 27,000.00 yuan.
    assert hr.deed_tax_fen(12_000 * 15_000, 12_000) == 2_700_000
    # 1% of 1,234.57 yuan is 12.3457 yuan → 1,234.57 fen rounds half-up once to 1,235 fen.
    assert hr.deed_tax_fen(123_457, 9000) == 1235
    # 1.5% of 0.50 yuan = 0.75 fen → 1 fen (half-up, not to even).
    assert hr.deed_tax_fen(50, 9001) == 1
    # 89.50 m² × 2.50 yuan × 12 months = 2,685.00 yuan.
    assert hr.property_fee_year_fen(8950) == 268_500
    # 60.01 m² × 2.50 × 12 = 1,800.30 yuan.
    assert hr.property_fee_year_fen(6001) == 180_030


def _consistency(s, today: date) -> dict[str, int]:
    """Check every cross-reference; return counts."""
    homes = LocalPropertySource(s)
    contracts = {c.contract_no: c for c in LocalHousingSource(s)._contracts(
        list(s.scalars(select(RegHousingContract))))}
    by_buyer_address: dict[tuple[str, str], list] = {}
    for c in contracts.values():
        assert c.buyer_id_numbers, c
        for buyer in c.buyer_id_numbers:
            by_buyer_address.setdefault((buyer, c.address), []).append(c)
    certs = list(s.scalars(select(RegProperty)))
    assert len(certs) == len(contracts)  # one purchase per home in the demo
    for cert in certs:
        home = homes.home(cert.cert_no)
        assert home.owner_id_numbers
        (contract,) = by_buyer_address[(home.owner_id_numbers[0], home.address)]
        assert contract.buyer_id_numbers == home.owner_id_numbers
        assert contract.floor_area_dm2 == home.floor_area_dm2
        assert contract.signed_on <= contract.filed_on < home.registered_on <= today
        assert contract.price_fen % home.floor_area_dm2 == 0  # area × a whole unit price
        for owner in home.owner_id_numbers:
            assert home in homes.homes_of(owner)
    kinds: Counter = Counter()
    for inv in s.scalars(select(RegTaxInvoice)):
        kinds[inv.kind] += 1
        assert inv.issued_on <= today
        (contract,) = by_buyer_address[(inv.buyer_id_number, inv.address)]
        if inv.kind == "deed_tax":
            assert inv.amount_fen == hr.deed_tax_fen(contract.price_fen, contract.floor_area_dm2)
            assert contract.filed_on < inv.issued_on
        elif inv.kind == "house_sale":
            assert contract.kind == "new" and inv.amount_fen == contract.price_fen
        elif inv.kind == "property_fee":
            assert inv.issued_on.year == today.year
            assert inv.amount_fen == hr.property_fee_year_fen(contract.floor_area_dm2)
        else:
            assert inv.kind == "renovation" and inv.amount_fen > 0
    # Every contract has exactly one deed-tax invoice of one of its buyers.
    deed = Counter((i.address, i.buyer_id_number) for i in s.scalars(
        select(RegTaxInvoice).where(RegTaxInvoice.kind == "deed_tax")))
    assert sum(deed.values()) == len(contracts)
    for pay in s.scalars(select(RegMaintenancePayment)):
        (contract,) = by_buyer_address[(pay.id_number, pay.address)]
        assert contract.kind == "new" and pay.paid_on == contract.filed_on
        assert pay.amount_fen == contract.floor_area_dm2 * 60
    return {"homes": len(certs), "maintenance": len(list(s.scalars(select(RegMaintenancePayment)))),
            **kinds}


def _people(n: int) -> list[dict]:
    out = []
    for i in range(n):
        born = date(1970, 1, 1) + timedelta(days=(i * 37) % 12000)
        first17 = f"530102{born:%Y%m%d}{i % 1000:03d}"
        out.append({"id_number": first17 + id_check_digit(first17),
                    "address": f"五华区人民中路{i}号"})
    assert len({p["id_number"] for p in out}) == n
    return out


def test_filler_shares_determinism_and_couples(sqlite_url: str) -> None:
    people = _people(3000)
    with transaction(sqlite_url) as s:
        counts = hr.fill(s, people, today=TODAY)
        stats = _consistency(s, TODAY)
        owners = {o for (o,) in s.execute(select(RegPropertyOwner.id_number))}
        recent = sum(1 for c in s.scalars(select(RegHousingContract))
                     if (TODAY - c.signed_on).days <= 730)
        snapshot = {m.__tablename__: sorted(tuple(getattr(r, c.key) for c in m.__table__.c)
                                            for r in s.scalars(select(m))) for m in MODELS}
    assert counts["property"] == stats["homes"]
    n = len(people)
    assert 0.26 < len(owners) / n < 0.34            # ~30% own a home in the city
    assert 0.25 < recent / stats["homes"] < 0.42    # ~1/3 of them bought within two years
    assert 0.03 < stats["maintenance"] / n < 0.07   # ~5% paid maintenance-fund deposits
    assert 0.07 < stats["property_fee"] / n < 0.13  # ~10% property-fee invoices this year
    assert 0.03 < stats["renovation"] / n < 0.07    # ~5% renovation invoices
    # Determinism: the same members filled again in two chunks, in another order, give the
    # same registries (document numbers follow the order of the calls, so compare contents).
    with transaction(sqlite_url) as s:
        for m in MODELS:
            s.execute(delete(m))
        hr.fill(s, people[1500:], today=TODAY)
        hr.fill(s, people[:1500], today=TODAY)
        again = {m.__tablename__: sorted(tuple(getattr(r, c.key) for c in m.__table__.c)
                                         for r in s.scalars(select(m))) for m in MODELS}
    strip = {"reg_property": (1, 2, 3), "reg_housing_contract": (1, 2, 3, 4, 5, 6),
             "reg_tax_invoice": (1, 2, 3, 4, 5, 6), "reg_maintenance_payment": (1, 2, 3, 4)}
    for table, cols in strip.items():
        assert sorted(tuple(r[c] for c in cols) for r in snapshot[table]) == \
            sorted(tuple(r[c] for c in cols) for r in again[table]), table
    # Couples co-own one home; a couple of two members gets it once.
    couples = {}
    for a, b in zip(people[0::2], people[1::2], strict=True):
        couples[a["id_number"]] = b["id_number"]
        couples[b["id_number"]] = a["id_number"]
    with transaction(sqlite_url) as s:
        for m in MODELS:
            s.execute(delete(m))
        hr.fill(s, people, spouse_of=couples, today=TODAY)
        _consistency(s, TODAY)
        homes = LocalPropertySource(s)
        co_owned = 0
        for person in people:
            mine = homes.homes_of(person["id_number"])
            theirs = homes.homes_of(couples[person["id_number"]])
            assert mine == theirs and len(mine) <= 1
            co_owned += bool(mine)
            for home in mine:
                assert home.owner_id_numbers == tuple(sorted(
                    [person["id_number"], couples[person["id_number"]]]))
        assert 0.26 < co_owned / n < 0.34


def test_seeded_city_has_consistent_housing(db_url: str) -> None:
    with clock.frozen(TODAY):
        seed_city(db_url, members=120, seed=5, years=1)
    with transaction(db_url) as s:
        stats = _consistency(s, TODAY)
        members = {m.id_number for m in s.scalars(select(Member))}
        owners = {o for (o,) in s.execute(select(RegPropertyOwner.id_number))}
        buyers = {i for (i,) in s.execute(select(RegTaxInvoice.buyer_id_number))}
        # Every home has a member among its owners (a co-owner may be a spouse who is not a
        # member); invoices and deposits are in the member's name.
        assert owners and buyers <= members and buyers <= owners
        for (cert_no,) in s.execute(select(RegProperty.cert_no)):
            assert set(LocalPropertySource(s).home(cert_no).owner_id_numbers) & members
        assert 0 < stats["homes"] < 120 * 0.5
        # A member who owns nothing has no contract and no invoice either.
        tax = LocalTaxSource(s)
        for id_number in sorted(members - owners)[:20]:
            assert tax.invoices_of(id_number) == []
            assert LocalHousingSource(s).contracts_of(id_number) == []
