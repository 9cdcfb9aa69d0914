"""Refusals of the identity area.

A refusal with `keep_writes = True` is raised only after the use case has written nothing but
the evidence of the refusal (a failure counter, a login event, an OTP attempt). The
transaction boundary commits those writes and then lets the error through
(`hpf.channels.api.deps.get_db`); without that, a rolled-back failure counter would make the
lockout and the OTP attempt limit unenforceable.
"""

from hpf.kit.errors import Conflict, HpfError, InvalidInput, Unauthorized

NOT_A_MEMBER_MESSAGE = (
    "您不是公积金中心的缴存用户。若您确实缴存公积金，请携带身份证到公积金办理点进行身份确认！"
)


class NotAMember(HpfError):
    status = 422
    code = "NOT_A_MEMBER"
    message = NOT_A_MEMBER_MESSAGE


class AlreadyRegistered(Conflict):
    code = "ALREADY_REGISTERED"
    message = "您已注册，请直接登录；如忘记密码，请使用找回密码功能"


class TooFrequent(HpfError):
    status = 429
    code = "OTP_TOO_FREQUENT"
    message = "验证码发送过于频繁，请稍后再试"


class OtpInvalid(InvalidInput):
    keep_writes = True
    code = "OTP_INVALID"
    message = "验证码错误"


class OtpExpired(InvalidInput):
    keep_writes = True
    code = "OTP_EXPIRED"
    message = "验证码已过期，请重新获取"


class BadCredentials(Unauthorized):
    keep_writes = True
    code = "BAD_CREDENTIALS"
    # The same words for an unknown user and a wrong password: no account enumeration.
    message = "用户名或密码错误"


class AccountLocked(HpfError):
    keep_writes = True
    status = 423
    code = "ACCOUNT_LOCKED"
    message = "密码错误次数过多，账户已锁定，请稍后再试"


class AccountDisabled(HpfError):
    keep_writes = True
    status = 403
    code = "ACCOUNT_DISABLED"
    message = "账户已停用，请联系公积金中心"


class TotpRequired(Unauthorized):
    keep_writes = True
    code = "TOTP_REQUIRED"
    message = "工作人员登录须输入动态口令"


class BadTotp(Unauthorized):
    keep_writes = True
    code = "BAD_TOTP"
    message = "动态口令错误"


class TotpReused(Unauthorized):
    keep_writes = True
    code = "TOTP_REUSED"
    message = "该动态口令已使用过，请等待下一个口令"


class TotpNotEnrolled(HpfError):
    keep_writes = True
    status = 403
    code = "TOTP_NOT_ENROLLED"
    message = "尚未绑定动态口令，请联系系统管理员"


class CertificateRequired(HpfError):
    keep_writes = True
    status = 403
    code = "CERTIFICATE_REQUIRED"
    message = "本中心单位与开发企业经办人须使用数字证书登录"
