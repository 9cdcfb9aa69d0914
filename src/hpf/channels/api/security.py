"""User security endpoints: captcha, SMS step-up codes, channel bindings, consents, SMS
signing state, and the staff's risk alert queue."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hpf.catalog import domain as catalog
from hpf.channels.api.auth import LoginOut, session_response
from hpf.channels.api.deps import (
    Channel,
    DbSession,
    RequiredPrincipal,
    client_ip,
    require_staff,
    signed_channel,
)
from hpf.gateway.principal import Principal
from hpf.identity import admin as accounts
from hpf.identity import bindings, captcha, consent, signing, stepup
from hpf.kit.errors import Forbidden, NotFound, TooManyRequests
from hpf.risk import service as risk

router = APIRouter(prefix="/api/v1", tags=["security"], dependencies=[Depends(signed_channel)])

CAPTCHAS_PER_IP_MIN = 30
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StepUpIn(_Body):
    service: str = Field(min_length=3, max_length=48, description="要办理的业务代码")


class BindIn(_Body):
    external_id: str = Field(min_length=1, max_length=128,
                             description="渠道账号标识（微信 openid、设备号、卡号），由渠道终端提供")
    label: str | None = Field(default=None, max_length=64, description="备注，如“我的手机”")


class BindingLoginIn(_Body):
    external_id: str = Field(min_length=1, max_length=128)


class ConsentIn(_Body):
    party: str = Field(max_length=32, description="授权对象：" + "、".join(consent.PARTIES))
    purpose: str = Field(max_length=32, description="授权用途：" + "、".join(consent.PURPOSES))


class ReviewIn(_Body):
    confirm: bool = Field(description="true 确认风险；false 排除（误报）")
    note: str = Field(min_length=1, max_length=300, description="复核意见")


@router.post("/auth/captcha", summary="获取图形验证码")
def new_captcha(request: Request, db: DbSession) -> dict[str, Any]:
    """A picture captcha for a login that asks for one (CAPTCHA_REQUIRED)."""
    ip = client_ip(request) or "-"
    hit = captcha.counters().hit(f"captcha-draw:{ip}", 60)
    if hit.count > CAPTCHAS_PER_IP_MIN:
        raise TooManyRequests(retry_after_s=hit.retry_after_s)
    return captcha.new(db)


@router.post("/auth/sms-code/step-up", summary="获取敏感业务短信验证码")
def step_up_code(body: StepUpIn, db: DbSession, principal: RequiredPrincipal) -> dict[str, Any]:
    """Text the caller a code for one sensitive service (send it as X-HPF-SMS-Code)."""
    service = catalog.get(body.service)
    if service is None:
        raise NotFound("业务不存在", code="UNKNOWN_SERVICE", service=body.service)
    from hpf.catalog import params

    return {"phone": stepup.send_code(db, service, principal),
            "expires_in_s": int(params.get(db, "otp.ttl_s"))}


@router.get("/auth/bindings", summary="我的渠道绑定")
def my_bindings(db: DbSession, principal: RequiredPrincipal) -> dict[str, Any]:
    """The caller's live channel bindings."""
    if principal.user_id is None or principal.is_staff:
        raise Forbidden("工作人员账号不绑定渠道", code="BINDING_NEEDS_USER")
    return {"items": bindings.listing(db, principal.user_id)}


@router.post("/auth/bindings", summary="绑定当前渠道账号", status_code=201)
def bind(body: BindIn, db: DbSession, principal: RequiredPrincipal,
         channel: Channel) -> dict[str, Any]:
    """Bind the channel account the signing client vouches for to the signed-in user."""
    return bindings.bind(db, principal, channel, body.external_id, body.label)


@router.post("/auth/login/binding", summary="已绑定渠道账号登录", response_model=LoginOut)
def binding_login(body: BindingLoginIn, request: Request, response: Response, db: DbSession,
                  channel: Channel) -> LoginOut:
    """Sign in by a channel account bound before (WeChat, app device, kiosk card)."""
    token, principal = bindings.login(db, channel, body.external_id, ip=client_ip(request),
                                      user_agent=request.headers.get("user-agent"))
    return session_response(request, response, token, principal)


def _member(principal: Principal) -> int:
    if principal.kind != "member" or principal.member_id is None:
        raise Forbidden("仅缴存职工本人可办理", code="MEMBER_ONLY")
    return principal.member_id


@router.get("/consents", summary="我的数据共享授权")
def my_consents(db: DbSession, principal: RequiredPrincipal) -> dict[str, Any]:
    """The member's consents, live and past."""
    return {"items": consent.listing(db, _member(principal)),
            "parties": consent.PARTIES, "purposes": consent.PURPOSES}


@router.post("/consents", summary="授权向第三方提供信息", status_code=201)
def grant_consent(body: ConsentIn, db: DbSession, principal: RequiredPrincipal,
                  channel: Channel) -> dict[str, Any]:
    """Record the member's consent for a party and purpose."""
    return consent.grant(db, _member(principal), body.party, body.purpose, channel, principal)


@router.post("/consents/{consent_id}/revoke", summary="撤销授权")
def revoke_consent(consent_id: Id, db: DbSession, principal: RequiredPrincipal,
                   channel: Channel) -> dict[str, Any]:
    """Withdraw a consent."""
    return consent.revoke(db, _member(principal), consent_id, channel, principal)


@router.get("/auth/sms-signing", summary="短信签约状态")
def sms_signing(db: DbSession, principal: RequiredPrincipal) -> dict[str, Any]:
    """The member's 12329 SMS signing state (the same on every channel)."""
    return signing.state(db, _member(principal))


class StatusIn(_Body):
    action: Literal["unlock", "disable", "enable"] = Field(description="解锁、停用或启用")
    reason: str = Field(min_length=2, max_length=200, description="原因")


@router.post("/mgmt/users/{user_id}/status", summary="账户解锁、停用、启用")
def account_status(user_id: Id, body: StatusIn, db: DbSession,
                   principal: Annotated[Principal, Depends(require_staff("admin"))]
                   ) -> dict[str, Any]:
    """An administrator unlocks, disables (ending its sessions) or enables an account."""
    return accounts.set_status(db, principal, user_id, body.action, body.reason)


@router.get("/mgmt/risk-alerts", summary="风险预警")
def risk_alerts(db: DbSession,
                principal: Annotated[Principal, Depends(require_staff("reviewer"))],
                status: Annotated[str | None, Query(pattern="^(open|cleared|confirmed)$")] = "open",
                before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    """Alerts for staff review, newest first."""
    return {"items": risk.alerts(db, status, limit, before_id)}


@router.post("/mgmt/risk-alerts/{alert_id}", summary="复核风险预警")
def review_alert(alert_id: Id, body: ReviewIn, db: DbSession,
                 principal: Annotated[Principal, Depends(require_staff("reviewer"))]
                 ) -> dict[str, Any]:
    """Confirm or clear an alert with a note (held applications are decided in approvals)."""
    return risk.review(db, principal, alert_id, body.confirm, body.note)
