/* The home page (templates/home.html): one live value per feature card, over the page's window.hub.
 * #home-config: {chat_topic, sales: {topic} | null, jobs: [job state, ...] (the user's unfinished jobs),
 *   jobs_url: GET /jobs/state/, read again when the user's stream is reset (events were lost)}.
 * - Chat: who is online in the lobby (its presence) and its latest message.
 * - Jobs: how many of the user's jobs are queued or running (job.* events on the user's stream).
 * - Announcements: the banners this page shows (announcements/banner.js keeps #announcements live).
 * - Dashboards: today's revenue and orders (the sales dashboard's retained "state" events).
 * - Inbox: the unread count (the events that inbox/bell.js passes on) and the test-notification button.
 * Each value's element carries data-value, which the browser tests wait on. */
(function () {
  "use strict";
  const hub = window.hub;
  const config = JSON.parse(document.getElementById("home-config").textContent);
  const FINAL = ["succeeded", "failed", "cancelled"];
  const JOB_EVENTS = ["job.queued", "job.started", "job.progress", "job.cancel_requested", "job.succeeded", "job.failed", "job.cancelled"];
  if (!hub) return;

  function set(id, value, text) {
    const element = document.getElementById(id);
    if (!element || element.dataset.value === String(value)) return;
    element.dataset.value = value;
    element.textContent = text === undefined ? value : text;
    element.classList.remove("flash");
    void element.offsetWidth; // restart the animation
    element.classList.add("flash");
  }

  function setText(id, text) {
    const element = document.getElementById(id);
    if (element) element.textContent = text; // textContent only: names and messages come from other people
  }

  // Chat: the lobby's presence and latest message.
  hub.onPresence(config.chat_topic, (presence) => {
    const count = presence.members.length + presence.visitors;
    set("home-chat-online", count);
  });
  hub.subscribe(config.chat_topic, (frame) => {
    const text = frame.data && typeof frame.data === "object" ? String(frame.data.text ?? "") : "";
    setText("home-chat-last", `${frame.sender ? frame.sender.username : "visitor"}: ${text}`);
  }).catch((error) => console.warn("home: could not follow the lobby:", error));

  // Jobs: the user's unfinished jobs.
  const running = new Map(config.jobs.map((job) => [job.id, job]));
  function showJobs(latest) {
    set("home-jobs-running", running.size);
    if (latest) {
      const percent = latest.percent == null ? "" : ` (${latest.percent}%)`;
      setText("home-jobs-latest", `${latest.title}: ${latest.status}${percent}`);
    }
  }
  function applyJob(job) {
    if (!job || job.id == null) return;
    if (FINAL.includes(job.status)) running.delete(job.id);
    else running.set(job.id, job);
  }
  JOB_EVENTS.forEach((name) => hub.on(name, (job) => {
    applyJob(job);
    showJobs(job);
  }));
  hub.onFrame("reset", (frame) => {
    if (!hub.hello || hub.hello.user == null || frame.topic !== `user.${hub.hello.user}`) return;
    fetch(config.jobs_url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      })
      .then((state) => {
        running.clear();
        state.jobs.forEach(applyJob);
        showJobs(null);
      })
      .catch((error) => console.warn("home: could not re-read the jobs after a reset:", error));
  });

  // Announcements: what the banners show.
  const banners = document.getElementById("announcements");
  function showAnnouncements() {
    const shown = banners.querySelectorAll(".announcement");
    set("home-announcements-count", shown.length);
    const title = shown.length ? shown[0].querySelector(".announcement-title") : null;
    setText("home-announcement", title ? title.textContent : "None right now.");
  }
  if (banners) {
    new MutationObserver(showAnnouncements).observe(banners, {childList: true, subtree: true, characterData: true});
    showAnnouncements();
  }

  // Dashboards: today's sales.
  if (config.sales) {
    const money = new Intl.NumberFormat("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
    hub.subscribe(config.sales.topic, (frame) => {
      if (frame.event !== "state" || !frame.data || !frame.data.values) return;
      const values = frame.data.values;
      if (values.revenue_today != null) set("home-sales-revenue", values.revenue_today, money.format(values.revenue_today));
      if (values.orders_today != null) setText("home-sales-orders", String(values.orders_today));
    }).catch((error) => console.warn("home: could not follow the sales dashboard:", error));
  }

  // Inbox: the bell's count, and a test notification.
  ["inbox:new", "inbox:read", "inbox:state"].forEach((name) => document.addEventListener(name, (event) => {
    set("home-unread", event.detail.unread);
  }));
  const sendTest = document.getElementById("home-send-test");
  if (sendTest) {
    sendTest.addEventListener("submit", (submit) => {
      submit.preventDefault();
      fetch(sendTest.action, {method: "POST", body: new FormData(sendTest), credentials: "same-origin", headers: {Accept: "application/json"}})
        .then((response) => {
          if (!response.ok) console.warn(`home: the test notification was refused (HTTP ${response.status})`);
        })
        .catch((error) => console.warn("home: could not send a test notification:", error));
    });
  }
})();
