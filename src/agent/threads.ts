/**
 * LangGraph's threads (the Agent Server API's `/threads` routes) over the engine's thread store:
 * create, read, patch, delete, search and count, per owner, each answered as LangGraph's `Thread`.
 * A thread's `values` and `interrupts` are its head's, read from the store (never a sandbox); its
 * state and history are `ThreadStates`'.
 */
import { randomUUID } from "node:crypto";

import { GraphboxError } from "../contract/errors.ts";
import { THREAD_LOCK_TTL_MS, type Engine } from "../engine/engine.ts";
import type { ThreadRecord, ThreadRef, ThreadSearch, ThreadStatus } from "../store/types.ts";
import { jsonContains } from "./json-contains.ts";
import { storedThreadState, threadJson, type ThreadJson, type ThreadStateJson } from "./thread-json.ts";
import { ThreadStates } from "./thread-states.ts";

export interface NewAgentThread {
  /** Default: a new UUID. */
  threadId?: string;
  metadata?: Record<string, unknown>;
  /** `raise` (default): GBX_ERR_THREAD_EXISTS when the owner has it; `do_nothing`: answer it as it is. */
  ifExists?: "raise" | "do_nothing";
}

export interface AgentThreadSearch extends ThreadSearch {
  /** Only threads whose head values contain these (JSONB containment, as LangGraph's servers). */
  values?: Record<string, unknown>;
}

export type AgentThreadCount = Pick<AgentThreadSearch, "metadata" | "status" | "ids" | "values">;

/**
 * A search by `values` reads each candidate's head: it looks at this many threads at most (the
 * newest in the asked order), which `offset` and `limit` then page.
 */
export const VALUES_SEARCH_SCAN = 1000;

const notFound = (threadId: string): GraphboxError =>
  new GraphboxError("GBX_ERR_THREAD_NOT_FOUND", `Thread with ID ${JSON.stringify(threadId)} not found`);

export class AgentThreads {
  readonly states: ThreadStates;

  constructor(private readonly engine: Engine) {
    this.states = new ThreadStates(engine);
  }

  private get store() {
    return this.engine.store;
  }

  /** The owner's thread with its live status (busy while an execution runs on it); 404 when absent. */
  async record(ref: ThreadRef): Promise<ThreadRecord> {
    const thread = await this.store.threads.get(ref);
    if (!thread) throw notFound(ref.threadId);
    return this.live(thread);
  }

  async create(owner: string, request: NewAgentThread): Promise<ThreadJson> {
    const threadId = request.threadId ?? randomUUID();
    const { thread, created } = await this.store.threads.ensure({
      owner,
      threadId,
      runtime: null,
      metadata: request.metadata ?? {},
    });
    if (!created && (request.ifExists ?? "raise") === "raise")
      throw new GraphboxError("GBX_ERR_THREAD_EXISTS", `Thread with ID ${JSON.stringify(threadId)} already exists`);
    return this.toJson(created ? thread : await this.live(thread));
  }

  async get(ref: ThreadRef): Promise<ThreadJson> {
    return this.toJson(await this.record(ref));
  }

  /** Merges `metadata` into the thread's (shallow, as LangGraph's servers do). */
  async patch(ref: ThreadRef, metadata: Record<string, unknown>): Promise<ThreadJson> {
    const thread = await this.store.threads.updateMetadata(ref, metadata);
    if (!thread) throw notFound(ref.threadId);
    return this.toJson(await this.live(thread));
  }

  /**
   * Deletes the thread, its checkpoints and its runs. A run on it is cancelled first, as LangGraph's
   * servers drop a deleted thread's runs; GBX_ERR_THREAD_BUSY when its lock is held by what this
   * engine cannot cancel (another engine's execution, a state update).
   */
  async delete(ref: ThreadRef): Promise<void> {
    await this.record(ref);
    const holder = `agent-delete-${randomUUID()}`;
    const lock = await this.store.threads.tryLock(ref, holder, THREAD_LOCK_TTL_MS);
    if (!lock.acquired && !(await this.engine.cancel(ref.owner, lock.heldBy)))
      throw new GraphboxError(
        "GBX_ERR_THREAD_BUSY",
        `thread ${JSON.stringify(ref.threadId)} is busy with ${lock.heldBy}, which this engine cannot cancel; retry when it has ended`,
      );
    try {
      // The store deletes the thread's runs with it.
      await this.store.threads.delete(ref);
    } finally {
      await this.store.threads.unlock(ref, holder);
    }
  }

  /** A page of the owner's matching threads, and how many match in all. */
  async search(owner: string, search: AgentThreadSearch): Promise<{ threads: ThreadJson[]; total: number }> {
    const { values, ...query } = search;
    if (values === undefined) {
      const { limit: _l, offset: _o, sortBy: _s, sortOrder: _so, ...filter } = query;
      const [records, total] = await Promise.all([
        this.store.threads.search(owner, query),
        this.store.threads.count(owner, filter),
      ]);
      return { threads: await Promise.all(records.map(async (t) => this.toJson(await this.live(t)))), total };
    }
    const matching = await this.matchingValues(owner, { ...query, limit: VALUES_SEARCH_SCAN, offset: 0 }, values);
    const offset = search.offset ?? 0;
    const page = matching.slice(offset, offset + (search.limit ?? 10));
    return {
      threads: await Promise.all(page.map(async ({ thread, head }) => threadJson(await this.live(thread), head))),
      total: matching.length,
    };
  }

  async count(owner: string, filter: AgentThreadCount): Promise<number> {
    const { values, ...query } = filter;
    if (values === undefined) return this.store.threads.count(owner, query);
    return (await this.matchingValues(owner, { ...query, limit: VALUES_SEARCH_SCAN, offset: 0 }, values)).length;
  }

  /** The thread as LangGraph answers it, with its head's values and interrupts. */
  async toJson(thread: ThreadRecord): Promise<ThreadJson> {
    return threadJson(thread, await this.headOf(thread));
  }

  private async headOf(thread: ThreadRecord): Promise<ThreadStateJson | null> {
    const checkpoint = await this.store.checkpoints.getHeadState(thread);
    if (!checkpoint) return null;
    const head = await this.store.threads.getHead(thread);
    // A thread of a registered program is LangGraph's: its values as LangGraph gives them; one
    // of /execute-langgraph keeps the contract's view of them.
    const values = typeof thread.metadata["graph_id"] === "string" ? "langgraph" : "stored";
    return storedThreadState({ threadId: thread.threadId, checkpoint, head, values });
  }

  private async matchingValues(
    owner: string,
    query: ThreadSearch,
    values: Record<string, unknown>,
  ): Promise<{ thread: ThreadRecord; head: ThreadStateJson | null }[]> {
    const candidates = await this.store.threads.search(owner, query);
    const heads = await Promise.all(candidates.map(async (thread) => ({ thread, head: await this.headOf(thread) })));
    // LangGraph's servers let a thread without values through a values filter.
    return heads.filter(({ head }) => head === null || jsonContains(head.values, values));
  }

  /**
   * The stored status, but `busy` while an execution runs on the thread (the engine records a
   * thread's status when its execution ends) or a run waits for it, as LangGraph's servers say.
   */
  private async live(thread: ThreadRecord): Promise<ThreadRecord> {
    const [last] = await this.store.executions.list(thread.owner, { threadId: thread.threadId, limit: 1 });
    const waiting =
      last?.status !== "running" &&
      (await this.store.runs.list(thread.owner, thread.threadId, { status: "pending", limit: 1 })).length > 0;
    const status: ThreadStatus = last?.status === "running" || waiting ? "busy" : thread.status;
    return status === thread.status ? thread : { ...thread, status };
  }
}
