/*
 * hub.js: the browser client of the notification hub (protocol: docs/protocol.md).
 * Plain ES2017, no dependencies, no build step. Exposes `window.Hub`.
 *
 *   const hub = Hub.connect();                          // opens ws(s)://<this host>/ws/ at once
 *   hub.subscribe("chat.lobby", (frame) => show(frame)); // events of one topic
 *   hub.on("invoice.paid", (data, frame) => ...);        // events by name, any topic or stream
 *   hub.publish("chat.lobby", "message", {text: "hi"});  // Promise of the "published" frame
 *
 * In Django templates, {% load hub %}{% hub_script %} loads this file and connects window.hub.
 * Hub.connect(options?) -> Hub. options.url: the socket (default: this host's /ws/, wss: on
 *     https pages); options.token: a hub token, sent as ?token=.
 * hub.on(event, fn) -> off(). Calls fn(data, frame) for every event frame named `event`
 *     ("*": every event) from subscribed topics, "user.<id>" and "broadcast.<audience>",
 *     published by the server. Events that a client published (they carry `sender`) reach
 *     only subscribe() callbacks, so no visitor can fake, say, an announcement by name.
 * hub.onFrame(type, fn) -> off(). Calls fn(frame) for every frame of that type ("hello",
 *     "error", ...), and for the local frame {type: "close", code, reason, reconnecting}.
 * hub.subscribe(topic, fn?) -> Promise of the "subscribed" frame; fn(frame) gets each event
 *     of `topic`. Rejects with an Error whose .code is the error frame's code (.frame is it).
 * hub.unsubscribe(topic) -> Promise of the "unsubscribed" frame (null when not connected).
 * hub.publish(topic, event, data) -> Promise of the "published" frame; rejects like subscribe.
 * hub.request(frame) -> Promise of the reply to any other client frame, e.g. an app frame
 *     {type: "inbox.read", ids: [3]} answered by {type: "ok", result: {...}}; rejects like subscribe.
 * hub.state: "connecting" | "open" | "closed".  hub.close(): close for good.
 * hub.lastIds: Map of topic or stream -> id of the last event seen on it. hub.hello: the
 *     last hello frame (hub.hello.user is the user id, or null for a visitor).
 *
 * Requests made while disconnected wait for the connection; each carries a fresh `ref` and
 * is settled by the reply with that ref. After a drop the client reconnects (backoff from
 * 0.5 s doubling to 15 s, full jitter) and resubscribes every topic with `since` set to the
 * last event id seen (the user's stream: ?since= on the URL); the hub replays the gap, or
 * sends {type: "reset", topic} first when it no longer has it (see onFrame). Close codes
 * 4000 (logged out) and 4003 (visitors refused) are final.
 * When the socket drops, requests in flight reject with code "disconnected" (subscribes are
 * sent again instead); after close() or a final close code, with code "closed".
 */
(function () {
  "use strict";

  const FINAL_CLOSE_CODES = [4000, 4003];
  const CLOSE_FLOOD = 4029;
  const MIN_BACKOFF_MS = 500;
  const MAX_BACKOFF_MS = 15000;
  const RATE_LIMITED_RETRY_MS = 1000;

  function defaultUrl() {
    return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws/`;
  }

  function hubError(code, message, frame) {
    const error = new Error(`${code}: ${message}`);
    error.code = code;
    error.frame = frame || null;
    return error;
  }

  function listen(listeners, key, fn) {
    if (!listeners.has(key)) listeners.set(key, new Set());
    listeners.get(key).add(fn);
    return () => listeners.get(key).delete(fn);
  }

  function callEach(fns, ...args) {
    for (const fn of fns ? [...fns] : []) {
      // One broken listener must not starve the others; report its error as uncaught.
      try { fn(...args); } catch (error) { setTimeout(() => { throw error; }); }
    }
  }

  function ignore() {}

  class Hub {
    static connect(options) { return new Hub(options); }

    constructor(options = {}) {
      this.url = options.url || defaultUrl();
      this.token = options.token || null;
      this.state = "connecting";
      this.hello = null;
      this.lastIds = new Map();
      this._topics = new Map(); // topic -> fn(frame) or null
      this._pending = new Map(); // ref -> {frame, sent, resolve, reject}, in request order
      this._events = new Map(); // event name -> Set of fn(data, frame)
      this._frames = new Map(); // frame type -> Set of fn(frame)
      this._ref = 0;
      this._attempt = 0;
      this._socket = null;
      this._retryTimer = null;
      this._beatTimer = null;
      this._heard = false;
      this._open();
    }

    on(event, fn) { return listen(this._events, event, fn); }

    onFrame(type, fn) { return listen(this._frames, type, fn); }

    subscribe(topic, fn) {
      this._topics.set(topic, fn || null);
      return this._subscribe(topic);
    }

    unsubscribe(topic) {
      this._topics.delete(topic);
      this.lastIds.delete(topic); // a later subscribe starts afresh, as the hub does
      for (const [ref, request] of this._pending) {
        if (!request.sent && request.frame.type === "subscribe" && request.frame.topic === topic) {
          this._pending.delete(ref);
          request.reject(hubError("unsubscribed", `unsubscribed from ${topic} before subscribing`));
        }
      }
      if (this.state !== "open") return Promise.resolve(null);
      return this._request({type: "unsubscribe", topic});
    }

    publish(topic, event, data) { return this._request({type: "publish", topic, event, data}); }

    request(frame) { return this._request(Object.assign({}, frame)); }

    close() {
      const socket = this._socket;
      this._socket = null;
      this._stop(hubError("closed", "hub.close() was called"));
      if (socket) socket.close(1000);
    }

    _open() {
      this.state = "connecting";
      const socket = new WebSocket(this._url());
      this._socket = socket;
      // A replaced or abandoned socket may still fire; only the current one counts.
      socket.onmessage = (message) => socket === this._socket && this._receive(message.data);
      socket.onclose = (close) => socket === this._socket && this._closed(close.code, close.reason);
    }

    _url() {
      // The user's own stream resumes from its last event, like subscribed topics do.
      const user = this.hello ? this.hello.user : null;
      const query = new URLSearchParams();
      if (this.token) query.set("token", this.token);
      if (user != null && this.lastIds.has(`user.${user}`)) query.set("since", this.lastIds.get(`user.${user}`));
      const search = query.toString();
      return search ? `${this.url}${this.url.includes("?") ? "&" : "?"}${search}` : this.url;
    }

    _receive(text) {
      let frame;
      try {
        frame = JSON.parse(text);
      } catch (error) {
        console.warn("hub.js: ignored a frame that is not JSON", text);
        return;
      }
      this._heard = true;
      if (frame.type === "hello") this._hello(frame);
      else if (frame.type === "event") this._event(frame);
      else this._reply(frame);
      callEach(this._frames.get(frame.type), frame);
    }

    _hello(frame) {
      this.state = "open";
      this.hello = frame;
      this._attempt = 0;
      // Subscribes go first, so that the hub relays what a queued publish sends to them.
      const queued = [...this._pending.values()];
      const waiting = queued.filter((request) => request.frame.type === "subscribe");
      waiting.forEach((request) => this._send(request));
      const topics = new Set(waiting.map((request) => request.frame.topic));
      for (const topic of this._topics.keys()) {
        if (!topics.has(topic)) this._subscribe(topic).catch(ignore); // onFrame("error") saw why
      }
      queued.filter((request) => request.frame.type !== "subscribe").forEach((request) => this._send(request));
      this._heartbeat(frame.heartbeat);
    }

    _event(frame) {
      if (frame.topic && frame.id) this.lastIds.set(frame.topic, frame.id);
      const fn = this._topics.get(frame.topic);
      if (fn) callEach([fn], frame);
      if ("sender" in frame) return; // published by a client: for its topic's subscribers only
      callEach(this._events.get(frame.event), frame.data, frame);
      callEach(this._events.get("*"), frame.data, frame);
    }

    _reply(frame) {
      let ref = frame.ref;
      if (frame.type === "error" && ref == null) {
        // Errors found before a frame is parsed (rate_limited, too_large) carry no ref. The
        // hub answers every frame once and in order, so this answers the oldest one in flight.
        ref = [...this._pending.keys()].find((key) => this._pending.get(key).sent);
      }
      const request = this._pending.get(ref);
      if (!request) return;
      if (frame.code === "rate_limited" && request.frame.type === "subscribe") {
        // Resubscribing many topics at once can outrun the burst; try that one again later.
        request.sent = false;
        setTimeout(() => {
          if (this.state === "open" && !request.sent && this._pending.has(ref)) this._send(request);
        }, RATE_LIMITED_RETRY_MS);
        return;
      }
      this._pending.delete(ref);
      if (frame.type === "error") request.reject(hubError(frame.code, frame.message, frame));
      else request.resolve(frame);
    }

    _closed(code, reason) {
      clearInterval(this._beatTimer);
      const final = FINAL_CLOSE_CODES.includes(code);
      if (final) {
        this._socket = null;
        this._stop(hubError("closed", `the hub closed the connection (${code})`));
      } else {
        this.state = "connecting";
        for (const [ref, request] of this._pending) {
          if (!request.sent) continue;
          if (request.frame.type === "subscribe") {
            request.sent = false; // sent again on the next connection
          } else {
            this._pending.delete(ref);
            request.reject(hubError("disconnected", "the connection dropped before the hub answered"));
          }
        }
        if (code === CLOSE_FLOOD) this._attempt = Math.max(this._attempt, 5);
        const delay = Math.random() * Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this._attempt);
        this._attempt += 1;
        this._retryTimer = setTimeout(() => this._open(), delay);
      }
      callEach(this._frames.get("close"), {type: "close", code, reason, reconnecting: !final});
    }

    _stop(error) {
      this.state = "closed";
      clearTimeout(this._retryTimer);
      clearInterval(this._beatTimer);
      for (const request of this._pending.values()) request.reject(error);
      this._pending.clear();
    }

    _heartbeat(seconds) {
      clearInterval(this._beatTimer);
      this._heard = true;
      this._beatTimer = setInterval(() => {
        if (!this._heard) {
          // Not even a pong for a whole interval: drop the socket without waiting for its
          // closing handshake, which a dead network would never finish.
          const socket = this._socket;
          this._socket = null;
          socket.close();
          this._closed(1006, "no answer to the heartbeat");
          return;
        }
        this._heard = false;
        this._request({type: "ping"}).catch(ignore);
      }, (seconds || 25) * 1000);
    }

    _subscribe(topic) {
      return this._request({type: "subscribe", topic}).catch((error) => {
        if (error.frame) this._topics.delete(topic); // refused by the hub: do not resubscribe
        throw error;
      });
    }

    _request(frame) {
      if (this.state === "closed") return Promise.reject(hubError("closed", "the hub connection is closed"));
      this._ref += 1;
      frame.ref = this._ref;
      return new Promise((resolve, reject) => {
        const request = {frame, sent: false, resolve, reject};
        this._pending.set(frame.ref, request);
        if (this.state === "open") this._send(request);
      });
    }

    _send(request) {
      const frame = request.frame;
      if (frame.type === "subscribe" && this.lastIds.has(frame.topic)) {
        frame.since = this.lastIds.get(frame.topic);
      }
      request.sent = true;
      this._socket.send(JSON.stringify(frame));
    }
  }

  window.Hub = Hub;
  // Loaded by {% hub_script %} (data-hub-connect): one shared connection as window.hub, no inline script.
  const loader = document.currentScript;
  if (loader && loader.dataset.hubConnect !== undefined && !window.hub) window.hub = Hub.connect();
})();
