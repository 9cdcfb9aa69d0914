"""Commissioned banks (委托银行): direct debits (代扣) and incoming payments.

The interface is what the deposit business needs of a bank: debit an employer's (or a
flexible depositor's) account for an amount with our reference, and tell us what arrived.
The local implementation books the debit as an immediate arrival, the way the bank's
real-time debit answers; the HTTP implementation calls the bank front-end (前置机) configured
in settings. Statements of transfers an employer makes by itself arrive through
`hpf.deposits.service.record_receipt` (bank callback or statement import).
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import httpx
from sqlalchemy.orm import Session

from hpf.config import get_settings
from hpf.exchange.models import RegBankCard
from hpf.kit import clock
from hpf.kit.errors import HpfError, UpstreamUnavailable


@dataclass(frozen=True)
class DebitResult:
    """A completed direct debit: the bank's transaction id and the value date."""

    bank_txn_id: str
    amount_fen: int
    value_date: date


class DebitRefused(HpfError):
    status = 402
    code = "BANK_DEBIT_REFUSED"
    message = "银行扣款失败"


@dataclass(frozen=True)
class PayoutResult:
    """A completed payout (transfer out of the centre's settlement account)."""

    bank_txn_id: str
    amount_fen: int
    value_date: date


class BankAdapter(Protocol):
    """What the deposit business asks of a commissioned bank."""

    def card_holder_matches(self, bank_code: str, card_no: str, name: str,
                            id_number: str) -> bool:
        """True when the card is active and held by this person (实名核验)."""
        ...

    def payout(self, bank_code: str, account_no: str, account_name: str, amount_fen: int,
               reference: str) -> PayoutResult:
        """Pay from the centre's settlement account to a named account."""
        ...

    def debit(self, bank_code: str, account_no: str, account_name: str, amount_fen: int,
              reference: str) -> DebitResult:
        """Debit a payer's account in favour of the centre's settlement account."""
        ...


class LocalBank:
    """Answers from the card registry we hold; debits and payouts succeed at once.

    The payer's balance is not something we hold, so a debit of a positive amount succeeds,
    the way a real-time debit answers for a funded account.
    """

    def __init__(self, session: Session | None = None) -> None:
        self.session = session

    def card_holder_matches(self, bank_code: str, card_no: str, name: str,
                            id_number: str) -> bool:
        """Look the card up in reg_bank_card."""
        if self.session is None:
            return False
        card = self.session.get(RegBankCard, card_no)
        return (card is not None and card.status == "active" and card.bank_code == bank_code
                and card.holder_name == name and card.holder_id_number == id_number)

    def payout(self, bank_code: str, account_no: str, account_name: str, amount_fen: int,
               reference: str) -> PayoutResult:
        """Return a successful payout with a fresh bank transaction id."""
        if amount_fen <= 0:
            raise DebitRefused("付款金额必须大于零", code="BANK_PAYOUT_REFUSED")
        return PayoutResult(f"{bank_code}-P{uuid.uuid4().hex[:19]}", amount_fen, clock.today())

    def debit(self, bank_code: str, account_no: str, account_name: str, amount_fen: int,
              reference: str) -> DebitResult:
        """Return a successful debit with a fresh bank transaction id."""
        if amount_fen <= 0:
            raise DebitRefused("扣款金额必须大于零")
        return DebitResult(f"{bank_code}-{uuid.uuid4().hex[:20]}", amount_fen, clock.today())


class HttpBank:
    """Calls the bank front-end (前置机); refusals (4xx) and failures are told apart."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def _post(self, path: str, body: dict) -> dict:
        try:
            response = httpx.post(f"{self.base_url}{path}", json=body, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable("银行系统暂时无法响应", code="BANK_UNAVAILABLE") from exc
        if 400 <= response.status_code < 500:
            raise DebitRefused(response.json().get("message", "银行拒绝了该交易"))
        if response.status_code != 200:
            raise UpstreamUnavailable("银行系统暂时无法响应", code="BANK_UNAVAILABLE")
        return response.json()

    def card_holder_matches(self, bank_code: str, card_no: str, name: str,
                            id_number: str) -> bool:
        """POST /cards/verify."""
        data = self._post("/cards/verify", {"bank": bank_code, "card_no": card_no,
                                            "name": name, "id_number": id_number})
        return bool(data.get("match"))

    def payout(self, bank_code: str, account_no: str, account_name: str, amount_fen: int,
               reference: str) -> PayoutResult:
        """POST /payouts."""
        data = self._post("/payouts", {"bank": bank_code, "account_no": account_no,
                                       "account_name": account_name, "amount_fen": amount_fen,
                                       "reference": reference})
        return PayoutResult(data["bank_txn_id"], int(data["amount_fen"]),
                            date.fromisoformat(data["value_date"]))

    def debit(self, bank_code: str, account_no: str, account_name: str, amount_fen: int,
              reference: str) -> DebitResult:
        """POST /debits."""
        data = self._post("/debits", {"bank": bank_code, "account_no": account_no,
                                      "account_name": account_name, "amount_fen": amount_fen,
                                      "reference": reference})
        return DebitResult(data["bank_txn_id"], int(data["amount_fen"]),
                           date.fromisoformat(data["value_date"]))


def bank_adapter(session: Session | None = None) -> BankAdapter:
    """The configured bank adapter (the local one reads registries through `session`)."""
    settings = get_settings()
    if settings.bank_adapter == "http" and settings.bank_adapter_url:
        return HttpBank(settings.bank_adapter_url, settings.http_timeout_s)
    return LocalBank(session)
