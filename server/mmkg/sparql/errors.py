"""Why a query is not answered: each error carries the HTTP status the endpoint sends.

The errors cross the process boundary of the worker pool unchanged (class, message and
position), so `except QuerySyntaxError` matches whether the query failed in this process, in
a query worker or at a remote endpoint.
"""

from __future__ import annotations

from typing import Any


class QueryError(Exception):
    """A query the endpoint does not answer; `status` is the HTTP status to send, `outcome`
    the label it is counted under (metrics.py)."""

    status = 400
    outcome = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as class, message and attributes: subclasses whose constructors take other
        # arguments (a position, a media type) come back as themselves, not re-constructed.
        return _restore, (type(self), self.message, dict(self.__dict__))


def _restore(cls: type[QueryError], message: str, attributes: dict[str, Any]) -> QueryError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(attributes)
    return error


class QuerySyntaxError(QueryError):
    """Malformed query text: the parser's message and where it stopped."""

    outcome = "syntax_error"

    def __init__(self, message: str, line: int | None = None,
                 column: int | None = None) -> None:
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"SPARQL syntax error at {where}{message}")
        self.line, self.column = line, column


class QueryTooLong(QueryError):
    status = 413
    outcome = "too_long"


class QueryTooDeep(QueryError):
    """Brackets nested deeper than the parsers can follow (they recurse)."""

    outcome = "too_deep"


class QueryForbidden(QueryError):
    """Well-formed but refused by policy (update, LOAD, SERVICE not allowed)."""

    status = 403
    outcome = "refused"


class QueryTimeout(QueryError):
    status = 503
    outcome = "timeout"


class QueryThrottled(QueryError):
    """This client already holds its share of the query workers while others wait."""

    status = 429
    outcome = "throttled"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueryOutOfMemory(QueryError):
    """The query needed more memory than a query process may use (507 Insufficient Storage:
    the server could not hold what answering needs; retrying the same query will not help)."""

    status = 507
    outcome = "out_of_memory"


class RemoteError(QueryError):
    """The external SPARQL endpoint failed or could not be reached."""

    status = 502
    outcome = "remote_error"


class UnsupportedMediaType(QueryError):
    """A POST body in a media type the protocol does not define."""

    status = 415

    def __init__(self, media: str) -> None:
        super().__init__(f"unsupported request content type {media!r}; send "
                         "application/sparql-query or application/x-www-form-urlencoded")


class EngineFault(Exception):
    """The engine or a worker failed: a server fault (HTTP 500), never a client error."""
