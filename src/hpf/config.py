"""One Settings object; nothing else in the project reads the environment."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Runtime settings, read from HPF_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="HPF_", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'hpf.sqlite3'}"
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = PROJECT_ROOT / "var"
    # Fixed "today" for demos and tests (YYYY-MM-DD); empty means the real clock.
    today: str | None = None
    secret_key: str = Field(default="dev-only-change-me", min_length=8)
    session_idle_timeout_s: int = 15 * 60
    session_absolute_timeout_s: int = 8 * 3600
    max_request_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 5 * 1024 * 1024
    # Application materials (申请材料), encrypted, named by SHA-256; empty means var_dir/materials.
    materials_dir: Path | None = None
    # External systems: "local" uses the registry tables we hold; "http" calls the URL below.
    identity_source: str = "local"
    identity_source_url: str | None = None
    bank_adapter: str = "local"
    bank_adapter_url: str | None = None
    # Payout batch and statement files of the local bank exchange; empty: {var_dir}/bank-files.
    bank_files_dir: Path | None = None
    # The centre's settlement account (委托银行结算户) that withdrawal payouts are paid from,
    # named in the header of every payout instruction file.
    payout_account_no: str = "2502010109000012345"
    # Data-exchange platform (数据共享交换平台): one base URL, each source a path under it
    # (property registry, housing transactions, tax, civil affairs, social security ...).
    shared_data_adapter: str = "local"
    shared_data_url: str | None = None
    remote_centre_adapter: str = "local"
    remote_centre_url: str | None = None
    http_timeout_s: float = 5.0
    job_chunk_size: int = 50_000
    sql_echo: bool = False


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached)."""
    return Settings()
