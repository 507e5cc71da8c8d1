"""Settings, read from environment variables with the ``MUSTER_`` prefix."""

import importlib
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./muster.db"


class Settings(BaseSettings):
    """Every setting Muster reads. Each field is ``MUSTER_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="MUSTER_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL of the database; SQLite in the working directory by default."""
    response_cache: bool = True
    """Keep prepared responses per load; 0 to compute every response (for debugging)."""
    response_cache_bytes: int = 64 * 1024 * 1024
    """Upper bound on the bytes the response cache holds."""
    count_cache_entries: int = Field(4096, ge=0)
    """How many list totals (one integer per load and filter) a process remembers."""
    version_poll_seconds: float = 1.0
    """On databases other than SQLite, how often to ask whether a new data version was loaded;
    0 asks with every read, and then the response cache is not used (it would have to ask too)."""
    query_timeout_seconds: float = Field(2.0, gt=0)
    """Longest a request waits for the database before it answers 503."""
    host: str = "127.0.0.1"
    """Address `muster serve` listens on; 0.0.0.0 for every interface (as in the container)."""
    port: int = Field(8000, ge=1, le=65535)
    """Port `muster serve` listens on."""
    workers: int = Field(1, ge=1)
    """Worker processes of `muster serve`. Each reads the database and keeps no copy of it."""
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: Literal["json", "text"] = "json"
    """How `muster serve` logs to stderr: one JSON object per line, or plain text lines."""

    # Limits on what a request may be. Each is checked before routing; past it, a 4xx problem.
    max_url_bytes: int = Field(16384, ge=256)
    """Longest request target (path and query string) in bytes; longer ones get 414."""
    max_query_bytes: int = Field(8192, ge=64)
    """Longest query string in bytes, percent-encoded; longer ones get 414. The default takes the
    longest text a parameter accepts (500 characters) even in four-byte characters."""
    max_body_bytes: int = Field(1024 * 1024, ge=0)
    """Largest request body in bytes (no endpoint takes one); larger ones get 413."""
    max_page_size: int = Field(200, ge=1, le=200)
    """Most items a page of a list holds, whatever ``limit`` asks for (1 to 200)."""
    cursor_key: SecretStr | None = None
    """Key that signs pagination cursors, so that only cursors this deployment issued are taken.
    Unset, the database's own: a random key its migration made once (0021), which every process
    and replica serving the database reads at start, restarts and loads keep, so their next links
    and the ETags of the lists holding them agree with no setting. Set, it overrides that for this
    server: give every server of one API the same value, or their cursors are 400s on each other
    (the 400 says to start again)."""
    forwarded_allow_ips: str = "127.0.0.1"
    """Proxies whose X-Forwarded-Proto and X-Forwarded-For `muster serve` believes, as uvicorn's
    --forwarded-allow-ips: comma-separated addresses or networks, ``*`` for any. Next links are
    built on the scheme and Host a request arrives with, so a proxy must pass Host through."""
    cors_origins: Annotated[list[str], NoDecode] = ["*"]
    """Origins whose pages may read the API, comma-separated; ``*`` is any origin (the default).
    Credentials are never allowed."""

    @field_validator("database_url")
    @classmethod
    def _driver_installed(cls, url: str) -> str:
        """A URL Muster cannot open is refused now, with the fix, not at the first query."""
        # Imported here, where settings are read: `muster check` reads none (app/cli.py).
        from sqlalchemy import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise ValueError(f"not a database URL ({error})") from error
        if parsed.get_backend_name() == "postgresql":
            driver = parsed.get_driver_name()
            try:
                importlib.import_module(driver)
            except ImportError:
                raise ValueError(
                    f"the PostgreSQL driver {driver} is not installed: Muster uses psycopg, "
                    "from its [postgres] extra (pip install '.[postgres]'), with URLs that begin "
                    "postgresql+psycopg://"
                ) from None
        return url

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def is_default_database(self) -> bool:
        return self.database_url == DEFAULT_DATABASE_URL


class SettingsError(ValueError):
    """Settings that cannot be used: one line per bad variable, naming it and the fix."""


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError("\n".join(map(_explain, error.errors()))) from None


def _explain(detail: Any) -> str:
    variable = f"MUSTER_{str(detail['loc'][0]).upper()}"
    reason = str(detail["msg"]).removeprefix("Value error, ")
    return (
        f"error: {variable}={detail['input']!r} is not valid: {reason}; set a valid value, or "
        f"unset {variable} for the default"
    )
