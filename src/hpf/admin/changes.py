"""Submitting a management change from a console form (maker-checker through manage.submit)."""

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse

from hpf.admin import forms, web
from hpf.gateway import manage
from hpf.gateway.principal import Principal
from hpf.kit.errors import HpfError

APPLICATION_NO = re.compile(r"^YW[0-9]{12}$")


@dataclass
class Outcome:
    """A submission: its application number, or what stopped it (nothing was stored then)."""

    application_no: str | None = None
    problems: forms.Problems = field(default_factory=forms.Problems)
    error: HpfError | None = None
    status: int = 202

    @property
    def ok(self) -> bool:
        """True when the change was stored for approval."""
        return self.application_no is not None


def submit(request: Request, staff: Principal, code: str, form: dict[str, str],
           names: tuple[str, ...], fixed: dict[str, Any]) -> Outcome:
    """Check a form's change in Chinese, then store it for a second person's approval."""
    params, problems = forms.to_params(form, names)
    params.update(fixed)
    if not problems:
        problems = forms.check_change(code, params)
    if problems:
        return Outcome(problems=problems, status=422)
    try:
        body = manage.submit(web.factory(request), staff, code, params)
    except HpfError as exc:
        return Outcome(error=exc, status=exc.status)
    return Outcome(application_no=body["application_no"])


def submitted(request: Request) -> str | None:
    """The application number a redirect after a submission carries, when well formed."""
    value = request.query_params.get("submitted", "")
    return value if APPLICATION_NO.fullmatch(value) else None


def after(path: str, outcome: Outcome) -> RedirectResponse:
    """Back to the page the form was on, saying what was submitted."""
    return RedirectResponse(f"{web.PREFIX}{path}?submitted={outcome.application_no}",
                            status_code=303)
