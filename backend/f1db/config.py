"""Where the data goes: database target and FastF1 cache, resolved from flags and environment.

Precedence for the database (docs/ARCHITECTURE.md, "Where the data goes"): the URL the
caller passes (``--database-url``), then ``DATABASE_URL``, then Cloud SQL when
``INSTANCE_CONNECTION_NAME`` is set, else an embedded SQLite file beside the scripts.
Nothing here connects; secrets never leave ``CloudSQLSettings`` and URLs are only ever
shown with the password hidden. SQLAlchemy (slow to import: docs/BENCHMARKS.md,
"Start-up") is imported by the functions that parse URLs, not by this module: the entry
scripts read ``BACKEND_DIR`` while building ``--help``, which must not pay for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from .errors import ConfigError, UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

BACKEND_DIR = Path(__file__).resolve().parents[1]
DEFAULT_SQLITE_PATH = BACKEND_DIR / "f1_data.db"
DEFAULT_CACHE_DIR = BACKEND_DIR / "fastf1_cache"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class CloudSQLSettings:
    """Cloud SQL connector settings; ``password`` is never printed (repr hides it)."""

    instance_connection_name: str
    user: str
    database: str
    password: str | None = field(default=None, repr=False)
    private_ip: bool = False
    iam_auth: bool = False

    def describe(self) -> str:
        how = "private IP" if self.private_ip else "public IP"
        auth = ", IAM auth" if self.iam_auth else ""
        return f"Cloud SQL {self.instance_connection_name}/{self.database} ({how}{auth})"


@dataclass(frozen=True)
class DatabaseTarget:
    """Either a SQLAlchemy URL or Cloud SQL settings, plus a description safe to log."""

    url: URL | None = None
    cloud_sql: CloudSQLSettings | None = None
    parameter: str | None = None    # "database_url" when the caller passed the URL

    @property
    def dialect(self) -> str:
        return "postgresql" if self.cloud_sql else self.url.get_backend_name()

    def describe(self) -> str:
        if self.cloud_sql:
            return self.cloud_sql.describe()
        return self.url.render_as_string(hide_password=True)


def resolve_database(url: str | None = None, env: Mapping[str, str] | None = None, *,
                     default_sqlite_path: Path = DEFAULT_SQLITE_PATH) -> DatabaseTarget:
    """Pick the database target: ``url`` if given, then the environment, then SQLite."""
    from sqlalchemy.engine import URL

    env = os.environ if env is None else env
    if url is not None:
        if not url.strip():
            raise ConfigError("The database URL is empty: give one, e.g. "
                              "sqlite:///f1_data.db or postgresql://user:password@host:5432/db",
                              parameter="database_url")
        return DatabaseTarget(url=normalise_url(url, origin="The database URL",
                                                parameter="database_url"),
                              parameter="database_url")
    if _set(env, "DATABASE_URL"):
        return DatabaseTarget(url=normalise_url(env["DATABASE_URL"], origin="DATABASE_URL"))
    if _set(env, "INSTANCE_CONNECTION_NAME"):
        return DatabaseTarget(cloud_sql=_cloud_sql_from_env(env))
    return DatabaseTarget(url=URL.create("sqlite", database=str(default_sqlite_path)))


def normalise_url(raw: str, *, origin: str = "The database URL",
                  parameter: str | None = None) -> URL:
    """Parse a URL; plain ``postgresql://`` (and ``postgres://``) use pg8000, our driver."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise ConfigError(f"{origin} cannot be read as a URL: use sqlite:///path/to/file.db "
                          f"or postgresql://user:password@host:5432/dbname",
                          parameter=parameter) from None
    scheme = url.drivername.split("+", 1)
    backend, driver = scheme[0], scheme[1] if len(scheme) > 1 else scheme[0]
    if backend == "postgres":
        backend = "postgresql"
    if backend == "postgresql" and driver in ("postgres", "postgresql", "psycopg2", "pg8000"):
        # psycopg2 is not installed by requirements.txt; pg8000 is, and COPY needs it.
        return url.set(drivername="postgresql+pg8000")
    if backend == "sqlite" and driver in ("pysqlite", "sqlite"):
        if url.database in (None, "", ":memory:"):
            raise ConfigError(f"{origin}: an in-memory SQLite database would be lost at exit; "
                              f"give a file, e.g. sqlite:///f1_data.db", parameter=parameter)
        return url.set(drivername="sqlite")
    raise ConfigError(f"{origin} uses an unsupported database "
                      f"'{url.drivername}': use sqlite:///path/to/file.db or "
                      f"postgresql://user:password@host:5432/dbname", parameter=parameter)


def _cloud_sql_from_env(env: Mapping[str, str]) -> CloudSQLSettings:
    iam_auth = _flag(env, "DB_IAM_AUTH")
    missing = [name for name in ("DB_USER", "DB_NAME") if not env.get(name)]
    if not iam_auth and not env.get("DB_PASS"):
        missing.append("DB_PASS")
    if missing:
        raise ConfigError(f"INSTANCE_CONNECTION_NAME is set but {', '.join(missing)} "
                          f"{'is' if len(missing) == 1 else 'are'} not: set "
                          f"{'it' if len(missing) == 1 else 'them'} in .env "
                          f"(see .env.example)")
    return CloudSQLSettings(instance_connection_name=env["INSTANCE_CONNECTION_NAME"],
                            user=env["DB_USER"], database=env["DB_NAME"],
                            password=env.get("DB_PASS") or None,
                            private_ip=_flag(env, "PRIVATE_IP"), iam_auth=iam_auth)


def _set(env: Mapping[str, str], name: str) -> bool:
    """Whether ``name`` is set; set but empty is refused, never read as unset: a script
    whose variable expanded to nothing must not fall back to another database."""
    if name not in env:
        return False
    if not env[name].strip():
        raise ConfigError(f"{name} is set but empty: give it a value, or unset it "
                          f"(see .env.example)")
    return True


def _flag(env: Mapping[str, str], name: str) -> bool:
    if name in env and not env[name].strip():
        _set(env, name)                   # refuses it: set but empty
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={env[name]!r} is not a yes/no value: use true or false")


def resolve_cache_dir(directory: str | None = None,
                      env: Mapping[str, str] | None = None) -> Path:
    """FastF1 cache folder: ``directory``, ``FASTF1_CACHE_DIR``, ``FASTF1_CACHE``, default."""
    env = os.environ if env is None else env
    if directory is not None and not str(directory).strip():
        raise UsageError("The FastF1 cache folder is empty: give a folder",
                         parameter="cache_dir")
    chosen = directory or next((env[name] for name in ("FASTF1_CACHE_DIR", "FASTF1_CACHE")
                                if _set(env, name)), None)
    return Path(chosen).expanduser().resolve() if chosen else DEFAULT_CACHE_DIR
