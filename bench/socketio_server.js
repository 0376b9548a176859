// The Socket.IO peer: Socket.IO 4.8 on Node with @socket.io/redis-adapter, one process.
//
//     REDIS_URL=redis://... node bench/socketio_server.js PORT
//
// Every socket joins the room "bench" on connect; bench/socketio_publisher.js emits to that
// room from another process through Redis (@socket.io/redis-emitter), as Socket.IO apps do.
"use strict";

const http = require("http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

async function main() {
  const port = Number(process.argv[2]);
  const pub = createClient({ url: process.env.REDIS_URL });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const server = http.createServer();
  const io = new Server(server, { transports: ["websocket"], adapter: createAdapter(pub, sub) });
  io.on("connection", (socket) => socket.join("bench"));
  server.listen(port, "127.0.0.1");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
