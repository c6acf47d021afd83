/**
 * A malicious harness on the real protocol: random, truncated, oversized, deeply nested,
 * wrong-typed, out-of-order and flooding frames, written to a real socketpair that the engine's
 * ChannelReader reads. Property-based (fast-check): whatever arrives, the reader delivers only
 * messages that fit the schema, or faults once with a reason, and never throws into the engine.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import fc from "fast-check";

import { encodeFrame } from "../src/contract/protocol/framing.ts";
import { parseHarnessMessage, ProtocolError, type HarnessMessage } from "../src/contract/protocol/messages.ts";
import { MAX_JSON_DEPTH, MAX_NAME_CHARS } from "../src/contract/protocol/schema.ts";
import { ChannelReader, type ChannelFault } from "../src/sandbox/channel.ts";

const frameOf = (text: string): Buffer => {
  const payload = Buffer.from(text, "utf8");
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
};

/** Feeds bytes straight into a reader over an in-process socket stand-in: the decoding and parsing paths, fast. */
async function readAll(
  chunks: Buffer[],
  maxFrameBytes = 1 << 20,
): Promise<{ messages: HarnessMessage[]; faults: ChannelFault[] }> {
  const { Duplex } = await import("node:stream");
  const messages: HarnessMessage[] = [];
  const faults: ChannelFault[] = [];
  const socket = new Duplex({
    read() {},
    write(_c, _e, cb) {
      cb();
    },
  });
  new ChannelReader(socket, maxFrameBytes, {
    onMessage: (m) => void messages.push(m),
    onFault: (f) => void faults.push(f),
  });
  for (const chunk of chunks) socket.push(chunk);
  await new Promise((r) => setImmediate(r));
  return { messages, faults };
}

const VALID: unknown[] = [
  { v: 1, type: "ready", runtime: "python", versions: { langgraph: "1.0" } },
  { v: 1, type: "node_start", node: "a", step: 1 },
  { v: 1, type: "node_end", node: "a", step: 1, duration_ms: 2.5, status: "ok" },
  { v: 1, type: "update", data: { a: { x: 1 } } },
  { v: 1, type: "token", node: null, content: "hi" },
  { v: 1, type: "custom", data: [1, { b: 2 }] },
  { v: 1, type: "debug", data: { step: 1 } },
  { v: 1, type: "usage", model: "m", node: "a", input_tokens: 1, output_tokens: 2, total_tokens: 3 },
  { v: 1, type: "checkpoint", request_id: 1, op: "get_tuple", args: {} },
  { v: 1, type: "result", status: "success", messages: [], state: {}, next: [], interrupts: [], checkpoint_id: null },
  { v: 1, type: "error", error_type: "program_error", error: "boom", node: null, traceback: "" },
];

/** Any JSON value, and the valid messages with one field replaced by one. */
const jsonValue = fc.jsonValue({ maxDepth: 4 });
const mutated = fc
  .tuple(fc.constantFrom(...VALID), fc.string({ maxLength: 12 }), jsonValue)
  .map(([base, field, value]) => {
    const copy = { ...(base as Record<string, unknown>) };
    const keys = Object.keys(copy);
    copy[keys.length > 0 && field.length % 2 === 0 ? keys[field.length % keys.length]! : field] = value;
    return copy;
  });

test("every valid message of each type is accepted, and comes back rebuilt from its declared fields only", () => {
  for (const message of VALID) {
    const parsed = parseHarnessMessage(
      Buffer.from(JSON.stringify({ ...(message as object), extra: "dropped", __proto__: { polluted: true } })),
    );
    assert.equal(parsed.type, (message as { type: string }).type);
    assert.equal(Object.hasOwn(parsed, "extra"), false);
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  }
});

test("property: a frame of any JSON either parses into a message of its schema or is refused with a ProtocolError", () => {
  fc.assert(
    fc.property(fc.oneof(jsonValue, mutated), (value) => {
      try {
        const message = parseHarnessMessage(Buffer.from(JSON.stringify(value)));
        assert.equal(message.v, 1);
        switch (message.type) {
          case "node_start":
          case "node_end":
            assert.equal(typeof message.node, "string");
            assert.ok(Number.isSafeInteger(message.step) && message.step >= 0);
            break;
          case "update":
            assert.ok(message.data instanceof Map);
            break;
          case "usage":
            for (const n of [message.input_tokens, message.output_tokens, message.total_tokens])
              assert.ok(Number.isSafeInteger(n) && n >= 0);
            break;
          case "result":
            assert.ok(Array.isArray(message.next) && message.next.every((n) => typeof n === "string"));
            break;
          default:
            break;
        }
      } catch (err: unknown) {
        assert.ok(err instanceof ProtocolError, `not a ProtocolError: ${String(err)}`);
      }
    }),
    { numRuns: 2000, seed: 12 },
  );
});

test("property: random bytes, cut anywhere, give valid messages or one fault, and the reader never throws", async () => {
  const frames = fc.array(
    fc.oneof(
      fc.constantFrom(...VALID).map((m) => encodeFrame(m)),
      mutated.map((m) => encodeFrame(m)),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 40 }).map(frameOf),
    ),
    { maxLength: 12 },
  );
  await fc.assert(
    fc.asyncProperty(frames, fc.array(fc.nat(200), { maxLength: 6 }), async (parts, cuts) => {
      const bytes = Buffer.concat(parts);
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let last = 0;
      for (const p of points) (chunks.push(bytes.subarray(last, p)), (last = p));
      chunks.push(bytes.subarray(last));
      const { messages, faults } = await readAll(
        chunks.filter((c) => c.length > 0),
        4096,
      );
      assert.ok(faults.length <= 1, "at most one fault: the channel is broken after it");
      for (const m of messages) assert.ok(typeof m.type === "string");
    }),
    { numRuns: 500, seed: 7 },
  );
});

test("a frame nested deeper than the limit is refused before it is parsed, 200,000 levels included", async () => {
  for (const depth of [MAX_JSON_DEPTH + 1, 200_000]) {
    const deep = `{"v":1,"type":"custom","data":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    assert.throws(() => parseHarnessMessage(Buffer.from(deep)), /nested deeper than 256 levels/);
  }
  const { messages, faults } = await readAll(
    [frameOf(`{"v":1,"type":"custom","data":${"[".repeat(200_000)}${"]".repeat(200_000)}}`)],
    1 << 20,
  );
  assert.deepEqual(messages, []);
  assert.equal(faults[0]?.kind, "protocol");
  // Brackets inside strings are text, not nesting.
  const text = parseHarnessMessage(
    Buffer.from(JSON.stringify({ v: 1, type: "token", node: null, content: "[".repeat(10_000) + '\\"{' })),
  );
  assert.equal(text.type, "token");
  const ok = `{"v":1,"type":"custom","data":${"[".repeat(MAX_JSON_DEPTH - 1)}${"]".repeat(MAX_JSON_DEPTH - 1)}}`;
  assert.equal(parseHarnessMessage(Buffer.from(ok)).type, "custom");
});

test("program-chosen names stay data: __proto__, constructor and type as node and model names", () => {
  const update = parseHarnessMessage(
    Buffer.from('{"v":1,"type":"update","data":{"__proto__":{"input_tokens":1},"constructor":2,"type":3}}'),
  );
  assert.ok(update.type === "update");
  assert.deepEqual([...update.data.keys()], ["__proto__", "constructor", "type"]);
  assert.equal(({} as Record<string, unknown>)["input_tokens"], undefined);
  const usage = parseHarnessMessage(
    Buffer.from(
      '{"v":1,"type":"usage","model":"__proto__","node":"constructor","input_tokens":1,"output_tokens":1,"total_tokens":2}',
    ),
  );
  assert.ok(usage.type === "usage" && usage.model === "__proto__");
  assert.throws(
    () =>
      parseHarnessMessage(
        Buffer.from(JSON.stringify({ v: 1, type: "node_start", node: "n".repeat(MAX_NAME_CHARS + 1), step: 1 })),
      ),
    /longer than 1024/,
  );
  for (const bad of [{ step: -1 }, { step: 1.5 }, { step: "1" }, { step: 2 ** 60 }]) {
    assert.throws(
      () => parseHarnessMessage(Buffer.from(JSON.stringify({ v: 1, type: "node_start", node: "a", ...bad }))),
      ProtocolError,
    );
  }
});

test("an oversized frame is an output_limit fault from its header alone", async () => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(0xffffffff);
  const { faults } = await readAll([header], 1024);
  assert.equal(faults[0]?.kind, "output_limit");
});

test("backpressure: a request being answered holds the channel: one in flight, in order, whatever the harness pipelines", async () => {
  const { Duplex } = await import("node:stream");
  const socket = new Duplex({
    read() {},
    write(_c, _e, cb) {
      cb();
    },
  });
  let inFlight = 0;
  let most = 0;
  const seen: number[] = [];
  new ChannelReader(socket, 1 << 20, {
    onMessage: (message) => {
      if (message.type !== "checkpoint") return;
      seen.push(message.request_id);
      most = Math.max(most, ++inFlight);
      return new Promise<void>((resolve) => setTimeout(() => (inFlight--, resolve()), 1));
    },
    onFault: (fault) => assert.fail(fault.message),
  });
  socket.push(
    Buffer.concat(
      Array.from({ length: 64 }, (_, i) =>
        encodeFrame({ v: 1, type: "checkpoint", request_id: i + 1, op: "get_tuple", args: {} }),
      ),
    ),
  );
  const deadline = Date.now() + 10_000;
  while (seen.length < 64 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(most, 1, "never more than one request in flight");
  assert.deepEqual(
    seen,
    Array.from({ length: 64 }, (_, i) => i + 1),
  );
});

test("backpressure: a harness that never reads its answers gets one answer buffered, and the rest of its requests wait unread", async () => {
  const { Duplex } = await import("node:stream");
  let written = 0;
  let pendingWrite: (() => void) | null = null;
  // A peer that accepts 1 MiB and then never reads again (its callback is never called).
  const socket = new Duplex({
    read() {},
    highWaterMark: 1 << 16,
    write(chunk: Buffer, _e, cb) {
      written += chunk.length;
      if (written < 1 << 20) cb();
      else pendingWrite = cb;
    },
  });
  let handled = 0;
  new ChannelReader(socket, 1 << 20, {
    onMessage: (message) => {
      if (message.type !== "checkpoint") return;
      handled += 1;
      socket.write(
        encodeFrame({ v: 1, type: "response", request_id: message.request_id, ok: true, value: "y".repeat(15 << 20) }),
      );
    },
    onFault: (fault) => assert.fail(fault.message),
  });
  for (let i = 1; i <= 64; i++)
    socket.push(encodeFrame({ v: 1, type: "checkpoint", request_id: i, op: "get_tuple", args: {} }));
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.equal(handled, 1, "the second request is not read while the first answer is unread");
  assert.ok(pendingWrite !== null);
});
