"""Helpers of the withdrawal tests: members with money, bank cards in their names, and registry
records the shared-data adapters answer from."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from hpf.deposits.models import Member
from hpf.exchange.housing_models import (
    RegHousingContract,
    RegHousingContractBuyer,
    RegProperty,
    RegPropertyOwner,
    RegTaxInvoice,
)
from hpf.exchange.models import RegBankCard
from hpf.kit.db import transaction
from hpf.kit.ids import luhn_check_digit
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount
from integration.deposits.conftest import TODAY, City

__all__ = ["TODAY", "City", "Saver"]


@dataclass
class Saver:
    """A member with a login, a balance and a bank card in their name."""

    member_no: str
    id_number: str
    name: str
    card_no: str
    headers: dict
    account_id: int


def luhn_card(prefix: str) -> str:
    """A card number with a valid Luhn check digit."""
    return prefix + luhn_check_digit(prefix)


def saver(city: City, n: int, name: str, balance_fen: int, *, card_holder: str | None = None,
          hukou: str = "530100") -> Saver:
    """Open a member, give them `balance_fen` (one deposit valued 2026-01-15), a card and a login."""
    member_no = city.open_member(city.login("unit", "unit01"), n, name, phone=f"1391234{n:04d}")
    card = luhn_card(f"622202{n:09d}")
    with transaction(city.url) as s:
        member = s.scalars(select(Member).where(Member.member_no == member_no)).one()
        bank = ledger.system_account(s, ledger_domain.BANK_SETTLEMENT, "bank", None, "委托银行结算户")
        ledger.post(s, "remit", [ledger_domain.Line(bank.id, ledger_domain.DEBIT, balance_fen),
                                 ledger_domain.Line(member.account_id, ledger_domain.CREDIT,
                                                    balance_fen)],
                    summary="期初缴存", value_date=date(2026, 1, 15))
        s.add(RegBankCard(card_no=card, bank_code="ICBC", holder_name=card_holder or name,
                          holder_id_number=member.id_number, status="active"))
        from hpf.exchange.models import RegPerson

        s.get(RegPerson, member.id_number).hukou_city = hukou
        id_number, account_id = member.id_number, member.account_id
    headers = city.member_login(member_no)
    return Saver(member_no, id_number, name, card, headers, account_id)


def home(city: City, owner: str, cert_no: str, area_dm2: int, registered_on: date) -> None:
    """A registered home owned by `owner`."""
    with transaction(city.url) as s:
        s.add(RegProperty(cert_no=cert_no, address="五华区测试路1号", floor_area_dm2=area_dm2,
                          registered_on=registered_on))
        s.flush()
        s.add(RegPropertyOwner(cert_no=cert_no, id_number=owner))


def purchase(city: City, buyer: str, contract_no: str, price_fen: int, signed_on: date,
             invoice_no: str | None = None, invoice_fen: int | None = None) -> None:
    """A filed purchase contract, with its house-sale invoice when given."""
    with transaction(city.url) as s:
        s.add(RegHousingContract(contract_no=contract_no, kind="new", price_fen=price_fen,
                                 signed_on=signed_on, filed_on=signed_on,
                                 address="五华区测试路1号", floor_area_dm2=9000))
        s.flush()
        s.add(RegHousingContractBuyer(contract_no=contract_no, id_number=buyer))
        if invoice_no:
            s.add(RegTaxInvoice(invoice_no=invoice_no, kind="house_sale", buyer_id_number=buyer,
                                amount_fen=invoice_fen or price_fen, issued_on=signed_on,
                                address="五华区测试路1号", seller="春城置业有限公司"))


def balance(city: City, account_id: int) -> tuple[int, int]:
    """(balance, reserved) of a ledger account."""
    with transaction(city.url) as s:
        a = s.get(LedgerAccount, account_id)
        return a.balance_fen, a.reserved_fen
