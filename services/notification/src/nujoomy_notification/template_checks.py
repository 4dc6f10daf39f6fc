"""Rendering a tenant's template with sample data, off the event loop: for a preview, and before an
override is saved (with ordinary values, then with the largest a member can bring, so a template
whose cost grows with the balance is refused when saved rather than suppressed when sending)."""

from __future__ import annotations

import asyncio
import contextlib

from nujoomy_notification.domain.branding import Look
from nujoomy_notification.domain.context import demanding_contexts, sample_context
from nujoomy_notification.domain.errors import TemplateInvalid
from nujoomy_notification.domain.kinds import Channel, Kind, Locale
from nujoomy_notification.domain.rendering import RenderBudget, Rendered, TemplateSource, render


async def preview(
    kind: Kind,
    locale: Locale,
    channel: Channel,
    source: TemplateSource,
    *,
    budget: RenderBudget,
    look: Look | None = None,
) -> Rendered:
    """`look`: the business's, so a preview looks like what customers will get."""
    context = sample_context(kind)
    return await asyncio.to_thread(lambda: render(source, channel, locale, context, budget=budget, look=look))


async def check_for_saving(
    kind: Kind, locale: Locale, channel: Channel, source: TemplateSource, budget: RenderBudget
) -> None:
    """Raise TemplateInvalid/TemplateUnsafe/TemplateBudgetExceeded rather than store a template that
    would fail or stall when a customer's message is rendered."""
    await preview(kind, locale, channel, source, budget=budget)
    for context in demanding_contexts(kind):
        # Only the cost is measured here: with extreme values an SMS may run over its length, which
        # the member's real values will not.
        with contextlib.suppress(TemplateInvalid):
            await asyncio.to_thread(lambda c=context: render(source, channel, locale, c, budget=budget))
