/*
 * jobs.js: shows job states (the one shape of notifications/jobs/state.py) and keeps them live over
 * the page's one socket, window.hub. Exposes `window.Jobs`.
 *
 * Jobs.list({list, template, states, events, empty?, stateUrl?}): "my jobs". Renders `states`,
 *     then applies every job event of the user's own stream (they arrive without subscribing),
 *     adding new jobs on top (and hiding the `empty` element). When that stream is reset (events
 *     were lost), reads `stateUrl` (GET /jobs/state/: {"jobs": [state, ...]}) and applies it.
 * Jobs.detail({item, state, topic, status}): one job. Renders `state` at once, then subscribes
 *     to the job's topic (retained: the latest state comes first) and sets item.dataset.live to
 *     "subscribed" once it is. When the topic is reset, reads the job's GET <url>state/.
 * Each state carries a `version`; an item never shows an older state over a newer one, so a
 * state read over HTTP and the events may come in any order. Resets that come together make
 * one request.
 *
 * Loaded as <script src=".../jobs.js" data-jobs-page="list" data-state-url="..."> (or
 * data-jobs-page="detail"), it starts the page itself from the JSON of #job-states and
 * #job-events (list) or #job-state and #job-topic (detail): no inline script.
 */
(function () {
  "use strict";

  const FINAL = ["succeeded", "failed", "cancelled"];
  const RESYNC_DELAY_MS = 100; // after a Redis restart every stream of the socket resets at once
  const loader = document.currentScript;

  function number(value) {
    return Number(value).toLocaleString("en-US");
  }

  function duration(seconds) {
    if (seconds < 90) return `${number(Math.max(1, Math.round(seconds)))} s`;
    const minutes = Math.round(seconds / 60);
    if (minutes < 90) return `${minutes} min`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  function part(item, name) {
    return item.querySelector(`.job-${name}`);
  }

  function show(element, text) {
    element.textContent = text || "";
    element.hidden = !text;
  }

  function render(item, state) {
    if (item.dataset.version !== undefined && state.version <= Number(item.dataset.version)) return;
    item.dataset.version = state.version;
    item.dataset.jobId = state.id;
    item.dataset.status = state.status;
    const title = part(item, "title");
    title.textContent = state.title;
    title.href = state.url;
    const stopping = state.cancel_requested && !FINAL.includes(state.status);
    show(part(item, "status"), stopping ? "cancelling…" : state.status);

    const bar = part(item, "bar");
    if (state.percent == null) {
      bar.removeAttribute("aria-valuenow");
      bar.classList.add("indeterminate");
    } else {
      bar.setAttribute("aria-valuenow", state.percent);
      bar.classList.remove("indeterminate");
    }
    part(item, "bar-fill").style.width = `${state.percent || 0}%`;
    show(part(item, "percent"), state.percent == null ? "" : `${state.percent}%`);
    show(part(item, "counts"), state.total ? `${number(state.done)} of ${number(state.total)}` : "");
    show(part(item, "message"), FINAL.includes(state.status) ? "" : state.message);
    show(part(item, "eta"), state.eta_seconds == null ? "" : `about ${duration(state.eta_seconds)} left`);
    const result = state.status === "succeeded" && state.result ? state.result : null;
    show(part(item, "result"), result && result.summary ? String(result.summary) : "");
    const download = part(item, "download");
    download.hidden = !(result && result.url);
    if (result && result.url) download.href = result.url;
    show(part(item, "error"), state.status === "failed" ? state.error : "");
    const cancel = part(item, "cancel");
    cancel.action = `${state.url}cancel/`;
    cancel.hidden = FINAL.includes(state.status) || state.cancel_requested;
  }

  function make(template, state) {
    const item = template.content.firstElementChild.cloneNode(true);
    render(item, state);
    return item;
  }

  function resyncing(read, apply) {
    // Returns resync(): one read of the state for the resets that come together, one more for a
    // reset that comes while a read is out. Versions make applying a state twice harmless.
    let timer = null;
    let loading = false;
    let again = false;
    function load() {
      timer = null;
      loading = true;
      again = false;
      fetch(read(), {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then((response) => {
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          return response.json();
        })
        .then(apply)
        .catch((error) => console.warn("jobs: could not re-sync after a reset:", error))
        .then(() => {
          loading = false;
          if (again) resync();
        });
    }
    function resync() {
      if (loading) again = true;
      else if (timer === null) timer = setTimeout(load, RESYNC_DELAY_MS);
    }
    return resync;
  }

  function userStream() {
    const hello = window.hub.hello;
    return hello && hello.user != null ? `user.${hello.user}` : null;
  }

  function onReset(stream, resync) {
    window.hub.onFrame("reset", (frame) => {
      if (frame.topic === stream()) resync();
    });
  }

  function list({list, template, states, events, empty, stateUrl}) {
    const items = new Map();
    for (const state of states) {
      const item = make(template, state);
      items.set(state.id, item);
      list.append(item);
    }
    const apply = (state) => {
      const item = items.get(state.id);
      if (item) {
        render(item, state);
      } else {
        const created = make(template, state);
        items.set(state.id, created);
        list.prepend(created);
        if (empty) empty.hidden = true;
      }
    };
    for (const event of events) window.hub.on(event, apply);
    if (stateUrl) {
      // Oldest first, so that jobs new to the page end up on top in order.
      const resync = resyncing(() => stateUrl, (body) => body.jobs.slice().reverse().forEach(apply));
      onReset(userStream, resync);
    }
    list.dataset.live = "listening";
  }

  function detail({item, state, topic, status}) {
    render(item, state);
    onReset(() => topic, resyncing(() => `${state.url}state/`, (current) => render(item, current)));
    window.hub.subscribe(topic, (frame) => render(item, frame.data)).then(
      () => { item.dataset.live = "subscribed"; show(status, ""); },
      (error) => show(status, `Live updates unavailable (${error.code}).`),
    );
    window.hub.onFrame("close", (frame) => {
      show(status, frame.reconnecting ? "Connection lost; reconnecting…" : `Disconnected (${frame.code}).`);
    });
    window.hub.onFrame("subscribed", (frame) => { if (frame.topic === topic) show(status, ""); });
  }

  function json(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  window.Jobs = {render, list, detail};

  const page = loader ? loader.dataset.jobsPage : undefined;
  if (page === "list") {
    list({
      list: document.getElementById("jobs"),
      template: document.getElementById("job-template"),
      states: json("job-states"),
      events: json("job-events"),
      empty: document.getElementById("no-jobs"),
      stateUrl: loader.dataset.stateUrl,
    });
  } else if (page === "detail") {
    detail({
      item: document.querySelector(".jobs .job"),
      state: json("job-state"),
      topic: json("job-topic"),
      status: document.getElementById("job-live"),
    });
  }
})();
