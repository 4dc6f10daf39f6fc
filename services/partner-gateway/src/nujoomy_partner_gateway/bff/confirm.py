"""Confirming a destructive action under a CSP that allows no inline script and no `confirm()`.

A destructive form carries `data-confirm` (the question): app.js stops the submit, asks in a <dialog>
and, on yes, sends the form again with `_confirmed=1`. The handler acts only on `_confirmed=1`; anything
else — no script, an old page, a hand-made post — gets the same question as a page whose button re-posts
the form with `_confirmed=1`. So nothing destructive happens on one click, with or without JavaScript.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from nujoomy_partner_gateway.bff.rendering import page
from nujoomy_partner_gateway.bff.session import StaffSession

CONFIRMED = "_confirmed"


async def unconfirmed(
    request: Request[Any, Any, Any], session: StaffSession, question: str, *, back: str
) -> Response[Any] | None:
    """None once the person said yes; otherwise the confirmation page to answer instead.

    `question` is a catalog key (the same text the dialog shows); `back` is where "Cancel" goes.
    """
    form = await request.form()
    if form.get(CONFIRMED) == "1":
        return None
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k != CONFIRMED]
    return page(
        request,
        session,
        "confirm.html.j2",
        action=request.url.path,
        fields=fields,
        question=question,
        back=back,
    )
