"""Gateway handlers of the user and signing services (acct.*) built so far."""

from typing import Annotated

from pydantic import Field

from hpf.deposits.access import member_for
from hpf.gateway.registry import Ctx, Params
from hpf.gateway.registry import service as handles
from hpf.identity import bindings, signing

MemberNo = Annotated[str, Field(max_length=20, pattern=r"^\d+$")]


class SignParams(Params):
    member_no: MemberNo | None = None
    bank_code: Annotated[str, Field(max_length=8, pattern=r"^[A-Z0-9]+$")] | None = None
    card_no: Annotated[str, Field(min_length=12, max_length=19, pattern=r"^\d+$")] | None = None
    consent: bool = Field(default=False, description="同意向受托银行提供姓名与身份证号码用于银行卡核验")


class UnsignParams(Params):
    member_no: MemberNo | None = None


class UnbindParams(Params):
    binding_id: Annotated[int, Field(ge=1, le=2**63 - 1)]


@handles("acct.sms_sign", SignParams)
def sms_sign(ctx: Ctx, p: SignParams) -> dict:
    """短信签约."""
    member = member_for(ctx, p.member_no, lock=True)
    return signing.sign(ctx.session, member, ctx.principal, ctx.channel, bank_code=p.bank_code,
                        card_no=p.card_no, consent_given=p.consent)


@handles("acct.sms_unsign", UnsignParams)
def sms_unsign(ctx: Ctx, p: UnsignParams) -> dict:
    """短信解约."""
    member = member_for(ctx, p.member_no, lock=True)
    return signing.cancel(ctx.session, member, ctx.principal, ctx.channel)


@handles("acct.unbind", UnbindParams)
def unbind(ctx: Ctx, p: UnbindParams) -> dict:
    """解除绑定 (the SMS step-up is the gateway's, see hpf.identity.stepup)."""
    return bindings.unbind(ctx.session, ctx.principal, ctx.channel, p.binding_id)
