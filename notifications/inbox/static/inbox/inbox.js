/*
 * inbox.js: the inbox page (/inbox/) live, over the page's window.hub and the events that
 * bell.js passes on: "inbox:new" adds a notification on top of the first page, "inbox:read"
 * marks read, "inbox:state" (after the user's stream was reset) redraws the page's list.
 * Marking read goes over the socket (inbox.read / inbox.read_all); every tab of the user,
 * this one included, then hears "notification.read" and updates. Times read "5 minutes ago"
 * and move on every minute. The "send me a test notification" form posts in the background;
 * the notification then arrives like any other, over the socket.
 */
(function () {
  "use strict";

  const list = document.getElementById("inbox-list");
  const unread = document.getElementById("inbox-page-unread");
  const hub = window.hub;
  if (!list || !unread || !hub) return;
  const EMPTY = list.querySelector(".empty") ? list.querySelector(".empty").textContent : "No notifications yet.";
  const relative = new Intl.RelativeTimeFormat("en", {numeric: "auto"});
  const UNITS = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];

  function ago(date) {
    const seconds = (date.getTime() - Date.now()) / 1000;
    for (const [unit, size] of UNITS) {
      if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
    }
    return "just now";
  }

  function refreshTimes() {
    list.querySelectorAll("time[datetime]").forEach((time) => {
      const date = new Date(time.dateTime);
      if (!Number.isNaN(date.getTime())) time.textContent = ago(date);
    });
  }

  function element(name, className, text) {
    const node = document.createElement(name);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // text only: titles and bodies are the producer's
    return node;
  }

  function item(notification) {
    const node = element("li", `notification list-group-item ${notification.read ? "read" : "unread"} level-${notification.level}`);
    node.dataset.id = notification.id;
    const head = element("div", "d-flex flex-wrap align-items-baseline gap-2");
    const title = element("strong", "title");
    if (/^(\/(?!\/)|https?:\/\/)/.test(notification.url || "")) { // a path or http(s), never //host
      const link = element("a", "", notification.title);
      link.href = notification.url;
      title.append(link);
    } else {
      title.textContent = notification.title;
    }
    const created = element("time", "small text-body-secondary ms-auto", ago(new Date(notification.created)));
    created.dateTime = notification.created;
    created.title = new Date(notification.created).toLocaleString();
    head.append(element("span", "badge text-bg-primary new-badge", "New"), title, created);
    if (!notification.read) {
      const button = element("button", "mark-read btn btn-link btn-sm p-0", "Mark read");
      button.type = "button";
      head.append(button);
    }
    node.append(head, element("div", "body", notification.body));
    return node;
  }

  function markRead(node) {
    node.classList.replace("unread", "read");
    const button = node.querySelector(".mark-read");
    if (button) button.remove();
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest(".mark-read");
    if (!button) return;
    hub.request({type: "inbox.read", ids: [Number(button.closest("li").dataset.id)]});
  });
  document.getElementById("inbox-read-all").addEventListener("click", () => {
    hub.request({type: "inbox.read_all"});
  });

  const sendTest = document.getElementById("inbox-send-test");
  const testStatus = document.getElementById("inbox-test-status");
  if (sendTest) {
    sendTest.addEventListener("submit", (submit) => {
      submit.preventDefault();
      fetch(sendTest.action, {method: "POST", body: new FormData(sendTest), credentials: "same-origin", headers: {Accept: "application/json"}})
        .then((response) => response.json().then((answer) => {
          if (!response.ok) throw new Error(answer.message || `HTTP ${response.status}`);
          if (testStatus) testStatus.textContent = "Sent: it arrives over the hub in a moment.";
        }))
        .catch((error) => {
          if (testStatus) testStatus.textContent = `Not sent: ${error.message}`;
        });
    });
  }

  document.addEventListener("inbox:read", (event) => {
    const {ids, all} = event.detail;
    unread.textContent = event.detail.unread;
    list.querySelectorAll("li.unread").forEach((node) => {
      if (all || ids.includes(Number(node.dataset.id))) markRead(node);
    });
  });

  document.addEventListener("inbox:new", (event) => {
    unread.textContent = event.detail.unread;
    const notification = event.detail.notification;
    // Replayed after a re-sync that already drew it: once is enough.
    if (list.dataset.page !== "1" || list.querySelector(`li[data-id="${Number(notification.id)}"]`)) return;
    const empty = list.querySelector(".empty");
    if (empty) empty.remove();
    list.prepend(item(notification));
  });

  document.addEventListener("inbox:state", (event) => {
    const state = event.detail;
    unread.textContent = state.unread;
    if (String(state.page) !== list.dataset.page) return;
    const empty = element("li", "empty list-group-item text-body-secondary", EMPTY);
    list.replaceChildren(...(state.items.length ? state.items.map(item) : [empty]));
  });

  refreshTimes();
  setInterval(refreshTimes, 30000);
})();
