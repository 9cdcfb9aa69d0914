"""SMS step-up (短信验证) for sensitive services: a fresh code from the user's own phone.

A member who is signed in still confirms money leaving the fund and changes to how
they are reached (catalogue money flow "out", and the services listed in the parameter
`security.step_up_services`) with a code sent to the phone on their account. Staff at the
counter check the person's papers instead, so their calls need none.

The code is checked in a transaction of its own before the business runs, so a wrong guess
counts even when the application is then refused for another reason (hpf.gateway.service).
"""

import hashlib

from sqlalchemy.orm import Session

from hpf.catalog import params
from hpf.catalog.domain import Service
from hpf.gateway.principal import Principal
from hpf.identity import repository
from hpf.identity import service as identity
from hpf.kit.errors import HpfError, InvalidInput, Unauthorized
from hpf.kit.ids import mask_phone

# Members confirm with their phone. Employer and developer operators sign in with the centre's
# certificates (hpf.identity.certificates) and act for an organisation, not themselves.
STEP_UP_KINDS = ("member",)


class StepUpRequired(Unauthorized):
    code = "SMS_CODE_REQUIRED"
    message = "该业务须输入发送到您预留手机的短信验证码"


class NoPhoneOnFile(HpfError):
    status = 409
    code = "NO_PHONE_ON_FILE"
    message = "您的账户未预留手机号码，请到服务网点办理"


def _purpose(service_code: str) -> str:
    # OtpCode.purpose is 24 characters; service codes may be longer.
    return "stepup:" + hashlib.sha256(service_code.encode()).hexdigest()[:16]


def sensitive_codes(session: Session) -> set[str]:
    """Services listed as sensitive by the parameter (money-out services always are)."""
    raw = str(params.get(session, "security.step_up_services") or "")
    return {c.strip() for c in raw.split(",") if c.strip()}


def needed(session: Session, service: Service, principal: Principal) -> bool:
    """True when this caller must confirm this service with an SMS code."""
    if principal.kind not in STEP_UP_KINDS:
        return False
    return service.money == "out" or service.code in sensitive_codes(session)


def _phone(session: Session, principal: Principal) -> str:
    user = repository.user_by_id(session, principal.user_id) if principal.user_id else None
    phone = user.phone if user is not None else None
    if not phone:
        raise NoPhoneOnFile()
    return phone


def send_code(session: Session, service: Service, principal: Principal) -> str:
    """Text a step-up code for one service to the caller's phone; returns the masked phone."""
    if not needed(session, service, principal):
        raise InvalidInput("该业务无需短信验证", code="SMS_CODE_NOT_NEEDED", service=service.code)
    phone = _phone(session, principal)
    identity.issue_otp(session, phone, _purpose(service.code),
                       f"您正在办理「{service.name_zh}」，验证码{{code}}，{{minutes}}分钟内有效。"
                       "请勿告诉他人。")
    return mask_phone(phone)


def verify(session: Session, service: Service, principal: Principal, code: str | None) -> None:
    """Spend the caller's step-up code for this service (SMS_CODE_REQUIRED, OTP_INVALID…)."""
    if not code:
        raise StepUpRequired(service=service.code)
    if len(code) > 8 or not code.isdigit():
        raise InvalidInput("短信验证码格式不正确", code="OTP_INVALID")
    identity.verify_otp(session, _phone(session, principal), _purpose(service.code), code)
