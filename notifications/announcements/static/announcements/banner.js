/*
 * banner.js: live announcement banners (docs/announcements.md), on the page-wide window.hub.
 * Loaded by announcements/banner_script.html after {% hub_script %}; works on the markup of
 * announcements/banner.html (#announcements and its data-active-url, #announcement-template).
 * announcement.show adds or replaces a banner (same id; never with an older version),
 * announcement.hide removes it (if not newer than the hide), announcement.dismissed removes
 * it (the user dismissed it in another tab). A reconnect resumes the streams from their
 * positions, so what happened while offline arrives as events; when a stream the banners come
 * from (the user's, a broadcast) is reset instead, the page asks /announcements/active/ which
 * apply, shows them and drops the others; so does the first connection of a page that shows
 * banners (they may have ended between the render and the socket). Resets that come together
 * make one request.
 * Visitors' dismissals live in localStorage and sync across tabs with the storage event.
 * #announcements[data-state]: "static" (no socket yet), "live", "disconnected".
 */
(function () {
  "use strict";
  const RESYNC_DELAY_MS = 100; // after a Redis restart every stream of the socket resets at once
  const root = document.getElementById("announcements");
  const blank = document.getElementById("announcement-template");
  const hub = window.hub;
  if (!root || !blank || !hub) return;
  const STORE = "hub.announcements.dismissed";
  const RANK = {critical: 0, warning: 1, info: 2};
  const visitor = root.dataset.user === "";
  const hiddenUpTo = new Map(); // id -> newest version hidden; an older show must not resurrect it
  let stale = null; // ids on the page when a re-sync started, not shown again since
  let timer = null;
  let loading = false;
  let again = false; // a reset came while a request was out

  function banner(id) { return root.querySelector(`[data-announcement-id="${Number(id)}"]`); }

  function storedDismissals() {
    try {
      const ids = JSON.parse(localStorage.getItem(STORE) || "[]");
      return Array.isArray(ids) ? ids.map(Number) : [];
    } catch (error) {
      // Storage disabled (SecurityError) or a value we did not write (SyntaxError).
      console.warn("announcements: cannot read dismissals from localStorage:", error);
      return [];
    }
  }

  function storeDismissal(id) {
    const ids = storedDismissals();
    if (ids.includes(id)) return;
    try {
      localStorage.setItem(STORE, JSON.stringify(ids.concat([id]).slice(-200)));
    } catch (error) {
      console.warn("announcements: cannot remember a dismissal in localStorage:", error);
    }
  }

  function render(data) {
    const node = blank.content.firstElementChild.cloneNode(true);
    node.className = `announcement announcement-${data.level}`;
    node.dataset.announcementId = String(data.id);
    node.dataset.version = String(data.version);
    node.dataset.level = data.level;
    node.dataset.starts = data.starts;
    node.setAttribute("role", data.level === "critical" ? "alert" : "status");
    node.querySelector(".announcement-title").textContent = data.title;
    // body_html is sanitised on the server (Markdown through nh3), and again here: a frame
    // that reached Redis some other way must not run script in the page. Without DOMPurify
    // (vendor/purify.min.js, loaded first) the body is shown as text.
    const body = node.querySelector(".announcement-body");
    if (window.DOMPurify && window.DOMPurify.isSupported) {
      body.innerHTML = window.DOMPurify.sanitize(String(data.body_html ?? ""));
    } else {
      body.textContent = String(data.body_html ?? "");
    }
    const form = node.querySelector(".announcement-dismiss");
    if (!data.dismissible) {
      form.remove();
    } else {
      form.action = root.dataset.dismissUrl.replace("/0/", `/${Number(data.id)}/`);
      form.querySelector("input[name=next]").value = location.pathname + location.search;
      form.querySelector("button").setAttribute("aria-label", `Dismiss ${data.title}`);
    }
    return node;
  }

  function sort() {
    // As the server orders them: most severe first, then the latest start, then the newest.
    const key = (node) => [
      RANK[node.dataset.level] ?? 3, -(Date.parse(node.dataset.starts) || 0), -Number(node.dataset.announcementId),
    ];
    const nodes = [...root.children].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    });
    nodes.forEach((node) => root.append(node));
  }

  function show(data) {
    if (stale) stale.delete(data.id);
    if (visitor && storedDismissals().includes(data.id)) return;
    if ((hiddenUpTo.get(data.id) || 0) >= data.version) return;
    const current = banner(data.id);
    if (current && Number(current.dataset.version) > data.version) return;
    const node = render(data);
    if (current) current.replaceWith(node);
    else root.append(node);
    sort();
  }

  function hide(data) {
    hiddenUpTo.set(data.id, Math.max(hiddenUpTo.get(data.id) || 0, data.version));
    const current = banner(data.id);
    if (current && Number(current.dataset.version) <= data.version) current.remove();
  }

  function remove(id) {
    const current = banner(id);
    if (current) current.remove();
  }

  function dismiss(node) {
    const id = Number(node.dataset.announcementId);
    if (visitor) {
      storeDismissal(id); // other tabs hear of it through the storage event
      node.remove();
      return;
    }
    fetch(root.dataset.dismissUrl.replace("/0/", `/${id}/`), {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": root.dataset.csrf, "Accept": "application/json"},
    }).then((response) => {
      if (response.ok || response.status === 404) node.remove(); // 404: it is gone for this user anyway
      else failed(node, `HTTP ${response.status}`);
    }, (error) => failed(node, error.message));
  }

  function failed(node, why) {
    node.dataset.error = `dismiss failed: ${why}`;
    const button = node.querySelector(".announcement-dismiss button");
    if (button) button.textContent = "Could not dismiss; retry";
  }

  root.addEventListener("submit", (event) => {
    const form = event.target.closest(".announcement-dismiss");
    if (!form) return;
    event.preventDefault();
    dismiss(form.closest(".announcement"));
  });

  window.addEventListener("storage", (event) => {
    if (visitor && event.key === STORE) storedDismissals().forEach(remove);
  });

  if (visitor) storedDismissals().forEach(remove);

  function reconcile(before) {
    // Banners on the page before the re-sync: keep those that still apply.
    return fetch(root.dataset.activeUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      })
      .then((body) => {
        const ids = new Set(body.announcements.map((data) => data.id));
        for (const id of before) if (!ids.has(id)) remove(id);
        body.announcements.forEach(show);
      });
  }

  function resync() {
    if (loading) again = true;
    else if (timer === null) timer = setTimeout(load, RESYNC_DELAY_MS);
  }

  function load() {
    timer = null;
    loading = true;
    again = false;
    const before = stale = new Set([...root.children].map((node) => Number(node.dataset.announcementId)));
    reconcile(before).catch((error) => {
      console.warn("announcements: could not check which banners still apply:", error);
    }).then(() => {
      if (stale === before) stale = null;
      loading = false;
      if (again) resync();
      else if (hub.state === "open") root.dataset.state = "live"; // the banners are in line
    });
  }

  let connected = false;
  hub.onFrame("hello", (frame) => {
    // The first connection: banners rendered before it may have ended since, and nothing replays
    // that gap. Later ones resume from their positions, unless the hub reports none (an older hub).
    const check = connected ? !("positions" in frame) : root.children.length > 0;
    connected = true;
    if (check) resync();
    else if (!loading && timer === null) root.dataset.state = "live";
  });
  hub.onFrame("reset", (frame) => {
    const user = hub.hello && hub.hello.user != null ? `user.${hub.hello.user}` : null;
    if (frame.topic === user || String(frame.topic).startsWith("broadcast.")) resync();
  });
  hub.onFrame("close", () => { root.dataset.state = "disconnected"; });
  hub.on("announcement.show", show);
  hub.on("announcement.hide", hide);
  hub.on("announcement.dismissed", (data) => remove(data.id));
})();
