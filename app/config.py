"""Settings, read from environment variables with the ``MUSTER_`` prefix."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./muster.db"


class Settings(BaseSettings):
    """Every setting Muster reads. Each field is ``MUSTER_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="MUSTER_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL of the database; SQLite in the working directory by default."""


@lru_cache
def get_settings() -> Settings:
    return Settings()
