/* Every page of the demo (templates/base.html): the connection's state in the footer, and a notice
 * with a way back in when this browser's session ends elsewhere (a logout in another tab: close
 * 4000; a changed password or a deactivated account: 4001), instead of a page gone silent.
 * #hub-state[data-state] is "connecting", "live", "reconnecting" or "offline". */
(function () {
  "use strict";
  const hub = window.hub;
  const state = document.getElementById("hub-state");
  const notice = document.getElementById("signed-out");
  if (!hub || !state) return;
  const text = state.querySelector(".hub-state-text");
  const ENDED = {
    4000: "You were signed out in another tab, so this page no longer receives updates.",
    4001: "Your sign-in is no longer valid (password changed or account disabled), so this page no longer receives updates.",
  };

  function show(name, label) {
    state.dataset.state = name;
    text.textContent = label;
  }

  hub.onFrame("hello", () => show("live", "Live"));
  hub.onFrame("close", (frame) => {
    if (frame.reconnecting) {
      show("reconnecting", "Reconnecting…");
      return;
    }
    show("offline", "Offline");
    if (notice && ENDED[frame.code]) {
      document.getElementById("signed-out-text").textContent = ENDED[frame.code];
      notice.hidden = false;
    }
  });
})();
