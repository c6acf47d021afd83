/**
 * A thread's state, history and state updates, as LangGraph's `ThreadState`.
 *
 * LangGraph computes a state from the graph (`next`, the tasks and their interrupts), and the
 * engine cannot read a runtime's checkpoint: a thread whose metadata names a registered program
 * (`graph_id`, stamped by runs) is asked of that program in a sandbox (`Engine.inspect`), except
 * for its head, which the last run's harness already described (`ThreadHead.threadState`).
 * A thread without one (written by `/execute-langgraph`, or whose graph was deleted) is answered
 * from what the store keeps: values (the contract's JSON view, as that route always answered) and
 * metadata of every checkpoint, `next` and tasks of the head a result described. Changing its
 * state needs the program: refused (GBX_ERR_THREAD_NO_PROGRAM).
 * Graphbox does not keep an `/execute-langgraph` program's code with its thread: a request's code
 * is the client's, sent again on every call, and keeping it would store every program ever run.
 */
import { ERRORS, GraphboxError } from "../contract/errors.ts";
import type { RuntimeName } from "../contract/types.ts";
import type { Engine, InspectOptions, Program } from "../engine/engine.ts";
import { matchesFilter } from "../store/metadata-filter.ts";
import type { CheckpointState, ThreadRecord } from "../store/types.ts";
import {
  checkpointRef,
  emptyThreadState,
  interruptsOf,
  parseCheckpoint,
  parseThreadState,
  storedThreadState,
  type CheckpointJson,
  type ThreadStateJson,
} from "./thread-json.ts";
import { withThreadLock } from "./thread-lock.ts";

/** A checkpoint of the thread as a request names it; null id: the head. */
export interface CheckpointSelector {
  checkpointId: string | null;
  /** Default "" (the root graph); `name:task_id|...`: a subgraph's, as a task's `checkpoint` names it. */
  checkpointNs?: string;
}

export interface StateAnswer {
  state: ThreadStateJson;
  /** Graphbox's flat list of the interrupts waiting at this checkpoint (what the result said, or its tasks'). */
  interrupts: unknown[];
  /** The checkpoint answered, as the store names it (null: none). */
  checkpointId: string | null;
}

export interface HistoryQuery extends CheckpointSelector {
  limit: number;
  /** Only checkpoints older than this one. */
  before: string | null;
  /** Only checkpoints whose metadata has these keys with equal values. */
  metadata: Record<string, unknown> | null;
}

export interface StateUpdate extends CheckpointSelector {
  /** `update_state`'s values: an object, a list of them, or null. */
  values: unknown;
  asNode: string | null;
}

const ROOT = "";
const runtimeOf = (program: Program): RuntimeName => (program.language === "python" ? "python" : "js");

export class ThreadStates {
  constructor(private readonly engine: Engine) {}

  private get store() {
    return this.engine.store;
  }

  /** The registered program the thread's `graph_id` names, or null. */
  async programOf(thread: ThreadRecord): Promise<Program | null> {
    const graphId = thread.metadata["graph_id"];
    if (typeof graphId !== "string") return null;
    const graph = await this.store.graphs.get(thread.owner, graphId);
    return graph ? { language: graph.language, code: graph.code, files: graph.files, graph: graph.graph } : null;
  }

  async state(thread: ThreadRecord, at: CheckpointSelector & { subgraphs: boolean }): Promise<StateAnswer> {
    const ns = at.checkpointNs ?? ROOT;
    const headState = await this.store.checkpoints.getHeadState(thread, { checkpointNs: ns });
    // LangGraph's answer for a thread without checkpoints (or a checkpoint it does not have): empty.
    if (!headState) return empty(thread, at.checkpointId, ns);
    const head = await this.store.threads.getHead(thread);
    const wanted = at.checkpointId ?? headState.checkpointId;
    // What the last result said of this checkpoint, when it is the one that result described.
    const described = ns === ROOT && head?.checkpointId === wanted ? head : null;
    const answer = (state: ThreadStateJson, checkpointId: string | null): StateAnswer => ({
      state,
      interrupts: described ? described.interrupts : interruptsOf(state),
      checkpointId,
    });
    const program = await this.programOf(thread);
    // The last run's harness described the head already: no sandbox for the common read.
    if (program && described?.threadState && wanted === headState.checkpointId && !at.subgraphs) {
      const state = parseThreadState(described.threadState);
      if (state) return answer(state, wanted);
    }
    if (program) {
      const state = parseThreadState(
        await this.ask({
          owner: thread.owner,
          program,
          threadId: thread.threadId,
          op: "state",
          args: { checkpoint_id: at.checkpointId, checkpoint_ns: ns, subgraphs: at.subgraphs },
        }),
      );
      if (!state) throw new GraphboxError("GBX_ERR_PROGRAM_FAILED", "the program's harness answered no thread state");
      return answer(state, state.checkpoint?.checkpoint_id ?? null);
    }
    const checkpoint = at.checkpointId === null ? headState : await this.stored(thread, at.checkpointId, ns);
    if (!checkpoint) return empty(thread, at.checkpointId, ns);
    return answer(
      storedThreadState({ threadId: thread.threadId, checkpoint, head, values: "stored" }),
      checkpoint.checkpointId,
    );
  }

  async history(thread: ThreadRecord, query: HistoryQuery): Promise<ThreadStateJson[]> {
    const ns = query.checkpointNs ?? ROOT;
    const program = await this.programOf(thread);
    if (program) {
      if (!(await this.store.checkpoints.getHeadState(thread, { checkpointNs: ns }))) return [];
      const answer = await this.ask({
        owner: thread.owner,
        program,
        threadId: thread.threadId,
        op: "history",
        args: {
          limit: query.limit,
          before: query.before,
          checkpoint_id: query.checkpointId,
          checkpoint_ns: ns,
          filter: query.metadata,
        },
      });
      if (!Array.isArray(answer))
        throw new GraphboxError("GBX_ERR_PROGRAM_FAILED", "the program's harness answered no history");
      return answer
        .slice(0, query.limit)
        .map((s) => parseThreadState(s))
        .filter((s): s is ThreadStateJson => s !== null);
    }
    const head = await this.store.threads.getHead(thread);
    let checkpoints: CheckpointState[];
    if (query.checkpointId !== null) {
      // LangGraph's `list` with a config naming a checkpoint lists that one checkpoint.
      const one = await this.stored(thread, query.checkpointId, ns);
      checkpoints = one && matchesFilter(one.metadata, query.metadata ?? undefined) ? [one] : [];
    } else {
      checkpoints = await this.store.checkpoints.list(thread, {
        checkpointNs: ns,
        limit: query.limit,
        maxBytes: this.engine.config.maxCheckpointReadBytes,
        ...(query.before !== null ? { before: query.before } : {}),
        ...(query.metadata !== null ? { filter: query.metadata } : {}),
      });
    }
    return checkpoints.map((checkpoint) =>
      storedThreadState({ threadId: thread.threadId, checkpoint, head, values: "stored" }),
    );
  }

  /**
   * `update_state` through the thread's program, holding the thread's lock so that no run starts
   * meanwhile (and refused while a run holds it). Answers LangGraph's `{checkpoint}`: the new head.
   */
  async update(
    thread: ThreadRecord,
    update: StateUpdate,
  ): Promise<{ checkpoint: Omit<CheckpointJson, "checkpoint_map"> }> {
    const program = await this.programOf(thread);
    if (!program) throw noProgram(thread);
    const runtime = runtimeOf(program);
    if (thread.runtime !== null && thread.runtime !== runtime)
      throw new GraphboxError(
        "GBX_ERR_THREAD_RUNTIME",
        `thread ${JSON.stringify(thread.threadId)} was written by the ${thread.runtime} runtime; its ${program.language} program cannot update it`,
      );
    return withThreadLock(this.engine, thread, async () => {
      // A thread made by POST /threads takes its program's runtime with its first checkpoint.
      await this.store.threads.ensure({ owner: thread.owner, threadId: thread.threadId, runtime });
      const answer = await this.ask({
        owner: thread.owner,
        program,
        threadId: thread.threadId,
        op: "update_state",
        args: {
          values: update.values,
          as_node: update.asNode,
          checkpoint_id: update.checkpointId,
          checkpoint_ns: update.checkpointNs ?? ROOT,
        },
      });
      const checkpoint = parseCheckpoint(
        typeof answer === "object" && answer !== null ? (answer as { checkpoint?: unknown }).checkpoint : null,
      );
      if (!checkpoint)
        throw new GraphboxError("GBX_ERR_PROGRAM_FAILED", "the program's harness answered no checkpoint");
      // In the order LangGraph's server answers it.
      return {
        checkpoint: {
          thread_id: checkpoint.thread_id,
          checkpoint_ns: checkpoint.checkpoint_ns,
          checkpoint_id: checkpoint.checkpoint_id,
        },
      };
    });
  }

  /**
   * Asks the thread's program in a sandbox. A program's own failure is a 200 on
   * /execute-langgraph (the request was fine); here it means the state could not be read or
   * changed: refused with its message. The engine's own refusals pass as they are.
   */
  private async ask(options: InspectOptions): Promise<unknown> {
    try {
      return await this.engine.inspect(options);
    } catch (err: unknown) {
      if (err instanceof GraphboxError && ERRORS[err.code].status === 200)
        throw new GraphboxError("GBX_ERR_PROGRAM_FAILED", err.message);
      throw err;
    }
  }

  private async stored(thread: ThreadRecord, checkpointId: string, ns: string): Promise<CheckpointState | null> {
    const tuple = await this.store.checkpoints.getTuple(thread, {
      checkpointId,
      checkpointNs: ns,
      maxBytes: this.engine.config.maxCheckpointReadBytes,
    });
    return tuple;
  }
}

const empty = (thread: ThreadRecord, checkpointId: string | null, ns: string): StateAnswer => ({
  state: emptyThreadState(checkpointId === null ? null : checkpointRef(thread.threadId, checkpointId, ns)),
  interrupts: [],
  checkpointId: null,
});

export const noProgram = (thread: ThreadRecord): GraphboxError => {
  const graphId = thread.metadata["graph_id"];
  return new GraphboxError(
    "GBX_ERR_THREAD_NO_PROGRAM",
    typeof graphId === "string"
      ? `thread ${JSON.stringify(thread.threadId)} names graph ${JSON.stringify(graphId)}, which is not registered (PUT /graphs/{graph_id}); its state can only be changed through its program`
      : `thread ${JSON.stringify(thread.threadId)} has no registered program (its metadata has no graph_id: it was written by /execute-langgraph); its state can only be changed through a program: continue it with /execute-langgraph, or run a registered graph on it`,
  );
};
