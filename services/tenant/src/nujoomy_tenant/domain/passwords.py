"""Password hashing: argon2id through argon2-cffi, whose defaults follow RFC 9106's recommendations.

The parameters are recorded inside every hash, so changing them (tests use cheap ones) never breaks
verification of existing hashes.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # Verified against when the user does not exist, so an unknown email costs the same time as a
        # wrong password and the two cannot be told apart by timing.
        self._dummy = self._hasher.hash("not a real password, only here to spend the same time")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False


# One hasher per process, set from the settings at start-up (app and CLI) through `configure`.
_current = Passwords()


def configure(time_cost: int, memory_kib: int) -> None:
    global _current
    _current = Passwords(time_cost, memory_kib)


def hash_password(password: str) -> str:
    return _current.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    return _current.verify(password_hash, password)
