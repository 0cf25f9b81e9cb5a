"""Database and cache configuration: precedence, URL normalising, secrets kept out."""

import pytest

from f1db.config import DEFAULT_SQLITE_PATH, normalise_url, resolve_cache_dir, resolve_database
from f1db.errors import ConfigError

CLOUD = {"INSTANCE_CONNECTION_NAME": "proj:region:inst", "DB_USER": "loader",
         "DB_PASS": "s3cret-pw", "DB_NAME": "f1"}


def test_flag_beats_environment():
    target = resolve_database("sqlite:///a.db", {"DATABASE_URL": "sqlite:///b.db", **CLOUD})
    assert target.url.database == "a.db"


def test_database_url_beats_cloud_sql():
    assert resolve_database(None, {"DATABASE_URL": "sqlite:///b.db", **CLOUD}).url.database == "b.db"


def test_cloud_sql_when_instance_is_set_and_password_never_shown():
    target = resolve_database(None, {**CLOUD, "PRIVATE_IP": "true"})
    assert target.cloud_sql.private_ip and not target.cloud_sql.iam_auth
    assert target.dialect == "postgresql"
    assert "s3cret-pw" not in target.describe() and "s3cret-pw" not in repr(target)
    assert "private IP" in target.describe()


def test_cloud_sql_with_iam_needs_no_password():
    env = {**CLOUD, "DB_IAM_AUTH": "yes"}
    del env["DB_PASS"]
    assert resolve_database(None, env).cloud_sql.iam_auth


def test_cloud_sql_names_what_is_missing():
    with pytest.raises(ConfigError, match="DB_USER, DB_PASS are not"):
        resolve_database(None, {"INSTANCE_CONNECTION_NAME": "p:r:i", "DB_NAME": "f1"})


def test_bad_yes_no_value():
    with pytest.raises(ConfigError, match="PRIVATE_IP='maybe'"):
        resolve_database(None, {**CLOUD, "PRIVATE_IP": "maybe"})


def test_default_is_the_sqlite_file_beside_the_scripts():
    assert resolve_database(None, {}).url.database == str(DEFAULT_SQLITE_PATH)


@pytest.mark.parametrize("raw", ["postgresql://u:p@h/db", "postgres://u:p@h/db",
                                 "postgresql+psycopg2://u:p@h/db"])
def test_postgresql_urls_use_pg8000(raw):
    assert normalise_url(raw).drivername == "postgresql+pg8000"


def test_password_is_hidden_in_descriptions():
    target = resolve_database("postgresql://u:hunter2@h/db", {})
    assert "hunter2" not in target.describe()


@pytest.mark.parametrize("raw,message", [
    ("mysql://u@h/db", "unsupported database 'mysql'"),
    ("not a url", "cannot be read as a URL"),
    ("sqlite://", "in-memory SQLite"),
])
def test_unsupported_urls(raw, message):
    with pytest.raises(ConfigError, match=message):
        normalise_url(raw)


def test_cache_dir_precedence(tmp_path):
    assert resolve_cache_dir(str(tmp_path), {"FASTF1_CACHE_DIR": "/x"}) == tmp_path
    assert resolve_cache_dir(None, {"FASTF1_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert resolve_cache_dir(None, {"FASTF1_CACHE": str(tmp_path)}) == tmp_path
    assert resolve_cache_dir(None, {}).name == "fastf1_cache"
