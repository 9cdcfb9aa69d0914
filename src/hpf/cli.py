"""The `hpf` command: database, demo city, server, jobs, ledger checks, outbox."""

import json
import sys
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from hpf.config import get_settings

app = typer.Typer(help="住房公积金综合服务平台 (Housing Provident Fund platform)", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations", no_args_is_help=True)
demo_app = typer.Typer(help="Demo city", no_args_is_help=True)
jobs_app = typer.Typer(help="Batch jobs", no_args_is_help=True)
ledger_app = typer.Typer(help="Ledger checks", no_args_is_help=True)
outbox_app = typer.Typer(help="Sent SMS and WeChat messages", no_args_is_help=True)
audit_app = typer.Typer(help="Security audit trail", no_args_is_help=True)
backup_app = typer.Typer(help="Back up the database and its files and prove the backup restores "
                              "(hpf backup; hpf backup verify FILE; hpf restore FILE)")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(jobs_app, name="jobs")
app.add_typer(ledger_app, name="ledger")
app.add_typer(outbox_app, name="outbox")
app.add_typer(audit_app, name="audit")
app.add_typer(backup_app, name="backup")
staff_app = typer.Typer(help="Centre staff accounts", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
console = Console()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema."""
    from hpf.kit.migrate import upgrade

    upgrade(get_settings().database_url)
    console.print("数据库已迁移到最新版本 (database at head)")


def _database_empty() -> bool:
    from sqlalchemy import func, select

    from hpf.deposits.models import Employer
    from hpf.kit.db import transaction

    with transaction() as session:
        return (session.scalar(select(func.count()).select_from(Employer)) or 0) == 0


@demo_app.command("seed")
def demo_seed(members: int = typer.Option(2000, help="number of members"),
              seed: int = typer.Option(7, help="random seed"),
              years: int = typer.Option(3, help="years of history")) -> None:
    """Build a demo city with history produced by the real remittance and interest jobs."""
    from hpf.demo.seed import seed_city

    summary = seed_city(get_settings().database_url, members=members, seed=seed, years=years,
                        show_progress=True)
    console.print_json(json.dumps(summary, ensure_ascii=False, default=str))


@app.command("serve")
def serve(host: str | None = None, port: int | None = None) -> None:
    """Serve the platform (API, pages, console)."""
    import uvicorn

    from hpf.main import create_app

    settings = get_settings()
    uvicorn.run(create_app(), host=host or settings.host, port=port or settings.port,
                log_level="info")


@app.command("up")
def up(members: int = typer.Option(300, help="members of the demo city on first start")) -> None:
    """What `make run` does: migrate, seed a demo city if empty, print logins, serve."""
    db_upgrade()
    if _database_empty():
        console.print(f"数据库为空，正在生成演示城市（{members}名职工）…")
        demo_seed(members=members, seed=7, years=2)
    settings = get_settings()
    from hpf.demo.seed import ensure_demo_clients, ensure_demo_staff_totp

    credentials = settings.var_dir / "demo-credentials.json"
    if ensure_demo_clients(settings.database_url, credentials):
        console.print("已为演示城市登记各渠道演示终端 (demo channel clients registered)")
    if ensure_demo_staff_totp(settings.database_url, credentials):
        console.print("已为演示工作人员绑定动态口令 (demo staff enrolled for TOTP)")
    _print_logins(settings.var_dir / "demo-credentials.json")
    console.print(f"\n平台地址: [bold]http://{settings.host}:{settings.port}[/]  "
                  f"接口文档: http://{settings.host}:{settings.port}/docs\n")
    serve(None, None)


def _print_logins(path: Path) -> None:
    if not path.exists():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    table = Table(title="演示账号 (demo logins)")
    for col in ("角色", "kind", "login_name", "password"):
        table.add_column(col)
    for login in data.get("logins", []):
        password = login["password"]
        if login["kind"] == "staff":
            password += f" + 动态口令: hpf demo totp {login['login_name']}"
        if login.get("certificate"):
            password += f" 或数字证书: {Path(login['certificate']['cert']).parent}"
        table.add_row(login["role"], login["kind"], login["login_name"], password)
    console.print(table)
    if data.get("clients"):
        console.print(f"各渠道演示终端的签名凭据 (channel client credentials): {path}  "
                      "— 用 `hpf api` 发送签名请求 (signed API requests)")


@demo_app.command("totp")
def demo_totp(login_name: str) -> None:
    """Print a demo staff member's current TOTP code (what their authenticator app shows)."""
    import time

    from hpf.identity import service as identity
    from hpf.identity import totp
    from hpf.kit.db import session_factory

    with session_factory()() as session:
        secret = identity.staff_totp_secret(session, login_name)
    if secret is None:
        console.print(f"[red]{login_name} 不是已绑定动态口令的工作人员[/]")
        raise typer.Exit(1)
    left = totp.STEP_S - int(time.time()) % totp.STEP_S
    console.print(f"{totp.code_at(secret, time.time())}  （{left} 秒内有效，每个口令只能用一次）")


@staff_app.command("totp")
def staff_totp(login_name: str) -> None:
    """(Re-)enrol a staff member for TOTP and print the otpauth:// URI for their app."""
    from hpf.identity import service as identity
    from hpf.identity import totp
    from hpf.kit.db import session_factory
    from hpf.kit.errors import HpfError

    try:
        with session_factory()() as session, session.begin():
            secret = identity.enrol_totp(session, login_name)
    except HpfError as exc:
        console.print(f"[red]{exc.code}: {exc.message}[/]")
        raise typer.Exit(1) from None
    console.print("请用身份验证器应用扫描或输入 (scan or type into the authenticator app):")
    console.print(totp.provisioning_uri(secret, login_name), soft_wrap=True)


@backup_app.callback(invoke_without_command=True)
def backup_create(ctx: typer.Context, directory: Path | None = typer.Option(None, "--dir",
                                                      help="default var/backups"),
                  verify: bool = typer.Option(True, help="restore into a scratch database "
                                                         "and check it (default)"),
                  scratch_url: str | None = typer.Option(
                      None, help="PostgreSQL: a connection allowed to CREATE DATABASE "
                                 "(default the database's own)")) -> None:
    """Back the database, materials and bank files up; by default prove the backup restores
    and checks clean."""
    if ctx.invoked_subcommand is not None:
        return
    from hpf import backup

    settings = get_settings()
    try:
        manifest = backup.create(settings.database_url, directory or settings.var_dir / "backups")
    except backup.BackupError as exc:
        console.print(f"[red]备份失败：{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"备份完成 (backup written): {manifest}")
    if verify:
        _backup_verdict(manifest, scratch_url or settings.database_url)


@backup_app.command("verify")
def backup_verify(manifest: Path, scratch_url: str | None = typer.Option(
        None, help="PostgreSQL: a connection allowed to CREATE DATABASE")) -> None:
    """Restore a backup into scratch places and run the ledger, audit and material checks."""
    _backup_verdict(manifest, scratch_url or get_settings().database_url)


@app.command("restore")
def restore(manifest: Path, force: bool = typer.Option(
        False, "--force", help="overwrite a database that has data; move aside file "
                               "directories that hold files")) -> None:
    """Restore a backup into HPF_DATABASE_URL and its files into HPF_MATERIALS_DIR and
    HPF_BANK_FILES_DIR (checks the checksums first)."""
    from hpf import backup

    try:
        info = backup.restore(manifest, get_settings().database_url, force=force)
    except backup.BackupError as exc:
        console.print(f"[red]恢复失败：{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"已恢复 {info['created_at']} 的备份 (restored), 版本 {info['revision']}；"
                  "请运行 hpf ledger verify 与 hpf audit verify")
    if info["files_restored"] is None:
        console.print("此备份不含材料与银行文件（早于文件归档的备份），文件目录未改动")
    for tree, done in (info["files_restored"] or {}).items():
        console.print(f"{tree}: {done['count']} 个文件 → {done['path']}"
                      + (f"（原有文件移至 {done['moved_aside']}）" if done["moved_aside"] else ""))


def _backup_verdict(manifest: Path, scratch_url: str) -> None:
    from hpf import backup

    try:
        report = backup.verify(manifest, scratch_url)
    except backup.BackupError as exc:
        console.print(f"[red]验证失败：{exc}[/]")
        raise typer.Exit(1) from None
    console.print_json(json.dumps(report.facts, ensure_ascii=False, default=str))
    _verdict(report.problems, "备份可恢复，账务、审计与材料文件核对通过 (backup verified)")


@app.command("api")
def api(method: str = typer.Argument(..., help="GET or POST"),
        path: str = typer.Argument(..., help="e.g. /api/v1/services/q.unit_info"),
        body: str = typer.Argument("", help="JSON body"),
        channel: str = typer.Option("hall", help="the channel whose demo client signs"),
        token: str | None = typer.Option(None, help="session token (Bearer)"),
        idempotency_key: str | None = typer.Option(None, "--key", help="Idempotency-Key"),
        sms_code: str | None = typer.Option(None, help="SMS step-up code (money-out services)"),
        base_url: str | None = typer.Option(None, help="default http://HPF_HOST:HPF_PORT")) -> None:
    """Send one signed API request as a channel's demo client and print the answer."""
    import httpx

    from hpf.channels.api.signer import ChannelSigner

    settings = get_settings()
    path_file = settings.var_dir / "demo-credentials.json"
    if not path_file.exists():
        console.print("没有演示终端凭据：请先运行 make run 或 hpf demo seed")
        raise typer.Exit(2)
    known = json.loads(path_file.read_text(encoding="utf-8")).get("clients", {})
    if channel not in known:
        console.print(f"没有渠道 {channel} 的演示终端")
        raise typer.Exit(2)
    signer = ChannelSigner({c: (v["client_id"], v["secret"]) for c, v in known.items()},
                           default=channel)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    if sms_code:
        headers["X-HPF-SMS-Code"] = sms_code
    url = (base_url or f"http://{settings.host}:{settings.port}").rstrip("/") + path
    response = httpx.request(method.upper(), url, content=body.encode(), headers=headers,
                             auth=signer, timeout=30)
    console.print(f"HTTP {response.status_code}", style="bold")
    try:
        console.print_json(json.dumps(response.json(), ensure_ascii=False))
    except ValueError:
        console.print(response.text)
    raise typer.Exit(0 if response.status_code < 400 else 1)


# Withdrawal jobs (hpf.withdrawals.jobs): pay approved applications through the banks, match
# the statements, file the month's scheduled rent withdrawals.
WITHDRAWAL_JOBS = {"wd-payouts": "run_payouts", "wd-reconcile": "run_reconcile",
                   "wd-scheduled": "run_scheduled"}


@jobs_app.command("run")
def jobs_run(name: str, on: str = typer.Option(..., "--date", help="YYYY-MM-DD"),
             chunk_size: int | None = None) -> None:
    """Run a batch job (interest-settlement, remit-debit, flexible-debit, arrears-notice,
    balance-notices, wd-payouts, wd-reconcile, wd-scheduled, materials-sweep)."""
    from hpf.kit import clock
    from hpf.kit.db import session_factory
    from hpf.kit.errors import HpfError

    try:
        day = date.fromisoformat(on)
    except ValueError:
        console.print("[red]日期格式应为 YYYY-MM-DD[/]")
        raise typer.Exit(2) from None
    factory = session_factory()
    try:
        with clock.frozen(day):
            if name == "interest-settlement":
                from hpf.deposits.jobs import run_interest_settlement

                result = run_interest_settlement(factory, day, chunk_size=chunk_size,
                                                 show_progress=True)
                console.print_json(json.dumps(result.as_dict()))
            elif name == "remit-debit":
                from hpf.deposits.batch import run_monthly_debit

                result = run_monthly_debit(factory, clock.month_key(day), show_progress=True)
                console.print_json(json.dumps(result.as_dict()))
            elif name == "flexible-debit":
                from hpf.deposits.flexible import run_flexible_debit

                result = run_flexible_debit(factory, clock.month_key(day), show_progress=True)
                console.print_json(json.dumps(result.as_dict()))
            elif name == "balance-notices":
                from hpf.notices.balance import run_balance_notices

                result = run_balance_notices(factory, day, chunk_size=chunk_size,
                                             show_progress=True)
                console.print_json(json.dumps(result.as_dict()))
            elif name in WITHDRAWAL_JOBS:
                from hpf.withdrawals import jobs as wd_jobs

                result = getattr(wd_jobs, WITHDRAWAL_JOBS[name])(factory, day)
                console.print_json(json.dumps(result, ensure_ascii=False, default=str))
            elif name == "materials-sweep":
                from hpf.materials.jobs import run_materials_sweep

                result = run_materials_sweep(factory, day, chunk_size=chunk_size)
                console.print_json(json.dumps(result.as_dict(), ensure_ascii=False))
            elif name == "arrears-notice":
                from hpf.deposits.remittance import notify_arrears

                with factory() as session, session.begin():
                    console.print(f"已发送欠缴通知 {notify_arrears(session)} 条")
            else:
                console.print(f"[red]未知的作业 {name}[/] (interest-settlement, remit-debit, "
                              "flexible-debit, arrears-notice, balance-notices, wd-payouts, "
                              "wd-reconcile, wd-scheduled, materials-sweep)")
                raise typer.Exit(2)
    except HpfError as exc:
        console.print(f"[red]{exc.code}: {exc.message}[/]")
        raise typer.Exit(1) from None


@app.command("bench", context_settings={"allow_extra_args": True,
                                        "ignore_unknown_options": True})
def bench(ctx: typer.Context, name: str = typer.Argument(
        "all", help="remit-debit, remittance, interest or all; see docs/performance.md")) -> None:
    """Run a benchmark from bench/ (prints job time, same-run baseline and the ratio)."""
    from hpf.config import PROJECT_ROOT

    sys.path.insert(0, str(PROJECT_ROOT))
    try:
        from bench.__main__ import main as bench_main
    except ImportError:
        console.print("[red]bench/ is not in this checkout[/]")
        raise typer.Exit(2) from None
    raise typer.Exit(bench_main([name, *ctx.args]) or 0)


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Check that every voucher balances and every balance equals its postings."""
    from hpf.kit.db import transaction
    from hpf.ledger.verify import verify

    with transaction() as session:
        report = verify(session)
    for key, value in report.checked.items():
        console.print(f"checked {key}: {value}")
    _verdict(report.problems, "账务核对通过 (ledger verified)")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit chain; report an edited, removed or cut-off record."""
    from hpf.audit.service import verify
    from hpf.kit.db import transaction

    with transaction() as session:
        report = verify(session)
    console.print(f"checked audit records: {report.checked}")
    _verdict(report.problems, "审计日志完整 (audit chain verified)")


def _verdict(problems: list[str], ok_message: str) -> None:
    """Print a check's outcome; exit 1 listing the problems when there are any."""
    if not problems:
        console.print(f"[green]{ok_message}[/]")
        return
    for problem in problems:
        console.print(f"[red]{problem}[/]")
    raise typer.Exit(1)


@outbox_app.command("list")
def outbox_list(recipient: str | None = None, limit: int = 20) -> None:
    """Show the latest messages in the outbox (SMS codes land here)."""
    from hpf.kit.db import transaction
    from hpf.notices.service import latest

    with transaction() as session:
        for m in latest(session, recipient, limit):
            console.print(f"{m.id} {m.created_at:%Y-%m-%d %H:%M} {m.channel} {m.recipient} "
                          f"{m.content}")


cert_app = typer.Typer(help="Operator digital certificates (数字证书) from the centre's CA",
                       no_args_is_help=True)
app.add_typer(cert_app, name="cert")


def _cert_refused(exc) -> None:
    console.print(f"[red]{exc.code}: {exc.message}[/]")
    raise typer.Exit(1) from None


@cert_app.command("issue")
def cert_issue(login_name: str,
               kind: str = typer.Option("unit", help="unit or developer"),
               out: Path | None = typer.Option(None, help="directory for key.pem and cert.pem "
                                                         "(default: var/certs/KIND-LOGIN)"),
               days: int = typer.Option(365, help="days of validity")) -> None:
    """Issue a certificate with a new key pair; writes key.pem (owner-only) and cert.pem."""
    from hpf.gateway.principal import SYSTEM
    from hpf.identity import certificates
    from hpf.kit.db import session_factory
    from hpf.kit.errors import HpfError

    try:
        with session_factory()() as session, session.begin():
            issued = certificates.issue_certificate(session, SYSTEM, kind, login_name,
                                                    valid_days=days)
            serial = issued.record.serial
    except HpfError as exc:
        _cert_refused(exc)
    directory = out or get_settings().var_dir / "certs" / f"{kind}-{login_name}"
    paths = certificates.write_key_and_cert(directory, issued.private_key_pem,
                                            issued.certificate_pem)
    console.print(f"已签发证书 (issued) serial {serial}")
    for path in paths:
        console.print(f"  {path}")


@cert_app.command("revoke")
def cert_revoke(serial: str, reason: str = typer.Option(..., help="why (recorded)")) -> None:
    """Revoke a certificate; the operator's open sessions end with it."""
    from hpf.gateway.principal import SYSTEM
    from hpf.identity import certificates
    from hpf.kit.db import session_factory
    from hpf.kit.errors import HpfError

    try:
        with session_factory()() as session, session.begin():
            record = certificates.revoke(session, SYSTEM, serial, reason)
            serial = record.serial
    except HpfError as exc:
        _cert_refused(exc)
    console.print(f"已注销证书 (revoked) {serial}")


@cert_app.command("sign")
def cert_sign(challenge: str = typer.Argument(..., help="the challenge (base64) as received"),
              key: Path = typer.Option(..., help="the operator's key.pem")) -> None:
    """Print the base64 signature of a login challenge (what an operator's client sends)."""
    import base64
    import binascii

    from hpf.identity import ca

    try:
        data = base64.b64decode(challenge, validate=True)
        private_key = ca.load_key(key.read_text(encoding="ascii"))
    except (binascii.Error, ValueError, OSError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    print(base64.b64encode(ca.sign(private_key, data)).decode("ascii"))


@cert_app.command("list")
def cert_list(login_name: str | None = typer.Option(None, "--login"),
              status: str | None = typer.Option(None, help="active or revoked"),
              limit: int = 50) -> None:
    """Issued certificates, newest first."""
    from hpf.identity import certificates
    from hpf.kit.db import session_factory
    from hpf.kit.errors import HpfError

    try:
        with session_factory()() as session:
            views = certificates.list_certificates(session, login_name=login_name,
                                                   status=status, limit=limit)
    except HpfError as exc:
        _cert_refused(exc)
    table = Table(title="操作员数字证书 (operator certificates)")
    for col in ("serial", "kind", "login_name", "status", "not_after", "reason"):
        table.add_column(col)
    for v in views:
        table.add_row(v.serial, v.kind, v.login_name, v.status, f"{v.not_after:%Y-%m-%d}",
                      v.reason or "")
    console.print(table)


registry_app = typer.Typer(help="Shared-data registry tables (共享数据) loaded from the data "
                                "bureau's CSV files (docs/data-sources.md)", no_args_is_help=True)
app.add_typer(registry_app, name="registry")


@registry_app.command("load")
def registry_load(source: str = typer.Argument(..., help="property | contract | maintenance | "
                                                        "invoice | marriage | low-income | "
                                                        "retirement | unemployment | disability "
                                                        "| illness | housing-loan"),
                  file: Path = typer.Argument(..., help="CSV file, UTF-8, header row")) -> None:
    """Validate and upsert a registry file; list refused rows by line number (exit 1 if any)."""
    from hpf.exchange import housing_load, people_load
    from hpf.kit.errors import HpfError

    loader = people_load if source in people_load.SOURCES else housing_load
    try:
        report = loader.load_file(None, source, file)
    except HpfError as exc:
        console.print(f"{exc.code}: {exc.message}", style="red", markup=False)
        raise typer.Exit(2) from None
    for line, reason in report.refused:
        console.print(f"第 {line} 行 (line {line}): {reason}", style="red", markup=False)
    console.print(f"{source}: 导入 {report.loaded} 行，拒绝 {report.refused_count} 行 "
                  f"(loaded {report.loaded}, refused {report.refused_count})")
    raise typer.Exit(1 if report.refused_count else 0)


def main() -> None:
    """Entry point of the `hpf` script."""
    from hpf.kit.logs import configure_logging

    configure_logging()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
