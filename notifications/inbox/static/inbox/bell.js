/*
 * bell.js: the inbox's live state on every page (docs/inbox.md), over the page's window.hub.
 * Loaded by inbox/bell_script.html after {% hub_script %}; its <script data-state-url> names
 * GET /inbox/state/.
 *
 * - The bell (#inbox-unread) follows "notification.new" and "notification.read" on the user's
 *   stream; each is passed on as a document event "inbox:new" / "inbox:read" (detail: its data).
 * - When the user's stream gets "reset" (events were lost: Redis restarted empty, history
 *   trimmed), it reads the state over HTTP, shows its count and passes it on as "inbox:state"
 *   (detail: {unread, items, page, pages}) for the page #inbox-list[data-page] shows. Resets that
 *   come together make one request; one that comes while a request is out makes one more.
 * - Every reconnect (a hello after the first, or a first one after a failed attempt) does the
 *   same, for notifications whose event could not be published while the hub was down.
 * - A read that fails (a server still starting) is tried again, 0.8 s to 12.8 s apart, five times.
 */
(function () {
  "use strict";

  const RESYNC_DELAY_MS = 100; // after a Redis restart every stream of the socket resets at once
  const loader = document.currentScript;
  const hub = window.hub;
  const count = document.getElementById("inbox-unread");
  if (!hub || !loader || (!count && !document.getElementById("inbox-list"))) return;

  let timer = null;
  let loading = false;
  let again = false; // something changed while a request was out: its answer may be older
  let failures = 0; // requests failed in a row
  const RETRIES = 5; // then wait for the next reset or reconnect: 0.8 s, 1.6 s, ... 12.8 s apart

  function show(unread) {
    if (!count) return;
    count.textContent = unread;
    count.dataset.unread = unread;
    const bell = document.getElementById("inbox-bell");
    if (bell) bell.setAttribute("aria-label", `Notifications, ${unread} unread`);
  }

  function tell(name, detail) {
    document.dispatchEvent(new CustomEvent(name, {detail}));
  }

  function resync() {
    failures = 0; // a new reason to read: the retries start over
    if (loading) again = true;
    else if (timer === null) timer = setTimeout(load, RESYNC_DELAY_MS);
  }

  function load() {
    timer = null;
    loading = true;
    again = false;
    const url = new URL(loader.dataset.stateUrl, location.href);
    const list = document.getElementById("inbox-list");
    if (list && list.dataset.page) url.searchParams.set("page", list.dataset.page);
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      })
      .then((state) => {
        show(state.unread);
        tell("inbox:state", state);
      })
      .then(() => {
        failures = 0;
      }, (error) => {
        // The server may be starting or briefly failing: try again, backing off, a few times.
        failures += 1;
        console.warn("inbox: could not re-sync after a reset:", error);
        if (failures <= RETRIES) again = true;
      })
      .then(() => {
        loading = false;
        if (again) timer = setTimeout(load, failures ? RESYNC_DELAY_MS * 2 ** Math.min(failures + 2, 7) : RESYNC_DELAY_MS);
      });
  }

  function follow(name) {
    return (data) => {
      if (loading) again = true;
      show(data.unread);
      tell(name, data);
    };
  }

  hub.on("notification.new", follow("inbox:new"));
  hub.on("notification.read", follow("inbox:read"));
  // A reconnect re-reads the state too: a notification created while the hub was unreachable
  // was stored, but its event could not be published, so no replay or reset will bring it.
  // So does a first hello that follows a drop: the page's first socket failed (the hub went
  // down just after the page was rendered), and the rendered count may be old by now.
  let hellos = 0;
  let dropped = false;
  hub.onFrame("close", () => {
    dropped = true;
  });
  hub.onFrame("hello", () => {
    hellos += 1;
    if (hellos > 1 || dropped) resync();
  });
  hub.onFrame("reset", (frame) => {
    if (hub.hello && hub.hello.user != null && frame.topic === `user.${hub.hello.user}`) resync();
  });
})();
