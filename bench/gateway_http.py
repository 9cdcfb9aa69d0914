"""The gateway over real HTTP: an authenticated balance query through the whole gateway against
a bare endpoint doing the same query on the same server, in the same run.

    python -m bench.gateway_http [--engine sqlite|pg|both] [--seconds 10] [--members 2000]

One uvicorn process (one worker) serves the platform plus one extra route, `/bench/bare`, that
runs the same q.member_account business in a transaction and nothing else: no signature, no
session, no channel checks, no stored command, no audit record. A load generator in this
process (asyncio, httpx, keep-alive connections) saturates each endpoint with closed-loop
clients, and prints both throughputs and their ratio (the issue's target: at least 0.3x); after
each pair of saturated slices it sends gateway calls open-loop at half the rate the gateway
just reached, and prints the latency percentiles of those calls (target: p99 under 50 ms).
Each gateway request is signed by a registered client and carries a member's bearer token,
like a mobile app's.
"""

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.engines import open_engine
from bench.gateway import SERVICE, _build, _percentile
from hpf.channels.api.signer import ChannelSigner
from hpf.kit import db

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 8
ROUNDS = 5


def bench_app():
    """The platform plus the bare endpoint (uvicorn --factory)."""
    from fastapi import FastAPI

    from hpf.gateway import registry
    from hpf.gateway.principal import Principal
    from hpf.gateway.registry import Ctx
    from hpf.main import create_app

    app: FastAPI = create_app()
    handler = registry.get(SERVICE)
    params = handler.params.model_validate({})

    @app.get("/bench/bare/{member_id}", include_in_schema=False)
    def bare(member_id: int) -> dict:
        principal = Principal(kind="member", name="bench", member_id=member_id)
        with app.state.session_factory() as session, session.begin():
            return handler.execute(Ctx(session, principal, "app"), params)

    return app


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, HPF_DATABASE_URL=url,
               PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "src"),
                                           os.environ.get("PYTHONPATH", "")]))
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "bench.gateway_http:bench_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--no-access-log"], env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


async def _closed_loop(make, seconds: float) -> tuple[int, float]:
    """CONCURRENCY clients back to back for `seconds`; (completed, elapsed)."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            r = await make(client)
            if r.status_code != 200:
                raise SystemExit(f"request failed: {r.status_code} {r.text[:300]}")
            done += 1

    started = time.perf_counter()
    async with _client() as client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
    return done, time.perf_counter() - started


async def _open_loop(make, rate_per_s: float, seconds: float) -> list[float]:
    """Requests sent at a fixed rate regardless of answers; their latencies."""
    latencies: list[float] = []
    interval = 1.0 / rate_per_s
    tasks = []

    async def one(client: httpx.AsyncClient) -> None:
        t0 = time.perf_counter()
        r = await make(client)
        latencies.append(time.perf_counter() - t0)
        if r.status_code != 200:
            raise SystemExit(f"request failed: {r.status_code} {r.text[:300]}")

    async with _client() as client:
        start = time.perf_counter()
        n = int(rate_per_s * seconds)
        for i in range(n):
            delay = start + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client)))
        await asyncio.gather(*tasks)
    return latencies


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64,
                                                              max_keepalive_connections=64))


def run(engine_name: str, seconds: float, members: int, log_dir: Path) -> dict:
    """Saturate both endpoints, then measure the gateway at half its saturation."""
    engine = open_engine(engine_name)
    proc = None
    try:
        url = engine.create_base()
        credentials, who = _build(url, members)
        # The build wrote the whole city: checkpoint it now rather than in the timed part.
        engine.settle(url)
        port = _free_port()
        proc = _serve(url, port, log_dir / f"gateway-http-{engine_name}.log")
        base = f"http://127.0.0.1:{port}"
        signer = ChannelSigner(credentials)
        with httpx.Client(base_url=base, auth=signer) as c:
            r = c.post("/api/v1/auth/login", json=who["login"], headers={"X-HPF-Channel": "app"})
            r.raise_for_status()
            token = r.json()["token"]
        headers = {"Authorization": f"Bearer {token}", "X-HPF-Channel": "app"}
        gateway_url = f"{base}/api/v1/services/{SERVICE}"
        bare_url = f"{base}/bench/bare/{who['member_id']}"

        def gateway(client):
            return client.post(gateway_url, json={}, headers=headers, auth=signer)

        def bare(client):
            return client.get(bare_url)

        asyncio.run(_closed_loop(gateway, 2))  # warm up both paths
        asyncio.run(_closed_loop(bare, 2))
        # The load generator's own heap (the city it built) would otherwise be walked by a
        # full collection in mid-measurement, ~100 ms of client pause counted as latency.
        gc.collect()
        gc.freeze()
        # Rounds of three slices: the gateway saturated, the bare endpoint saturated, then
        # the gateway open-loop at half the rate it just reached. A drift of the machine's
        # speed during the run (another process, the disk, the CPU's clock) weighs on both
        # throughputs alike, and "half of saturation" is half of what the machine gives now,
        # not of what it gave minutes earlier.
        g_done = b_done = 0
        g_s = b_s = 0.0
        latencies: list[float] = []
        half_rates: list[float] = []
        for _ in range(ROUNDS):
            done, spent = asyncio.run(_closed_loop(gateway, seconds / ROUNDS))
            g_done, g_s = g_done + done, g_s + spent
            half_rates.append(done / spent / 2)
            done, spent = asyncio.run(_closed_loop(bare, seconds / ROUNDS))
            b_done, b_s = b_done + done, b_s + spent
            latencies += asyncio.run(_open_loop(gateway, half_rates[-1], seconds / ROUNDS))
        g_rate, b_rate = g_done / g_s, b_done / b_s
        return {"engine": engine_name, "members": members, "seconds": seconds,
                "concurrency": CONCURRENCY,
                "gateway_per_s": round(g_rate, 1), "bare_per_s": round(b_rate, 1),
                "ratio": round(g_rate / b_rate, 3),
                "half_rate_per_s": round(statistics.mean(half_rates), 1),
                "open_loop_requests": len(latencies),
                "p50_ms": round(statistics.median(latencies) * 1000, 2),
                "p95_ms": round(_percentile(latencies, 95) * 1000, 2),
                "p99_ms": round(_percentile(latencies, 99) * 1000, 2)}
    finally:
        gc.unfreeze()
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        db.dispose_all()
        engine.close()


def main(argv: list[str] | None = None) -> None:
    """Run the HTTP gateway benchmark and print a table row per engine."""
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_http",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "pg", "both"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--logs", type=Path, default=Path("/tmp"))
    args = parser.parse_args(argv)
    engines = ("sqlite", "pg") if args.engine == "both" else (args.engine,)
    rows = [run(e, args.seconds, args.members, args.logs) for e in engines]
    print("| engine | gateway req/s | bare req/s | ratio | at half rate req/s | p50 ms | "
          "p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['engine']} | {r['gateway_per_s']} | {r['bare_per_s']} | {r['ratio']}x | "
              f"{r['half_rate_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
