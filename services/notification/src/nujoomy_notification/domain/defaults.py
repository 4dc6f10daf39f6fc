"""Built-in templates in English and Arabic. A tenant override (same kind, locale, channel) wins.

The email HTML here is the body only; rendering wraps it in a layout with `lang`/`dir` (RTL for
Arabic) and the unsubscribe link, so an override can never drop either.
"""

from __future__ import annotations

from nujoomy_notification.domain.kinds import Channel, Kind, Locale
from nujoomy_notification.domain.rendering import TemplateSource

_Key = tuple[Kind, Locale, Channel]

_EN: dict[Kind, tuple[str, str, str]] = {
    # kind: (subject, html body, text)
    "welcome": (
        "Welcome to {{ tenant_name }}",
        "<h1>Welcome, {{ member_name or 'friend' }}!</h1>"
        "<p>Your {{ tenant_name }} card is ready. Add it to your phone:</p>"
        '<p><a href="{{ apple_pass_url }}">Add to Apple Wallet</a></p>'
        '{% if google_save_url %}<p><a href="{{ google_save_url }}">Save to Google Wallet</a></p>{% endif %}',
        "Welcome to {{ tenant_name }}! Add your card: Apple Wallet {{ apple_pass_url }}"
        "{% if google_save_url %} Google Wallet {{ google_save_url }}{% endif %}",
    ),
    "points_earned": (
        "You earned {{ points }} {{ balance_label | lower }} at {{ tenant_name }}",
        "<p>You earned <strong>{{ points }}</strong> {{ balance_label | lower }}"
        "{% if reference %} ({{ reference }}){% endif %}.</p>"
        "<p>Your balance is now <strong>{{ balance }}</strong>.</p>",
        "{{ tenant_name }}: +{{ points }} {{ balance_label | lower }}. Balance: {{ balance }}.",
    ),
    "reward_affordable": (
        "You can now get {{ reward_name }} at {{ tenant_name }}",
        "<p>Good news, {{ member_name or 'friend' }}: with {{ balance }} {{ balance_label | lower }} "
        "you can now redeem <strong>{{ reward_name }}</strong> ({{ reward_cost }}).</p>",
        "{{ tenant_name }}: you can now redeem {{ reward_name }} "
        "({{ balance }} {{ balance_label | lower }}).",
    ),
    "reward_redeemed": (
        "Enjoy your {{ reward_name }}",
        "<p>You redeemed <strong>{{ reward_name }}</strong> for {{ points }} {{ balance_label | lower }}.</p>"
        "<p>Your balance is now <strong>{{ balance }}</strong>.</p>",
        "{{ tenant_name }}: {{ reward_name }} redeemed for {{ points }}. Balance: {{ balance }}.",
    ),
    "points_expiring": (
        "{{ points }} {{ balance_label | lower }} expire on {{ expires_on }}",
        "<p>{{ points }} of your {{ tenant_name }} {{ balance_label | lower }} expire on "
        "<strong>{{ expires_on }}</strong>. Visit us before then to use them.</p>",
        "{{ tenant_name }}: {{ points }} {{ balance_label | lower }} expire on {{ expires_on }}.",
    ),
    "transaction_reversed": (
        "A transaction at {{ tenant_name }} was reversed",
        "<p>A transaction of {{ points }} {{ balance_label | lower }} was reversed"
        "{% if reason %} ({{ reason }}){% endif %}.</p>"
        "<p>Your balance is now <strong>{{ balance }}</strong>.</p>",
        "{{ tenant_name }}: a transaction of {{ points }} was reversed. Balance: {{ balance }}.",
    ),
}

_AR: dict[Kind, tuple[str, str, str]] = {
    "welcome": (
        "أهلاً بك في {{ tenant_name }}",
        "<h1>أهلاً {{ member_name or 'بك' }}!</h1>"
        "<p>بطاقة {{ tenant_name }} جاهزة. أضفها إلى هاتفك:</p>"
        '<p><a href="{{ apple_pass_url }}">إضافة إلى Apple Wallet</a></p>'
        '{% if google_save_url %}<p><a href="{{ google_save_url }}">حفظ في Google Wallet</a></p>{% endif %}',
        "أهلاً بك في {{ tenant_name }}! أضف بطاقتك: Apple Wallet {{ apple_pass_url }}"
        "{% if google_save_url %} Google Wallet {{ google_save_url }}{% endif %}",
    ),
    "points_earned": (
        "ربحت {{ points }} نقطة في {{ tenant_name }}",
        "<p>ربحت <strong>{{ points }}</strong> نقطة{% if reference %} ({{ reference }}){% endif %}.</p>"
        "<p>رصيدك الآن <strong>{{ balance }}</strong>.</p>",
        "{{ tenant_name }}: +{{ points }} نقطة. رصيدك: {{ balance }}.",
    ),
    "reward_affordable": (
        "يمكنك الآن الحصول على {{ reward_name }}",
        "<p>خبر سار: برصيد {{ balance }} يمكنك الآن استبدال <strong>{{ reward_name }}</strong> "
        "({{ reward_cost }}).</p>",
        "{{ tenant_name }}: يمكنك الآن استبدال {{ reward_name }}. رصيدك: {{ balance }}.",
    ),
    "reward_redeemed": (
        "استمتع بـ {{ reward_name }}",
        "<p>استبدلت <strong>{{ reward_name }}</strong> مقابل {{ points }} نقطة.</p>"
        "<p>رصيدك الآن <strong>{{ balance }}</strong>.</p>",
        "{{ tenant_name }}: تم استبدال {{ reward_name }} مقابل {{ points }}. رصيدك: {{ balance }}.",
    ),
    "points_expiring": (
        "تنتهي صلاحية {{ points }} نقطة في {{ expires_on }}",
        "<p>تنتهي صلاحية {{ points }} من نقاطك في {{ tenant_name }} بتاريخ "
        "<strong>{{ expires_on }}</strong>. زرنا قبل ذلك لاستخدامها.</p>",
        "{{ tenant_name }}: تنتهي صلاحية {{ points }} نقطة في {{ expires_on }}.",
    ),
    "transaction_reversed": (
        "تم إلغاء معاملة في {{ tenant_name }}",
        "<p>تم إلغاء معاملة بقيمة {{ points }} نقطة{% if reason %} ({{ reason }}){% endif %}.</p>"
        "<p>رصيدك الآن <strong>{{ balance }}</strong>.</p>",
        "{{ tenant_name }}: تم إلغاء معاملة بقيمة {{ points }}. رصيدك: {{ balance }}.",
    ),
}


# An SMS carries the card page's short link, not the e-mail's two: Google's save link is a signed JWT
# of about a kilobyte, which would push a welcome past SMS_MAX_CHARS.
_SMS: dict[tuple[Locale, Kind], str] = {
    ("en", "welcome"): "Welcome to {{ tenant_name }}! Add your card to your phone: {{ card_url }}",
    ("ar", "welcome"): "أهلاً بك في {{ tenant_name }}! أضف بطاقتك إلى هاتفك: {{ card_url }}",
}


def _build() -> dict[_Key, TemplateSource]:
    out: dict[_Key, TemplateSource] = {}
    for locale, table in (("en", _EN), ("ar", _AR)):
        loc: Locale = "en" if locale == "en" else "ar"
        for kind, (subject, html, text) in table.items():
            out[(kind, loc, "email")] = TemplateSource(subject=subject, html=html, text=text)
            out[(kind, loc, "sms")] = TemplateSource(text=_SMS.get((loc, kind), text))
    return out


DEFAULTS: dict[_Key, TemplateSource] = _build()


def default_template(kind: Kind, locale: Locale, channel: Channel) -> TemplateSource:
    return DEFAULTS[(kind, locale, channel)]
