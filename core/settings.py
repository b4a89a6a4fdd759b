"""Configuration, only from environment variables or a `.env` file (the README lists every one)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    var_dir: Path = Field(default=PROJECT_ROOT / "var", description="where the embedded defaults keep files")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite file under VAR_DIR")
    db_pool_size: int = Field(
        default=5, ge=1, description="PostgreSQL connections each process keeps open (every web process has its own)"
    )
    db_max_overflow: int = Field(default=5, ge=0, description="connections a process may open beyond the pool")
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_autostart: bool = Field(
        default=True, description="`tehuibao up` starts a local redis-server when none answers at REDIS_URL"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    queue_name: str = "tehuibao"
    session_hours: int = 12
    api_token_hours: int = 24 * 7
    cookie_secure: bool = Field(default=False, description="set true behind HTTPS so the cookie is Secure")
    demo_password: str = "tehuibao-demo"  # noqa: S105 - printed by `make run`; demo users only
    worker_heartbeat_seconds: int = 10
    worker_stale_seconds: int = 45
    sweep_seconds: int = Field(default=60, description="how often a worker re-sends work that never reached Redis")
    log_level: str = "INFO"
    max_upload_mb: int = Field(default=1024, description="the largest roster file the web accepts")
    claim_document_max_mb: int = Field(default=20, ge=1, description="the largest document a claim accepts")
    claim_second_approval_yuan: int = Field(
        default=20000, ge=0, description="a claim decision above this amount needs a second supervisor"
    )
    claim_review_sample_percent: int = Field(
        default=5, ge=0, le=100, description="the share of other claim decisions drawn at random for review"
    )
    claim_review_risk_yuan: int = Field(
        default=10000, ge=0, description="a claim decision agreeing more than this amount is sampled for review"
    )
    risk_medical_oop_yuan: int = Field(
        default=10000, ge=0, description="a household's yearly out-of-pocket medical cost from which it is flagged"
    )
    risk_disaster_loss_yuan: int = Field(
        default=5000, ge=0, description="a household's yearly disaster, livestock or crop loss from which it is flagged"
    )
    risk_working_age_min: int = Field(
        default=16, ge=0, description="working age from (years on the incident date), for the death/disability flag"
    )
    risk_working_age_max: int = Field(default=59, ge=0, description="working age to (inclusive)")
    public_base_url: str = Field(
        default="", description="the address printed in certificates' QR codes; empty = http://HOST:PORT"
    )
    documents_dir: Path | None = Field(
        default=None,
        description="the folder finished PDFs are stored in (a shared folder in production); empty = VAR_DIR/documents",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs verification codes; created on first use when missing; "
        "empty = VAR_DIR/keys/certificate-signing.pem",
    )
    document_job_minutes: int = Field(default=15, description="the longest a document job may run")
    document_max_attempts: int = Field(default=5, description="how often a failing document is tried before it waits")
    verify_per_minute: int = Field(default=30, description="public verification lookups per client and minute")
    password_hash_memory_kib: int = Field(
        default=65536, ge=8, description="Argon2id memory per new password hash (RFC 9106's second profile: 64 MiB)"
    )
    notice_late_days: int = Field(
        default=3,
        ge=0,
        description="days an enrolment notice may be recorded after its posting date without a reason for the delay",
    )
    password_hash_time_cost: int = Field(default=3, ge=1, description="Argon2id passes per new password hash")

    @property
    def effective_documents_dir(self) -> Path:
        return self.documents_dir or self.var_dir / "documents"

    @property
    def effective_signing_key_file(self) -> Path:
        return self.signing_key_file or self.var_dir / "keys" / "certificate-signing.pem"

    @property
    def effective_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'tehuibao.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
