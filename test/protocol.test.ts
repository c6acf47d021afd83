import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { SOURCE_ROOT } from "../src/contract/paths.ts";

import { encodeFrame, FrameDecoder, FrameTooLargeError } from "../src/contract/protocol/framing.ts";
import { parseHarnessMessage, PROTOCOL_VERSION, ProtocolError } from "../src/contract/protocol/messages.ts";

test("frames split across and within chunks come out whole", () => {
  const bytes = Buffer.concat([encodeFrame({ a: 1 }), encodeFrame({ b: "ü".repeat(10) }), encodeFrame({ c: [] })]);
  const decoder = new FrameDecoder(1024);
  const frames: unknown[] = [];
  for (let i = 0; i < bytes.length; i += 3)
    frames.push(...decoder.push(bytes.subarray(i, i + 3)).map((f) => JSON.parse(f.toString())));
  assert.deepEqual(frames, [{ a: 1 }, { b: "ü".repeat(10) }, { c: [] }]);
});

test("a frame over the limit is refused from its header, before it is buffered", () => {
  const decoder = new FrameDecoder(100);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(1_000_000_000);
  assert.throws(() => decoder.push(header), FrameTooLargeError);
});

test("harness messages are checked field by field", () => {
  const ok = parseHarnessMessage(Buffer.from(JSON.stringify({ v: 1, type: "node_start", node: "a", step: 1 })));
  assert.equal(ok.type, "node_start");
  const bad = [
    "not json",
    JSON.stringify([1]),
    JSON.stringify({ v: 2, type: "ready", runtime: "python", versions: {} }),
    JSON.stringify({ v: 1, type: "launch_missiles" }),
    JSON.stringify({
      v: 1,
      type: "usage",
      model: "m",
      node: null,
      input_tokens: -1,
      output_tokens: 0,
      total_tokens: 0,
    }),
    JSON.stringify({
      v: 1,
      type: "result",
      status: "success",
      messages: [],
      state: [],
      next: [],
      interrupts: [],
      checkpoint_id: null,
    }),
  ];
  for (const text of bad) assert.throws(() => parseHarnessMessage(Buffer.from(text)), ProtocolError, text);
});

test("the harnesses speak the engine's one protocol version", () => {
  // The version is declared once, in src/contract/protocol/messages.ts. The JavaScript harness's
  // constant is typed as it (tsc fails when they differ); Python has no such check, so it is read here.
  const python = readFileSync(join(SOURCE_ROOT, "runtimes/python/harness/graphbox_harness/protocol.py"), "utf8");
  const js = readFileSync(join(SOURCE_ROOT, "runtimes/js/harness/channel.mjs"), "utf8");
  assert.equal(Number(/^VERSION = (\d+)$/m.exec(python)?.[1]), PROTOCOL_VERSION);
  assert.equal(Number(/^export const PROTOCOL_VERSION = (\d+);$/m.exec(js)?.[1]), PROTOCOL_VERSION);
});
