"""Who acts, in which tenant and mode: the filter on every query and the author of every write."""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec
from nujoomy_kit.tokens import Principal


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: uuid.UUID
    mode: Literal["live", "test"]
    staff_id: uuid.UUID | None = None
    # None for the platform acting on its own behalf (gateway for a partner, the worker).
    role: Literal["owner", "manager", "staff"] | None = None

    @classmethod
    def of(cls, principal: Principal) -> Scope:
        assert principal.mode is not None  # authenticate() always settles the mode
        return cls(
            tenant_id=principal.tenant_id,
            mode=principal.mode,
            staff_id=principal.staff_id,
            role=principal.role,
        )

    @property
    def may_reverse_any_age(self) -> bool:
        return self.role is None or self.role in ("manager", "owner")
