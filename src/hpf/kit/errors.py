"""Business errors: a stable code, a Chinese message for the user and an HTTP status."""

from typing import Any


class HpfError(Exception):
    """A refusal the user can understand: code, Chinese message, HTTP status, details."""

    status = 400
    code = "BAD_REQUEST"
    message = "请求无效"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        **details: Any,
    ) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        if status is not None:
            self.status = status
        self.details = details
        super().__init__(f"{self.code}: {self.message}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON body sent to the user."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(HpfError):
    status = 422
    code = "INVALID_INPUT"
    message = "输入信息有误"


class NotFound(HpfError):
    status = 404
    code = "NOT_FOUND"
    message = "记录不存在"


class Conflict(HpfError):
    status = 409
    code = "CONFLICT"
    message = "业务状态冲突"


class Unauthorized(HpfError):
    status = 401
    code = "UNAUTHORIZED"
    message = "请先登录"


class Forbidden(HpfError):
    status = 403
    code = "FORBIDDEN"
    message = "无权办理该业务"


class NotAvailable(HpfError):
    # 404, not 501: a refusal to the user, never a server fault.
    status = 404
    code = "SERVICE_NOT_AVAILABLE"
    message = "该业务暂未开通"


class TooLarge(HpfError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "提交的内容过大"


class UpstreamUnavailable(HpfError):
    status = 503
    code = "UPSTREAM_UNAVAILABLE"
    message = "外部系统暂时无法响应，请稍后再试"


class TooManyRequests(HpfError):
    """Over a flow threshold: the client should retry after `retry_after_s` seconds."""

    status = 429
    code = "FLOW_LIMITED"
    message = "当前访问人数较多，请稍后再试"
