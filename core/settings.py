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
    log_level: str = "INFO"
    max_upload_mb: int = Field(default=1024, description="the largest roster file the web accepts")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'tehuibao.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
