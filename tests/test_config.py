"""Settings: safe defaults, generated development key, production strictness."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from garrison.config import SECRET_KEY_FILE, ConfigError, load_settings, weak_secret_reason

STRONG = "k2J9x-Qp7vL0tZr4Nw8yB1mC6dF3gH5sA_eU"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GARRISON_* variable or .env from the developer's shell leaks into these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("GARRISON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./var/garrison.db"
    assert settings.redis_url is None
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.env.value == "development"


def test_development_key_is_generated_once_with_owner_only_permissions(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path / "data")
    key_file = tmp_path / "data" / SECRET_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    second = load_settings(data_dir=tmp_path / "data")
    assert first.secret() == second.secret()
    assert len(first.secret()) >= 48
    assert weak_secret_reason(first.secret().decode()) is None


def test_production_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARRISON_ENV", "production")
    with pytest.raises(ConfigError, match="GARRISON_SECRET_KEY is required"):
        load_settings()


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("short", "at least 32"),
        ("a" * 40, "distinct"),
        ("changeme-changeme-Changeme-0123456789xyz", "changeme"),
    ],
)
def test_production_refuses_weak_secrets(monkeypatch: pytest.MonkeyPatch, secret: str, reason: str) -> None:
    monkeypatch.setenv("GARRISON_ENV", "production")
    monkeypatch.setenv("GARRISON_SECRET_KEY", secret)
    with pytest.raises(ConfigError, match=reason):
        load_settings()


def test_production_accepts_a_strong_secret_and_never_writes_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GARRISON_ENV", "production")
    monkeypatch.setenv("GARRISON_SECRET_KEY", STRONG)
    monkeypatch.setenv("GARRISON_ISSUER", "https://id.example.com/")
    settings = load_settings(data_dir=tmp_path / "data")
    assert settings.issuer == "https://id.example.com"
    assert settings.secret() == STRONG.encode()
    assert not (tmp_path / "data" / SECRET_KEY_FILE).exists()


def test_comma_separated_lists_and_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "GARRISON_CORS_ORIGINS=https://a.example.com, https://b.example.com\nGARRISON_ISSUER=https://id.example.com\n"
    )
    settings = load_settings()
    assert settings.cors_origins == ["https://a.example.com", "https://b.example.com"]
    assert settings.issuer == "https://id.example.com"


def test_unknown_database_driver_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARRISON_DATABASE_URL", "mysql://root@localhost/garrison")
    with pytest.raises(ConfigError, match="sqlite\\+aiosqlite"):
        load_settings()


def test_wildcard_cors_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARRISON_ENV", "production")
    monkeypatch.setenv("GARRISON_SECRET_KEY", STRONG)
    monkeypatch.setenv("GARRISON_ISSUER", "https://id.example.com")
    monkeypatch.setenv("GARRISON_CORS_ORIGINS", "*")
    with pytest.raises(ConfigError, match="not '\\*'"):
        load_settings()


def test_production_requires_an_https_issuer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARRISON_ENV", "production")
    monkeypatch.setenv("GARRISON_SECRET_KEY", STRONG)
    with pytest.raises(ConfigError, match="https"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GARRISON_REDIS_URL", "http://127.0.0.1:6379"),
        ("GARRISON_ISSUER", "id.example.com"),
        ("GARRISON_LOG_LEVEL", "verbose"),
        ("GARRISON_MAX_BODY_BYTES", "10"),
    ],
)
def test_invalid_values_are_refused_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name.removeprefix("GARRISON_").lower()):
        load_settings()


def test_every_setting_is_documented_in_the_readme() -> None:
    from garrison.config import Settings

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"GARRISON_{name.upper()}" not in readme]
    assert missing == [], f"document these settings in the README: {missing}"


def test_wildcard_trusted_proxies_are_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARRISON_ENV", "production")
    monkeypatch.setenv("GARRISON_SECRET_KEY", STRONG)
    monkeypatch.setenv("GARRISON_ISSUER", "https://id.example.com")
    monkeypatch.setenv("GARRISON_TRUSTED_PROXIES", "10.0.0.1, *")
    with pytest.raises(ConfigError, match="GARRISON_TRUSTED_PROXIES must list"):
        load_settings()
    monkeypatch.setenv("GARRISON_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16, 2001:db8::/32")
    assert load_settings().trusted_proxies == ["10.0.0.1", "192.168.0.0/16", "2001:db8::/32"]


def test_trusted_proxies_must_be_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARRISON_TRUSTED_PROXIES", "127.0.0.1, proxy.example.com")
    with pytest.raises(ConfigError, match="trusted_proxies entries must be IP addresses"):
        load_settings()


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("abcdefghijklabcdefghijklabcdefgh", "repeats a block of 12 characters"),
        ("Xy7#Xy7#Xy7#Xy7#Xy7#Xy7#Xy7#Xy7#Q", "distinct"),
        ("0X9aZ-k2J9x-Qp7vL0tZr4N0X9aZ-k2J9x-Qp7vL0tZr4N", "repeats a block of 23"),
        ("abcdefghijklmnopqrstuvwxyz012345", "bits of entropy, under 128"),
        ("ACEGIKMOQSUWY02468acegikmoqsuwy-", "bits of entropy, under 128"),
    ],
)
def test_production_refuses_secrets_of_low_variety(
    monkeypatch: pytest.MonkeyPatch, secret: str, reason: str
) -> None:
    assert weak_secret_reason(secret) is not None
    monkeypatch.setenv("GARRISON_ENV", "production")
    monkeypatch.setenv("GARRISON_SECRET_KEY", secret)
    monkeypatch.setenv("GARRISON_ISSUER", "https://id.example.com")
    with pytest.raises(ConfigError, match=reason):
        load_settings()


def test_generated_secrets_pass_the_variety_rule() -> None:
    import secrets

    for _ in range(200):
        assert weak_secret_reason(secrets.token_urlsafe(48)) is None
        assert weak_secret_reason(secrets.token_urlsafe(24)) is None
        assert weak_secret_reason(secrets.token_hex(32)) is None


def _production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARRISON_ENV", "production")
    monkeypatch.setenv("GARRISON_SECRET_KEY", STRONG)
    monkeypatch.setenv("GARRISON_ISSUER", "https://id.example.com")


@pytest.mark.parametrize("origins", ["null", "https://app.example.com, NULL"])
def test_null_cors_origin_is_refused_in_production(monkeypatch: pytest.MonkeyPatch, origins: str) -> None:
    _production(monkeypatch)
    monkeypatch.setenv("GARRISON_CORS_ORIGINS", origins)
    with pytest.raises(ConfigError, match="must not list 'null'"):
        load_settings()


@pytest.mark.parametrize(
    ("memory", "time", "accepted"),
    [
        (19_456, 2, True),
        (47_104, 1, True),
        (12_288, 3, True),
        (9_216, 4, True),
        (65_536, 3, True),
        (19_456, 1, False),
        (8_192, 3, False),
        (12_288, 2, False),
        (46_000, 1, False),
    ],
)
def test_argon2_below_the_owasp_floor_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, memory: int, time: int, accepted: bool
) -> None:
    _production(monkeypatch)
    monkeypatch.setenv("GARRISON_ARGON2_MEMORY_COST", str(memory))
    monkeypatch.setenv("GARRISON_ARGON2_TIME_COST", str(time))
    if accepted:
        assert load_settings().argon2_memory_cost == memory
    else:
        with pytest.raises(ConfigError, match="below the OWASP floor"):
            load_settings()
    monkeypatch.setenv("GARRISON_ENV", "development")
    assert load_settings().argon2_time_cost == time  # development may hash cheaply


@pytest.mark.parametrize(
    ("name", "value", "setting"),
    [
        ("GARRISON_LOG_LEVEL", "verbose", "log_level"),
        ("GARRISON_DATABASE_URL", "mysql://root:Db-Pa55word-9@db.internal/garrison", "database_url"),
        ("GARRISON_REDIS_URL", "http://:Rd-Pa55word-7@cache.internal:6379/0", "redis_url"),
        ("GARRISON_ENV", "production", "GARRISON_SECRET_KEY is required"),
        ("GARRISON_TRUSTED_PROXIES", "*, proxy", "trusted_proxies"),
    ],
)
def test_settings_errors_never_show_the_database_or_redis_passwords(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, setting: str
) -> None:
    monkeypatch.setenv("GARRISON_DATABASE_URL", "postgresql+asyncpg://garrison:Db-Pa55word-9@db/garrison")
    monkeypatch.setenv("GARRISON_REDIS_URL", "redis://:Rd-Pa55word-7@cache.internal:6379/0")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert setting in message
    assert "Pa55word" not in message
    assert "Pa55word" not in repr(raised.value)
    assert raised.value.__cause__ is None  # the pydantic error, values and all, is not chained
