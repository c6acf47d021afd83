/**
 * LangGraph's run routes: on a thread (`/threads/{id}/runs/...`) and stateless (`/runs/...`),
 * streamed, waited for, or in the background, then listed, joined, re-joined and cancelled.
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";
import type { FastifyReply } from "fastify";

import type { Config } from "../../config/index.ts";
import { GraphboxError } from "../../contract/errors.ts";
import { RUN_STREAM_MODES, streamModesOf, type RunBody, type RunStreamMode } from "../../agent/run-request.ts";
import { RunStreamTranslator } from "../../agent/run-stream.ts";
import { runAnswer, type Runs } from "../../agent/runs.ts";
import type { RunRecord, RunStatus, Store } from "../../store/types.ts";
import { eventStream } from "../openapi.ts";
import { speaksLangGraph } from "../langgraph.ts";
import { RUN_ERRORS, runBody, runParams, runResponse, streamMode, tags, threadParams } from "../run-schemas.ts";
import { runView } from "../run-view.ts";
import { ownerOf } from "../owner.ts";
import { SseStream } from "../sse.ts";

export interface RunRoutesOptions {
  runs: Runs;
  store: Store;
  config: Readonly<Config>;
}

export const runRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: RunRoutesOptions }> = async (
  app,
  { runs, store, config },
) => {
  speaksLangGraph(app);
  const location = (run: RunRecord): string =>
    (run.kwargs as { __stateless?: boolean }).__stateless
      ? `/runs/${run.runId}`
      : `/threads/${run.threadId}/runs/${run.runId}`;
  const runOf = async (owner: string, threadId: string, runId: string): Promise<RunRecord> => {
    const run = await store.runs.get(owner, runId);
    if (!run || run.threadId !== threadId) throw new GraphboxError("GBX_ERR_RUN_NOT_FOUND", `Run ${runId} not found`);
    return run;
  };
  const threadOf = async (owner: string, threadId: string): Promise<void> => {
    if (!(await store.threads.get({ owner, threadId })))
      throw new GraphboxError("GBX_ERR_THREAD_NOT_FOUND", `Thread with ID ${threadId} not found`);
  };

  /** Streams a run's events as LangGraph's SSE, the frames after `after` (a frame id; -1: all), until it ends or the client leaves. */
  const stream = async (options: {
    reply: FastifyReply;
    owner: string;
    run: RunRecord;
    modes: RunStreamMode[];
    after: number;
    cancelOnDisconnect: boolean;
  }): Promise<void> => {
    const { reply, owner, run } = options;
    const gone = new AbortController();
    const sse = new SseStream(reply, config.sseKeepAliveMs, () => gone.abort(), {
      "content-location": location(run),
    });
    gone.signal.addEventListener("abort", () => {
      if (options.cancelOnDisconnect) runs.cancel(owner, run.runId).catch(() => undefined);
    });
    await runs.started(owner, run.runId, gone.signal);
    // Frames are numbered from the run's start: a re-join translates the log again and skips to `after`.
    const translator = new RunStreamTranslator(run.runId, options.modes);
    for await (const event of store.events.follow(owner, run.runId, 0, { signal: gone.signal }))
      for (const frame of translator.translate(event)) if (Number(frame.id) > options.after) sse.sendFrame(frame);
    sse.end();
  };

  /** What `wait` and `join` answer once the run has ended. */
  const answer = async (owner: string, run: RunRecord, signal: AbortSignal): Promise<unknown> => {
    await runs.join(owner, run.runId, signal);
    return runAnswer(store, owner, run.runId);
  };

  const disconnected = (reply: FastifyReply): AbortSignal => {
    const gone = new AbortController();
    reply.raw.on("close", () => {
      if (!reply.raw.writableEnded) gone.abort();
    });
    return gone.signal;
  };

  for (const stateless of [false, true]) {
    const base = stateless ? "/runs" : "/threads/:thread_id/runs";
    const params = stateless ? {} : { params: threadParams };
    const threadIdOf = (p: unknown): string | null => (stateless ? null : (p as { thread_id: string }).thread_id);

    app.post(
      `${base}/stream`,
      {
        schema: {
          tags,
          summary: "Create a run and stream its events (LangGraph's SSE)",
          ...params,
          body: runBody,
          response: { ...eventStream("metadata, then values, updates, messages..., error"), ...RUN_ERRORS },
        },
      },
      async (request, reply) => {
        const owner = ownerOf(request);
        const body = request.body as RunBody;
        const run = await runs.create({ owner, threadId: threadIdOf(request.params), body });
        await stream({
          reply,
          owner,
          run,
          modes: streamModesOf(body),
          after: -1,
          cancelOnDisconnect: body.on_disconnect === "cancel",
        });
      },
    );

    app.post(
      `${base}/wait`,
      {
        schema: {
          tags,
          summary: "Create a run and answer with the thread's values when it ends",
          ...params,
          body: runBody,
          response: { 200: { description: "The values, with __interrupt__ or __error__" }, ...RUN_ERRORS },
        },
      },
      async (request, reply) => {
        const owner = ownerOf(request);
        const body = request.body as RunBody;
        const signal = disconnected(reply);
        const run = await runs.create({ owner, threadId: threadIdOf(request.params), body });
        if (body.on_disconnect === "cancel")
          signal.addEventListener("abort", () => void runs.cancel(owner, run.runId).catch(() => undefined));
        const values = await answer(owner, run, signal);
        return reply.header("content-location", location(run)).send(values);
      },
    );

    app.post(
      base,
      {
        schema: {
          tags,
          summary: "Create a run in the background",
          ...params,
          body: runBody,
          response: { ...runResponse("The run"), ...RUN_ERRORS },
        },
      },
      async (request, reply) => {
        const run = await runs.create({
          owner: ownerOf(request),
          threadId: threadIdOf(request.params),
          body: request.body as RunBody,
        });
        return reply.header("content-location", location(run)).send(runView(run));
      },
    );
  }

  app.get(
    "/threads/:thread_id/runs",
    {
      schema: {
        tags,
        summary: "The thread's runs, newest first",
        params: threadParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            limit: { type: "string", pattern: "^(1000|[1-9][0-9]{0,2})$" },
            offset: { type: "string", pattern: "^[0-9]{1,9}$" },
            status: { type: "string", enum: ["pending", "running", "success", "error", "timeout", "interrupted"] },
          },
        },
        response: { 200: { type: "array", items: { type: "object", additionalProperties: true } }, ...RUN_ERRORS },
      },
    },
    async (request) => {
      const owner = ownerOf(request);
      await threadOf(owner, request.params.thread_id);
      const q = request.query;
      const list = await store.runs.list(owner, request.params.thread_id, {
        limit: q.limit === undefined ? 10 : Number(q.limit),
        offset: q.offset === undefined ? 0 : Number(q.offset),
        ...(q.status ? { status: q.status as RunStatus } : {}),
      });
      // Oldest first, as LangGraph's servers list them.
      const executions = await Promise.all(list.map((run) => store.executions.get(owner, run.runId)));
      return list.map((run, i) => runView(run, executions[i] ?? null)).reverse();
    },
  );

  app.get(
    "/threads/:thread_id/runs/:run_id",
    { schema: { tags, summary: "A run", params: runParams, response: { ...runResponse("The run"), ...RUN_ERRORS } } },
    async (request) => {
      const owner = ownerOf(request);
      const run = await runOf(owner, request.params.thread_id, request.params.run_id);
      return runView(run, await store.executions.get(owner, run.runId));
    },
  );

  app.delete(
    "/threads/:thread_id/runs/:run_id",
    { schema: { tags, summary: "Delete a run that has ended", params: runParams, response: RUN_ERRORS } },
    async (request, reply) => {
      const owner = ownerOf(request);
      const run = await runOf(owner, request.params.thread_id, request.params.run_id);
      if (run.status === "pending" || run.status === "running")
        throw new GraphboxError("GBX_ERR_THREAD_BUSY", `Run ${run.runId} is ${run.status}; cancel it first`);
      await store.runs.delete(owner, run.runId);
      return reply.status(204).send();
    },
  );

  app.get(
    "/threads/:thread_id/runs/:run_id/join",
    {
      schema: {
        tags,
        summary: "Wait for a run to end; the thread's values then",
        params: runParams,
        response: { 200: { description: "The values, with __interrupt__ or __error__" }, ...RUN_ERRORS },
      },
    },
    async (request, reply) => {
      const owner = ownerOf(request);
      const run = await runOf(owner, request.params.thread_id, request.params.run_id);
      return reply.send(await answer(owner, run, disconnected(reply)));
    },
  );

  app.get(
    "/threads/:thread_id/runs/:run_id/stream",
    {
      schema: {
        tags,
        summary: "Join a run's stream (from after Last-Event-ID; -1: from its start)",
        params: runParams,
        querystring: {
          type: "object",
          additionalProperties: true,
          properties: {
            // The JS SDK sends 0/1, the Python SDK true/false (and an empty stream_mode for none).
            cancel_on_disconnect: { type: "string", enum: ["true", "false", "1", "0"] },
            stream_mode: {
              anyOf: [
                { type: "string", enum: [...RUN_STREAM_MODES, ""] },
                { type: "array", items: streamMode },
              ],
            },
          },
        },
        response: { ...eventStream("the run's events after Last-Event-ID"), ...RUN_ERRORS },
      },
    },
    async (request, reply) => {
      const owner = ownerOf(request);
      const run = await runOf(owner, request.params.thread_id, request.params.run_id);
      // Without Last-Event-ID, the whole stream (LangGraph's servers: only what comes from now on).
      const header = request.headers["last-event-id"];
      const after = typeof header === "string" ? Number(header) : -1;
      if (!Number.isInteger(after) || after < -1)
        throw new GraphboxError("GBX_ERR_INVALID_REQUEST", "`Last-Event-ID` must be a whole number or -1");
      const query = request.query as {
        stream_mode?: RunStreamMode | RunStreamMode[] | "";
        cancel_on_disconnect?: string;
      };
      const asked = query.stream_mode === "" ? undefined : query.stream_mode;
      await stream({
        reply,
        owner,
        run,
        modes: asked ? (Array.isArray(asked) ? asked : [asked]) : streamModesOf(run.kwargs as RunBody),
        after,
        cancelOnDisconnect: query.cancel_on_disconnect === "true" || query.cancel_on_disconnect === "1",
      });
    },
  );

  app.post(
    "/threads/:thread_id/runs/:run_id/cancel",
    {
      schema: {
        tags,
        summary: "Cancel a pending or running run (action interrupt or rollback; wait=1 waits until it has ended)",
        params: runParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            wait: { type: "string", enum: ["0", "1", "true", "false"] },
            action: { type: "string", enum: ["interrupt", "rollback"] },
          },
        },
        response: RUN_ERRORS,
      },
    },
    async (request, reply) => {
      const owner = ownerOf(request);
      const run = await runOf(owner, request.params.thread_id, request.params.run_id);
      await runs.cancel(owner, run.runId, request.query.action ?? "interrupt");
      // As LangGraph's servers: 202 without `wait`, 204 with it (the SDKs always send it).
      return reply.status(request.query.wait === undefined ? 202 : 204).send();
    },
  );
};
