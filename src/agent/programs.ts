/**
 * Programs registered at run time (`PUT /graphs/{graph_id}`), per owner. A program is checked
 * once, when it is registered: the engine loads it in a sandbox and describes its graph; one that
 * does not load is refused with its own message and nothing is stored. Each registered graph gets
 * the assistant LangGraph's servers make for every graph, so its graph_id works as an assistant_id.
 */
import type { Config } from "../config/index.ts";
import { ERRORS, GraphboxError } from "../contract/errors.ts";
import type { Engine, Program } from "../engine/engine.ts";
import type { GraphRecord, PageOptions, Store } from "../store/types.ts";
import { parseDescription, storedDescription, type GraphDescription } from "./description.ts";
import { defaultAssistantId } from "./uuid5.ts";

export interface ProgramsParts {
  engine: Engine;
  store: Store;
  config: Readonly<Config>;
}

export interface RegisterOptions {
  owner: string;
  /** Checked by the caller: 1–128 characters of `[A-Za-z0-9._-]`. */
  graphId: string;
  /** Checked by the caller: language known, files named and sized within the limits. */
  program: Program;
  signal?: AbortSignal;
}

export interface DescribeOptions {
  owner: string;
  program: Program;
  /** LangGraph's `xray`: false, true, or how many levels of subgraphs to draw. */
  xray: boolean | number;
  signal?: AbortSignal;
}

export function graphNotFound(graphId: string): GraphboxError {
  // LangGraph's wording (langgraph-api `assertGraphExists`).
  return new GraphboxError("GBX_ERR_GRAPH_NOT_FOUND", `Graph ${JSON.stringify(graphId)} not found`);
}

export const programOf = (graph: GraphRecord): Program => ({
  language: graph.language,
  code: graph.code,
  files: graph.files,
  graph: graph.graph,
});

export class Programs {
  constructor(private readonly parts: ProgramsParts) {}

  /** Checks the program, then registers it (or replaces the owner's program of that id: version + 1). */
  async register({ owner, graphId, program, signal }: RegisterOptions): Promise<GraphRecord> {
    const { store, config } = this.parts;
    const existing = await store.graphs.get(owner, graphId);
    if (!existing && (await store.graphs.count(owner)) >= config.maxGraphsPerKey) {
      throw new GraphboxError(
        "GBX_ERR_GRAPH_LIMIT",
        `this API key has ${config.maxGraphsPerKey} programs registered, as many as GRAPHBOX_MAX_GRAPHS_PER_KEY allows; delete one first`,
      );
    }
    const description = await this.describe({ owner, program, xray: false, ...(signal ? { signal } : {}) });
    const record = await store.graphs.put({
      owner,
      graphId,
      ...program,
      description: storedDescription(description),
    });
    // As LangGraph's servers do at start for each graph; kept as it is when the program is replaced.
    await store.assistants.create({
      owner,
      assistantId: defaultAssistantId(graphId),
      graphId,
      name: graphId,
      description: null,
      config: {},
      context: {},
      metadata: { created_by: "system" },
    });
    return record;
  }

  /**
   * Loads the program in a sandbox and describes its graph. A program that fails to load (it
   * does not parse, raises, has no graph, runs out of its limits) is GBX_ERR_GRAPH_INVALID with
   * the failure's message; refusals of the engine itself (over the admission limits, no runtime)
   * pass as they are.
   */
  async describe({ owner, program, xray, signal }: DescribeOptions): Promise<GraphDescription> {
    let answer: unknown;
    try {
      answer = await this.parts.engine.inspect({
        owner,
        program,
        threadId: null,
        op: "describe",
        args: { xray },
        ...(signal ? { signal } : {}),
      });
    } catch (err: unknown) {
      // A program's own failure is a 200 on /execute-langgraph (the request was fine); here the
      // request is the program, so it is refused.
      if (err instanceof GraphboxError && ERRORS[err.code].status === 200)
        throw new GraphboxError("GBX_ERR_GRAPH_INVALID", err.message);
      throw err;
    }
    return parseDescription(answer);
  }

  /** The owner's program; GBX_ERR_GRAPH_NOT_FOUND when there is none. */
  async get(owner: string, graphId: string): Promise<GraphRecord> {
    const graph = await this.parts.store.graphs.get(owner, graphId);
    if (!graph) throw graphNotFound(graphId);
    return graph;
  }

  list(owner: string, page?: PageOptions): Promise<GraphRecord[]> {
    return this.parts.store.graphs.list(owner, page);
  }

  /** Deletes the program and its assistants (the store's `delete`); false when there is none. */
  delete(owner: string, graphId: string): Promise<boolean> {
    return this.parts.store.graphs.delete(owner, graphId);
  }
}
