"""Jolpica's formats read exactly: the dump's PostgreSQL CSV (NULL is not the empty text),
the download manifest, and the API's time texts (whole seconds that Jolpica garbles)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from f1db.errors import FetchError
from f1db.history_rows import _garbled_or_time, parse_time
from f1db.sources.jolpica_dump import parse_manifest, postgres_csv


def records(text: str) -> list:
    return list(postgres_csv(io.StringIO(text, newline="")))


def test_an_unquoted_empty_field_is_null_and_a_quoted_one_the_empty_text():
    assert records('id,a,b,c\n1,,"",x\n') == [["id", "a", "b", "c"], ["1", None, "", "x"]]
    assert records('1,x,\n2,"",""\r\n') == [["1", "x", None], ["2", "", ""]]


def test_quoted_fields_keep_commas_doubled_quotes_and_line_breaks():
    text = '7,"Gilles ""the aviator"", Villeneuve","two\nlines",t\n8,a,b,f\n'
    assert records(text) == [["7", 'Gilles "the aviator", Villeneuve', "two\nlines", "t"],
                             ["8", "a", "b", "f"]]


@pytest.mark.parametrize("text", ['1,"open\n', '1,"a"b,c\n'])
def test_a_broken_record_is_an_error_not_a_guess(text):
    with pytest.raises(ValueError):
        records(text)


def test_the_manifest_gives_the_delayed_csv_dumps_checksum_size_and_date():
    manifest = {"dumps": [
        {"type": "sql", "sha256": "a" * 64, "date": "2026-11-20"},
        {"type": "csv latest", "sha256": "b" * 64, "size": 10, "date": "2026-12-01"},
        {"type": "csv delayed", "sha256": "C" * 64, "size": 4_200_000,
         "timestamp": "2026-11-20T03:00:00Z"}]}
    info = parse_manifest(manifest)
    assert (info.sha256, info.size, info.dump_date) == ("c" * 64, 4_200_000,
                                                        dt.date(2026, 11, 20))
    with pytest.raises(FetchError, match="no CSV dump"):
        parse_manifest({"dumps": [{"type": "sql"}]})
    with pytest.raises(FetchError, match="not a list"):
        parse_manifest({"dumps": "soon"})


def test_api_times_are_read_and_a_garbled_whole_second_is_no_value():
    assert parse_time("1:33:56.736").total_seconds() == 5636.736
    assert parse_time("1:36.236").total_seconds() == 96.236
    assert parse_time("") is None and parse_time("None") is None
    assert _garbled_or_time("23.456").total_seconds() == 23.456
    assert _garbled_or_time("1") is None and _garbled_or_time("") is None
