"""Disputed payouts (付款争议处理): what staff decide once they have asked the bank.

A payout is held as `disputed` when the bank's statement contradicts the instruction (paid, but
another amount) or when it failed after the member's account had closed; one the statement
left out waits for the bank's next statement. Either way its money waits in payouts pending
(2190), and staff may settle it here once they have the bank's word. A reviewer records what
the bank confirmed, and an approver (a second staff member) approves before it takes effect,
as every management change does:

- paid: the bank confirms it paid the instructed amount (its reference recorded): the money
  leaves 2190 for the bank and a closing withdrawal closes the account;
- returned: the bank confirms nothing was paid: the money goes back to the member's account;
- resend: nothing was paid and the account cannot take it back (or the member asks): it is paid
  again with the next batch, to a card in the payee's name (checked with the bank).
"""

import json
from typing import Literal

from pydantic import Field, field_validator, model_validator
from sqlalchemy import select

from hpf.deposits.models import Member
from hpf.exchange.bank import bank_adapter
from hpf.gateway.models import Command
from hpf.gateway.registry import Ctx, Params, register_management
from hpf.kit import clock
from hpf.kit.errors import Conflict, InvalidInput, NotFound
from hpf.kit.ids import normalize_bank_card
from hpf.kit.money import format_yuan
from hpf.notices.service import send_sms
from hpf.withdrawals import kinds, payouts
from hpf.withdrawals.models import APPROVED, DISPUTED, PAYING, WdApplication, WdPayoutBatch
from hpf.withdrawals.schemas import BankCode

OUTCOMES = {"paid": "银行确认已付", "returned": "银行确认未付，退回账户", "resend": "重新付款"}


class PayoutResolution(Params):
    """What the bank confirmed about one disputed payout."""

    application_no: str = Field(pattern=r"^YW\d{12}$")
    outcome: Literal["paid", "returned", "resend"]
    bank_txn_id: str | None = Field(default=None, min_length=1, max_length=64,
                                    pattern=r"^[A-Za-z0-9\-_]+$")
    bank_code: BankCode | None = None
    card_no: str | None = None
    reason: str = Field(min_length=2, max_length=200)

    @field_validator("card_no")
    @classmethod
    def _card(cls, value: str | None) -> str | None:
        return None if value is None else normalize_bank_card(value)

    @model_validator(mode="after")
    def _fields_of_outcome(self) -> "PayoutResolution":
        if (self.outcome == "paid") != (self.bank_txn_id is not None):
            raise ValueError("确认已付款时须填写银行流水号，其他处理方式不填")
        if (self.outcome == "resend") != (self.card_no is not None and self.bank_code is not None):
            raise ValueError("重新付款时须填写收款银行和卡号，其他处理方式不填")
        return self


def _resolve(ctx: Ctx, p: PayoutResolution) -> dict:
    session, today = ctx.session, clock.today()
    app = session.scalars(select(WdApplication).where(
        WdApplication.application_no == p.application_no).with_for_update()).first()
    if app is None:
        raise NotFound("提取申请不存在", code="WD_NO_APPLICATION")
    if not (app.status == DISPUTED or (app.status == PAYING and _left_out(session, app))):
        raise Conflict("该笔付款不在争议待处理状态", code="WD_NOT_DISPUTED", state=app.status)
    ctx.member_id = app.member_id
    if p.outcome == "paid":
        payouts.settle_paid(session, app, p.bank_txn_id, today)
    elif p.outcome == "returned":
        if not payouts.settle_returned(session, app, "MANUAL", p.reason, today):
            raise Conflict("公积金账户已销户，款项不能退回，请选择重新付款", code="WD_ACCOUNT_CLOSED")
    else:
        if not bank_adapter(session).card_holder_matches(p.bank_code, p.card_no,
                                                         app.account_name, _payee_id(session, app)):
            raise InvalidInput("收款银行卡须为收款人名下的有效借记卡", code="WD_CARD_NOT_OWN")
        app.status, app.bank_code, app.card_no = APPROVED, p.bank_code, p.card_no
        app.batch_no = app.batch_seq = app.bank_txn_id = None
        member = session.get(Member, app.member_id)
        if member.phone:
            send_sms(session, member.phone, "withdrawal",
                     f"您的{kinds.kind(app.kind).name_zh}申请{app.application_no}将重新付款"
                     f"{format_yuan(app.amount_fen)}元至尾号{app.card_no[-4:]}的银行卡。")
    app.decision_reason = f"付款争议处理（{OUTCOMES[p.outcome]}）：{p.reason}"[:300]
    session.flush()
    return {"application_no": app.application_no, "status": app.status}


def _left_out(session, app: WdApplication) -> bool:
    """True for a payout the bank's statement of its batch left out (the batch waits)."""
    batch = session.scalars(select(WdPayoutBatch).where(
        WdPayoutBatch.batch_no == app.batch_no)).first()
    return batch is not None and batch.status == "submitted" and bool(batch.problems) and (
        app.application_no in batch.problems)


def _payee_id(session, app: WdApplication) -> str:
    """The payee's ID number: the heir's for a death withdrawal (from the application as
    stored, sealed, by the gateway), else the member's."""
    if app.kind == "wd.death":
        command = session.get(Command, app.command_id)
        return json.loads(command.params_json).get("heir_id_number") or ""
    return session.get(Member, app.member_id).id_number


register_management("mgmt.wd_payout", "提取付款争议处理", "reviewer", PayoutResolution, _resolve,
                     target=lambda p: f"wd-payout:{p.application_no}")
