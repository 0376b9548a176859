/* The chat page (templates/chat.html): one room's messages over window.hub, the topic from #chat-topic.
 * On load it shows the room's recent messages from the topic's history (GET /hub/history/, up to the
 * position the subscribe reported, so nothing falls between history and live), then live ones.
 * Each message shows its sender and time; the reader's own are on the right.
 * A static file, not an inline script, so that the page passes a Content-Security-Policy without
 * 'unsafe-inline' (docs/security.md). */
(function () {
  "use strict";
  // #messages[data-state] is "connecting", "subscribed" or "closed"; the browser tests wait on it.
  // #messages[data-history] is "loading", then "loaded" (or "failed").
  const HISTORY = 50;
  const topic = JSON.parse(document.getElementById("chat-topic").textContent);
  const messages = document.getElementById("messages");
  const empty = document.getElementById("chat-empty");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const status = document.getElementById("chat-status");
  const hub = window.hub;
  const shown = new Set(); // ids of the messages on the page: history and live may overlap
  let historyAsked = false;

  function setState(state, text) {
    messages.dataset.state = state;
    status.textContent = text;
  }

  function mine(frame) {
    return Boolean(frame.sender && hub.hello && hub.hello.user != null && frame.sender.id === hub.hello.user);
  }

  function item(frame) {
    // textContent only: message text and usernames come from other people.
    const node = document.createElement("li");
    node.className = `message mb-2${mine(frame) ? " mine text-end" : ""}`;
    if (frame.id) node.dataset.id = frame.id;
    const meta = document.createElement("div");
    meta.className = "meta";
    const sender = document.createElement("b");
    sender.className = "sender";
    sender.textContent = frame.sender ? frame.sender.username : "visitor";
    meta.append(sender);
    if (frame.ts) {
      const at = new Date(frame.ts);
      const time = document.createElement("time");
      time.dateTime = at.toISOString();
      time.title = at.toLocaleString();
      time.textContent = at.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
      meta.append(" · ", time);
    }
    const text = document.createElement("div");
    text.className = "text bubble d-inline-block text-start";
    const value = frame.data && typeof frame.data === "object" ? frame.data.text : undefined;
    text.textContent = value == null ? "" : String(value);
    node.append(meta, " ", text);
    return node;
  }

  function fresh(frame) {
    if (!frame.id) return true;
    if (shown.has(frame.id)) return false;
    shown.add(frame.id);
    return true;
  }

  function showEmpty() {
    empty.hidden = messages.querySelector(".message") !== null;
  }

  function show(frame) {
    if (!fresh(frame)) return;
    const node = item(frame);
    messages.append(node);
    showEmpty();
    messages.scrollTop = messages.scrollHeight;
  }

  function loadHistory(subscribed) {
    if (historyAsked) return;
    historyAsked = true;
    messages.dataset.history = "loading";
    const url = new URL(messages.dataset.historyUrl, location.href);
    url.searchParams.set("topic", topic);
    url.searchParams.set("limit", HISTORY);
    if (subscribed && subscribed.position && subscribed.position !== "0-0") url.searchParams.set("until", subscribed.position);
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((response) => response.json().then((answer) => {
        if (!response.ok) throw new Error(answer.message || `HTTP ${response.status}`);
        return answer.events;
      }))
      .then((events) => {
        const first = messages.firstChild; // live messages that came during the request stay below
        events.filter(fresh).forEach((frame) => messages.insertBefore(item(frame), first));
        messages.dataset.history = "loaded";
        showEmpty();
        messages.scrollTop = messages.scrollHeight;
      })
      .catch((error) => {
        messages.dataset.history = "failed";
        console.warn("chat: could not load the room's history:", error);
        showEmpty();
      });
  }

  function showError(error) {
    status.textContent = `Error (${error.code}): ${error.frame ? error.frame.message : error.message}`;
  }

  hub.onFrame("subscribed", (frame) => {
    if (frame.topic === topic) setState("subscribed", "Live");
  });
  hub.onFrame("close", (frame) => {
    if (frame.reconnecting) setState("connecting", "Connection lost; reconnecting…");
    else setState("closed", `Disconnected (${frame.code}). Reload the page to chat again.`);
  });
  hub.subscribe(topic, show).then(loadHistory).catch(showError);

  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    hub.publish(topic, "message", {text}).catch((error) => {
      showError(error);
      if (!input.value) input.value = text; // not sent: give the text back
    });
  });
})();
