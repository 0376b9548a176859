"""The banner in headless chromium, against a live Daphne: admin saves and retracts, pages follow live.

Plain sync tests: Playwright's sync API cannot run inside pytest-asyncio's loop.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from notifications import groups
from notifications.announcements import services
from notifications.tests.browser import SocketRelay, log_in, lose_history

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect

if TYPE_CHECKING:
    from playwright.sync_api import Page, WebSocketRoute

BANNERS = "#announcements .announcement"
HUB_SOCKET = re.compile(r"/ws/(\?.*)?$")  # the cursor of a reconnect comes as ?positions=


def open_live(page: Page, url: str) -> Page:
    """Load ``url`` and wait until the page's hub socket is open and its banners are in line."""
    page.goto(url)
    expect(page.locator("#announcements")).to_have_attribute("data-state", "live")
    return page


def test_admin_save_shows_the_banner_live_and_retract_removes_it(
    orm_beside_playwright: None, make_user: Any, new_context: Any, live_hub: Any
) -> None:
    """Staff save an announcement in the admin: a visitor's page and staff's other tab show it, unreloaded."""
    make_user("boss", is_staff=True, is_superuser=True)
    staff = new_context()
    admin = staff.new_page()
    admin.goto(f"{live_hub.http_url}/admin/login/")
    admin.fill("#id_username", "boss")
    admin.fill("#id_password", "pw-boss")
    admin.click("input[type=submit]")
    expect(admin.locator("#user-tools")).to_contain_text("boss")
    staff_tab = open_live(staff.new_page(), f"{live_hub.http_url}/")
    visitor = open_live(new_context().new_page(), f"{live_hub.http_url}/chat/lobby/")
    dialogs: list[str] = []
    visitor.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    admin.bring_to_front()  # a background tab's animation frames are throttled: clicks wait
    admin.goto(f"{live_hub.http_url}/admin/announcements/announcement/add/")
    admin.fill("#id_title", "<b>Upgrade</b> tonight")
    admin.fill("#id_body", "Back at **22:00** <img src=x onerror=alert(1)>")
    admin.check("input[name=body_format][value=markdown]")
    admin.check("input[name=level][value=warning]")
    admin.click("input[name=_save]")
    expect(admin.locator(".messagelist")).to_contain_text("is live")

    for page in (visitor, staff_tab):
        banner = page.locator(BANNERS)
        expect(banner).to_have_count(1)
        expect(banner.locator(".announcement-title")).to_have_text("<b>Upgrade</b> tonight")
        expect(banner.locator(".announcement-body strong")).to_have_text("22:00")
        expect(banner).to_have_attribute("data-level", "warning")
        expect(banner.locator("img[onerror]")).to_have_count(0)
    assert dialogs == []

    admin.goto(f"{live_hub.http_url}/admin/announcements/announcement/")
    admin.check("input[name=_selected_action]")
    admin.select_option("select[name=action]", "retract")
    admin.click("button[name=index]")
    expect(admin.locator(".messagelist")).to_contain_text("Retracted 1")
    for page in (visitor, staff_tab):
        expect(page.locator(BANNERS)).to_have_count(0)


def test_a_visitor_dismissal_is_kept_by_the_browser_and_syncs_its_tabs(
    orm_beside_playwright: None, transactional_db: Any, new_context: Any, live_hub: Any
) -> None:
    """A visitor dismisses in one tab: the other tab drops it at once and a reload does not bring it back."""
    announcement = services.create_announcement(title="Cookies", body="We use a few.")
    browser = new_context()
    first = open_live(browser.new_page(), f"{live_hub.http_url}/")
    second = open_live(browser.new_page(), f"{live_hub.http_url}/chat/lobby/")
    for page in (first, second):
        expect(page.locator(BANNERS)).to_have_attribute("data-announcement-id", str(announcement.pk))

    first.click(f"{BANNERS} button:has-text('Dismiss')")
    for page in (first, second):
        expect(page.locator(BANNERS)).to_have_count(0)
    open_live(first, f"{live_hub.http_url}/")
    expect(first.locator(BANNERS)).to_have_count(0)
    other_visitor = open_live(new_context().new_page(), f"{live_hub.http_url}/")
    expect(other_visitor.locator(BANNERS)).to_have_count(1)


def test_a_page_that_was_offline_drops_banners_retracted_meanwhile(
    orm_beside_playwright: None, transactional_db: Any, new_context: Any, live_hub: Any
) -> None:
    """After a reconnect, a banner retracted while the socket was down is removed; the others stay."""
    kept = services.create_announcement(title="Kept")
    gone = services.create_announcement(title="Gone")
    routes: list[WebSocketRoute] = []

    def relay(route: WebSocketRoute) -> None:
        if routes:  # the reconnect: retract before it reaches the hub, so the page misses the hide
            services.retract(announcement=gone)
        routes.append(route)
        route.connect_to_server()

    page = new_context().new_page()
    page.route_web_socket(HUB_SOCKET, relay)
    open_live(page, f"{live_hub.http_url}/")
    expect(page.locator(BANNERS)).to_have_count(2)
    with page.expect_websocket():
        routes[0].close(code=4008, reason="too slow")
    expect(page.locator(BANNERS)).to_have_count(1)
    expect(page.locator(BANNERS)).to_have_attribute("data-announcement-id", str(kept.pk))
    expect(page.locator("#announcements")).to_have_attribute("data-state", "live")
    assert len(routes) == 2


def test_a_signed_in_dismissal_reaches_the_other_tab_and_stays(
    orm_beside_playwright: None, make_user: Any, new_context: Any, live_hub: Any
) -> None:
    """A user dismisses in one tab (POST with the CSRF token): the other tab drops it, a reload keeps it gone."""
    make_user("alice")
    announcement = services.create_announcement(title="New terms", audience="authenticated")
    browser = new_context()
    first = browser.new_page()
    first.goto(f"{live_hub.http_url}/accounts/login/")
    first.fill("#id_username", "alice")
    first.fill("#id_password", "pw-alice")
    first.click("button[type=submit]:has-text('Log in')")
    expect(first.locator("#whoami")).to_have_text("alice")
    open_live(first, f"{live_hub.http_url}/")
    second = open_live(browser.new_page(), f"{live_hub.http_url}/chat/lobby/")
    expect(second.locator(BANNERS)).to_have_attribute("data-announcement-id", str(announcement.pk))

    first.bring_to_front()
    first.click(f"{BANNERS} button:has-text('Dismiss')")
    for page in (first, second):
        expect(page.locator(BANNERS)).to_have_count(0)
    open_live(second, f"{live_hub.http_url}/")
    expect(second.locator(BANNERS)).to_have_count(0)
    assert announcement.dismissals.filter(user__username="alice").exists()


def test_when_the_streams_are_reset_the_page_asks_once_which_banners_apply(
    orm_beside_playwright: None, make_user: Any, new_context: Any, live_hub: Any
) -> None:
    """Retracted while the socket was down, and every stream's history lost: the banner goes, after one request."""
    alice = make_user("alice")
    kept = services.create_announcement(title="Kept")
    gone = services.create_announcement(title="Gone", audience="authenticated")
    page = new_context().new_page()
    relay = SocketRelay(page)
    log_in(page, live_hub.http_url, "alice")
    open_live(page, f"{live_hub.http_url}/")
    expect(page.locator(BANNERS)).to_have_count(2)
    page.evaluate("window.notReloaded = true")
    asked: list[str] = []
    page.on("request", lambda request: "/announcements/active/" in request.url and asked.append(request.url))

    def while_away() -> None:
        services.retract(announcement=gone)  # its hide is kept in the history, then lost with it
        audiences = (groups.EVERYONE, groups.AUTHENTICATED)
        lose_history(groups.user_group(alice.pk), *(groups.audience_group(audience) for audience in audiences))

    relay.drop(page, while_away)

    expect(page.locator(BANNERS)).to_have_count(1)
    expect(page.locator(BANNERS)).to_have_attribute("data-announcement-id", str(kept.pk))
    expect(page.locator("#announcements")).to_have_attribute("data-state", "live")
    assert page.evaluate("window.notReloaded") is True
    assert len(asked) == 1, asked  # three streams reset together: one request


def test_a_forged_announcement_injected_into_redis_runs_no_script(
    orm_beside_playwright: None, new_context: Any, live_hub: Any
) -> None:
    """A raw announcement.show published straight on Redis, script and onerror in its HTML: shown, never run."""
    from channels.layers import get_channel_layer

    page = open_live(new_context().new_page(), f"{live_hub.http_url}/")
    payload = '<img src="x:" onerror="window.__forged = 1"><script>window.__forged = 2</script><b>bold</b>'
    data = {"id": 999999, "version": 1, "level": "critical", "title": "Forged", "body_html": payload,
            "dismissible": False, "starts": "2026-01-01T00:00:00Z"}  # fmt: skip
    message = groups.event_message(stream=groups.broadcast_stream(groups.EVERYONE), event="announcement.show",
                                   data=data, ts=0)  # fmt: skip
    get_channel_layer().blocking_group_send(groups.audience_group(groups.EVERYONE), message)
    body = page.locator('[data-announcement-id="999999"] .announcement-body')
    expect(body.locator("b")).to_have_text("bold")
    assert body.locator("img").get_attribute("onerror") is None and body.locator("script").count() == 0
    assert page.evaluate("window.__forged") is None
