/* The chat page (templates/chat.html): one room's messages over window.hub, the topic from #chat-topic.
 * A static file, not an inline script, so that the page passes a Content-Security-Policy without
 * 'unsafe-inline' (docs/security.md). */
(function () {
  "use strict";
  // #messages[data-state] is "connecting", "subscribed" or "closed"; the browser tests wait on it.
  const topic = JSON.parse(document.getElementById("chat-topic").textContent);
  const messages = document.getElementById("messages");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const status = document.getElementById("chat-status");
  const hub = window.hub;

  function setState(state, text) {
    messages.dataset.state = state;
    status.textContent = text;
  }

  function show(frame) {
    // textContent only: message text and usernames come from other people.
    const item = document.createElement("li");
    const sender = document.createElement("b");
    sender.className = "sender";
    sender.textContent = frame.sender ? frame.sender.username : "visitor";
    const text = document.createElement("span");
    text.className = "text";
    const value = frame.data && typeof frame.data === "object" ? frame.data.text : undefined;
    text.textContent = value == null ? "" : String(value);
    item.append(sender, ": ", text);
    messages.append(item);
    item.scrollIntoView({block: "nearest"});
  }

  function showError(error) {
    status.textContent = `Error (${error.code}): ${error.frame ? error.frame.message : error.message}`;
  }

  hub.onFrame("subscribed", (frame) => {
    if (frame.topic === topic) setState("subscribed", "");
  });
  hub.onFrame("close", (frame) => {
    if (frame.reconnecting) setState("connecting", "Connection lost; reconnecting…");
    else setState("closed", `Disconnected (${frame.code}). Reload the page to chat again.`);
  });
  hub.subscribe(topic, show).catch(showError);

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
