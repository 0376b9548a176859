/*
 * hub-worker.js: the SharedWorker that holds the one hub connection of a browser's tabs.
 * hub.js starts it as hub-worker.js?hub=<the path of hub.js itself> (so that a worker runs
 * the hub.js its pages loaded, hashed name and all), named after the connection's url, token
 * and CSRF cookie; all the logic lives in hub.js (see "One connection per browser" there).
 */
/* global importScripts */
(function () {
  "use strict";

  const hub = new URL(new URL(location.href).searchParams.get("hub") || "hub.js", location.href);
  if (hub.origin !== location.origin) throw new Error(`hub-worker.js: hub.js must come from ${location.origin}`);
  importScripts(hub.href);
  self.Hub._serveWorker(self);
})();
