// Publisher of the Socket.IO peer: emits numbered "tick" events to the room "bench" through
// Redis with @socket.io/redis-emitter. Prints a JSON line with the per-call cost, as
// bench/publisher.py does.
//
//     REDIS_URL=redis://... node bench/socketio_publisher.js EVENTS RATE   (RATE 0: as fast as possible)
"use strict";

const { Emitter } = require("@socket.io/redis-emitter");
const { createClient } = require("redis");

async function main() {
  const events = Number(process.argv[2]);
  const rate = Number(process.argv[3] || 0);
  const client = createClient({ url: process.env.REDIS_URL });
  await client.connect();
  const emitter = new Emitter(client);
  const costs = [];
  const start = performance.now();
  for (let seq = 0; seq < events; seq++) {
    if (rate) {
      const delay = start + (seq * 1000) / rate - performance.now();
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
    const began = performance.now();
    emitter.to("bench").emit("tick", { seq, sent: Date.now() / 1000 });
    await client.ping(); // the emit is fire-and-forget: a round trip makes its cost comparable
    costs.push(performance.now() - began);
  }
  costs.sort((a, b) => a - b);
  console.log(JSON.stringify({ median_ms: costs[Math.floor(costs.length / 2)], p99_ms: costs[Math.floor(costs.length * 0.99)] }));
  await client.quit();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
