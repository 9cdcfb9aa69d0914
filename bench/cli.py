"""`python -m bench NAME [--members N] [--engine sqlite|pg|both]`: jobs against a baseline.

For each engine: build the benchmark city once (bench.data), then for each benchmark copy it
twice, run the plain-SQL baseline on one copy and the real job on the other, each in its own
process (bench.worker), and print job seconds, baseline seconds, their ratio and the peak
memory of the job process. Timed figures are printed, never asserted.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.engines import REPO_ROOT, open_engine
from bench.worker import RESULT_TAG

# remittance: every employer online (list, confirm, bank receipt → match → credit), one
# transaction each. remit-debit: the month as the set-based batch job. interest: 30 June.
BENCHMARKS = ("remittance", "remit-debit", "interest")
TARGET_RATIO = 2.0
TARGET_PEAK_MB = 500


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=(*BENCHMARKS, "all"))
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--employers", type=int, default=None,
                        help="default: one employer per 1,000 members")
    parser.add_argument("--engine", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--layout", choices=("shuffled", "grouped"), default="shuffled",
                        help="members of an employer spread over all ids (default) or in one block")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="chunk size of the batch jobs: accounts for interest (default "
                             "HPF_JOB_CHUNK_SIZE, 50,000), employers for remit-debit (default 200)")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip hpf.ledger.verify after the jobs")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the SQLite files go (default: the system temp dir)")
    parser.add_argument("--job-setup-sql", action="append", default=[], metavar="SQL",
                        help="run this SQL on the job's copy before the job, untimed (what-if "
                             "experiments, e.g. dropping a constraint); repeatable")
    parser.add_argument("--profile", action="store_true",
                        help="time every SQL statement of the job and baseline, print the top ones")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    return parser.parse_args(argv)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem_gb = round(kb / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    import hpf

    source = Path(hpf.__file__).resolve().parents[2]
    commit = subprocess.run(["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gb": mem_gb,
            "python": platform.python_version(), "system": platform.platform(),
            "hpf_source": str(source), "hpf_commit": commit or None}


def run_measurement(url: str, benchmark: str, side: str, args: argparse.Namespace) -> dict:
    """Run one measurement in a child process and return its result."""
    spec = {"url": url, "benchmark": benchmark, "side": side, "chunk_size": args.chunk_size,
            "verify": not args.no_verify, "profile": args.profile,
            "setup_sql": args.job_setup_sql if side == "job" else []}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-m", "bench.worker", json.dumps(spec)],
                          cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False)
    lines = [x for x in proc.stdout.splitlines() if x.startswith(RESULT_TAG)]
    for line in proc.stdout.splitlines():
        if not line.startswith(RESULT_TAG):
            print(line)
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{benchmark} {side} failed (exit {proc.returncode})")
    return json.loads(lines[-1][len(RESULT_TAG):])


def run_engine(engine_name: str, names: list[str], args: argparse.Namespace) -> list[dict]:
    from bench.data import build_city

    employers = args.employers or max(1, args.members // 1000)
    print(f"\n== {engine_name}: building {args.members:,} members, {employers:,} employers, "
          f"{args.layout} layout",
          flush=True)
    engine = open_engine(engine_name, args.workdir)
    rows = []
    try:
        base = engine.create_base()
        built = build_city(base, members=args.members, employers=employers, layout=args.layout)
        engine.seal_base()
        print(f"  built in {built['build_s']:.0f}s, database {engine.size_mb(base):.0f} MB "
              f"({engine.describe()})", flush=True)
        for name in names:
            result: dict[str, Any] = {"engine": engine_name, "benchmark": name,
                                      "members": args.members, "employers": employers,
                                      "layout": args.layout,
                                      "engine_detail": engine.describe()}
            for side in ("baseline", "job"):
                url = engine.clone(f"{name}_{side}")
                try:
                    started = time.perf_counter()
                    result[side] = run_measurement(url, name, side, args)
                    print(f"  {name} {side}: {result[side]['seconds']:.1f}s "
                          f"(peak {result[side]['peak_rss_mb']:.0f} MB, process "
                          f"{time.perf_counter() - started:.0f}s)", flush=True)
                finally:
                    engine.drop(url)
            job, baseline = result["job"], result["baseline"]
            result["ratio"] = job["seconds"] / baseline["seconds"]
            result["balances_match"] = (job["member_balance_fen"] == baseline["member_balance_fen"])
            rows.append(result)
            print_result(result)
    finally:
        engine.close()
    return rows


def print_result(r: dict) -> None:
    job, base = r["job"], r["baseline"]
    verdict = "ok" if r["ratio"] <= TARGET_RATIO and job["peak_rss_mb"] < TARGET_PEAK_MB \
        else "OVER TARGET"
    print(f"  -> {r['benchmark']} on {r['engine']}: job {job['seconds']:.1f}s, "
          f"baseline {base['seconds']:.1f}s, ratio {r['ratio']:.2f}x, "
          f"job peak {job['peak_rss_mb']:.0f} MB [{verdict}]")
    print(f"     written by the engine: job {job['written_mb']:.0f} MB, "
          f"baseline {base['written_mb']:.0f} MB")
    if job.get("phases"):
        print("     job phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in job["phases"].items()))
        credit = job["phases"].get("receipt_match_credit")
        if credit is not None:
            print(f"     receipt→match→credit calls alone (no list, no commits): "
                  f"{credit / base['seconds']:.2f}x the baseline")
    else:
        print(f"     job: {job.get('job')}")
    print("     baseline phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in base["phases"].items()))
    if "verify_ok" in job:
        print(f"     books after the job: {'clean' if job['verify_ok'] else 'NOT CLEAN'} "
              f"(verify {job['verify_s']:.0f}s) {job['verify_problems'] or ''}")
    print(f"     member balances equal to the baseline's: {r['balances_match']}", flush=True)
    for side in ("job", "baseline"):
        profile = r[side].get("sql_profile")
        if profile:
            print(f"     {side} SQL time {profile['total_s']:.1f}s, by statement:")
            for seconds, calls, statement in profile["top"]:
                print(f"       {seconds:8.2f}s {calls:6d}x  {statement}")


def print_table(rows: list[dict]) -> None:
    print("\n| benchmark | engine | members | job s | baseline s | ratio | job peak MB | "
          "baseline peak MB | books |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        job, base = r["job"], r["baseline"]
        books = {True: "clean", False: "NOT CLEAN"}.get(job.get("verify_ok"), "not checked")
        print(f"| {r['benchmark']} | {r['engine']} | {r['members']:,} | {job['seconds']:.1f} | "
              f"{base['seconds']:.1f} | {r['ratio']:.2f}x | {job['peak_rss_mb']:.0f} | "
              f"{base['peak_rss_mb']:.0f} | {books} |")


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks; returns 0 when they ran (targets are reported, not enforced)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from bench.measure import remit_debit_available

    available = [n for n in BENCHMARKS if n != "remit-debit" or remit_debit_available()]
    if args.name not in (*available, "all"):
        print(f"{args.name}: not available in this checkout (hpf.deposits.batch is missing)")
        return 2
    names = available if args.name == "all" else [args.name]
    engines = ["sqlite", "pg"] if args.engine == "both" else [args.engine]
    info = machine()
    print(f"machine: {info['cpus']} CPUs ({info['cpu']}), {info['memory_gb']} GB, "
          f"Python {info['python']}; hpf from {info['hpf_source']} ({info['hpf_commit'] or 'no git'})")
    rows: list[dict] = []
    for engine_name in engines:
        rows += run_engine(engine_name, names, args)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": rows}, indent=2,
                                        default=str), encoding="utf-8")
    return 0
