"""Session claims on real databases, and the classes of faults (retry or fail).

The claim is what keeps concurrent workers from loading one session twice; these tests
hold it from a second connection or process and check that the populator skips the
session, and that faults raised by the real drivers are classified as they should be.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from f1db.claims import SessionClaims
from f1db.config import normalise_url, resolve_database
from f1db.db import open_database
from f1db.dialects.postgresql import session_lock_key
from f1db.dialects.sqlite import session_lock_file
from f1db.faults import describe, is_permission_denied, is_transient
from f1db.records import SessionKey
from f1db.schema import require_current_schema

KEY = SessionKey(2021, 14, "Practice 2")


def _engine(url):
    return create_engine(normalise_url(url))


def test_the_advisory_key_is_stable_and_distinct():
    assert session_lock_key(KEY) == session_lock_key(SessionKey(2021, 14, "Practice 2"))
    assert session_lock_key(KEY) != session_lock_key(SessionKey(2021, 14, "Practice 3"))
    assert -2**63 <= session_lock_key(KEY) < 2**63


def test_a_postgresql_claim_is_exclusive_and_ends_with_its_transaction(postgres_url):
    with open_database(resolve_database(postgres_url)) as database:
        require_current_schema(database)
        claims = SessionClaims(database.engine)
        with claims.claim(KEY) as first:
            assert first is not None and first.read_entry() is None
            with claims.claim(KEY) as second:          # another connection, same key
                assert second is None
            with claims.claim(SessionKey(2021, 14, "Qualifying")) as other:
                assert other is not None
        with claims.claim(KEY) as again:                # released at the end
            assert again is not None


def test_a_sqlite_claim_held_by_another_process_is_refused_and_freed_when_it_dies(
        sqlite_url, tmp_path):
    with open_database(resolve_database(sqlite_url)) as database:
        require_current_schema(database)
        claims = SessionClaims(database.engine)
        lock_file = session_lock_file(database.engine, KEY)
        assert lock_file.name == "2021_14_Practice_2.lock"
        lock_file.parent.mkdir(exist_ok=True)
        holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from filelock import FileLock
            lock = FileLock({str(lock_file)!r}); lock.acquire()
            print("held", flush=True); time.sleep(60)
            """)], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            with claims.claim(KEY) as claim:
                assert claim is None
        finally:
            holder.kill()
            holder.wait()
        with claims.claim(KEY) as claim:                # the OS dropped the dead one's lock
            assert claim is not None


def test_a_terminated_postgresql_connection_is_transient(postgres_url):
    """Raw pg8000, as inside COPY, where SQLAlchemy does not wrap the driver's error."""
    engine = _engine(postgres_url)
    victim = engine.raw_connection()
    try:
        cursor = victim.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(Exception) as caught:      # pg8000's or the socket's own error
            cursor.execute("SELECT 1")
        assert is_transient(caught.value)
        assert "{" not in describe(caught.value)
    finally:
        victim.invalidate()
        engine.dispose()


def test_a_duplicate_key_and_a_bad_value_are_permanent(postgres_url):
    engine = _engine(postgres_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE TABLE t (k int PRIMARY KEY)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
            with pytest.raises(DBAPIError) as duplicate:
                connection.execute(text("INSERT INTO t VALUES (1)"))
            connection.rollback()
            with pytest.raises(DBAPIError) as bad_value:
                connection.execute(text("SELECT 'x'::int"))
    finally:
        engine.dispose()
    for error in (duplicate.value, bad_value.value):
        assert not is_transient(error) and not is_permission_denied(error)
    assert describe(duplicate.value).startswith("duplicate key value violates unique constraint")


def test_permission_denied_is_recognised(postgres_url):
    engine = _engine(postgres_url)
    role = "f1db_test_reader_no_rights"
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE secret (k int)"))
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
            connection.execute(text(f"CREATE ROLE {role}"))
        with engine.connect() as connection:
            connection.execute(text(f"SET ROLE {role}"))
            with pytest.raises(DBAPIError) as caught:
                connection.execute(text("SELECT * FROM secret"))
            connection.rollback()
        assert is_permission_denied(caught.value) and not is_transient(caught.value)
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS secret"))
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        engine.dispose()


def test_a_sqlite_file_locked_by_another_writer_is_transient(tmp_path):
    path = tmp_path / "busy.db"
    writer = sqlite3.connect(path)
    writer.execute("CREATE TABLE t (k int)")
    writer.commit()
    writer.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0.1)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        writer.rollback()
        writer.close()
    assert is_transient(caught.value)
    assert "another run is writing" in describe(caught.value)


def test_connection_errors_from_the_socket_are_transient():
    assert is_transient(ConnectionResetError(104, "Connection reset by peer"))
    assert is_transient(TimeoutError("timed out"))
    assert not is_transient(ValueError("a value"))
