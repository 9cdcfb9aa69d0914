"""Log configuration: structlog with personal data masked in every event.

Whatever a caller puts into a log event (a path with an ID number in it, an exception text
quoting a request), 15- and 18-character ID numbers and 11-digit mainland mobile numbers are
masked before the event is rendered: 110101********123X, 138****0000. The masking looks at
every string in the event, nested in dicts, lists and tuples, and at a rendered traceback.
"""

import re
from typing import Any

import structlog

# Digit runs bounded by non-digits, so a longer number (a bank card, a voucher id) is left
# whole rather than masked in part; [0-9], not \d, to leave full-width digits alone.
_ID18 = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})[0-9]{5}([0-9]{4})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
_MAX_DEPTH = 8


def mask_text(text: str) -> str:
    """`text` with ID numbers and mobile numbers masked."""
    text = _ID18.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)
    text = _ID15.sub(lambda m: m.group(1) + "*" * 5 + m.group(2), text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def mask_values(value: Any, depth: int = 0) -> Any:
    """`value` with every string in it (nested in dicts, lists, tuples) masked."""
    if isinstance(value, str):
        return mask_text(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {k: mask_values(v, depth + 1) for k, v in value.items()}
    if type(value) in (list, tuple, set, frozenset):
        return type(value)(mask_values(v, depth + 1) for v in value)
    return value


def mask_personal_data(_logger: Any, _method: str, event_dict: dict) -> dict:
    """structlog processor: mask ID numbers and phones in every value of the event."""
    return {key: mask_values(value) for key, value in event_dict.items()}


def _processors() -> list:
    # structlog's defaults, with exceptions rendered to text first (so their text is masked
    # too) and the masking just before the renderer sees anything.
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.dev.set_exc_info,
        structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
        structlog.processors.format_exc_info,
        mask_personal_data,
        structlog.dev.ConsoleRenderer(colors=False,
                                      exception_formatter=structlog.dev.plain_traceback),
    ]


def configure_logging() -> None:
    """Configure structlog once per process (idempotent): defaults plus the masking."""
    if mask_personal_data in structlog.get_config()["processors"]:
        return
    structlog.configure(processors=_processors())
