"""PostgreSQL's SQLSTATE codes this project acts on, and how to read one off an error.

Every code the library decides on is named here once (PostgreSQL docs, appendix A,
"PostgreSQL Error Codes"): faults.py reads the transient and permission ones, the
PostgreSQL dialect the refused-row and binary-format ones, schema.py the lock timeout.
A leaf module: the standard library and errors.py only.
"""

from __future__ import annotations

from ..errors import postgresql_fields

# Classes (the first two characters) and codes after which the same work may succeed on
# a new attempt.
CONNECTION_EXCEPTION = "08"             # class: the connection broke
INSUFFICIENT_RESOURCES = "53"           # class: too many connections, disk full, ...
OPERATOR_INTERVENTION = "57"            # class: admin shutdown, crash shutdown, ...
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
LOCK_NOT_AVAILABLE = "55P03"            # also: lock_timeout expired
TRANSIENT_CLASSES = (CONNECTION_EXCEPTION, INSUFFICIENT_RESOURCES, OPERATOR_INTERVENTION)
TRANSIENT_CODES = frozenset({SERIALIZATION_FAILURE, DEADLOCK_DETECTED, LOCK_NOT_AVAILABLE})

# The role lacks a privilege: never retried, the message says which grant is missing.
INSUFFICIENT_PRIVILEGE = "42501"

# Rows the server refused: a value that does not fit, a duplicate key (permanent).
DATA_EXCEPTION = "22"                   # class
INTEGRITY_CONSTRAINT_VIOLATION = "23"   # class
REFUSED_ROW_CLASSES = (DATA_EXCEPTION, INTEGRITY_CONSTRAINT_VIOLATION)

# A binary COPY field of another width than its column's type: "insufficient data left
# in message" (shorter) or "incorrect binary data format" (longer). Binary COPY has no
# casts, so a table whose types differ from the models' fails with one of these.
PROTOCOL_VIOLATION = "08P01"
INVALID_BINARY_REPRESENTATION = "22P03"
BINARY_MISMATCH_CODES = frozenset({PROTOCOL_VIOLATION, INVALID_BINARY_REPRESENTATION})


def driver_error(error: BaseException) -> BaseException:
    """The driver's own exception, unwrapped from SQLAlchemy's DBAPIError if wrapped."""
    return getattr(error, "orig", None) or error


def sqlstate(error: BaseException) -> str:
    """PostgreSQL's SQLSTATE of a (wrapped) pg8000 error, '' for anything else."""
    return str(postgresql_fields(driver_error(error)).get("C", ""))


def is_transient_code(code: str) -> bool:
    return code in TRANSIENT_CODES or code[:2] in TRANSIENT_CLASSES
