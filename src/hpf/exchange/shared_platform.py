"""Client of the data-exchange platform (数据共享交换平台) the HTTP source adapters call.

Every shared source is a path under one base URL (`settings.shared_data_url`); a question is
a JSON POST, the answer a JSON object. Anything but a well-formed 200 answer — a transport
error, a timeout, another status, a body of the wrong shape — is "the source cannot answer":
`UpstreamUnavailable` with the source's code, so a caller sends the case to staff review.
"""

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import httpx

from hpf.kit.errors import UpstreamUnavailable

T = TypeVar("T")


class BadAnswer(ValueError):
    """The platform answered, but not in the documented shape."""


class PlatformClient:
    """POSTs questions to one source under the platform's base URL."""

    def __init__(self, base_url: str, timeout_s: float, *, code: str, message: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.code = code
        self.message = message

    def ask(self, path: str, body: dict[str, Any], parse: Callable[[dict], T]) -> T:
        """POST body to {base}{path} and return parse(answer); any failure is unavailable."""
        try:
            response = httpx.post(f"{self.base_url}{path}", json=body, timeout=self.timeout_s)
            if response.status_code != 200:
                raise BadAnswer(f"status {response.status_code}")
            data = response.json()
            if not isinstance(data, dict):
                raise BadAnswer("answer is not an object")
            return parse(data)
        except (httpx.HTTPError, BadAnswer, KeyError, TypeError, ValueError) as exc:
            raise UpstreamUnavailable(self.message, code=self.code) from exc


def text(value: Any) -> str:
    """A non-empty string field."""
    if not isinstance(value, str) or not value:
        raise BadAnswer("expected a non-empty string")
    return value


def integer(value: Any) -> int:
    """An integer field (fen, 0.01 m²): a float or a boolean is a bad answer, never rounded."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadAnswer("expected an integer")
    return value


def day(value: Any) -> date:
    """An ISO date field (YYYY-MM-DD)."""
    return date.fromisoformat(text(value))


def optional_day(value: Any) -> date | None:
    """An ISO date field that may be null."""
    return None if value is None else day(value)


def id_numbers(value: Any) -> tuple[str, ...]:
    """A non-empty list of ID numbers."""
    if not isinstance(value, list) or not value:
        raise BadAnswer("expected a non-empty list")
    return tuple(text(v) for v in value)


def records(value: Any) -> list[dict]:
    """A list of objects."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BadAnswer("expected a list of objects")
    return value


def optional_record(value: Any) -> dict | None:
    """An object or null."""
    if value is not None and not isinstance(value, dict):
        raise BadAnswer("expected an object or null")
    return value
