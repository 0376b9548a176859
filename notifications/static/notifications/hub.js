/*
 * hub.js: the browser client of the notification hub (protocol: docs/protocol.md).
 * Plain ES2017, no dependencies, no build step. Exposes `window.Hub`.
 *
 *   const hub = Hub.connect();                          // connects to ws(s)://<this host>/ws/ at once
 *   hub.subscribe("chat.lobby", (frame) => show(frame)); // events of one topic
 *   hub.on("invoice.paid", (data, frame) => ...);        // events by name, any topic or stream
 *   hub.publish("chat.lobby", "message", {text: "hi"});  // Promise of the "published" frame
 *
 * In Django templates, {% load hub %}{% hub_script %} loads this file and connects window.hub.
 * Hub.connect(options?) -> Hub. options.url: the socket (default: this host's /ws/, wss: on
 *     https pages); options.token: a hub token, sent as the subprotocols hub.v1 and
 *     hub.token.<token> (out of access logs; on Server-Sent Events, ?token= and "Authorization:
 *     Bearer"); options.shared: false keeps the connection in this page (see "One connection
 *     per browser" below).
 * hub.on(event, fn) -> off(). Calls fn(data, frame) for every event frame named `event`
 *     ("*": every event) from subscribed topics, "user.<id>" and "broadcast.<audience>",
 *     published by the server. Events that a client published (they carry `sender`) reach
 *     only subscribe() callbacks, so no visitor can fake, say, an announcement by name.
 * hub.onFrame(type, fn) -> off(). Calls fn(frame) for every frame of that type ("hello",
 *     "error", "reset", ...), and for the local frame {type: "close", code, reason, reconnecting}.
 * hub.subscribe(topic, fn?) -> Promise of the "subscribed" frame; fn(frame) gets each event
 *     of `topic`. Rejects with an Error whose .code is the error frame's code (.frame is it).
 * hub.unsubscribe(topic) -> Promise of the "unsubscribed" frame (null when not connected).
 * hub.publish(topic, event, data) -> Promise of the "published" frame; rejects like subscribe.
 * hub.request(frame) -> Promise of the reply to any other client frame, e.g. an app frame
 *     {type: "inbox.read", ids: [3]} answered by {type: "ok", result: {...}}; rejects like subscribe.
 * hub.onPresence(topic, fn) -> off(). Asks for the presence of a topic declared with presence
 *     (its subscribe then carries presence: true; if already subscribed, it subscribes again
 *     with it) and calls fn({members, visitors}, frame) once the snapshot is in (all its pages)
 *     and on every join, leave and visitors frame after. members: [{id, username}, ...].
 *     Subscribe to the topic as well; presence comes only with the subscription.
 * hub.presence(topic) -> {members, visitors} as known now, or null before the first snapshot.
 * hub.state: "connecting" | "open" | "closed".  hub.close(): close for good (this page only).
 * hub.lastIds: Map of topic or stream -> this page's position on it. hub.hello: the last hello
 *     frame (hub.hello.user is the user id, or null for a visitor).
 *
 * No frame reaches a listener before the page has been parsed (DOMContentLoaded), so the
 * scripts after this one never miss the first hello.
 * Requests made while disconnected wait for the connection; each carries a fresh `ref` and
 * is settled by the reply with that ref. After a drop the client reconnects (backoff from
 * 0.5 s doubling to 15 s, full jitter). Close codes 4000 (logged out), 4001 (credentials
 * dead: password changed, token revoked) and 4003 (visitors refused) are final. A stream the
 * user may no longer read ({type: "unsubscribed", reason: "forbidden"}) is not subscribed
 * again. When the connection drops, requests in flight reject with code
 * "disconnected" (subscribes are sent again instead); after close() or a final close code,
 * with code "closed".
 *
 * Positions: nothing lost from the first frame on. The client holds a position for each stream:
 * hello.positions gives those of the user and broadcast streams, subscribed.position a topic's,
 * and each event's id moves its stream on (the larger is kept; ids compare as two numbers, not as
 * strings). On reconnect the user and broadcast streams resume from the URL's cursor,
 * ?positions=user.7=<id>,broadcast.everyone=<id>, and every topic is subscribed again with `since`
 * set to its position; the hub replays the gap, or sends {type: "reset", topic} first when it no
 * longer has it (see onFrame). An event at or below one already passed on for its stream (a
 * replay after switching transports) is dropped.
 *
 * One connection per browser. Where SharedWorker exists, the connection lives in hub-worker.js
 * (beside this file), shared by the tabs of this origin that load this same hub.js with the same
 * url, token and CSRF cookie: the worker's name is a digest of them, and Django's login changes
 * the CSRF cookie, so pages of a new session get a connection of their own. Every tab gets the
 * user and broadcast streams and hello, reset and close frames; a topic's events and frames reach
 * only the tabs subscribed to it (the worker subscribes to the union, and unsubscribes a topic
 * once no tab wants it); a reply reaches only the tab that asked (the worker gives each request
 * a ref of its own and maps the reply back). The latest event of a topic the hub retains
 * (dashboards, jobs) is handed to a tab that subscribes after the first one. A tab says goodbye
 * on pagehide and on hub.close(), which detaches that tab only; the worker drops a tab that stops
 * answering its pings (30 s), and a tab that notices re-attaches and gets a "reset" for every
 * stream that moved on while it was away (so does a page back from the back/forward cache).
 * Close 4000, 4001 and 4003 end it for every tab. Presence: the worker asks the hub for a topic's
 * presence once (subscribe with presence: true, again after each reconnect), keeps the members and
 * visitors from the presence, join, leave and visitors frames, and hands them to a tab that
 * subscribes later as one presence frame. Each page keeps a connection of its own when
 * there is no SharedWorker, when hub.js is not a same-origin <script src>, when the page's
 * WebSocket is not the browser's own (a test's or an extension's stand-in, which a worker would
 * bypass), with options.shared false, or when the worker does not start.
 *
 * Server-Sent Events. When the websocket cannot open (two attempts in a row that never reached
 * "open": a proxy that answers the upgrade with an HTTP error, a network that blocks it), the
 * client reads the hub from an EventSource on /hub/sse/ of the same host, with ?topic= for each
 * topic and, once it holds positions, ?last_event_id= with the cursor of all of them. Its frames
 * go as POST /hub/sse/<hello.connection>/ (JSON body, X-CSRFToken from the csrftoken cookie,
 * which a worker gets from its tabs), one at a time and in order; replies come on the stream. It
 * reopens a failed stream itself (same backoff, current topics and positions) rather than letting
 * EventSource retry with stale ones (a stream that fails before hello is asked once why: the
 * hub's 403 for a bad token or a refused visitor is final, as 4001 or 4003 would be on a
 * websocket), and tries a websocket again every 30-60 s (jittered), switching back, and closing
 * the stream, once one says hello. hub.state, callbacks, requests and the worker behave the
 * same on both transports.
 */
(function (scope) {
  "use strict";

  const FINAL_CLOSE_CODES = [4000, 4001, 4003];
  // Why /hub/sse/ refused a stream (403 {"error": ...}), as the websocket's close code.
  const STREAM_REFUSALS = {invalid_token: 4001, anonymous_refused: 4003};
  const CLOSE_FLOOD = 4029;
  const MIN_BACKOFF_MS = 500;
  const MAX_BACKOFF_MS = 15000;
  const RATE_LIMITED_RETRY_MS = 1000;
  const FAILED_OPENS_BEFORE_SSE = 2;
  const WEBSOCKET_RETRY_MS = 30000; // on Server-Sent Events, a websocket is tried every 30-60 s
  const SSE_PATH = "/hub/sse/";
  const PORT_CHECK_MS = 10000; // the worker pings its tabs this often...
  const PORT_MISSES = 3; // ...and drops one that missed this many in a row
  const ATTACH_TIMEOUT_MS = 10000; // a worker silent that long is tried once more, then given up
  const PRESENCE_FRAMES = ["presence", "join", "leave", "visitors"];

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

  function backoff(attempt) {
    return Math.random() * Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** attempt);
  }

  // Event ids are "<ms>-<seq>", each up to 19 digits: compare them as numbers, not strings.
  function compareNumbers(a, b) {
    const x = a.replace(/^0+(?=\d)/, ""), y = b.replace(/^0+(?=\d)/, "");
    return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
  }

  function compareIds(a, b) {
    const [am, as = "0"] = String(a).split("-"), [bm, bs = "0"] = String(b).split("-");
    return Math.sign(compareNumbers(am, bm) || compareNumbers(as, bs));
  }

  function advance(positions, stream, id) {
    if (!positions.has(stream) || compareIds(id, positions.get(stream)) > 0) positions.set(stream, id);
  }

  function presenceState() {
    return {members: new Map(), visitors: 0, pages: null, ready: false};
  }

  /**
   * Apply a presence frame to `state`; true when what it holds changed. A snapshot (presence
   * frames, `page` of `pages`) replaces it once its last page is in; join, leave and visitors
   * before the first snapshot are ignored (the snapshot includes them).
   */
  function applyPresence(state, frame) {
    if (frame.type === "presence") {
      if (frame.page === 1 || !state.pages) state.pages = [];
      for (const member of frame.members || []) state.pages.push(member);
      if (frame.page < frame.pages) return false;
      state.members = new Map(state.pages.map((member) => [member.id, member]));
      state.pages = null;
      state.visitors = frame.visitors;
      state.ready = true;
      return true;
    }
    if (!state.ready) return false;
    if (frame.type === "join") state.members.set(frame.member.id, frame.member);
    else if (frame.type === "leave") state.members.delete(frame.member.id);
    else if (frame.type === "visitors") state.visitors = frame.count;
    return true;
  }

  function presenceView(state) {
    return state && state.ready ? {members: [...state.members.values()], visitors: state.visitors} : null;
  }

  function encodeCursor(entries) {
    return entries.map(([stream, id]) => `${stream}=${id}`).join(",");
  }

  function cookie(name) {
    if (typeof document === "undefined") return null;
    const match = document.cookie.match(new RegExp(`(?:^|;\\s*)${name}=([^;]*)`));
    return match ? decodeURIComponent(match[1]) : null;
  }

  function csrfToken() {
    const token = cookie("csrftoken");
    if (token || typeof document === "undefined") return token;
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : null;
  }

  function digest(text) {
    let hash = 0x811c9dc5; // FNV-1a: names a worker without showing the token or cookie in it
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
    return hash.toString(16).padStart(8, "0");
  }

  function nativeWebSocket() {
    try {
      return /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(WebSocket));
    } catch (error) {
      return false;
    }
  }

  /*
   * Connection: one link to the hub (a websocket, or Server-Sent Events and POSTs), with the
   * positions, the topics to keep subscribed and the requests in flight. It calls
   * emit(frame, request) for every frame, `request` being the request it answers (or null),
   * and for the local close frame. Its owner is a Relay, in the page or in the shared worker.
   */
  class Connection {
    constructor(options, emit) {
      this.url = options.url || defaultUrl();
      this.token = options.token || null;
      this.csrf = options.csrf || csrfToken;
      this.emit = emit;
      this.state = "connecting";
      this.hello = null;
      this.transport = null; // "websocket" or "sse" once open
      this.lastIds = new Map(); // stream -> position
      this.topics = new Set(); // topics to keep subscribed
      this.presence = new Map(); // topic whose presence is wanted -> its state (presenceState())
      this._seen = new Map(); // stream -> id of the last event passed on
      this._reset = new Set(); // streams whose next event is taken whatever its id
      this._pending = new Map(); // ref -> {frame, owner, sent, viaUrl, done, resolve, reject}, in request order
      this._ref = 0;
      this._attempt = 0;
      this._failedOpens = 0; // websocket attempts in a row that never opened
      this._sse = false;
      this._link = null; // {kind: "websocket", socket, opened} or {kind: "sse", source, topics, connection, posts}
      this._probe = null; // a websocket tried while on Server-Sent Events
      this._retryTimer = null;
      this._probeTimer = null;
      this._beatTimer = null;
      this._heard = false;
      this.seed(options.lastIds || []);
      this._open();
    }

    /** Positions that a tab brings before this connection has said hello: resume from the earliest. */
    seed(entries) {
      if (this.hello) return;
      for (const [stream, id] of entries) {
        if (!this.lastIds.has(stream) || compareIds(id, this.lastIds.get(stream)) < 0) this.lastIds.set(stream, id);
      }
    }

    isStanding(stream) {
      const hello = this.hello;
      if (!hello || typeof stream !== "string") return false;
      if (hello.positions) return Object.prototype.hasOwnProperty.call(hello.positions, stream);
      return stream === `user.${hello.user}` || stream.startsWith("broadcast."); // a hub without positions
    }

    subscribe(topic, owner, presence) {
      this.topics.add(topic);
      if (presence && !this.presence.has(topic)) this.presence.set(topic, presenceState());
      return this._subscribe(topic, owner, false);
    }

    /** The presence this connection holds of `topic`, as one presence frame, or null. */
    presenceFrame(topic) {
      const view = presenceView(this.presence.get(topic));
      return view && {type: "presence", topic, members: view.members, visitors: view.visitors, page: 1, pages: 1};
    }

    unsubscribe(topic, owner) {
      this.topics.delete(topic);
      this.presence.delete(topic);
      this.lastIds.delete(topic); // a later subscribe starts afresh, as the hub does
      this._seen.delete(topic);
      for (const [ref, request] of this._pending) {
        if (!request.sent && request.frame.type === "subscribe" && request.frame.topic === topic) {
          this._forget(ref).reject(hubError("unsubscribed", `unsubscribed from ${topic} before subscribing`));
        }
      }
      if (this.state !== "open") return Promise.resolve(null);
      return this._request({type: "unsubscribe", topic}, owner);
    }

    request(frame, owner) { return this._request(frame, owner); }

    close() {
      const link = this._link;
      this._link = null;
      this._stop(hubError("closed", "hub.close() was called"));
      if (link) closeLink(link, 1000);
    }

    // --- links ---

    _open() {
      this.state = "connecting";
      if (this._sse) this._openStream();
      else this._link = this._openSocket();
    }

    _openSocket() {
      const link = {kind: "websocket", socket: null, opened: false};
      let socket;
      try {
        const protocols = this.token ? ["hub.v1", `hub.token.${this.token.replace(/:/g, ".")}`] : undefined;
        socket = new WebSocket(this._socketUrl(), protocols);
      } catch (error) {
        // Refused at once (a content security policy, a bad url): a failed open all the same.
        setTimeout(() => this._linkClosed(link, 1006, String(error)));
        return link;
      }
      link.socket = socket;
      socket.onopen = () => { link.opened = true; };
      socket.onmessage = (message) => {
        if (link === this._probe) this._promote(link);
        if (link !== this._link) return;
        // Asked for with ?batch=1: a message may carry several frames, one per line.
        for (const text of message.data.split("\n")) {
          if (link !== this._link) break;  // closed by a handler of an earlier frame of this batch
          this._receive(link, text);
        }
      };
      socket.onclose = (close) => this._linkClosed(link, close.code, close.reason);
      return link;
    }

    _openStream() {
      const link = {kind: "sse", source: null, topics: [...this.topics], connection: null, posts: Promise.resolve()};
      this._link = link;
      const url = this._streamUrl(link.topics);
      const source = new EventSource(url);
      link.source = source;
      source.onmessage = (message) => link === this._link && this._receive(link, message.data);
      source.onerror = () => {
        // Not EventSource's own retry, which would reopen the old url: reopen with today's topics.
        source.close();
        if (link !== this._link) return;
        if (link.connection) this._linkClosed(link, 1006, "the event stream failed");
        else this._refusal(url).then((code) => this._linkClosed(link, code || 1006, "the event stream did not open"));
      };
      this._scheduleProbe();
    }

    /** Ask the hub why a stream did not open: the close code of a final refusal, or null. */
    _refusal(url) {
      if (typeof fetch !== "function" || typeof AbortController !== "function") return Promise.resolve(null);
      const abort = new AbortController();
      return fetch(url, {credentials: "same-origin", signal: abort.signal}).then((response) => {
        if (response.status !== 403) {
          abort.abort(); // it opens now: the next attempt will do
          return null;
        }
        return response.json().then((answer) => STREAM_REFUSALS[answer.error] || null, () => null);
      }, () => null);
    }

    _socketUrl() {
      const query = new URLSearchParams({batch: "1"});
      // Topics resume through subscribe's `since`; the streams joined on connect through the cursor.
      const cursor = encodeCursor([...this.lastIds].filter(([stream]) => !this.topics.has(stream)));
      if (cursor) query.set("positions", cursor);
      return `${this.url}${this.url.includes("?") ? "&" : "?"}${query}`;
    }

    _httpUrl(path) {
      const url = new URL(this.url, location.href);
      url.protocol = url.protocol === "wss:" || url.protocol === "https:" ? "https:" : "http:";
      url.pathname = path;
      url.search = url.hash = "";
      return url;
    }

    _streamUrl(topics) {
      const url = this._httpUrl(SSE_PATH);
      if (this.token) url.searchParams.set("token", this.token);
      for (const topic of topics) url.searchParams.append("topic", topic);
      const cursor = encodeCursor([...this.lastIds]);
      if (cursor) url.searchParams.set("last_event_id", cursor);
      return url.href;
    }

    _scheduleProbe() {
      if (this._probeTimer || this._probe || !this._sse || this.state === "closed") return;
      this._probeTimer = setTimeout(() => {
        this._probeTimer = null;
        if (this._sse && this.state !== "closed") this._probe = this._openSocket();
      }, WEBSOCKET_RETRY_MS * (1 + Math.random()));
    }

    /** A websocket tried while on Server-Sent Events said hello: it takes over, the stream closes. */
    _promote(link) {
      const old = this._link;
      this._probe = null;
      this._link = link;
      this._sse = false;
      this._failedOpens = 0;
      clearTimeout(this._retryTimer);
      clearInterval(this._beatTimer);
      if (old) closeLink(old, 1000);
      this._requeue();
      this.state = "connecting";
    }

    _linkClosed(link, code, reason) {
      if (link === this._probe) {
        this._probe = null;
        if (!FINAL_CLOSE_CODES.includes(code)) {
          this._scheduleProbe();
          return;
        }
        // The hub refuses this client outright (4003), which a stream learns only as an HTTP error.
        if (this._link) closeLink(this._link, 1000);
        this._link = link;
      }
      if (link !== this._link) return; // replaced or abandoned: only the current link counts
      this._link = null;
      if (link.kind === "websocket") this._failedOpens = link.opened ? 0 : this._failedOpens + 1;
      clearInterval(this._beatTimer);
      const final = FINAL_CLOSE_CODES.includes(code);
      if (final) {
        this._stop(hubError("closed", `the hub closed the connection (${code})`));
      } else {
        this.state = "connecting";
        this._requeue();
        if (code === CLOSE_FLOOD) this._attempt = Math.max(this._attempt, 5);
        let delay = backoff(this._attempt);
        this._attempt += 1;
        if (!this._sse && this._failedOpens >= FAILED_OPENS_BEFORE_SSE && typeof EventSource === "function") {
          this._sse = true; // the websocket cannot get through: Server-Sent Events, at once
          delay = 0;
        }
        this._retryTimer = setTimeout(() => this._open(), delay);
      }
      this.emit({type: "close", code, reason, reconnecting: !final}, null);
    }

    _requeue() {
      for (const [ref, request] of this._pending) {
        if (!request.sent) continue;
        request.viaUrl = false;
        if (request.frame.type === "subscribe") {
          request.sent = false; // sent again on the next connection
        } else {
          this._forget(ref).reject(hubError("disconnected", "the connection dropped before the hub answered"));
        }
      }
    }

    _stop(error) {
      this.state = "closed";
      clearTimeout(this._retryTimer);
      clearTimeout(this._probeTimer);
      clearInterval(this._beatTimer);
      if (this._probe) closeLink(this._probe, 1000);
      this._probe = null;
      for (const ref of [...this._pending.keys()]) this._forget(ref).reject(error);
    }

    // --- frames in ---

    _receive(link, text) {
      let frame;
      try {
        frame = JSON.parse(text);
      } catch (error) {
        console.warn("hub.js: ignored a frame that is not JSON", text);
        return;
      }
      if (!frame || typeof frame !== "object") return;
      this._heard = true;
      if (frame.type === "close") {
        // Server-Sent Events end with this frame where a websocket would close with the code.
        closeLink(link, 1000);
        this._linkClosed(link, frame.code, frame.reason || "");
        return;
      }
      if (frame.type === "hello") {
        this._hello(link, frame);
        this.emit(frame, null);
      } else if (frame.type === "event") {
        if (this._event(frame)) this.emit(frame, null);
      } else {
        if (frame.type === "reset" && frame.topic) this._reset.add(frame.topic);
        if (frame.type === "unsubscribed" && frame.reason && frame.ref == null) {
          // The user lost the right to read this stream: never subscribe it again.
          this.topics.delete(frame.topic);
          this.presence.delete(frame.topic);
          this.lastIds.delete(frame.topic);
          this._seen.delete(frame.topic);
        }
        if (PRESENCE_FRAMES.includes(frame.type) && this.presence.has(frame.topic)) {
          applyPresence(this.presence.get(frame.topic), frame);
        }
        if (frame.type === "subscribed" && frame.position && this.topics.has(frame.topic)) {
          advance(this.lastIds, frame.topic, frame.position);
        }
        const answered = this._settle(frame);
        if (answered.length) answered.forEach((request) => this.emit(frame, request));
        else this.emit(frame, null);
      }
    }

    _hello(link, frame) {
      this.state = "open";
      this.hello = frame;
      this.transport = link.kind;
      link.connection = frame.connection;
      this._attempt = 0;
      for (const [stream, id] of Object.entries(frame.positions || {})) advance(this.lastIds, stream, id);
      // A new connection: each presence is asked for again (the resubscribes below carry presence: true).
      for (const state of this.presence.values()) state.ready = false;
      // On Server-Sent Events the hub subscribes the url's topics itself and answers with ref null.
      const inUrl = new Set(link.kind === "sse" ? link.topics : []);
      const queued = [...this._pending.values()];
      const subscribes = queued.filter((request) => request.frame.type === "subscribe");
      // Subscribes go first, so that the hub relays what a queued publish sends to them.
      for (const request of subscribes) {
        if (inUrl.has(request.frame.topic)) request.sent = request.viaUrl = true;
        else this._send(request);
      }
      const asked = new Set(subscribes.map((request) => request.frame.topic));
      for (const topic of this.topics) {
        if (!asked.has(topic)) this._subscribe(topic, null, inUrl.has(topic)).catch(ignore); // onFrame("error") saw why
      }
      for (const topic of inUrl) {
        if (!this.topics.has(topic)) this._request({type: "unsubscribe", topic}, null).catch(ignore);
        // The url cannot ask for presence: a subscribe by POST does (the hub answers subscribed again, then it).
        else if (this.presence.has(topic)) this._request({type: "subscribe", topic}, null).catch(ignore);
      }
      queued.filter((request) => request.frame.type !== "subscribe").forEach((request) => this._send(request));
      this._heartbeat(frame.heartbeat);
    }

    /** Move the stream's position on; false for an event already passed on (a replay). */
    _event(frame) {
      const stream = frame.topic, id = frame.id;
      if (!stream || !id) return true;
      if (this._reset.delete(stream)) {
        this.lastIds.set(stream, id); // after a reset, what follows is all the hub has: take it as it is
      } else {
        const seen = this._seen.get(stream);
        if (seen && compareIds(id, seen) <= 0) return false;
        advance(this.lastIds, stream, id);
      }
      this._seen.set(stream, id);
      return true;
    }

    /** Settle the requests `frame` answers, and return them. */
    _settle(frame) {
      let requests = [];
      const exact = frame.ref != null ? this._pending.get(frame.ref) : null;
      if (exact) {
        requests = [exact];
      } else if (frame.ref == null && (frame.type === "subscribed" || frame.type === "error")) {
        // The url's topics are answered in order, before anything posted; errors found before a
        // frame is parsed (rate_limited, too_large) answer the oldest frame in flight.
        const inUrl = [...this._pending.values()].filter((request) => request.viaUrl);
        const topic = frame.type === "subscribed" ? frame.topic : inUrl.length ? inUrl[0].frame.topic : null;
        requests = inUrl.filter((request) => request.frame.topic === topic);
        if (!requests.length && frame.type === "error") {
          const oldest = [...this._pending.values()].find((request) => request.sent);
          if (oldest) requests = [oldest];
        }
      }
      for (const request of requests) {
        const ref = request.frame.ref;
        if (frame.code === "rate_limited" && request.frame.type === "subscribe") {
          // Resubscribing many topics at once can outrun the burst; try that one again later.
          request.sent = request.viaUrl = false;
          setTimeout(() => {
            if (this.state === "open" && !request.sent && this._pending.has(ref)) this._send(request);
          }, RATE_LIMITED_RETRY_MS);
          continue;
        }
        this._forget(ref);
        if (frame.type === "error") request.reject(hubError(frame.code, frame.message, frame));
        else request.resolve(frame);
      }
      return requests;
    }

    // --- frames out ---

    _heartbeat(seconds) {
      clearInterval(this._beatTimer);
      this._heard = true;
      this._beatTimer = setInterval(() => {
        if (!this._heard) {
          // Not even a pong for a whole interval: drop the link without waiting for its closing
          // handshake, which a dead network would never finish.
          const link = this._link;
          if (link) {
            closeLink(link, 1000);
            this._linkClosed(link, 1006, "no answer to the heartbeat");
          }
          return;
        }
        this._heard = false;
        this._request({type: "ping"}, null).catch(ignore);
      }, (seconds || 25) * 1000);
    }

    _subscribe(topic, owner, inUrl) {
      return this._request({type: "subscribe", topic}, owner, inUrl).catch((error) => {
        if (error.frame) this.topics.delete(topic); // refused by the hub: do not resubscribe
        throw error;
      });
    }

    _request(frame, owner, inUrl) {
      if (this.state === "closed") return Promise.reject(hubError("closed", "the hub connection is closed"));
      this._ref += 1;
      frame.ref = this._ref;
      return new Promise((resolve, reject) => {
        const request = {frame, owner, sent: false, viaUrl: false, done: false, resolve, reject};
        this._pending.set(frame.ref, request);
        if (inUrl) request.sent = request.viaUrl = true;
        else if (this.state === "open") this._send(request);
      });
    }

    _forget(ref) {
      const request = this._pending.get(ref);
      this._pending.delete(ref);
      request.done = true;
      return request;
    }

    _send(request) {
      const frame = request.frame;
      if (frame.type === "subscribe") {
        if (this.lastIds.has(frame.topic)) frame.since = this.lastIds.get(frame.topic);
        else delete frame.since;
        // Presence is asked for until a snapshot is in; later subscribes get it from the relay.
        const presence = this.presence.get(frame.topic);
        if (presence && !presence.ready) frame.presence = true;
        else delete frame.presence;
      }
      request.sent = true;
      if (this._link.kind === "websocket") this._link.socket.send(JSON.stringify(frame));
      else this._post(this._link, request);
    }

    _post(link, request) {
      // One POST at a time: the hub answers frames in the order they arrive, as on a websocket.
      // (Per stream: a POST that never ends holds up only its own stream, which the heartbeat drops.)
      const body = JSON.stringify(request.frame);
      link.posts = link.posts.then(() => {
        if (link !== this._link || request.done) return undefined; // dropped meanwhile: requeued or rejected
        const headers = {"Content-Type": "application/json"};
        if (this.token) headers.Authorization = `Bearer ${this.token}`;
        else headers["X-CSRFToken"] = (typeof this.csrf === "function" ? this.csrf() : this.csrf) || "";
        const url = this._httpUrl(`${SSE_PATH}${encodeURIComponent(link.connection)}/`);
        return fetch(url.href, {method: "POST", body, headers, credentials: "same-origin"}).then((response) => {
          if (response.ok || request.done) return undefined;
          if (response.status === 404 && link === this._link) {
            // The hub no longer knows this stream (its server went away): open another.
            closeLink(link, 1000);
            this._linkClosed(link, 1006, "the hub does not know this event stream");
            return undefined;
          }
          return response.json().catch(() => ({})).then((answer) => {
            if (request.done) return;
            const code = answer.error || `http_${response.status}`;
            this._forget(request.frame.ref).reject(hubError(code, answer.message || `POST refused (HTTP ${response.status})`));
          });
        }, (error) => {
          if (link !== this._link) return;
          closeLink(link, 1000); // the network failed under the POST: the stream is no better
          this._linkClosed(link, 1006, `POST failed: ${error.message}`);
        });
      });
    }
  }

  function closeLink(link, code) {
    if (link.kind === "sse") link.source && link.source.close();
    else if (link.socket) link.socket.close(code);
  }

  /*
   * Relay: the tabs (ports) of one Connection. Used by the shared worker for all the tabs of the
   * browser, and by a page that keeps its connection to itself, for that one page.
   * Tab -> relay messages: attach {options, csrf, lastIds}, subscribe {ref, topic, presence},
   * unsubscribe {ref, topic}, request {ref, frame}, pong, detach (each may carry csrf).
   * Relay -> tab: attached, frame {frame, refused?}, fail {ref, code, message}, result {ref},
   * ping, unknown (the relay does not know the tab: attach again).
   */
  class Relay {
    constructor() {
      this.ports = new Map(); // tab id -> {id, post, topics, missed}
      this.conn = null;
      this.csrf = null;
      this._floors = new Map(); // topic -> position of a subscribe sent without since
      this._retained = new Map(); // topic the hub retains -> its latest event frame (or null)
    }

    receive(id, message, post) {
      if (message.kind === "attach") {
        this._attach(id, message, post);
        return;
      }
      const port = this.ports.get(id);
      if (!port) {
        if (message.kind !== "detach") post({kind: "unknown"});
        return;
      }
      port.missed = 0;
      if (message.csrf) this.csrf = message.csrf;
      if (message.kind === "subscribe") this._subscribe(port, message);
      else if (message.kind === "unsubscribe") this._unsubscribe(port, message);
      else if (message.kind === "request") this._request(port, message);
      else if (message.kind === "detach") this.detach(id);
    }

    /** Ping every tab; drop those that missed PORT_MISSES pings in a row (closed, frozen, crashed). */
    check() {
      for (const port of [...this.ports.values()]) {
        if (port.missed >= PORT_MISSES) this.detach(port.id);
        else {
          port.missed += 1;
          port.post({kind: "ping"});
        }
      }
    }

    detach(id) {
      const port = this.ports.get(id);
      if (!port) return;
      this.ports.delete(id);
      if (!this.ports.size) {
        if (this.conn) this.conn.close();
        this.conn = null;
        this._floors.clear();
        this._retained.clear();
        return;
      }
      for (const topic of port.topics) {
        if (!this._wanted(topic)) {
          this._drop(topic);
          this.conn.unsubscribe(topic, null).catch(ignore);
        }
      }
    }

    _attach(id, message, post) {
      const old = this.ports.get(id); // the same tab again (back from the cache, or dropped): keep its topics
      const port = {id, post, topics: old ? old.topics : new Set(), presence: old ? old.presence : new Set(), missed: 0};
      this.ports.set(id, port);
      if (message.csrf) this.csrf = message.csrf;
      if (!this.conn) {
        const csrf = () => this.csrf || csrfToken();
        const options = Object.assign({}, message.options, {csrf, lastIds: message.lastIds});
        this.conn = new Connection(options, (frame, request) => this._route(frame, request));
      }
      const conn = this.conn;
      conn.seed(message.lastIds || []);
      post({kind: "attached"});
      if (conn.state === "open") post({kind: "frame", frame: this._hello()});
      if (!conn.hello) return;
      // Events of a stream that moved on while the tab was away are not kept here: say so.
      for (const [stream, id] of message.lastIds || []) {
        const current = conn.lastIds.get(stream);
        if (current && compareIds(current, id) > 0 && (conn.isStanding(stream) || conn.topics.has(stream))) {
          post({kind: "frame", frame: {type: "reset", topic: stream}});
        }
      }
    }

    _hello() {
      // A tab that attaches later starts from the positions the connection holds now.
      const hello = Object.assign({}, this.conn.hello);
      hello.positions = {};
      for (const stream of Object.keys(this.conn.hello.positions || {})) {
        hello.positions[stream] = this.conn.lastIds.get(stream) || this.conn.hello.positions[stream];
      }
      return hello;
    }

    _subscribe(port, message) {
      const {topic, ref} = message;
      port.topics.add(topic);
      if (message.presence) port.presence.add(topic);
      this.conn.subscribe(topic, {id: port.id, ref}, Boolean(message.presence)).catch((error) => {
        if (error.frame) port.topics.delete(topic);
        else this._fail(port.id, ref, error);
      });
    }

    _unsubscribe(port, message) {
      const {topic, ref} = message;
      port.topics.delete(topic);
      port.presence.delete(topic);
      if (this._wanted(topic)) {
        if (ref != null) port.post({kind: "frame", frame: {type: "unsubscribed", topic, ref}});
        return;
      }
      this._drop(topic);
      this.conn.unsubscribe(topic, {id: port.id, ref}).then((frame) => {
        if (frame === null && ref != null) port.post({kind: "result", ref});
      }, (error) => { if (!error.frame) this._fail(port.id, ref, error); });
    }

    _request(port, message) {
      const frame = Object.assign({}, message.frame);
      this.conn.request(frame, {id: port.id, ref: message.ref}).catch((error) => {
        if (!error.frame) this._fail(port.id, message.ref, error);
      });
    }

    _fail(id, ref, error) {
      const port = this.ports.get(id);
      if (port && ref != null) port.post({kind: "fail", ref, code: error.code, message: error.message});
    }

    _wanted(topic) {
      for (const port of this.ports.values()) if (port.topics.has(topic)) return true;
      return false;
    }

    _drop(topic) {
      this._floors.delete(topic);
      this._retained.delete(topic);
    }

    _route(frame, request) {
      const owner = request && request.owner;
      if (frame.type === "subscribed" && request && !request.viaUrl && request.frame.since === undefined && frame.position) {
        // Sent without since: an event at or below this position that follows is the hub's
        // replay of a retained topic, which later tabs will not get from the hub.
        this._floors.set(frame.topic, frame.position);
      }
      if (frame.type === "event") this._remember(frame);
      if (owner) {
        const port = this.ports.get(owner.id);
        if (!port) return; // the tab has gone
        // A rate-limited subscribe is still pending (sent again later): the tab sees the error only.
        port.post({kind: "frame", frame: Object.assign({}, frame, {ref: request.done ? owner.ref : null})});
        // The hub replays a retained topic's latest event to the connection's first subscriber
        // only; later tabs get it from here (the hub's own replay, if any, is dropped as seen).
        const latest = this._retained.get(frame.topic);
        if (frame.type === "subscribed" && latest) port.post({kind: "frame", frame: latest});
        // A subscribe that did not ask the hub for presence: the tab gets the presence held here.
        if (frame.type === "subscribed" && !request.frame.presence && port.presence.has(frame.topic)) {
          const held = this.conn.presenceFrame(frame.topic);
          if (held) port.post({kind: "frame", frame: held});
        }
        return;
      }
      const message = {kind: "frame", frame};
      if (frame.type === "hello") {
        this.ports.forEach((port) => port.post({kind: "frame", frame: this._hello()}));
      } else if (frame.type === "close") {
        this.ports.forEach((port) => port.post(message));
        if (!frame.reconnecting) {
          // Final (logged out, visitors refused): every tab is told; a tab that attaches later
          // gets a connection of its own.
          this.ports.clear();
          this.conn = null;
        }
      } else if (frame.topic !== undefined) {
        // Events, resets, and the answers to the relay's own resubscribes: the tabs they concern.
        const everyone = this.conn && this.conn.isStanding(frame.topic);
        for (const port of this.ports.values()) if (everyone || port.topics.has(frame.topic)) port.post(message);
        if (frame.type === "unsubscribed" && frame.reason) {
          this.ports.forEach((port) => port.topics.delete(frame.topic)); // the hub left it for everyone
          this._drop(frame.topic);
        }
      } else if (frame.type === "error" && request && request.frame.type === "subscribe") {
        // A resubscribe the hub refused: the tabs that wanted the topic stop wanting it.
        const topic = request.frame.topic;
        for (const port of this.ports.values()) {
          if (port.topics.delete(topic)) port.post({kind: "frame", frame, refused: topic});
        }
      } else if (frame.type === "error" && !request) {
        this.ports.forEach((port) => port.post(message));
      }
      // Anything else without an owner answers the relay's own requests (ping, unsubscribe): no tab's business.
    }

    _remember(frame) {
      const topic = frame.topic;
      if (this._floors.has(topic)) {
        if (frame.id && compareIds(frame.id, this._floors.get(topic)) <= 0) this._retained.set(topic, null);
        this._floors.delete(topic);
      }
      if (this._retained.has(topic)) this._retained.set(topic, frame);
    }
  }

  /** The shared worker's side: one Relay for every tab that connects (hub-worker.js calls this). */
  function serveWorker(worker) {
    const relay = new Relay();
    worker.onconnect = (event) => {
      const port = event.ports[0];
      let id = null;
      const post = (message) => port.postMessage(message);
      port.onmessage = (message) => {
        const data = message.data || {};
        if (data.kind === "attach") id = data.tab;
        if (id !== null) relay.receive(id, data, post);
        if (data.kind === "detach") port.close();
      };
      port.start();
    };
    setInterval(() => relay.check(), PORT_CHECK_MS);
  }

  // The <script src> of this file, for the worker's url (read while this script runs).
  const loader = typeof document !== "undefined" ? document.currentScript : null;
  const scriptUrl = loader && loader.src ? loader.src : null;

  function workerUrl() {
    if (!scriptUrl || typeof SharedWorker !== "function" || !nativeWebSocket()) return null;
    const script = new URL(scriptUrl, location.href);
    if (script.origin !== location.origin) return null; // a worker must come from the page's origin
    const url = new URL("hub-worker.js", script);
    url.searchParams.set("hub", script.pathname + script.search); // this very hub.js, as deployed
    return url.href;
  }

  /*
   * Hub: the page's side. Its messages go to a Relay in a shared worker (through a MessagePort)
   * or in this page, and its requests carry refs of its own.
   */
  class Hub {
    static connect(options) { return new Hub(options); }

    constructor(options = {}) {
      this.url = options.url || defaultUrl();
      this.token = options.token || null;
      this.state = "connecting";
      this.hello = null;
      this.lastIds = new Map();
      this._topics = new Map(); // topic -> fn(frame) or null
      this._pending = new Map(); // ref -> {message, resolve, reject}, in request order
      this._events = new Map(); // event name -> Set of fn(data, frame)
      this._frames = new Map(); // frame type -> Set of fn(frame)
      this._seen = new Map(); // stream -> id of the last event passed to listeners
      this._presence = new Map(); // topic -> {state: presenceState(), listeners: Set of fn(view, frame)}
      this._ref = 0;
      this._tab = Math.random().toString(36).slice(2) + Date.now().toString(36);
      this._worker = options.shared === false ? null : workerUrl();
      this._link = null;
      this._acked = false;
      this._tries = 0;
      this._heardAt = Date.now();
      this._attachTimer = null;
      this._watchTimer = null;
      this._held = null; // messages from the relay while the page is still loading
      this._attach();
      if (typeof addEventListener === "function") {
        addEventListener("pagehide", () => this._detach());
        addEventListener("pageshow", (event) => {
          if (event.persisted && this.state !== "closed") this._reattach("back from the back/forward cache");
        });
      }
    }

    on(event, fn) { return listen(this._events, event, fn); }

    onFrame(type, fn) { return listen(this._frames, type, fn); }

    onPresence(topic, fn) {
      let entry = this._presence.get(topic);
      if (!entry) {
        entry = {state: presenceState(), listeners: new Set()};
        this._presence.set(topic, entry);
        // Subscribed already without presence: subscribe again, asking for it.
        if (this._topics.has(topic) && this.state !== "closed") this._post({kind: "subscribe", topic, ref: null, presence: true});
      }
      entry.listeners.add(fn);
      const view = presenceView(entry.state);
      if (view) Promise.resolve().then(() => entry.listeners.has(fn) && callEach([fn], view, null));
      return () => entry.listeners.delete(fn);
    }

    presence(topic) {
      const entry = this._presence.get(topic);
      return entry ? presenceView(entry.state) : null;
    }

    subscribe(topic, fn) {
      this._topics.set(topic, fn || null);
      return this._ask({kind: "subscribe", topic, presence: this._presence.has(topic)}).catch((error) => {
        if (error.frame) this._topics.delete(topic); // refused by the hub: do not resubscribe
        throw error;
      });
    }

    unsubscribe(topic) {
      this._topics.delete(topic);
      this.lastIds.delete(topic);
      this._seen.delete(topic);
      if (this._presence.has(topic)) this._presence.get(topic).state = presenceState(); // listeners stay
      for (const [ref, request] of this._pending) {
        if (request.message.kind === "subscribe" && request.message.topic === topic) {
          this._pending.delete(ref);
          request.reject(hubError("unsubscribed", `unsubscribed from ${topic} before subscribing`));
        }
      }
      if (this.state !== "open") {
        if (this.state !== "closed") this._post({kind: "unsubscribe", topic, ref: null});
        return Promise.resolve(null);
      }
      return this._ask({kind: "unsubscribe", topic});
    }

    publish(topic, event, data) { return this._ask({kind: "request", frame: {type: "publish", topic, event, data}}); }

    request(frame) { return this._ask({kind: "request", frame: Object.assign({}, frame)}); }

    close() {
      if (this.state === "closed") return;
      this._detach();
      this._stop(hubError("closed", "hub.close() was called"));
    }

    // --- the link to the relay ---

    _attach() {
      this._acked = false;
      this._heardAt = Date.now();
      const post = (message) => this._fromRelay(message);
      if (this._worker) {
        try {
          const name = `hub:${digest([this.url, this.token || "", cookie("csrftoken") || ""].join("\n"))}`;
          const worker = new SharedWorker(this._worker, {name});
          const port = worker.port;
          port.onmessage = (event) => link === this._link && post(event.data || {});
          worker.onerror = () => link === this._link && this._workerFailed(true); // its script did not load
          port.start();
          const link = {post: (message) => port.postMessage(message), close: () => port.close()};
          this._link = link;
        } catch (error) {
          console.warn("hub.js: no shared worker, this page keeps its own connection:", error);
          this._worker = null;
        }
      }
      if (!this._worker) {
        const relay = new Relay();
        const link = {
          post: (message) => relay.receive(this._tab, message, (reply) => link === this._link && post(reply)),
          close: ignore,
        };
        this._link = link;
      }
      this._post({kind: "attach", tab: this._tab, options: {url: this.url, token: this.token}, lastIds: [...this.lastIds]});
      if (this._worker) {
        clearTimeout(this._attachTimer);
        this._attachTimer = setTimeout(() => this._workerFailed(false), ATTACH_TIMEOUT_MS);
        if (!this._watchTimer) this._watchTimer = setInterval(() => this._watch(), PORT_CHECK_MS);
      }
      // Everything asked and not answered yet, and every topic, goes to the new relay.
      const asked = new Set();
      for (const [ref, request] of this._pending) {
        this._post(Object.assign({}, request.message, {ref}));
        if (request.message.kind === "subscribe") asked.add(request.message.topic);
      }
      for (const topic of this._topics.keys()) {
        if (!asked.has(topic)) this._post({kind: "subscribe", topic, ref: null, presence: this._presence.has(topic)});
      }
    }

    _detach() {
      const link = this._link;
      this._link = null;
      clearTimeout(this._attachTimer);
      if (link) {
        link.post({kind: "detach"});
        link.close();
      }
    }

    /** Attach again (to the worker, or to a relay in this page): a reconnect, as the page sees it. */
    _reattach(reason) {
      const acked = this._acked;
      this._detach();
      if (acked) {
        for (const [ref, request] of this._pending) {
          if (request.message.kind === "subscribe") continue;
          this._pending.delete(ref); // it may or may not have reached the hub
          request.reject(hubError("disconnected", `${reason} before the hub answered`));
        }
      }
      if (this.state === "open") {
        this.state = "connecting";
        callEach(this._frames.get("close"), {type: "close", code: 1001, reason, reconnecting: true});
      }
      this._attach();
    }

    _workerFailed(broken) {
      if (this.state === "closed" || !this._worker) return;
      this._tries += 1;
      if (broken || this._tries >= 2) {
        console.warn("hub.js: the shared worker did not start or answer; this page keeps its own connection");
        this._worker = null;
      }
      this._reattach("the shared worker did not answer");
    }

    _watch() {
      if (this.state === "closed" || !this._worker || !this._link || !this._acked) return;
      // The worker pings every PORT_CHECK_MS; silence this long means it dropped us (we were frozen).
      if (Date.now() - this._heardAt > PORT_CHECK_MS * (PORT_MISSES + 1)) this._reattach("lost the shared worker");
    }

    _post(message) {
      if (!this._link) return;
      message.csrf = csrfToken();
      this._link.post(message);
    }

    _ask(message) {
      if (this.state === "closed") return Promise.reject(hubError("closed", "the hub connection is closed"));
      this._ref += 1;
      const ref = this._ref;
      return new Promise((resolve, reject) => {
        this._pending.set(ref, {message, resolve, reject});
        this._post(Object.assign({}, message, {ref}));
      });
    }

    _fromRelay(message) {
      if (typeof document !== "undefined" && document.readyState === "loading") {
        // A worker that is connected already answers at once, maybe between two of the page's
        // scripts: hold its frames until every script of the page has registered its listeners.
        if (!this._held) {
          this._held = [];
          document.addEventListener("DOMContentLoaded", () => {
            const held = this._held;
            this._held = null;
            held.forEach((queued) => this._fromRelay(queued));
          }, {once: true});
        }
        this._held.push(message);
        return;
      }
      this._heardAt = Date.now();
      if (message.kind === "ping") this._post({kind: "pong"});
      else if (message.kind === "attached") {
        clearTimeout(this._attachTimer);
        this._acked = true;
        this._tries = 0;
      } else if (message.kind === "unknown") {
        if (this.state !== "closed") this._reattach("the shared worker had dropped this page");
      } else if (message.kind === "fail") {
        this._settle(message.ref, hubError(message.code, message.message), null);
      } else if (message.kind === "result") {
        this._settle(message.ref, null, null);
      } else if (message.kind === "frame") {
        this._receive(message.frame, message.refused);
      }
    }

    _receive(frame, refused) {
      if (this.state === "closed") return;
      if (frame.type === "event") {
        if (!this._event(frame)) return;
      } else if (frame.type === "hello") {
        this._hello(frame);
      } else if (frame.type === "close") {
        this._closed(frame);
      } else {
        if (frame.type === "reset") this._seen.delete(frame.topic);
        if (refused) this._topics.delete(refused);
        if (frame.type === "unsubscribed" && frame.reason && frame.ref == null) {
          this._topics.delete(frame.topic); // no longer the user's to read
          this.lastIds.delete(frame.topic);
          if (this._presence.has(frame.topic)) this._presence.get(frame.topic).state = presenceState();
        }
        if (PRESENCE_FRAMES.includes(frame.type)) this._presenceFrame(frame);
        if (frame.type === "subscribed" && frame.position && this._topics.has(frame.topic)) {
          advance(this.lastIds, frame.topic, frame.position);
        }
        if (frame.ref != null) this._reply(frame);
      }
      callEach(this._frames.get(frame.type), frame);
    }

    _presenceFrame(frame) {
      const entry = this._presence.get(frame.topic);
      if (entry && applyPresence(entry.state, frame)) callEach(entry.listeners, presenceView(entry.state), frame);
    }

    _hello(frame) {
      this.state = "open";
      this.hello = frame;
      for (const [stream, id] of Object.entries(frame.positions || {})) advance(this.lastIds, stream, id);
    }

    _event(frame) {
      const stream = frame.topic, id = frame.id;
      if (stream && id) {
        const seen = this._seen.get(stream);
        if (seen && compareIds(id, seen) <= 0) return false; // passed on already
        this._seen.set(stream, id);
        advance(this.lastIds, stream, id);
      }
      const fn = this._topics.get(stream);
      if (fn) callEach([fn], frame);
      if ("sender" in frame) return true; // published by a client: for its topic's subscribers only
      callEach(this._events.get(frame.event), frame.data, frame);
      callEach(this._events.get("*"), frame.data, frame);
      return true;
    }

    _reply(frame) {
      const request = this._pending.get(frame.ref);
      if (!request) return;
      if (frame.type === "error") {
        if (request.message.kind === "subscribe") this._topics.delete(request.message.topic);
        this._settle(frame.ref, hubError(frame.code, frame.message, frame), null);
      } else {
        this._settle(frame.ref, null, frame);
      }
    }

    _settle(ref, error, frame) {
      const request = this._pending.get(ref);
      if (!request) return;
      this._pending.delete(ref);
      if (error) request.reject(error);
      else request.resolve(frame);
    }

    _closed(frame) {
      if (frame.reconnecting) {
        this.state = "connecting";
        return;
      }
      this._detach();
      this._stop(hubError("closed", `the hub closed the connection (${frame.code})`));
    }

    _stop(error) {
      this.state = "closed";
      clearTimeout(this._attachTimer);
      clearInterval(this._watchTimer);
      for (const request of this._pending.values()) request.reject(error);
      this._pending.clear();
    }
  }

  Hub._serveWorker = serveWorker; // for hub-worker.js
  scope.Hub = Hub;
  // Loaded by {% hub_script %} (data-hub-connect): one shared connection as window.hub, no inline script.
  if (loader && loader.dataset.hubConnect !== undefined && !scope.hub) scope.hub = Hub.connect();
})(typeof window !== "undefined" ? window : self);
