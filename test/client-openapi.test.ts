/**
 * The client and the engine agree: every route the client calls is in the engine's /openapi.json,
 * packages/client/src/generated.ts is what that document gives (scripts/client-openapi.ts), and
 * the client's hand-written types are the engine's own (checked by tsc, below).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";

import type { ERRORS, ErrorCode as EngineErrorCode, ErrorType as EngineErrorType } from "../src/contract/errors.ts";
import { EVENT_TYPES, type ExecutionEvent, type ExecutionOutcome, type TerminalEvent } from "../src/contract/types.ts";
import type { ExecuteBody } from "../src/http/schemas.ts";
import { ERRORS as CATALOGUE } from "../src/contract/errors.ts";
import { GENERATED_FILE, renderClientTypes, type OpenApiDocument } from "../scripts/client-openapi.ts";
import {
  ERROR_CODES,
  ROUTES,
  STREAM_EVENT_NAMES,
  type ErrorCode,
  type ErrorType,
  type EventData,
  type ExecuteRequest,
  type ExecuteResponse,
  type Message,
} from "../packages/client/src/index.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";

let engine: RunningEngine;
let doc: OpenApiDocument & { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> };
before(async () => {
  engine = await startEngine();
  doc = (await (await fetch(`${engine.url}/openapi.json`)).json()) as typeof doc;
});
after(async () => engine.close());

test("every route the client calls is in the engine's OpenAPI, with the path parameters it fills", () => {
  for (const [name, { method, path }] of Object.entries(ROUTES)) {
    const operation = doc.paths[path]?.[method.toLowerCase()];
    assert.ok(operation, `${name}: ${method} ${path} is not in /openapi.json`);
    const pathParams = (operation.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
    assert.deepEqual(
      pathParams,
      [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]),
      `${name}'s path parameters`,
    );
    // Under /api too: the client works behind a proxy that routes /api to the engine (all but the
    // operations' health and readiness, which answer at the root only).
    if (name !== "health" && name !== "ready")
      assert.ok(doc.paths[`/api${path}`]?.[method.toLowerCase()], `${name}: ${method} /api${path}`);
  }
});

test("generated.ts is what the engine's OpenAPI gives (node --import tsx scripts/client-openapi.ts)", async () => {
  assert.equal(await renderClientTypes(doc), readFileSync(GENERATED_FILE, "utf8"));
});

test("the stream takes the same body as execute, and both streams name the engine's events", () => {
  const body = (path: string) => JSON.stringify((doc.paths[path]?.["post"] as { requestBody?: unknown }).requestBody);
  assert.equal(body(ROUTES.stream.path), body(ROUTES.execute.path));
  assert.deepEqual([...STREAM_EVENT_NAMES], [...EVENT_TYPES]);
  assert.deepEqual([...ERROR_CODES], Object.keys(CATALOGUE).sort());
});

// tsc checks these: each pair must be assignable both ways, or `true` is not a `false`.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** The engine types a result's messages as unknown[]; the contract gives their shape, which the client types. */
type WithMessages<T> = T extends { result: infer R }
  ? Omit<T, "result"> & { result: Omit<R, "messages"> & { messages: Message[] } }
  : T;
type Event<E extends string> = WithMessages<Extract<ExecutionEvent | TerminalEvent, { type: E }>>;
const agreements: {
  request: Same<ExecuteRequest, ExecuteBody>;
  response: Same<ExecuteResponse, WithMessages<ExecutionOutcome>>;
  errorCode: Same<ErrorCode, EngineErrorCode>;
  errorCodes: Same<ErrorCode, keyof typeof ERRORS>;
  errorType: Same<ErrorType, EngineErrorType>;
  events: { [E in Exclude<keyof EventData, "chunk">]: Same<EventData[E], Event<E>> };
} = {
  request: true,
  response: true,
  errorCode: true,
  errorCodes: true,
  errorType: true,
  events: {
    metadata: true,
    node_start: true,
    update: true,
    node_end: true,
    token: true,
    custom: true,
    interrupt: true,
    complete: true,
    error: true,
  },
};

test("the client's request, answer, error and event types are the engine's (checked by tsc)", () => {
  assert.ok(Object.values(agreements.events).every(Boolean) && agreements.request && agreements.response);
});
