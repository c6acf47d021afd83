/**
 * Raw HTTP calls of LangGraph's Agent API against a test engine, as a client other than the SDKs
 * sends them: JSON in, status, headers and parsed body out; runs waited for, streamed, or started
 * in the background and joined.
 */
import assert from "node:assert/strict";

import { readSse, type SseEvent } from "./sse.ts";

export type Json = Record<string, unknown>;

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

export interface AgentClient {
  readonly url: string;
  readonly key: string;
  call(method: string, path: string, options?: { body?: unknown; key?: string }): Promise<Answer>;
}

/** A client whose calls carry `key` (as `x-api-key`, as the SDKs send it) unless a call names another. */
export function agentClient(url: string, key: string): AgentClient {
  return {
    url,
    key,
    async call(method, path, options = {}) {
      const response = await fetch(url + path, {
        method,
        headers: {
          "x-api-key": options.key ?? key,
          ...(options.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text === "" ? null : JSON.parse(text);
      } catch {
        // text/plain answers stay text
      }
      return { status: response.status, body, headers: response.headers };
    },
  };
}

export function ok(answer: Answer, status = 200): Json {
  assert.equal(answer.status, status, JSON.stringify(answer.body).slice(0, 2000));
  return answer.body as Json;
}

export async function register(
  client: AgentClient,
  options: { graphId: string; code: string; language: "python" | "typescript"; key?: string },
): Promise<Json> {
  return ok(
    await client.call("PUT", `/graphs/${options.graphId}`, {
      body: { code: options.code, language: options.language },
      ...(options.key ? { key: options.key } : {}),
    }),
  );
}

export interface RunOptions {
  threadId: string;
  body: Json;
  key?: string;
}

/** `POST /threads/{id}/runs/wait`, the thread created on demand: the run's answer (values, `__error__`, `__interrupt__`). */
export async function runWait(client: AgentClient, { threadId, body, key }: RunOptions): Promise<Json> {
  return ok(
    await client.call("POST", `/threads/${threadId}/runs/wait`, {
      body: { if_not_exists: "create", ...body },
      ...(key ? { key } : {}),
    }),
  );
}

export interface StreamedRun {
  events: SseEvent[];
  runId: string;
}

/** `POST /threads/{id}/runs/stream`: every event, checked to be one metadata first and at most one error, last. */
export async function runStream(client: AgentClient, { threadId, body, key }: RunOptions): Promise<StreamedRun> {
  const read = await readSse(`${client.url}/threads/${threadId}/runs/stream`, {
    body: { if_not_exists: "create", ...body },
    headers: { "x-api-key": key ?? client.key },
  });
  assert.equal(read.status, 200, JSON.stringify(read.events).slice(0, 2000));
  assert.match(read.contentType, /^text\/event-stream/);
  const [first] = read.events;
  assert.equal(first?.event, "metadata", JSON.stringify(read.events.slice(0, 3)));
  const errors = read.events.filter((e) => e.event === "error");
  assert.ok(errors.length <= 1, `${errors.length} error events`);
  if (errors.length === 1) assert.equal(errors[0], read.events.at(-1), "the error event is the last");
  return { events: read.events, runId: String(first.data["run_id"]) };
}

/** `POST /threads/{id}/runs` then `GET .../join`: the run's record and its answer. */
export async function runJoined(client: AgentClient, { threadId, body, key }: RunOptions): Promise<Json> {
  const run = ok(
    await client.call("POST", `/threads/${threadId}/runs`, {
      body: { if_not_exists: "create", ...body },
      ...(key ? { key } : {}),
    }),
  );
  return ok(await client.call("GET", `/threads/${threadId}/runs/${String(run["run_id"])}/join`, key ? { key } : {}));
}

/** The run's record. */
export async function runRecord(client: AgentClient, threadId: string, runId: string): Promise<Json> {
  return ok(await client.call("GET", `/threads/${threadId}/runs/${runId}`));
}
