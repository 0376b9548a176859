/*
 * inbox.js: the inbox page (/inbox/) live, over the page's window.hub and the events that
 * bell.js passes on: "inbox:new" adds a notification on top of the first page, "inbox:read"
 * marks read, "inbox:state" (after the user's stream was reset) redraws the page's list.
 * Marking read goes over the socket (inbox.read / inbox.read_all); every tab of the user,
 * this one included, then hears "notification.read" and updates.
 */
(function () {
  "use strict";

  const list = document.getElementById("inbox-list");
  const unread = document.getElementById("inbox-page-unread");
  const hub = window.hub;
  if (!list || !unread || !hub) return;

  function element(name, className, text) {
    const node = document.createElement(name);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // text only: titles and bodies are the producer's
    return node;
  }

  function item(notification) {
    const node = element("li", `notification ${notification.read ? "read" : "unread"} level-${notification.level}`);
    node.dataset.id = notification.id;
    const title = element("strong", "title");
    if (/^(\/|https?:\/\/)/.test(notification.url || "")) {
      const link = element("a", "", notification.title);
      link.href = notification.url;
      title.append(link);
    } else {
      title.textContent = notification.title;
    }
    const created = element("time", "", new Date(notification.created).toLocaleString());
    created.dateTime = notification.created;
    node.append(title, " ", element("span", "body", notification.body), " ", created);
    if (!notification.read) {
      const button = element("button", "mark-read", "Mark read");
      button.type = "button";
      node.append(" ", button);
    }
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
    list.replaceChildren(...(state.items.length ? state.items.map(item) : [element("li", "empty", "No notifications.")]));
  });
})();
