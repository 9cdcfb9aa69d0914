"""Log masking: ID numbers and mobile numbers never reach a rendered log line."""

import structlog

from hpf.kit.logs import configure_logging, mask_personal_data, mask_text

ID18 = "11010519491231002X"


def test_mask_text() -> None:
    assert mask_text(f"id={ID18} p=13800001111") == "id=110105********002X p=138****1111"
    assert mask_text("old 110105491231002 x") == "old 110105*****1002 x"
    assert mask_text("lower 11010519491231002x.") == "lower 110105********002x."
    # Longer digit runs (bank cards, voucher numbers) and other numbers are left alone.
    assert mask_text("card 6222021234567890123 no 12345678901234567") == \
        "card 6222021234567890123 no 12345678901234567"
    assert mask_text("fixed line 0871-12345678, 12329") == "fixed line 0871-12345678, 12329"


def test_processor_masks_nested_values() -> None:
    event = mask_personal_data(None, "info", {
        "event": f"looked up {ID18}", "params": {"phone": "13912345678", "rows": [ID18]},
        "pair": ("13912345678", 3), "count": 5})
    assert event == {"event": "looked up 110105********002X",
                     "params": {"phone": "139****5678", "rows": ["110105********002X"]},
                     "pair": ("139****5678", 3), "count": 5}


def test_configured_logger_masks_events_and_tracebacks(capsys) -> None:
    configure_logging()
    configure_logging()  # idempotent
    assert structlog.get_config()["processors"].count(mask_personal_data) == 1
    log = structlog.get_logger("test")
    log.info("member", id_number=ID18, phone="13800001111")
    try:
        raise ValueError(f"no member {ID18}")
    except ValueError:
        log.exception("failed")
    out = capsys.readouterr().out
    assert ID18 not in out and "13800001111" not in out
    assert "110105********002X" in out and "138****1111" in out
