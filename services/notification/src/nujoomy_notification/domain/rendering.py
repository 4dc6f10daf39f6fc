"""Rendering tenant-editable templates safely: Jinja2's immutable sandbox, autoescaping, strict names.

Tenant managers write these templates, so they are untrusted code. The sandbox blocks unsafe attribute
access at render time; on top of that we refuse any `_name` attribute or item statically, so
`{{ ''.__class__ }}` is rejected when the template is saved rather than rendering as an empty string.

The sandbox does not bound work: `{% for i in range(balance) %}{% for j in range(balance) %}` is
harmless with a sample balance of 120 and runs for days for a member with 100,000 points. Every
render therefore runs under a `RenderBudget`: each loop iteration, call and arithmetic operation is
a step, and the render stops (`TemplateBudgetExceeded`) past the step budget or the wall-clock
deadline, whichever comes first. Callers run renders off the event loop (a worker thread), so a
render being cut off never stalls another tenant's messages.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import msgspec
from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from nujoomy_notification.domain.branding import Look
from nujoomy_notification.domain.errors import TemplateBudgetExceeded, TemplateInvalid, TemplateUnsafe
from nujoomy_notification.domain.kinds import RTL_LOCALES, Channel

MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 100_000
SMS_MAX_CHARS = 480  # three concatenated GSM segments; beyond that a provider splits it unpredictably


class TemplateSource(msgspec.Struct, kw_only=True):
    subject: str = ""
    html: str = ""
    text: str


class Rendered(msgspec.Struct, kw_only=True):
    subject: str
    html: str
    text: str


class RenderBudget(msgspec.Struct, frozen=True, kw_only=True):
    """What one render may take. A real template (a greeting, a few variables, a loop over a handful
    of rewards) takes tens of steps and well under a millisecond."""

    steps: int = 10_000
    seconds: float = 0.5


class _Meter:
    """The budget being spent by the render running in this thread (or task)."""

    def __init__(self, budget: RenderBudget) -> None:
        self.budget = budget
        self.steps_left = budget.steps
        self.output_left = MAX_OUTPUT_CHARS
        self.deadline = time.monotonic() + budget.seconds

    def step(self) -> None:
        self.steps_left -= 1
        if self.steps_left < 0:
            raise TemplateBudgetExceeded(f"the template takes more than {self.budget.steps} steps")
        if time.monotonic() > self.deadline:
            raise TemplateBudgetExceeded(f"the template takes longer than {self.budget.seconds} s")

    def emit(self, chars: int) -> None:
        # Stops a loop printing a large value many times before it fills memory; the final length
        # check alone would only see it afterwards.
        self.output_left -= chars
        if self.output_left < 0:
            raise TemplateInvalid(f"the template renders to more than {MAX_OUTPUT_CHARS} characters")


_METER: ContextVar[_Meter | None] = ContextVar("nujoomy_notification_render_meter", default=None)


def _step() -> None:
    meter = _METER.get()
    if meter is not None:
        meter.step()


def _fresh_output() -> None:
    """Each field (and the layout around the HTML) may print up to MAX_OUTPUT_CHARS."""
    meter = _METER.get()
    if meter is not None:
        meter.output_left = MAX_OUTPUT_CHARS


def _budgeted(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every `{% for %}` iterates through this (see `_meter_loops`): one step per iteration."""
    for item in iterable:
        _step()
        yield item


def _finalize(value: Any) -> Any:
    """Applied to every `{{ … }}` output (also when Jinja folds a constant at compile time, when no
    render is metered)."""
    meter = _METER.get()
    if meter is not None:
        meter.emit(len(value) if isinstance(value, str) else len(str(value)))
    return value


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox stops unsafe attribute access, not resource use: `{{ 'a' * 10**9 }}` or
    `{{ 9 ** 9 ** 9 }}` would take the worker's memory or CPU. Intercepting the operators also stops
    Jinja from folding them at compile time. Calls (macros and `loop.cycle` included) are steps of
    the render's budget; loops are metered by `_meter_loops`."""

    intercepted_binops = frozenset({"*", "**"})

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _step()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            # Bound the result's size: (9 ** 64) ** 64 ** 64 would run for minutes.
            base_bits = left.bit_length() if isinstance(left, int) else 64
            if not (isinstance(right, int) and base_bits * abs(right) <= 4096):
                raise SecurityError("power too large")
        if operator == "*":
            sized, times = (left, right) if isinstance(left, (str, list, tuple)) else (right, left)
            repeated = isinstance(sized, (str, list, tuple)) and isinstance(times, int)
            if repeated and len(sized) * times > MAX_OUTPUT_CHARS:
                raise SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    env = _Sandbox(autoescape=autoescape, undefined=StrictUndefined, finalize=_finalize)
    env.filters[_LOOP_FILTER] = _budgeted
    return env


_LOOP_FILTER = "nujoomy_budgeted"


_HTML = _environment(autoescape=True)
_PLAIN = _environment(autoescape=False)


def _parse(source: str, env: ImmutableSandboxedEnvironment, field: str) -> nodes.Template:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateInvalid(f"{field} is longer than {MAX_TEMPLATE_CHARS} characters", field=field)
    try:
        return env.parse(source)
    except TemplateError as exc:
        raise TemplateInvalid(f"{field}: {exc}", field=field) from exc


def _meter_loops(tree: nodes.Template, field: str) -> None:
    """Make every `{% for x in xs %}` iterate `xs|nujoomy_budgeted`, so each iteration is a step.
    A recursive loop re-enters through `loop(…)` over an iterable this cannot wrap, and no message
    needs one, so it is refused."""
    for loop in tree.find_all(nodes.For):
        if loop.recursive:
            raise TemplateUnsafe(f"{field}: recursive loops are not allowed", field=field)
        loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None, lineno=loop.lineno)


def _check_safe(tree: nodes.Template, field: str) -> None:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        if isinstance(node, nodes.Getattr):
            name: object = node.attr
        elif isinstance(node, nodes.Getitem):
            name = _const(node.arg)
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            name = _const(node.args[0])
        else:
            continue
        # A name computed at render time ('_' ~ '_class__') is left to the sandbox, which refuses it.
        if isinstance(name, str) and name.startswith("_"):
            raise TemplateUnsafe(
                f"{field} reads {name!r}; names starting with _ are not allowed", field=field
            )


def _const(node: nodes.Node) -> object:
    return node.value if isinstance(node, nodes.Const) else None


@lru_cache(maxsize=1024)
def _compile(source: str, autoescape: bool, field: str) -> Template:
    """Check and compile once per distinct source: compiling costs far more than rendering, and a
    tenant's templates are the same for every message."""
    env = _HTML if autoescape else _PLAIN
    tree = _parse(source, env, field)
    _check_safe(tree, field)
    _meter_loops(tree, field)
    try:
        return env.from_string(tree)
    except TemplateError as exc:
        raise TemplateInvalid(f"{field}: {exc}", field=field) from exc


def _render_one(source: str, env: ImmutableSandboxedEnvironment, field: str, context: dict[str, Any]) -> str:
    template = _compile(source, env is _HTML, field)
    _fresh_output()
    try:
        out = template.render(context)
    except SecurityError as exc:
        raise TemplateUnsafe(f"{field}: {exc}", field=field) from exc
    except TemplateError as exc:
        raise TemplateInvalid(f"{field}: {exc}", field=field) from exc
    except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as exc:
        # {{ 1/0 }}, {{ range(10**6) }} (the sandbox's OverflowError), {{ 'a' + 1 }}: bad templates.
        raise TemplateInvalid(f"{field}: {type(exc).__name__}: {exc}", field=field) from exc
    if len(out) > MAX_OUTPUT_CHARS:
        raise TemplateInvalid(f"{field} renders to more than {MAX_OUTPUT_CHARS} characters", field=field)
    return out


# The frame every e-mail's HTML sits in: the business's header (logo, name, its colours), the body,
# the unsubscribe link. Inline styles only (mail clients drop <style> and external CSS); the colours
# are `#RRGGBB` (domain.branding) and the logo an absolute URL, both escaped here.
_LAYOUT = _HTML.from_string(
    """<!doctype html>
<html lang="{{ locale }}" dir="{{ direction }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ subject }}</title></head>
<body style="margin:0;padding:0;background:#f4f4f5;font-family:system-ui,sans-serif">
<div style="max-width:600px;margin:0 auto;background:#ffffff;text-align:{{ align }}">
<div style="background:{{ look.brand.background }};color:{{ look.brand.foreground }};padding:16px 20px">
{%- if look.logo_url %}<img src="{{ look.logo_url }}" alt="{{ look.name }}" height="48" \
style="height:48px;max-width:200px;display:block;border:0">{% endif %}
{%- if look.name %}<div style="font-size:20px;font-weight:600;color:{{ look.brand.foreground }}">\
{{ look.name }}</div>{% endif %}
</div>
<div style="padding:20px;color:#111827">
{{ body }}
</div>
<hr style="border:0;border-top:1px solid #e5e7eb;margin:0">
<p style="font-size:12px;color:#666;padding:12px 20px;margin:0">\
<a href="{{ unsubscribe_url }}" style="color:#666">{{ unsubscribe_label }}</a></p>
</div>
</body></html>"""
)

UNSUBSCRIBE_LABEL = {"en": "Unsubscribe", "ar": "إلغاء الاشتراك"}


def render(
    source: TemplateSource,
    channel: Channel,
    locale: str,
    context: dict[str, Any],
    *,
    budget: RenderBudget | None = None,
    look: Look | None = None,
) -> Rendered:
    """Render one template; raise TemplateInvalid/TemplateUnsafe rather than produce a broken message,
    TemplateBudgetExceeded past `budget`. CPU-bound for up to the budget's seconds: call it off the
    event loop (`asyncio.to_thread`)."""
    token = _METER.set(_Meter(budget or RenderBudget()))
    try:
        return _render_metered(source, channel, locale, context, look or Look())
    finally:
        _METER.reset(token)


def _render_metered(
    source: TemplateSource, channel: Channel, locale: str, context: dict[str, Any], look: Look
) -> Rendered:
    text = _render_one(source.text, _PLAIN, "text", context).strip()
    if not text:
        raise TemplateInvalid("text renders empty", field="text")
    if channel == "sms":
        if len(text) > SMS_MAX_CHARS:
            raise TemplateInvalid(f"the SMS is longer than {SMS_MAX_CHARS} characters", field="text")
        return Rendered(subject="", html="", text=text)
    subject = " ".join(_render_one(source.subject, _PLAIN, "subject", context).split())
    if not subject:
        raise TemplateInvalid("subject renders empty", field="subject")
    body = _render_one(source.html, _HTML, "html", context)
    _fresh_output()
    rtl = locale in RTL_LOCALES
    html = _LAYOUT.render(
        locale=locale,
        direction="rtl" if rtl else "ltr",
        align="right" if rtl else "left",
        look=look,
        subject=subject,
        body=Markup(body),  # already escaped by the autoescaping environment above  # noqa: S704
        unsubscribe_url=context.get("unsubscribe_url", ""),
        unsubscribe_label=UNSUBSCRIBE_LABEL.get(locale, UNSUBSCRIBE_LABEL["en"]),
    )
    return Rendered(subject=subject, html=html, text=text)
