"""The demo seed builds a city whose books verify, on both engines."""

import json
from pathlib import Path

from sqlalchemy import func, select

from hpf.config import PROJECT_ROOT
from hpf.demo.seed import seed_city
from hpf.deposits.models import Member
from hpf.kit.db import transaction
from hpf.ledger import domain
from hpf.ledger import service as ledger
from hpf.ledger.verify import verify


def test_small_city_seeds_and_verifies(db_url):
    summary = seed_city(db_url, members=60, seed=3, years=1)
    assert summary["members"] == 60 and summary["interest_runs"] == 1
    # The logins go to the test session's var/, never over the checkout's own demo city.
    assert Path(summary["credentials"]).exists()
    assert not Path(summary["credentials"]).is_relative_to(PROJECT_ROOT / "var")
    # The first demo unit operator holds a certificate: key and certificate files beside it.
    logins = json.loads(Path(summary["credentials"]).read_text(encoding="utf-8"))["logins"]
    cert = next(entry["certificate"] for entry in logins if entry["kind"] == "unit")
    assert Path(cert["key"]).is_file() and "BEGIN CERTIFICATE" in Path(cert["cert"]).read_text()
    with transaction(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 60
        assert verify(s).ok, verify(s).problems
        # New accounts after the bulk load get fresh ids (PostgreSQL sequences advanced).
        assert ledger.open_account(s, domain.MEMBER_DEPOSITS, "new", owner_kind="member").id
