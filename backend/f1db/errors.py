"""The library's own exceptions. Only the entry scripts turn them into messages and exit codes.

Messages speak the library's language (a library user never sees a command-line flag).
An error about one argument names it in ``parameter`` (the keyword of
``DatabasePopulator`` or of the function that raised it); the command line maps that to
its flag when it prints the error.
"""


# Where the grants a least-privilege role needs are written down (messages point there).
LEAST_PRIVILEGE_DOCS = "see docs/OPERATIONS.md, Least privilege"


class F1DBError(Exception):
    """Base class: the message is one line a user can act on."""

    exit_code = 1

    def __init__(self, message: str, *, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


class UsageError(F1DBError):
    """Bad arguments or a selection that does not exist (exit code 2)."""

    exit_code = 2


class ConfigError(F1DBError):
    """Bad or unreachable database configuration, unsupported URL (exit code 2)."""

    exit_code = 2


class UnusableCacheFolder(ConfigError):
    """FastF1's cache folder cannot be used before the run starts: not a folder, not
    writable, full, or its HTTP cache file damaged (exit code 2, nothing done yet)."""


class SchemaError(F1DBError):
    """The database schema is missing or older than this code (exit code 2)."""

    exit_code = 2


class NotStored(F1DBError, LookupError):
    """What a reader asked for is not in the database (exit code 2): the message names
    the session or part and the ``populate_db.py`` command that would store it
    (``command``), or says why no run can (a part FastF1 had no data for)."""

    exit_code = 2

    def __init__(self, message: str, *, command: str | None = None,
                 parameter: str | None = None):
        super().__init__(message, parameter=parameter)
        self.command = command


class FetchError(F1DBError):
    """FastF1 could not give a session (network, cache miss, parser failure)."""


class TransformError(F1DBError):
    """A FastF1 value that cannot be stored as its column's kind (names column and value)."""


class WriteError(F1DBError):
    """The database refused a session's rows (a duplicate key, a value that does not fit).

    Permanent: the same rows would be refused again, so the session fails with the
    database's own message (never the driver's raw error fields).
    """


class PermissionProblem(F1DBError):
    """The database role lacks a privilege the step needs (exit code 2): the message says
    which privilege, and who must run what (docs/OPERATIONS.md, "Least privilege")."""

    exit_code = 2


class TransientError(F1DBError):
    """A fault that may pass (a dropped connection, a timeout, HTTP 5xx or 429, a
    serialization failure or deadlock): the session is rolled back and retried with
    backoff, then recorded as failed if it keeps happening."""


class RunAborted(F1DBError):
    """A failure that makes every further session pointless (lost database, no budget)."""


class CacheProblem(RunAborted):
    """FastF1's cache folder can no longer be used, found after a load came back with gaps
    (a disk that filled, a mount gone read-only, its HTTP cache file damaged; exit code 2):
    the run stops before a session is stored without the parts the cache lost."""

    exit_code = 2


class RequestBudgetSpent(RunAborted):
    """The hour's request budget is spent and the run was told not to wait (exit code 3).

    ``retry_at``: when the budget frees up again (epoch seconds), for the resume hint.
    """

    exit_code = 3

    def __init__(self, message: str, *, retry_at: float | None = None):
        super().__init__(message)
        self.retry_at = retry_at


class Interrupted(BaseException):
    """SIGINT or SIGTERM: the sessions in flight are rolled back, the summary is written, and
    the process exits 128 + the signal's number (130, 143).

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way
    (FastF1 has several) can swallow it.
    """

    def __init__(self, signal_number: int, signal_name: str):
        super().__init__(signal_name)
        self.signal_number = signal_number
        self.signal_name = signal_name

    @property
    def exit_code(self) -> int:
        return 128 + self.signal_number


def first_line(error: BaseException) -> str:
    """One line of an exception for a message; a database error's driver message, if any.

    pg8000 carries PostgreSQL's error fields as a dict (``{'S': 'FATAL', 'C': '3D000',
    'M': ...}``); the user reads PostgreSQL's own message (``M``, and ``D``, its detail),
    never the dict.
    """
    error = getattr(error, "orig", None) or error
    fields = postgresql_fields(error)
    if fields:
        detail = f" ({fields['D']})" if fields.get("D") else ""
        return f"{fields.get('M', 'no message')}{detail}".splitlines()[0].rstrip(".")
    lines = str(error).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(error).__name__


def postgresql_fields(error: BaseException) -> dict:
    """PostgreSQL's error fields from a pg8000 exception (``C`` SQLSTATE, ``M`` message,
    ``D`` detail, ...), or {} for any other exception."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, dict) and "M" in first else {}
