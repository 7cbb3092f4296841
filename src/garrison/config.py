"""Settings: the one documented place for configuration (``GARRISON_`` environment prefix, ``.env``).

Every setting has a safe default for a one-machine start; production refuses what is unsafe there.
The README lists each setting with its default.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import secrets
import string
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_BITS = 128
# OWASP Password Storage Cheat Sheet, argon2id: (memory KiB, iterations) pairs of equal strength, p=1.
ARGON2_FLOOR = ((47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5))
# user:password@ in a URL; the password is replaced before any message shows the URL.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@")
# Values people paste from tutorials; refused in production whatever their length.
_WEAK_SECRET_MARKERS = ("changeme", "change-me", "change_me", "secret", "password", "example", "garrison")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


class RegistrationMode(StrEnum):
    OPEN = "open"
    INVITE_ONLY = "invite_only"
    DISABLED = "disabled"


class SessionLimitPolicy(StrEnum):
    REVOKE_OLDEST = "revoke_oldest"
    REFUSE_NEW = "refuse_new"


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to change."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Garrison's settings, read from ``GARRISON_*`` variables and an optional ``.env`` file."""

    model_config = SettingsConfigDict(
        env_prefix="GARRISON_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("./var")
    database_url: str = "sqlite+aiosqlite:///./var/garrison.db"
    redis_url: str | None = None
    redis_prefix: str = "garrison:"
    secret_key: SecretStr | None = None
    issuer: str = "http://127.0.0.1:8000"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1"])
    auto_migrate: bool = True
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: LogFormat = LogFormat.JSON
    hsts_max_age: int = Field(default=63_072_000, ge=0)
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_connect_timeout: float = Field(default=5.0, gt=0)
    readiness_timeout: float = Field(default=2.0, gt=0)
    bootstrap_admin_username: str = "admin"
    bootstrap_admin_email: str = "admin@example.com"
    workers: int = Field(default=1, ge=1)
    access_token_ttl: int = Field(default=900, ge=60, le=86_400)
    token_audience: str = "garrison"  # noqa: S105 (an audience name)
    token_leeway: int = Field(default=10, ge=0, le=300)
    key_reload_interval: int = Field(default=60, ge=1)
    session_idle_timeout: int = Field(default=7 * 86_400, ge=60)
    session_absolute_timeout: int = Field(default=30 * 86_400, ge=60)
    session_cache_ttl: float = Field(default=30.0, ge=0)
    max_sessions_per_user: int = Field(default=0, ge=0)
    session_limit_policy: SessionLimitPolicy = SessionLimitPolicy.REVOKE_OLDEST
    lockout_threshold: int = Field(default=5, ge=1)
    lockout_duration: int = Field(default=1800, ge=1)
    registration: RegistrationMode = RegistrationMode.OPEN
    rate_limit_enabled: bool = True
    rate_limit_login_ip: str = "20/minute"
    rate_limit_login_username: str = "10/minute"
    rate_limit_register_ip: str = "10/hour"
    rate_limit_username_probe_ip: str = "60/minute"
    rate_limit_refresh_session: str = "30/minute"
    rate_limit_api_key: str = "120/minute"
    password_history: int = Field(default=5, ge=0, le=24)
    attributes_max_bytes: int = Field(default=8192, ge=256)
    password_min_length: int = Field(default=12, ge=8, le=128)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_cost: int = Field(default=19_456, ge=8_192)
    argon2_parallelism: int = Field(default=1, ge=1)
    password_hash_concurrency: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1)
    # None: dashboard/dist of the source tree (see garrison.console.service).
    console_dir: Path | None = None

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator(
        "rate_limit_login_ip",
        "rate_limit_login_username",
        "rate_limit_register_ip",
        "rate_limit_username_probe_ip",
        "rate_limit_refresh_session",
        "rate_limit_api_key",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse

        parse(value)  # raises ValueError with the reason on a malformed spec such as "ten per minute"
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(
                        f"trusted_proxies entries must be IP addresses or networks (or '*'), not {entry!r}"
                    ) from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("redis_url must start with redis://, rediss:// or unix://")
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer_is_a_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or any(c in value for c in "?#"):
            raise ValueError("issuer must be an http(s) URL without query or fragment (RFC 8414 §2)")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        driver = make_url(value).drivername
        if driver not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(
                "database_url must use sqlite+aiosqlite:// or postgresql+asyncpg://, got " + driver
            )
        return value

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if self.secret_key is None:
                raise ValueError(
                    "GARRISON_SECRET_KEY is required in production "
                    "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            problem = weak_secret_reason(self.secret_key.get_secret_value())
            if problem:
                raise ValueError(f"GARRISON_SECRET_KEY is too weak for production: {problem}")
            if not self.issuer.startswith("https://"):
                raise ValueError("GARRISON_ISSUER must be an https:// URL in production (RFC 8414 §2)")
            if "*" in self.cors_origins:
                raise ValueError("GARRISON_CORS_ORIGINS must list origins, not '*', in production")
            if any(origin.lower() == "null" for origin in self.cors_origins):
                raise ValueError(
                    "GARRISON_CORS_ORIGINS must not list 'null' in production: sandboxed frames, file: "
                    "pages and redirects all send Origin: null, so it would trust any of them"
                )
            if not any(
                self.argon2_memory_cost >= memory and self.argon2_time_cost >= time
                for memory, time in ARGON2_FLOOR
            ):
                floor = ", ".join(f"m={memory} KiB with t={time}" for memory, time in ARGON2_FLOOR)
                raise ValueError(
                    "GARRISON_ARGON2_MEMORY_COST and GARRISON_ARGON2_TIME_COST are below the OWASP floor "
                    f"for argon2id in production; use at least one of: {floor} (p >= 1)"
                )
            if "*" in self.trusted_proxies:
                raise ValueError(
                    "GARRISON_TRUSTED_PROXIES must list your proxies' addresses or networks, not '*', in "
                    "production: with '*' any client can choose the address it is recorded and limited as"
                )
        return self

    @cached_property
    def database(self) -> URL:
        return make_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database.get_backend_name() == "sqlite"

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    def secret(self) -> bytes:
        """The resolved secret key; :func:`load_settings` guarantees it is set."""
        if self.secret_key is None:
            raise ConfigError("secret key not resolved; use load_settings()")
        return self.secret_key.get_secret_value().encode()


def secret_key_bits(value: str) -> float:
    """A conservative estimate of a key's entropy in bits.

    Each character counts log2 of the size of the character classes the key uses (digits 10, lower
    case 26, upper case 26, anything else 32), except a character that continues a run: the same step
    from its predecessor as the one before (``aaaa``, ``abcd``, ``1357``) tells an attacker nothing new.
    A random key of 32 characters from ``secrets`` scores well above 128 bits; a typed pattern does not.
    """
    classes = (string.digits, string.ascii_lowercase, string.ascii_uppercase)
    alphabet = sum(len(chars) for chars in classes if any(ch in chars for ch in value))
    if any(not any(ch in chars for chars in classes) for ch in value):
        alphabet += 32
    surprising = sum(
        1
        for i in range(len(value))
        if i < 2 or ord(value[i]) - ord(value[i - 1]) != ord(value[i - 1]) - ord(value[i - 2])
    )
    return surprising * math.log2(max(alphabet, 2))


def _period(value: str) -> int | None:
    """The length of a block that ``value`` repeats (at least twice), or ``None``."""
    for period in range(1, len(value) // 2 + 1):
        if all(value[i] == value[i - period] for i in range(period, len(value))):
            return period
    return None


def weak_secret_reason(value: str) -> str | None:
    """Say why a secret key is unfit for production, or ``None`` when it is acceptable.

    The rule: at least 32 characters, at least 12 distinct ones, not one block repeated, no well-known
    word, and at least 128 bits by :func:`secret_key_bits` (NIST SP 800-131A: 128-bit security).
    """
    if len(value) < MIN_SECRET_KEY_LENGTH:
        return f"it must be at least {MIN_SECRET_KEY_LENGTH} characters"
    if len(set(value)) < 12:
        return "it repeats too few distinct characters"
    period = _period(value)
    if period is not None:
        return f"it repeats a block of {period} characters"
    lowered = value.lower()
    for marker in _WEAK_SECRET_MARKERS:
        if marker in lowered:
            return f"it contains the well-known word {marker!r}"
    bits = secret_key_bits(value)
    if bits < MIN_SECRET_KEY_BITS:
        return (
            f"it has about {bits:.0f} bits of entropy, under {MIN_SECRET_KEY_BITS}: runs and patterns "
            "count for little; use a random key"
        )
    return None


def redact_urls(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` URL replaced by ``***``."""
    return _URL_PASSWORD.sub(r"\g<head>***@", text)


def _describe(error: ValidationError) -> str:
    """The settings' errors, each with its setting and reason but never the value given."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return redact_urls("invalid settings: " + "; ".join(lines))


def _read_or_create_secret(path: Path) -> str:
    """Persist a generated development key with 0600 permissions so restarts keep it."""
    # The data directory holds the key and the SQLite database: readable by its owner only.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        value = path.read_text(encoding="utf-8").strip()
        if not value:
            raise ConfigError(f"{path} is empty; delete it to generate a new secret key") from None
        return value
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def load_settings(**overrides: object) -> Settings:
    """Read the settings and resolve the secret key (generated and persisted outside production)."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        # Never the values themselves: the database and Redis URLs carry passwords.
        raise ConfigError(_describe(exc)) from None
    except ValueError as exc:
        raise ConfigError(redact_urls(str(exc))) from None
    if settings.secret_key is None:
        key = _read_or_create_secret(settings.data_dir / SECRET_KEY_FILE)
        settings = settings.model_copy(update={"secret_key": SecretStr(key)})
    return settings
