"""The catalogue: our data file follows the specification, and loads cleanly."""

import csv
from pathlib import Path

import pytest

from hpf.catalog import domain as catalog
from hpf.gateway import registry

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "services.csv"


def test_catalogue_matches_the_specification():
    if not SPEC.exists():
        pytest.skip("shared/spec is not beside this checkout")
    with SPEC.open(encoding="utf-8") as fh:
        spec = {row["code"]: row for row in csv.DictReader(fh)}
    ours = catalog.load()
    assert set(ours) == set(spec)
    for code, row in spec.items():
        service = ours[code]
        assert service.name_zh == row["name_zh"]
        assert service.mode == row["mode"]
        assert ";".join(service.channels) == row["channels"]
        assert ";".join(service.actors) == row["actor"]


def test_every_handler_is_catalogued_and_every_deposit_service_is_built():
    management = {op.code for op in registry.management_changes()}
    assert management and all(code.startswith("mgmt.") for code in management)
    built = registry.implemented() - management
    assert built <= set(catalog.load())
    assert not management & set(catalog.load())  # never callable as a service
    deposits = {c for c, s in catalog.load().items() if s.area == "deposit" and s.mode != "backend"}
    assert deposits <= built
    for code in ("q.member_account", "q.member_details", "q.member_deposits", "q.unit_info",
                 "q.unit_members", "q.unit_deposits", "q.unit_business"):
        assert code in built
