"""Gateway overhead: a member's account query through the whole HTTP stack, signed, against
the same business call made bare in a transaction, on the same database in the same run.

    python -m bench.gateway [--engine sqlite|pg|both] [--requests 2000] [--members 2000]

The HTTP path is what a channel's request costs: the signature (client lookup, AES-GCM,
nonce), the session, the channel's state and deployment, hours and maintenance, flow counters,
the stored command, the audit record, the JSON; it runs through Starlette's TestClient (an
in-process ASGI call across a thread, no sockets). `invoke()` is the gateway alone, called in
process. The baseline is the handler alone in a transaction. Printed: the throughputs, the
ratios to the baseline, and the HTTP path's p50/p95/p99 latency. Absolute times vary on
shared machines; the ratios hold.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.engines import open_engine
from hpf.catalog.domain import CHANNELS
from hpf.channels.api.signer import ChannelSigner
from hpf.gateway import clients, registry
from hpf.gateway.principal import Principal
from hpf.gateway.registry import Ctx
from hpf.kit import db, migrate
from hpf.kit.db import session_factory, transaction

SERVICE = "q.member_account"


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _build(url: str, members: int) -> tuple[dict, dict]:
    from hpf.demo.seed import seed_city

    migrate.upgrade(url)
    seed_city(url, members=members, seed=11, years=1)
    credentials = {}
    with transaction(url) as session:
        for channel in CHANNELS:
            client, secret = clients.register(session, channel, "bench", client_id=f"bench-{channel}")
            credentials[channel] = (client.client_id, secret)
        from hpf.deposits.models import Member
        from hpf.identity import service as identity

        member = session.query(Member).filter(Member.status == "01").order_by(Member.id.desc()).first()
        identity.create_member_login(session, member.id, "Bench@2026x")
        login = {"kind": "member", "login_name": member.id_number, "password": "Bench@2026x"}
        principal = {"member_id": member.id}
    db.dispose_all()
    return credentials, {"login": login, **principal}


def run(engine_name: str, requests: int, members: int) -> dict:
    """Time both paths on one engine and return the figures."""
    from fastapi.testclient import TestClient

    from hpf.main import create_app

    engine = open_engine(engine_name)
    try:
        url = engine.create_base()
        credentials, who = _build(url, members)
        app = create_app(url)
        latencies: list[float] = []
        with TestClient(app) as client:
            client.auth = ChannelSigner(credentials)
            token = client.post("/api/v1/auth/login", json=who["login"]).json()["token"]
            headers = {"Authorization": f"Bearer {token}", "X-HPF-Channel": "app"}
            for _ in range(50):  # warm caches and connections
                client.post(f"/api/v1/services/{SERVICE}", json={}, headers=headers)
            started = time.perf_counter()
            for _ in range(requests):
                t0 = time.perf_counter()
                r = client.post(f"/api/v1/services/{SERVICE}", json={}, headers=headers)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise SystemExit(f"gateway call failed: {r.status_code} {r.text}")
            gateway_s = time.perf_counter() - started

        handler = registry.get(SERVICE)
        principal = Principal(kind="member", user_id=None, name="bench",
                              member_id=who["member_id"])
        factory = session_factory(url)
        params = handler.params.model_validate({})
        for _ in range(50):
            with factory() as session, session.begin():
                handler.execute(Ctx(session, principal, "app"), params)
        started = time.perf_counter()
        for _ in range(requests):
            with factory() as session, session.begin():
                handler.execute(Ctx(session, principal, "app"), params)
        bare_s = time.perf_counter() - started
        from hpf.gateway import service as gateway

        caller = Principal(kind="member", user_id=principal.user_id, name="bench",
                           member_id=who["member_id"])
        started = time.perf_counter()
        for _ in range(requests):
            gateway.invoke(factory, "app", caller, SERVICE, {})
        invoke_s = time.perf_counter() - started
        db.dispose_all()
        return {"engine": engine_name, "requests": requests, "members": members,
                "gateway_per_s": round(requests / gateway_s, 1),
                "bare_per_s": round(requests / bare_s, 1),
                "invoke_per_s": round(requests / invoke_s, 1),
                "ratio": round(bare_s / gateway_s, 3),
                "invoke_ratio": round(bare_s / invoke_s, 3),
                "p50_ms": round(statistics.median(latencies) * 1000, 2),
                "p95_ms": round(_percentile(latencies, 95) * 1000, 2),
                "p99_ms": round(_percentile(latencies, 99) * 1000, 2)}
    finally:
        engine.close()


def main(argv: list[str] | None = None) -> None:
    """Run the gateway benchmark and print a table row per engine."""
    parser = argparse.ArgumentParser(prog="python -m bench.gateway",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "pg", "both"), default="sqlite")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    engines = ("sqlite", "pg") if args.engine == "both" else (args.engine,)
    results = [run(name, args.requests, args.members) for name in engines]
    print("| engine | requests | HTTP req/s | invoke() req/s | bare req/s | HTTP ratio | "
          "invoke() ratio | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['engine']} | {r['requests']} | {r['gateway_per_s']} | {r['invoke_per_s']} | "
              f"{r['bare_per_s']} | {r['ratio']}x | {r['invoke_ratio']}x | {r['p50_ms']} | "
              f"{r['p95_ms']} | {r['p99_ms']} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
