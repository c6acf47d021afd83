// @ts-check
// Carries the program's plain HTTP on 127.0.0.1:<port> to the engine's gateway socket. Mirrors
// the Python harness's bridge.py.
//
// Inside the sandbox there is no network but loopback, and the gateway is a Unix socket bound in
// at GRAPHBOX_GATEWAY_SOCKET. LLM clients only speak TCP, so this forwards each connection, byte
// for byte in both directions, to that socket. It parses nothing: the gateway checks everything.
import { connect, createServer } from "node:net";

/**
 * @param {import("node:net").Socket} client
 * @param {string} socketPath
 */
function serve(client, socketPath) {
  const upstream = connect({ path: socketPath, allowHalfOpen: true });
  // Each side's end is passed on (half-close), so each sees the other finish; an error drops both,
  // and the client sees a dropped connection, as with a gateway that is down.
  const drop = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", drop);
  upstream.on("error", drop);
  client.pipe(upstream);
  upstream.pipe(client);
}

/**
 * Listens on 127.0.0.1:port (the sandbox's own loopback) until the process ends.
 * @param {string} socketPath
 * @param {number} port
 * @returns {Promise<void>}
 */
export function startBridge(socketPath, port) {
  const server = createServer({ allowHalfOpen: true }, (client) => serve(client, socketPath));
  // The listener alone must not keep the process alive (main.mjs relies on Node noticing when
  // nothing is left to wait for); an open connection does, as any pending request would.
  server.unref();
  return new Promise(
    /** @type {(resolve: () => void, reject: (err: Error) => void) => void} */ (resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port }, () => resolve());
    },
  );
}
