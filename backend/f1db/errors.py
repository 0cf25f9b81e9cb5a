"""The library's own exceptions. Only the entry scripts turn them into messages and exit codes.

Messages speak the library's language (a library user never sees a command-line flag).
An error about one argument names it in ``parameter`` (the keyword of
``DatabasePopulator`` or of the function that raised it); the command line maps that to
its flag when it prints the error.
"""


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


class SchemaError(F1DBError):
    """The database schema is missing or older than this code (exit code 2)."""

    exit_code = 2


class FetchError(F1DBError):
    """FastF1 could not give a session (network, cache miss, parser failure)."""


class TransformError(F1DBError):
    """A FastF1 value that cannot be stored as its column's kind (names column and value)."""


class RunAborted(F1DBError):
    """A failure that makes every further session pointless (rate limit, lost database)."""


def first_line(error: BaseException) -> str:
    """One line of an exception for a message; a database error's driver message, if any."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(error).__name__
