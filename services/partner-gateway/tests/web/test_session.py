"""Sign-in through the real tenant service, the cookie session, CSRF, roles and languages."""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import msgspec
import pytest
import redis.asyncio as redis
from litestar.testing import AsyncTestClient
from nujoomy_partner_gateway.settings import Settings as GatewaySettings
from nujoomy_testing.web import login_form, post_login
from web_stack import PASSWORD, Business, add_staff, gateway_app


async def sign_in(web: Any, business: Business, email: str | None = None) -> Any:
    return await post_login(web, business.slug, email or business.owner_email, PASSWORD)


async def test_signed_out_visitor_is_sent_to_the_sign_in_page(web: Any) -> None:
    response = await web.get("/app", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/app/login"


async def test_sign_in_page_speaks_english_and_arabic_right_to_left(web: Any) -> None:
    english = await web.get("/app/login")
    assert english.status_code == 200
    assert 'dir="ltr"' in english.text
    assert "Sign in" in english.text
    arabic = await web.get("/app/login", headers={"Accept-Language": "ar"})
    assert 'dir="rtl"' in arabic.text
    assert 'lang="ar"' in arabic.text
    assert "تسجيل الدخول" in arabic.text


async def test_owner_signs_in_and_gets_httponly_secure_strict_cookies(web: Any, acme: Business) -> None:
    response = await sign_in(web, acme)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/app"
    cookies = response.headers.get_list("set-cookie")
    access = next(c for c in cookies if c.startswith("nj_access="))
    refresh = next(c for c in cookies if c.startswith("nj_refresh="))
    csrf = next(c for c in cookies if c.startswith("nj_csrf="))
    for cookie in (access, refresh):
        assert "HttpOnly" in cookie
        assert "Secure" in cookie
        assert "SameSite=strict" in cookie
    assert "HttpOnly" not in csrf  # the page script must read it to send it back as a header
    overview = await web.get("/app")
    assert overview.status_code == 200
    assert 'data-testid="overview"' in overview.text


async def test_wrong_password_stays_on_the_sign_in_page_with_a_reason(web: Any, acme: Business) -> None:
    response = await post_login(web, acme.slug, acme.owner_email, "nope nope nope")
    assert response.status_code == 401
    assert "wrong" in response.text
    assert "nj_access=" not in response.headers.get("set-cookie", "")


async def test_a_write_without_the_csrf_token_is_refused(web: Any, acme: Business) -> None:
    await sign_in(web, acme)
    body = {
        "background_color": "#112233",
        "foreground_color": "#FFFFFF",
        "label_color": "#FBBF24",
        "program_name": "Acme Stars",
        "balance_label": "Stars",
    }
    refused = await web.patch("/bff/program/branding", json=body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    forged = await web.patch("/bff/program/branding", json=body, headers={"X-CSRF-Token": "abc.def"})
    assert forged.json()["code"] == "csrf_failed"
    csrf = web.cookies.get("nj_csrf")
    saved = await web.patch("/bff/program/branding", json=body, headers={"X-CSRF-Token": csrf})
    assert saved.status_code == 200, saved.text
    assert saved.json()["program_id"].startswith("prg_")
    page = await web.get("/app/program")
    assert "#112233" in page.text
    assert "Acme Stars" in page.text
    assert "Stars" in page.text


async def test_staff_member_cannot_open_owner_pages(web: Any, acme: Business, tenant_db: str) -> None:
    await add_staff(tenant_db, acme, "barista@acme.test", "staff")
    landed = await sign_in(web, acme, "barista@acme.test")
    assert landed.headers["location"] == "/app/scan"
    for path in ("/app/staff", "/app/program", "/app/developers", "/app/rewards"):
        page = await web.get(path)
        assert page.status_code == 403, path
        assert 'data-code="forbidden"' in page.text
    assert (await web.get("/app/scan")).status_code == 200


async def test_sign_out_ends_the_session(web: Any, acme: Business) -> None:
    await sign_in(web, acme)
    csrf = web.cookies.get("nj_csrf")
    response = await web.post("/app/logout", data={"_csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    web.cookies.clear()
    assert (await web.get("/app", follow_redirects=False)).status_code == 303


async def test_mode_switch_sends_test_mode_to_the_services(web: Any, acme: Business) -> None:
    await sign_in(web, acme)
    csrf = web.cookies.get("nj_csrf")
    await web.post("/app/mode", data={"_csrf": csrf, "mode": "test"}, follow_redirects=False)
    page = await web.get("/app/developers")
    assert "test-mode" in page.text


async def test_an_unusable_access_token_is_refreshed_with_the_refresh_cookie(
    web: Any, acme: Business
) -> None:
    await sign_in(web, acme)
    old_refresh = web.cookies.get("nj_refresh")
    web.cookies.set("nj_access", "expired.or.garbage", domain="testserver.local")
    page = await web.get("/app", follow_redirects=False)
    assert page.status_code == 200  # refreshed behind the page, no sign-in needed
    rotated = page.headers.get_list("set-cookie")
    assert any(c.startswith("nj_access=") and "expired" not in c for c in rotated)
    assert web.cookies.get("nj_refresh") != old_refresh  # the tenant rotated the pair


async def test_a_spent_refresh_token_ends_the_session(web: Any, acme: Business) -> None:
    await sign_in(web, acme)
    spent = web.cookies.get("nj_refresh")
    web.cookies.set("nj_access", "garbage", domain="testserver.local")
    assert (await web.get("/app", follow_redirects=False)).status_code == 200  # spends `spent`
    web.cookies.set("nj_access", "garbage", domain="testserver.local")
    web.cookies.set("nj_refresh", spent, domain="testserver.local")
    replayed = await web.get("/app", follow_redirects=False)
    assert replayed.status_code == 303
    assert replayed.headers["location"] == "/app/login"


async def test_branding_with_a_bad_colour_is_invalid_input(web: Any, acme: Business) -> None:
    await sign_in(web, acme)
    body = {
        "background_color": "red",
        "foreground_color": "#FFFFFF",
        "label_color": "#FBBF24",
        "program_name": "Acme",
        "balance_label": "Points",
    }
    answer = await web.patch(
        "/bff/program/branding", json=body, headers={"X-CSRF-Token": web.cookies.get("nj_csrf")}
    )
    assert answer.status_code in (400, 422)
    assert answer.json()["code"] == "invalid_input"


async def test_invited_staff_sets_a_password_from_the_link_and_signs_in(web: Any, acme: Business) -> None:
    await sign_in(web, acme)
    invited = await web.post(
        "/app/staff",
        data={
            "_csrf": web.cookies.get("nj_csrf"),
            "email": "new@acme.test",
            "name": "New",
            "role": "manager",
        },
    )
    link = re.search(r"/app/password\?token=([^<\"\s]+)", invited.text)
    assert link, "the invite shows its one-time password link"
    web.cookies.clear()
    form = await web.get(f"/app/password?token={link.group(1)}")
    assert 'data-testid="password-form"' in form.text
    form_data = {"token": link.group(1), "password": "a long new passphrase"}
    done = await web.post("/app/password", data=form_data, follow_redirects=False)
    assert done.status_code == 303, done.text  # post, then redirect: a refresh does not post again
    shown = await web.get(done.headers["location"])
    assert 'data-testid="password-set"' in shown.text
    form_data["password"] = "another passphrase!"
    again = await web.post("/app/password", data=form_data, follow_redirects=False)
    refused = await web.get(again.headers["location"])
    assert 'role="alert"' in refused.text  # the link works once
    assert 'data-testid="password-set"' not in refused.text
    assert f'name="token" value="{link.group(1)}"' in refused.text  # the form still has its link
    signed = await post_login(web, "acme", "new@acme.test", "a long new passphrase")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/app"


async def test_a_sign_in_post_without_the_form_token_is_refused_in_the_visitors_language(
    web: Any, acme: Business
) -> None:
    """Login CSRF: another site's page can post the attacker's credentials, but has neither the form
    token nor the `nj_login` cookie it is bound to, so the browser is never signed in as the attacker."""
    fields = {"tenant": acme.slug, "email": acme.owner_email, "password": PASSWORD}
    bare = await web.post("/app/login", data=fields, follow_redirects=False)
    assert bare.status_code == 403
    assert 'data-code="csrf_failed"' in bare.text
    assert "nj_access=" not in bare.headers.get("set-cookie", "")

    token, cookie = await login_form(web)
    assert token
    assert cookie
    web.cookies.clear()
    # The token alone (a page that scraped one), or with another browser's cookie, is not enough.
    assert (await web.post("/app/login", data={**fields, "_csrf": token})).status_code == 403
    other = {"Cookie": "nj_login=" + "x" * 22}
    assert (await web.post("/app/login", data={**fields, "_csrf": token}, headers=other)).status_code == 403
    forged = await web.post("/app/login", data={**fields, "_csrf": "abc.def"}, headers=cookie)
    assert forged.status_code == 403

    arabic = await web.post("/app/login", data=fields, headers={"Accept-Language": "ar"})
    assert arabic.status_code == 403
    assert "انتهت صلاحية هذا النموذج" in arabic.text

    signed = await web.post(
        "/app/login", data={**fields, "_csrf": token}, headers=cookie, follow_redirects=False
    )
    assert signed.status_code == 303, signed.text


async def test_the_sign_in_cookie_is_httponly_strict_and_scoped_to_the_form(web: Any) -> None:
    form = await web.get("/app/login")
    cookie = next(c for c in form.headers.get_list("set-cookie") if c.startswith("nj_login="))
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/app/login"):
        assert attribute in cookie, cookie


async def test_pages_and_the_partner_api_send_strict_transport_security(web: Any) -> None:
    for path in ("/app/login", "/v1/members", "/static/web/app.js", "/join/nosuch"):
        answer = await web.get(path)
        assert answer.headers.get("strict-transport-security") == "max-age=31536000; includeSubDomains", path


async def test_plain_http_development_sends_no_strict_transport_security(
    web_settings: GatewaySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUJOOMY_WEB_SECURE_COOKIES", "false")
    async with AsyncTestClient(app=gateway_app(web_settings)) as plain:
        answer = await plain.get("/app/login")
    assert answer.status_code == 200
    assert "strict-transport-security" not in answer.headers


async def test_the_gateway_limits_sign_in_posts_per_address_in_the_visitors_language(
    web_settings: GatewaySettings, acme: Business, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUJOOMY_WEB_LOGIN_RATE_PER_MINUTE", "2")
    async with AsyncTestClient(app=gateway_app(web_settings), base_url="https://testserver.local") as web:
        for _ in range(2):
            assert (
                await post_login(web, acme.slug, acme.owner_email, "wrong wrong wrong")
            ).status_code == 401
        refused = await post_login(
            web, acme.slug, acme.owner_email, PASSWORD, headers={"Accept-Language": "ar"}
        )
        assert refused.status_code == 429
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert "محاولات دخول كثيرة" in refused.text
        assert "nj_access=" not in refused.headers.get("set-cookie", "")


@pytest.mark.parametrize(("fail_closed", "status"), [(False, 303), (True, 503)])
async def test_with_redis_away_the_gateway_lets_sign_in_through_or_refuses_it_never_a_500(
    web_settings: GatewaySettings, acme: Business, fail_closed: bool, status: int
) -> None:
    app = gateway_app(msgspec.structs.replace(web_settings, rate_limit_fail_closed=fail_closed))
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as web:
        token, cookie = await login_form(web)
        app.state["redis"] = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
        fields = {"tenant": acme.slug, "email": acme.owner_email, "password": PASSWORD, "_csrf": token}
        answer = await web.post("/app/login", data=fields, headers=cookie, follow_redirects=False)
    assert answer.status_code == status, answer.text
    if fail_closed:
        assert answer.headers["retry-after"] == "5"
        assert "Sign-in is briefly unavailable" in answer.text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
