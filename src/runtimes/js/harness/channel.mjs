// @ts-check
// Framed JSON messages on the engine's channel (fd 3). Mirrors src/contract/protocol/messages.ts and
// the Python harness's protocol.py: a 4-byte big-endian length, then UTF-8 JSON.
//
// Writes are synchronous so that an event reaches the engine before the program's next line
// runs: a node that then blocks the event loop (a busy loop) has still been reported as started.
import { readSync, writeSync } from "node:fs";

/** @typedef {import("./types.js").JobMessage | import("./types.js").ResponseMessage} EngineMessage */

/** @type {import("./types.d.ts").ProtocolVersion} */
export const PROTOCOL_VERSION = 1;
const CHANNEL_FD = 3;
const HEADER_BYTES = 4;
const MAX_JOB_BYTES = 64 * 1024 * 1024;
/** Made on first use: a startup snapshot is built where SharedArrayBuffer and Atomics do not exist yet. @type {Int32Array | null} */
let retry = null;

/** Sleeps this thread briefly: the fd is blocking as the engine creates it, but a sandbox may hand over a non-blocking one. */
function pause() {
  retry ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(retry, 0, 0, 2);
}

/** The engine refused a request (e.g. a checkpoint operation on a thread it does not allow). */
export class EngineRequestError extends Error {
  name = "EngineRequestError";
}

/** @param {unknown} err */
const wouldBlock = (err) => /** @type {NodeJS.ErrnoException | null | undefined} */ (err)?.code === "EAGAIN";

export class Channel {
  /** @param {number} fd */
  constructor(fd = CHANNEL_FD) {
    this.fd = fd;
    this.nextRequest = 0;
  }

  /**
   * Sends a request and blocks until the engine answers it. The engine answers requests in order
   * and sends nothing else after the job, so the next frame is the answer; blocking keeps two
   * requests from interleaving (this thread is the only one that uses the channel).
   * @param {string} type
   * @param {Record<string, unknown>} fields
   * @returns {unknown}
   */
  request(type, fields) {
    this.nextRequest += 1;
    const requestId = this.nextRequest;
    this.send(type, { request_id: requestId, ...fields });
    const answer = this.receive();
    if (answer?.type !== "response" || answer.request_id !== requestId) {
      throw new EngineRequestError(`unexpected answer from the engine: ${String(answer?.type)}`);
    }
    if (!answer.ok) throw new EngineRequestError(answer.error || "the engine refused the request");
    return answer.value;
  }

  /**
   * Sends one message; `fields` must be JSON-safe already (see serialize.mjs).
   * @param {string} type
   * @param {Record<string, unknown>} fields
   */
  send(type, fields = {}) {
    const payload = Buffer.from(JSON.stringify({ v: PROTOCOL_VERSION, type, ...fields }), "utf8");
    const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
    frame.writeUInt32BE(payload.length, 0);
    payload.copy(frame, HEADER_BYTES);
    let offset = 0;
    while (offset < frame.length) {
      try {
        offset += writeSync(this.fd, frame, offset, frame.length - offset);
      } catch (err) {
        if (!wouldBlock(err)) throw err;
        pause();
      }
    }
  }

  /**
   * Blocks until the engine's next message arrives.
   * @returns {EngineMessage}
   */
  receive() {
    const size = this.readExactly(HEADER_BYTES).readUInt32BE(0);
    if (size > MAX_JOB_BYTES) throw new Error(`frame of ${size} bytes is over the limit`);
    const message = JSON.parse(this.readExactly(size).toString("utf8"));
    if (message?.v !== PROTOCOL_VERSION) {
      throw new Error(`engine speaks protocol version ${String(message?.v)}, harness speaks ${PROTOCOL_VERSION}`);
    }
    return message;
  }

  /** @param {number} size */
  readExactly(size) {
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      let read;
      try {
        read = readSync(this.fd, buffer, offset, size - offset, null);
      } catch (err) {
        if (!wouldBlock(err)) throw err;
        pause();
        continue;
      }
      if (read === 0) throw new Error("engine closed the channel");
      offset += read;
    }
    return buffer;
  }
}
