"""Demo city: the housing-side registries (property, purchase contracts, maintenance fund, tax
invoices) filled consistently with the seeded members.

About 30% of members own a home in the city: a property certificate, the purchase contract it
came from and the deed-tax invoice (plus the developer's sale invoice for a new home); about a
third of those bought within the last two years (the purchase withdrawal's window). Of the
owners, a third of the new-home buyers paid maintenance-fund deposits (≈5% of members), a third
hold a property-fee invoice for this year (≈10%), a sixth a renovation invoice (≈5%). Everyone
else owns nothing in the city (they may rent). A member's picture is drawn from a random
generator seeded by their ID number, so it does not depend on chunking or call order, and the
same city seed gives the same registries.

Amounts follow the documents' own arithmetic: price = area × unit price; deed tax 1% of the
price up to 90 m², 1.5% above (first-home rates); maintenance fund 60 yuan/m²; property fee
2.50 yuan/m² a month for twelve months. Areas are in 0.01 m² (dm²), money in fen.
"""

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from hpf.demo import names
from hpf.exchange.housing_models import (
    RegHousingContract,
    RegHousingContractBuyer,
    RegMaintenancePayment,
    RegProperty,
    RegPropertyOwner,
    RegTaxInvoice,
)
from hpf.kit import clock
from hpf.kit.money import round_half_up

OWNER_SHARE = 0.30
RECENT_SHARE = 1 / 3
RECENT_DAYS = (120, 700)  # inside the 2-year window, long enough ago to be registered
OLDER_DAYS = (800, 15 * 365)
MAINTENANCE_FEN_PER_DM2 = 60  # 60 yuan/m²
PROPERTY_FEE_FEN_PER_M2_MONTH = 250
DEED_TAX_SMALL_DM2 = 90_00  # 90 m²
DEED_TAX_BPS = (100, 150)  # 1% up to 90 m², 1.5% above


def deed_tax_fen(price_fen: int, floor_area_dm2: int) -> int:
    """First-home deed tax: 1% of the price up to 90 m², 1.5% above, rounded half-up once."""
    bps = DEED_TAX_BPS[0] if floor_area_dm2 <= DEED_TAX_SMALL_DM2 else DEED_TAX_BPS[1]
    return round_half_up(price_fen * bps, 10_000)


def property_fee_year_fen(floor_area_dm2: int) -> int:
    """Twelve months of property fee at the demo rate (area in dm² × fen/m² ÷ 100)."""
    return round_half_up(floor_area_dm2 * PROPERTY_FEE_FEN_PER_M2_MONTH * 12, 100)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def fill(session: Session, members: Sequence[Mapping[str, Any]], *,
         spouse_of: Mapping[str, str] | None = None, today: date | None = None
         ) -> dict[str, int]:
    """Add the housing registries of these members (seed's member rows: `id_number` and
    `address` are read); flushes. `spouse_of` (ID number → spouse's ID number) makes a couple
    co-own one home; a couple of two members gets it once, from the lower ID number's draw.
    Returns how many rows of each kind were added."""
    today = today or clock.today()
    spouse_of = spouse_of or {}
    serial = {"cert": _count(session, RegProperty), "contract": _count(session, RegHousingContract),
              "invoice": _count(session, RegTaxInvoice),
              "receipt": _count(session, RegMaintenancePayment)}
    rows: dict[str, list[dict]] = {k: [] for k in ("property", "owner", "contract", "buyer",
                                                   "maintenance", "invoice")}

    def next_no(kind: str) -> int:
        serial[kind] += 1
        return serial[kind]

    for member in members:
        id_number = member["id_number"]
        spouse = spouse_of.get(id_number)
        if spouse is not None and spouse_of.get(spouse) == id_number and spouse < id_number:
            continue  # the spouse's draw makes the couple's home
        rng = random.Random(f"hpf-demo-housing:{id_number}")
        if rng.random() >= OWNER_SHARE:
            continue
        owners = sorted({id_number, spouse} - {None})
        _one_home(rng, today, id_number, owners, member["address"], next_no, rows)

    for model, key in ((RegProperty, "property"), (RegPropertyOwner, "owner"),
                       (RegHousingContract, "contract"), (RegHousingContractBuyer, "buyer"),
                       (RegMaintenancePayment, "maintenance"), (RegTaxInvoice, "invoice")):
        if rows[key]:
            session.execute(insert(model), rows[key])
    session.flush()
    return {k: len(v) for k, v in rows.items()}


def _one_home(rng: random.Random, today: date, payer: str, owners: list[str], address: str,
              next_no: Callable[[str], int], rows: dict[str, list[dict]]) -> None:
    """A purchase and what follows it: contract, certificate, invoices, deposits."""
    recent = rng.random() < RECENT_SHARE
    signed = today - timedelta(days=rng.randint(*(RECENT_DAYS if recent else OLDER_DAYS)))
    new = rng.random() < 0.5
    area = rng.randint(60_00, 140_00)
    unit_price_yuan = rng.randrange(8_000, 20_001, 100)
    price = area * unit_price_yuan  # dm² × yuan/m² = fen
    filed = signed + timedelta(days=rng.randint(1, 15))
    registered = filed + timedelta(days=rng.randint(30, 90))
    district = rng.choice(names.DISTRICTS)
    developer = f"{rng.choice(names.ORG_PREFIX)}房地产开发有限公司"

    contract_no = f"{'YS' if new else 'CS'}{signed.year}{next_no('contract'):08d}"
    rows["contract"].append({"contract_no": contract_no, "kind": "new" if new else "resale",
                             "price_fen": price, "signed_on": signed, "filed_on": filed,
                             "address": address, "floor_area_dm2": area})
    rows["buyer"] += [{"contract_no": contract_no, "id_number": o} for o in owners]
    cert_no = f"云({registered.year})昆明市不动产权第{next_no('cert'):07d}号"
    rows["property"].append({"cert_no": cert_no, "address": address, "floor_area_dm2": area,
                             "registered_on": registered, "use": "住宅", "status": "active"})
    rows["owner"] += [{"cert_no": cert_no, "id_number": o} for o in owners]

    def invoice(kind: str, amount: int, issued: date, seller: str) -> None:
        rows["invoice"].append({"invoice_no": f"{issued.year}{next_no('invoice'):012d}",
                                "kind": kind, "buyer_id_number": payer, "amount_fen": amount,
                                "issued_on": issued, "address": address, "seller": seller})

    invoice("deed_tax", deed_tax_fen(price, area), filed + timedelta(days=rng.randint(1, 20)),
            f"国家税务总局昆明市{district}税务局")
    if new:
        invoice("house_sale", price, signed + timedelta(days=rng.randint(0, 10)), developer)
        if rng.random() < 1 / 3:
            rows["maintenance"].append({
                "receipt_no": f"WX{filed.year}{next_no('receipt'):08d}", "id_number": payer,
                "amount_fen": area * MAINTENANCE_FEN_PER_DM2, "paid_on": filed,
                "address": address})
    if rng.random() < 1 / 3:
        start = max(date(today.year, 1, 1), registered)
        issued = start + timedelta(days=rng.randint(0, max(0, (today - start).days)))
        invoice("property_fee", property_fee_year_fen(area), issued,
                f"{rng.choice(names.ORG_PREFIX)}物业服务有限公司")
    if rng.random() < 1 / 6:
        issued = min(today, registered + timedelta(days=rng.randint(30, 365)))
        invoice("renovation", rng.randrange(30_000, 200_001, 100) * 100, issued,
                f"{rng.choice(names.ORG_PREFIX)}装饰工程有限公司")
