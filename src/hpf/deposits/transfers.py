"""Inter-city transfer (异地转移接续): contact letter, confirmation, funds, matching.

Transfer in: the member (or employer) applies; on approval the centre issues a contact letter
(联系函) to the outgoing centre; the outgoing centre confirms with the amount and the deposit
history; the funds arrive at a commissioned bank with the letter number as reference and are
matched to the letter, crediting the member with the history recorded. A payment whose amount
differs from the confirmation waits in suspense for staff.

Transfer out: on approval the account is paid interest to date, its whole balance leaves
through the bank to the receiving centre, and the account is closed (status 04).
"""

import json
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from hpf.deposits.jobs import year_rates
from hpf.deposits.models import M_NORMAL, M_SEALED, M_TRANSFERRED_OUT, Member, RemoteTransfer
from hpf.exchange.bank import bank_adapter
from hpf.kit import clock
from hpf.kit.errors import Conflict, InvalidInput, NotFound
from hpf.ledger import domain as ledger_domain
from hpf.ledger import service as ledger
from hpf.ledger.models import LedgerAccount


def _letter_no(prefix: str) -> str:
    return f"{prefix}{clock.today():%Y%m%d}{secrets.token_hex(4).upper()}"


def _open_transfer(session: Session, member: Member, direction: str) -> RemoteTransfer | None:
    return session.scalars(select(RemoteTransfer).where(
        RemoteTransfer.member_id == member.id, RemoteTransfer.direction == direction,
        RemoteTransfer.status.notin_(("completed", "rejected")))).first()


def check_in(session: Session, member: Member) -> None:
    """Refuse a second open transfer-in or one into a closed account."""
    if member.status not in (M_NORMAL, M_SEALED):
        raise Conflict("转入账户状态不正常", code="MEMBER_NOT_NORMAL")
    if _open_transfer(session, member, "in") is not None:
        raise Conflict("已有在途的转入申请", code="TRANSFER_IN_PROGRESS")


def issue_letter(session: Session, member: Member, from_centre: str, from_account_no: str,
                 command_id: int | None) -> dict:
    """Approved transfer-in: record the contact letter sent to the outgoing centre."""
    check_in(session, member)
    transfer = RemoteTransfer(
        direction="in", member_id=member.id, other_centre=from_centre,
        other_account_no=from_account_no, letter_no=_letter_no("LXH"), status="letter_sent",
        command_id=command_id, created_on=clock.today())
    session.add(transfer)
    session.flush()
    return _view(transfer)


def record_confirmation(session: Session, letter_no: str, amount_fen: int,
                        history: list[dict] | None) -> dict:
    """The outgoing centre confirmed: the amount and the deposit history it will send."""
    transfer = _by_letter(session, letter_no, "in")
    if transfer.status != "letter_sent":
        # `state`, not `status`: HpfError takes `status` as the HTTP status (a string there
        # made the refusal a 500).
        raise Conflict("联系函状态不允许确认", code="TRANSFER_STATE", state=transfer.status)
    transfer.amount_fen = amount_fen
    transfer.history_json = json.dumps(history or [], ensure_ascii=False)
    transfer.status = "confirmed"
    session.flush()
    return _view(transfer)


def record_arrival(session: Session, letter_no: str, bank_code: str, bank_txn_id: str,
                   amount_fen: int) -> dict:
    """Funds arrived: book them into suspense, then credit the member if they match."""
    from hpf.deposits.remittance import record_receipt

    transfer = _by_letter(session, letter_no, "in")
    if transfer.status not in ("confirmed", "letter_sent"):
        raise Conflict("该转移已完成", code="TRANSFER_STATE", state=transfer.status)
    member = session.get(Member, transfer.member_id)
    receipt = record_receipt(
        session, bank_code=bank_code, bank_txn_id=bank_txn_id, amount_fen=amount_fen,
        payer_name=transfer.other_centre, payer_account=transfer.other_account_no,
        reference=None, arrived_on=clock.today())
    transfer.receipt_id = receipt.id
    if transfer.status != "confirmed" or amount_fen != transfer.amount_fen:
        receipt.note = f"异地转入{letter_no}到账金额与确认金额不符或尚未确认，暂挂待查"
        session.flush()
        return {**_view(transfer), "receipt_status": receipt.status, "matched": False}
    voucher = ledger.post(
        session, "transfer_in",
        [ledger_domain.Line(receipt.suspense_account_id, ledger_domain.DEBIT, amount_fen),
         ledger_domain.Line(member.account_id, ledger_domain.CREDIT, amount_fen,
                            memo=f"异地转入{transfer.other_centre}")],
        summary=f"异地转入 {letter_no}", command_id=transfer.command_id)
    receipt.status = "matched"
    transfer.voucher_id = voucher.id
    transfer.status = "completed"
    transfer.completed_on = clock.today()
    session.flush()
    return {**_view(transfer), "matched": True}


def reserve_out(session: Session, member: Member, reference: str) -> int:
    """At application: hold the whole available balance so it cannot be spent twice."""
    if member.status not in (M_NORMAL, M_SEALED):
        raise Conflict("账户状态不允许转出", code="MEMBER_NOT_TRANSFERABLE")
    if _open_transfer(session, member, "out") is not None:
        raise Conflict("已有在途的转出申请", code="TRANSFER_IN_PROGRESS")
    account = session.get(LedgerAccount, member.account_id)
    if account.reserved_fen:
        # send_out refuses an account with other holds (a court's amount freeze, a pending
        # transfer-out): refuse at application, not after the review.
        raise Conflict("账户有冻结或在途业务，不能转出", code="MEMBER_HAS_HOLDS")
    available = account.balance_fen - account.reserved_fen
    if available <= 0:
        raise Conflict("账户没有可转出的余额", code="NOTHING_TO_TRANSFER")
    return ledger.reserve(session, member.account_id, available, reference).id


def check_letter_free(session: Session, letter_no: str) -> None:
    """Refuse a letter number already on record (letter_no is unique: a duplicate would
    otherwise surface as a bare IntegrityError after the approval)."""
    if session.scalar(select(RemoteTransfer.id).where(RemoteTransfer.letter_no == letter_no)):
        raise Conflict("该联系函编号已办理过转移", code="LETTER_EXISTS", letter_no=letter_no)


def send_out(session: Session, member: Member, to_centre: str, to_account_no: str,
             letter_no: str, reservation_id: int | None, command_id: int | None) -> dict:
    """Approved transfer-out: interest to date, pay the whole balance out, close the account."""
    today = clock.today()
    check_letter_free(session, letter_no)
    if reservation_id is not None:
        ledger.release(session, reservation_id)
    account = session.get(LedgerAccount, member.account_id)
    if account.reserved_fen:
        raise Conflict("账户有冻结或在途业务，不能转出", code="MEMBER_HAS_HOLDS")
    interest = ledger.pay_interest_to_date(
        session, account.id, today, year_rates(session, account.accrual_year),
        command_id=command_id)
    amount = account.balance_fen
    pending = ledger.system_account(session, ledger_domain.PAYOUT_PENDING)
    ledger.post(session, "transfer_out",
                [ledger_domain.Line(account.id, ledger_domain.DEBIT, amount),
                 ledger_domain.Line(pending.id, ledger_domain.CREDIT, amount,
                                    memo=f"转出至{to_centre}")],
                summary=f"异地转出 {letter_no}", command_id=command_id)
    from hpf.deposits.models import Employer

    bank_code = session.get(Employer, member.employer_id).bank_code
    paid = bank_adapter(session).payout(bank_code, to_account_no, to_centre, amount, letter_no)
    bank = ledger.system_account(session, ledger_domain.BANK_SETTLEMENT, "bank", None,
                                 "委托银行结算户")
    voucher = ledger.post(session, "transfer_out",
                          [ledger_domain.Line(pending.id, ledger_domain.DEBIT, amount),
                           ledger_domain.Line(bank.id, ledger_domain.CREDIT, amount,
                                              memo=paid.bank_txn_id)],
                          summary=f"异地转出付款 {letter_no}", command_id=command_id)
    ledger.close_account(session, account.id, today)
    member.status = M_TRANSFERRED_OUT
    member.closed_on = today
    transfer = RemoteTransfer(
        direction="out", member_id=member.id, other_centre=to_centre,
        other_account_no=to_account_no, letter_no=letter_no, status="completed",
        amount_fen=amount, interest_fen=interest, voucher_id=voucher.id, command_id=command_id,
        created_on=today, completed_on=today)
    session.add(transfer)
    session.flush()
    return {**_view(transfer), "bank_txn_id": paid.bank_txn_id}


def letter_member_id(session: Session, letter_no: str, direction: str) -> int:
    """The member a contact letter concerns."""
    return _by_letter(session, letter_no, direction).member_id


def _by_letter(session: Session, letter_no: str, direction: str) -> RemoteTransfer:
    transfer = session.scalars(select(RemoteTransfer).where(
        RemoteTransfer.letter_no == letter_no, RemoteTransfer.direction == direction)).first()
    if transfer is None:
        raise NotFound("联系函不存在", code="LETTER_NOT_FOUND")
    return transfer


def _view(t: RemoteTransfer) -> dict:
    return {"letter_no": t.letter_no, "direction": t.direction, "status": t.status,
            "other_centre": t.other_centre, "amount_fen": t.amount_fen,
            "interest_fen": t.interest_fen}


def validate_letter_no(letter_no: str | None) -> str:
    """A letter number is required for confirmations and arrivals."""
    if not letter_no:
        raise InvalidInput("请填写联系函编号", code="LETTER_NO_REQUIRED")
    return letter_no
