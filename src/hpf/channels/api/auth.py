"""Registration, login, logout and "who am I" for the JSON API (/api/v1/auth)."""

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from hpf.catalog import params
from hpf.channels.api.deps import (
    SESSION_COOKIE,
    Channel,
    DbSession,
    RequiredPrincipal,
    client_ip,
    request_token,
    signed_channel,
)
from hpf.config import get_settings
from hpf.gateway.principal import Principal
from hpf.identity import service as identity
from hpf.kit.ids import mask_id_number, normalize_id_number

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], dependencies=[Depends(signed_channel)])


class _Body(BaseModel):
    # Passwords are taken as typed: no whitespace stripping here.
    model_config = ConfigDict(extra="forbid")


class SmsCodeIn(_Body):
    name: str = Field(min_length=1, max_length=50, description="姓名")
    id_number: str = Field(min_length=15, max_length=18, description="身份证号码")
    phone: str = Field(min_length=11, max_length=20, description="预留手机号码")


class RegisterIn(SmsCodeIn):
    code: str = Field(min_length=4, max_length=8, description="短信验证码")
    password: str = Field(min_length=1, max_length=128, description="登录密码")


class LoginIn(_Body):
    kind: Literal["member", "unit", "developer", "staff"] = Field(description="用户类型")
    login_name: str = Field(min_length=1, max_length=64,
                            description="个人用户为身份证号码或个人账号，单位与工作人员为登录名")
    password: str = Field(min_length=1, max_length=128)
    otp: str | None = Field(default=None, pattern=r"^[0-9]{6}$",
                            description="工作人员的动态口令（6位数字）")
    captcha_id: str | None = Field(default=None, max_length=64,
                                   description="图形验证码编号（登录失败多次后必填）")
    captcha: str | None = Field(default=None, max_length=8, description="图形验证码")


class SmsCodeOut(BaseModel):
    phone: str = Field(description="已发送验证码的手机号码（脱敏）")
    expires_in_s: int


class RegisterOut(BaseModel):
    user_id: int
    login_name: str = Field(description="登录名（身份证号码，脱敏）")


class PrincipalOut(BaseModel):
    kind: str
    user_id: int | None
    name: str | None
    member_id: int | None
    employer_id: int | None
    roles: list[str]

    @classmethod
    def of(cls, principal: Principal) -> "PrincipalOut":
        return cls(kind=principal.kind, user_id=principal.user_id, name=principal.name,
                   member_id=principal.member_id, employer_id=principal.employer_id,
                   roles=sorted(principal.roles))


class LoginOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in_s: int = Field(description="会话最长有效期（秒）；空闲超时另计")
    principal: PrincipalOut


class LogoutOut(BaseModel):
    revoked: bool


@router.post("/register/sms-code", response_model=SmsCodeOut)
def register_sms_code(body: SmsCodeIn, db: DbSession, channel: Channel) -> SmsCodeOut:
    """Check name, ID number and phone against the centre's records and text a code."""
    masked = identity.start_member_registration(db, body.name, body.id_number, body.phone)
    return SmsCodeOut(phone=masked, expires_in_s=int(params.get(db, "otp.ttl_s")))


@router.post("/register", response_model=RegisterOut, status_code=status.HTTP_201_CREATED)
def register(body: RegisterIn, db: DbSession, channel: Channel) -> RegisterOut:
    """Create the member's account once the SMS code checks out."""
    user = identity.finish_member_registration(db, body.name, body.id_number, body.phone,
                                               body.code, body.password)
    # The account stores only the ID number's blind index; echo the number typed, masked.
    return RegisterOut(user_id=user.id,
                       login_name=mask_id_number(normalize_id_number(body.id_number)))


@router.post("/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, db: DbSession,
          channel: Channel) -> LoginOut:
    """Password login; the token comes back in the body and as an HttpOnly cookie."""
    token, principal = identity.login(
        db, body.kind, body.login_name, body.password, channel,
        ip=client_ip(request), user_agent=request.headers.get("user-agent"), otp=body.otp,
        captcha_id=body.captcha_id, captcha_answer=body.captcha,
    )
    return session_response(request, response, token, principal)


def session_response(request: Request, response: Response, token: str,
                     principal: Principal) -> LoginOut:
    """A new session's answer (password or certificate login): the token in the body and as
    an HttpOnly cookie."""
    lifetime_s = get_settings().session_absolute_timeout_s
    response.set_cookie(SESSION_COOKIE, token, max_age=lifetime_s, path="/", httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")
    return LoginOut(token=token, expires_in_s=lifetime_s, principal=PrincipalOut.of(principal))


@router.post("/logout", response_model=LogoutOut)
def logout(request: Request, response: Response, db: DbSession) -> LogoutOut:
    """End the session of the presented token (a no-op without one) and clear the cookie."""
    revoked = identity.logout(db, request_token(request))
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return LogoutOut(revoked=revoked)


@router.get("/me", response_model=PrincipalOut)
def me(principal: RequiredPrincipal) -> PrincipalOut:
    """The logged-in caller."""
    return PrincipalOut.of(principal)
