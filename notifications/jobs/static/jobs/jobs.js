/*
 * jobs.js: shows job states (the one shape of tasks/state.py) and keeps them live over the
 * page's one socket, window.hub. Exposes `window.Jobs`.
 *
 * Jobs.list({list, template, states, events, empty?}): "my jobs". Renders `states`, then applies
 *     every job event of the user's own stream (they arrive without subscribing), adding new jobs
 *     on top (and hiding the `empty` element).
 * Jobs.detail({item, state, topic, status}): one job. Renders `state` at once, then subscribes
 *     to the job's topic (retained: the latest state comes first) and sets item.dataset.live to
 *     "subscribed" once it is.
 * Each state carries a `version`; an item never shows an older state over a newer one.
 */
(function () {
  "use strict";

  const FINAL = ["succeeded", "failed", "cancelled"];

  function number(value) {
    return Number(value).toLocaleString("en-US");
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
    show(part(item, "eta"), state.eta_seconds == null ? "" : `about ${number(state.eta_seconds)} s left`);
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

  function list({list, template, states, events, empty}) {
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
    list.dataset.live = "listening";
  }

  function detail({item, state, topic, status}) {
    render(item, state);
    window.hub.subscribe(topic, (frame) => render(item, frame.data)).then(
      () => { item.dataset.live = "subscribed"; show(status, ""); },
      (error) => show(status, `Live updates unavailable (${error.code}).`),
    );
    window.hub.onFrame("close", (frame) => {
      show(status, frame.reconnecting ? "Connection lost; reconnecting…" : `Disconnected (${frame.code}).`);
    });
    window.hub.onFrame("subscribed", (frame) => { if (frame.topic === topic) show(status, ""); });
  }

  window.Jobs = {render, list, detail};
})();
