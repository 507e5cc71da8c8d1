"""Settings, read from environment variables with the ``MUSTER_`` prefix."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./muster.db"


class Settings(BaseSettings):
    """Every setting Muster reads. Each field is ``MUSTER_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="MUSTER_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL of the database; SQLite in the working directory by default."""
    response_cache: bool = True
    """Keep prepared responses per data version; 0 to compute every response (for debugging)."""
    response_cache_bytes: int = 64 * 1024 * 1024
    """Upper bound on the bytes the response cache holds."""
    version_poll_seconds: float = 1.0
    """On databases other than SQLite, how often to ask whether a new data version was loaded."""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"

    @property
    def is_default_database(self) -> bool:
        return self.database_url == DEFAULT_DATABASE_URL


@lru_cache
def get_settings() -> Settings:
    return Settings()
