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

from hpf.config import get_settings
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


class BankAdapter(Protocol):
    """What the deposit business asks of a commissioned bank."""

    def debit(self, bank_code: str, account_no: str, account_name: str, amount_fen: int,
              reference: str) -> DebitResult:
        """Debit a payer's account in favour of the centre's settlement account."""
        ...


class LocalBank:
    """Books a debit as succeeded at once (the payer's account is not held by us)."""

    def debit(self, bank_code: str, account_no: str, account_name: str, amount_fen: int,
              reference: str) -> DebitResult:
        """Return a successful debit with a fresh bank transaction id."""
        if amount_fen <= 0:
            raise DebitRefused("扣款金额必须大于零")
        return DebitResult(f"{bank_code}-{uuid.uuid4().hex[:20]}", amount_fen, clock.today())


class HttpBank:
    """POST {url}/debits to the bank front-end; refusals and failures are told apart."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def debit(self, bank_code: str, account_no: str, account_name: str, amount_fen: int,
              reference: str) -> DebitResult:
        """Ask the bank to debit; a 4xx is a refusal, anything else is 'cannot answer'."""
        try:
            response = httpx.post(
                f"{self.base_url}/debits",
                json={"bank": bank_code, "account_no": account_no, "account_name": account_name,
                      "amount_fen": amount_fen, "reference": reference},
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable("银行系统暂时无法响应", code="BANK_UNAVAILABLE") from exc
        if 400 <= response.status_code < 500:
            raise DebitRefused(response.json().get("message", "银行扣款失败"))
        if response.status_code != 200:
            raise UpstreamUnavailable("银行系统暂时无法响应", code="BANK_UNAVAILABLE")
        data = response.json()
        return DebitResult(data["bank_txn_id"], int(data["amount_fen"]),
                           date.fromisoformat(data["value_date"]))


def bank_adapter() -> BankAdapter:
    """The configured bank adapter."""
    settings = get_settings()
    if settings.bank_adapter == "http" and settings.bank_adapter_url:
        return HttpBank(settings.bank_adapter_url, settings.http_timeout_s)
    return LocalBank()
