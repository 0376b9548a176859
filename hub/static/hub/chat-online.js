/* Who is online in the chat room (templates/chat.html): the room topic's presence, over window.hub.
 * Loaded before chat.js, so that the room's subscribe asks for presence at once (docs/protocol.md,
 * "Presence"). #online-members[data-state] is "waiting" until the first snapshot, then "ready". */
(function () {
  "use strict";
  const topic = JSON.parse(document.getElementById("chat-topic").textContent);
  const list = document.getElementById("online-members");
  const visitors = document.getElementById("online-visitors");
  list.dataset.state = "waiting";

  function render(presence) {
    // textContent only: usernames come from other people.
    const members = presence.members.slice().sort((a, b) => String(a.username).localeCompare(String(b.username)));
    list.replaceChildren(...members.map((member) => {
      const item = document.createElement("li");
      item.className = "member list-group-item";
      item.textContent = member.username;
      return item;
    }));
    const count = presence.visitors;
    visitors.textContent = count ? `and ${count} visitor${count === 1 ? "" : "s"}` : "";
    list.dataset.state = "ready";
  }

  window.hub.onPresence(topic, render);
})();
