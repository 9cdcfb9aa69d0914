"""Tax invoices (税务发票): deed tax (契税), home sale (购房发票), renovation (装修) and property
fee (物业费) invoices the tax bureau shares.

Interface + local implementation over reg_tax_invoice + HTTP implementation asking the
data-exchange platform. A source that cannot answer raises UpstreamUnavailable; callers send
the case to staff review.
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.config import get_settings
from hpf.exchange import shared_platform as sp
from hpf.exchange.housing_models import INVOICE_KINDS, RegTaxInvoice


@dataclass(frozen=True)
class Invoice:
    """An invoice (or deed-tax receipt) as the tax bureau holds it."""

    invoice_no: str
    kind: str  # deed_tax | house_sale | renovation | property_fee | construction | repair
    buyer_id_number: str
    amount_fen: int
    issued_on: date
    address: str  # the home the invoice is for
    seller: str  # issuer: developer, seller, decoration or property company, tax office


class TaxSource(Protocol):
    """Looks invoices up."""

    def invoice(self, invoice_no: str) -> Invoice | None:
        """One invoice; None when the tax bureau does not know it."""
        ...

    def invoices_of(self, id_number: str) -> list[Invoice]:
        """Every invoice issued to this person, oldest first."""
        ...


def _invoice(r: RegTaxInvoice) -> Invoice:
    return Invoice(r.invoice_no, r.kind, r.buyer_id_number, r.amount_fen, r.issued_on,
                   r.address, r.seller)


class LocalTaxSource:
    """Answers from reg_tax_invoice."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def invoice(self, invoice_no: str) -> Invoice | None:
        """The invoice with this number."""
        row = self.session.get(RegTaxInvoice, invoice_no)
        return None if row is None else _invoice(row)

    def invoices_of(self, id_number: str) -> list[Invoice]:
        """Invoices whose buyer is this ID number."""
        rows = self.session.scalars(
            select(RegTaxInvoice).where(RegTaxInvoice.buyer_id_number == id_number)
            .order_by(RegTaxInvoice.issued_on, RegTaxInvoice.invoice_no))
        return [_invoice(r) for r in rows]


def invoice_from_json(data: dict) -> Invoice:
    """An Invoice from the platform's JSON."""
    kind = sp.text(data["kind"])
    if kind not in INVOICE_KINDS:
        raise sp.BadAnswer("unknown invoice kind")
    amount = sp.integer(data["amount_fen"])
    if amount <= 0:
        raise sp.BadAnswer("amount must be positive")
    return Invoice(sp.text(data["invoice_no"]), kind, sp.text(data["buyer_id_number"]), amount,
                   sp.day(data["issued_on"]), sp.text(data["address"]), sp.text(data["seller"]))


class HttpTaxSource:
    """Asks the platform: POST {url}/tax/invoice {invoice_no} → {"invoice": {...}|null};
    POST {url}/tax/invoices {id_number} → {"invoices": [...]}."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.client = sp.PlatformClient(base_url, timeout_s, code="TAX_SOURCE_UNAVAILABLE",
                                        message="税务发票查验系统暂时无法响应，请稍后再试")

    def invoice(self, invoice_no: str) -> Invoice | None:
        """One invoice, or None when the tax bureau does not know it."""
        def parse(d: dict) -> Invoice | None:
            record = sp.optional_record(d["invoice"])
            return None if record is None else invoice_from_json(record)

        return self.client.ask("/tax/invoice", {"invoice_no": invoice_no}, parse)

    def invoices_of(self, id_number: str) -> list[Invoice]:
        """Every invoice issued to this person."""
        return self.client.ask("/tax/invoices", {"id_number": id_number},
                               lambda d: [invoice_from_json(i) for i in sp.records(d["invoices"])])


def tax_source(session: Session) -> TaxSource:
    """The configured tax invoice source."""
    settings = get_settings()
    if settings.shared_data_adapter == "http" and settings.shared_data_url:
        return HttpTaxSource(settings.shared_data_url, settings.http_timeout_s)
    return LocalTaxSource(session)
