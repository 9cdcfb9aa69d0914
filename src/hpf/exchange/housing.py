"""Housing transactions (房屋交易网签备案) and the residential maintenance fund (住宅专项维修资金).

Purchase contracts (new 商品房 / resale 二手房) with their buyers, and the maintenance-fund
deposits a buyer paid. Interface + local implementation over reg_housing_contract(+_buyer) and
reg_maintenance_payment + HTTP implementation asking the data-exchange platform. A source that
cannot answer raises UpstreamUnavailable; callers send the case to staff review.
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.config import get_settings
from hpf.exchange import shared_platform as sp
from hpf.exchange.housing_models import (
    CONTRACT_KINDS,
    RegHousingContract,
    RegHousingContractBuyer,
    RegMaintenancePayment,
)


@dataclass(frozen=True)
class PurchaseContract:
    """A filed purchase contract: price in fen, floor area in 0.01 m² (dm²)."""

    contract_no: str
    kind: str  # new (商品房) | resale (二手房)
    buyer_id_numbers: tuple[str, ...]  # sorted
    price_fen: int
    signed_on: date  # 网签
    filed_on: date  # 备案
    address: str
    floor_area_dm2: int


@dataclass(frozen=True)
class MaintenancePayment:
    """A deposit into the residential maintenance fund."""

    receipt_no: str
    id_number: str  # the payer
    amount_fen: int
    paid_on: date
    address: str


class HousingSource(Protocol):
    """Looks up purchase contracts and maintenance-fund deposits."""

    def contract(self, contract_no: str) -> PurchaseContract | None:
        """One contract; None when the source does not know it."""
        ...

    def contracts_of(self, id_number: str) -> list[PurchaseContract]:
        """Every contract naming this person as a buyer, oldest first."""
        ...

    def maintenance_payments_of(self, id_number: str) -> list[MaintenancePayment]:
        """Every maintenance-fund deposit this person paid, oldest first."""
        ...


class LocalHousingSource:
    """Answers from the housing registry tables."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _contracts(self, rows: list[RegHousingContract]) -> list[PurchaseContract]:
        if not rows:
            return []
        buyers: dict[str, list[str]] = {}
        for contract_no, id_number in self.session.execute(
                select(RegHousingContractBuyer.contract_no, RegHousingContractBuyer.id_number)
                .where(RegHousingContractBuyer.contract_no.in_([r.contract_no for r in rows]))
                .order_by(RegHousingContractBuyer.contract_no, RegHousingContractBuyer.id_number)):
            buyers.setdefault(contract_no, []).append(id_number)
        return [PurchaseContract(r.contract_no, r.kind, tuple(buyers.get(r.contract_no, ())),
                                 r.price_fen, r.signed_on, r.filed_on, r.address,
                                 r.floor_area_dm2) for r in rows]

    def contract(self, contract_no: str) -> PurchaseContract | None:
        """The contract and its buyers."""
        row = self.session.get(RegHousingContract, contract_no)
        return None if row is None else self._contracts([row])[0]

    def contracts_of(self, id_number: str) -> list[PurchaseContract]:
        """Contracts naming this ID number as a buyer."""
        rows = self.session.scalars(
            select(RegHousingContract)
            .join(RegHousingContractBuyer,
                  RegHousingContractBuyer.contract_no == RegHousingContract.contract_no)
            .where(RegHousingContractBuyer.id_number == id_number)
            .order_by(RegHousingContract.signed_on, RegHousingContract.contract_no)).all()
        return self._contracts(list(rows))

    def maintenance_payments_of(self, id_number: str) -> list[MaintenancePayment]:
        """Deposits paid by this ID number."""
        rows = self.session.scalars(
            select(RegMaintenancePayment).where(RegMaintenancePayment.id_number == id_number)
            .order_by(RegMaintenancePayment.paid_on, RegMaintenancePayment.receipt_no))
        return [MaintenancePayment(r.receipt_no, r.id_number, r.amount_fen, r.paid_on, r.address)
                for r in rows]


def contract_from_json(data: dict) -> PurchaseContract:
    """A PurchaseContract from the platform's JSON."""
    kind = sp.text(data["kind"])
    if kind not in CONTRACT_KINDS:
        raise sp.BadAnswer("unknown contract kind")
    price, area = sp.integer(data["price_fen"]), sp.integer(data["floor_area_dm2"])
    if price <= 0 or area <= 0:
        raise sp.BadAnswer("price and area must be positive")
    return PurchaseContract(sp.text(data["contract_no"]), kind,
                            tuple(sorted(sp.id_numbers(data["buyers"]))), price,
                            sp.day(data["signed_on"]), sp.day(data["filed_on"]),
                            sp.text(data["address"]), area)


def payment_from_json(data: dict) -> MaintenancePayment:
    """A MaintenancePayment from the platform's JSON."""
    amount = sp.integer(data["amount_fen"])
    if amount <= 0:
        raise sp.BadAnswer("amount must be positive")
    return MaintenancePayment(sp.text(data["receipt_no"]), sp.text(data["id_number"]), amount,
                              sp.day(data["paid_on"]), sp.text(data["address"]))


class HttpHousingSource:
    """Asks the platform: POST {url}/housing/contract {contract_no} → {"contract": {...}|null};
    /housing/contracts {id_number} → {"contracts": [...]};
    /housing/maintenance-payments {id_number} → {"payments": [...]}."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.client = sp.PlatformClient(base_url, timeout_s, code="HOUSING_SOURCE_UNAVAILABLE",
                                        message="房屋交易网签备案系统暂时无法响应，请稍后再试")

    def contract(self, contract_no: str) -> PurchaseContract | None:
        """One contract, or None when the source does not know it."""
        def parse(d: dict) -> PurchaseContract | None:
            record = sp.optional_record(d["contract"])
            return None if record is None else contract_from_json(record)

        return self.client.ask("/housing/contract", {"contract_no": contract_no}, parse)

    def contracts_of(self, id_number: str) -> list[PurchaseContract]:
        """Every contract naming this person as a buyer."""
        return self.client.ask("/housing/contracts", {"id_number": id_number},
                               lambda d: [contract_from_json(c)
                                          for c in sp.records(d["contracts"])])

    def maintenance_payments_of(self, id_number: str) -> list[MaintenancePayment]:
        """Every maintenance-fund deposit this person paid."""
        return self.client.ask("/housing/maintenance-payments", {"id_number": id_number},
                               lambda d: [payment_from_json(p)
                                          for p in sp.records(d["payments"])])


def housing_source(session: Session) -> HousingSource:
    """The configured housing transactions source."""
    settings = get_settings()
    if settings.shared_data_adapter == "http" and settings.shared_data_url:
        return HttpHousingSource(settings.shared_data_url, settings.http_timeout_s)
    return LocalHousingSource(session)
