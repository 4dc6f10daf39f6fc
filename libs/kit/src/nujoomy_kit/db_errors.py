"""Telling "the database is away" from "this request (or message) is wrong".

An API answers the first with 503 + Retry-After (problems.py); an event consumer retries it without
spending the message's attempts, so a long database outage never fills a dead-letter queue
(nujoomy_messaging.consumer).
"""

from __future__ import annotations

from sqlalchemy import exc as sa


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, wrapped by SQLAlchemy or not."""
    orig = getattr(exc, "orig", None)
    for candidate in (exc, orig, getattr(orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


# SQLSTATE class 08 (connection exception), 53300 (too many connections), 57P01-57P03 (the server is
# shutting down, crashed, or cannot accept connections yet): the database is away, not the request wrong.
_UNAVAILABLE_STATES = ("08", "53300", "57P01", "57P02", "57P03")


# What a refused, reset or dropped database connection looks like somewhere in an error's chain.
_CONNECTION_FAILURES = {"ConnectionDoesNotExistError", "CannotConnectNowError", "InterfaceError"}


def _causes(exc: BaseException) -> list[BaseException]:
    """The error and what it wraps (SQLAlchemy's `orig`, else `__cause__`), a few levels deep."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 4:
        chain.append(seen)
        seen = getattr(seen, "orig", None) or seen.__cause__
    return chain


def database_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached right now (restart, failover, network): a retry will do."""
    if isinstance(exc, sa.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    state = sqlstate(exc)
    if state is not None and state.startswith(_UNAVAILABLE_STATES):
        return True
    # Only errors raised by the database layer itself count: a bare TimeoutError from other work
    # stays a 500. A refused connection surfaces raw from asyncpg's connect, or wrapped.
    from_database = isinstance(exc, sa.SQLAlchemyError | ConnectionError) or type(exc).__module__.startswith(
        "asyncpg"
    )
    return from_database and any(
        isinstance(e, ConnectionError | TimeoutError) or type(e).__name__ in _CONNECTION_FAILURES
        for e in _causes(exc)
    )
