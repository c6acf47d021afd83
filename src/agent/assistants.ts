/**
 * LangGraph's assistants, per owner: a registered graph with its config, context and metadata.
 * Each registered graph has a default one (see programs.ts), and a graph_id is accepted wherever
 * an assistant_id is, naming that default one, as LangGraph's servers accept it.
 */
import { randomUUID } from "node:crypto";

import type { Config } from "../config/index.ts";
import { nestedDeeperThan } from "../contract/json.ts";
import { GraphboxError } from "../contract/errors.ts";
import type { AssistantRecord, AssistantSearch, GraphRecord, Store } from "../store/types.ts";
import { graphNotFound } from "./programs.ts";
import type { ResolvedAssistant } from "./run-request.ts";
import { defaultAssistantId } from "./uuid5.ts";

/** The store's largest page. */
const PAGE = 1000;

export type IfExists = "raise" | "do_nothing";

export interface NewAssistantInput {
  graphId: string;
  /** Default: a new UUID. */
  assistantId?: string;
  config?: Record<string, unknown>;
  context?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** Default `Untitled`, as LangGraph's server names it. */
  name?: string;
  description?: string | null;
  /** Default `raise`. */
  ifExists?: IfExists;
}

export type AssistantPatch = Partial<
  Pick<AssistantRecord, "graphId" | "name" | "description" | "config" | "context" | "metadata">
>;

/** An assistant as LangGraph's servers answer it, in their field order. */
export interface AssistantJson {
  assistant_id: string;
  version: number;
  config: Record<string, unknown>;
  context: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  graph_id: string;
  metadata: Record<string, unknown>;
  name: string;
  description: string | null;
}

export const toAssistantJson = (a: AssistantRecord): AssistantJson => ({
  assistant_id: a.assistantId,
  version: a.version,
  config: a.config,
  context: a.context,
  created_at: new Date(a.createdAt).toISOString(),
  updated_at: new Date(a.updatedAt).toISOString(),
  graph_id: a.graphId,
  metadata: a.metadata,
  name: a.name,
  description: a.description,
});

/** The assistant routes' 404, in LangGraph's words. */
const assistantNotFound = (): GraphboxError => new GraphboxError("GBX_ERR_ASSISTANT_NOT_FOUND", "Assistant not found");

/** The runs' 404, in LangGraph's words (the SDKs' tests match `No assistant found for`). */
const noAssistantFor = (id: string): GraphboxError =>
  new GraphboxError(
    "GBX_ERR_ASSISTANT_NOT_FOUND",
    `No assistant found for ${JSON.stringify(id)}. Make sure the assistant ID is for a valid assistant or a valid graph ID.`,
  );

/** The assistant id that `id` names for the owner: a registered graph's default one, or `id` itself. */
async function assistantIdFor(
  store: Store,
  owner: string,
  id: string,
): Promise<{ id: string; graph: GraphRecord | null }> {
  // A graph first, as LangGraph's `getAssistantId` does.
  const graph = await store.graphs.get(owner, id);
  return graph ? { id: defaultAssistantId(id), graph } : { id, graph: null };
}

/**
 * What a run's `assistant_id` names: an assistant of the owner, or a graph of the owner (its
 * default assistant), with the program it runs. GBX_ERR_ASSISTANT_NOT_FOUND otherwise, worded as
 * LangGraph's server words it; another owner's assistants and graphs are not found either.
 */
export async function resolveAssistant(store: Store, owner: string, id: string): Promise<ResolvedAssistant> {
  const named = await assistantIdFor(store, owner, id);
  const assistant = await store.assistants.get(owner, named.id);
  if (!assistant) throw noAssistantFor(id);
  const graph =
    named.graph?.graphId === assistant.graphId ? named.graph : await store.graphs.get(owner, assistant.graphId);
  if (!graph) throw graphNotFound(assistant.graphId);
  const { assistantId, graphId, config, context, metadata } = assistant;
  return { assistantId, graphId, config, context, metadata, graph };
}

export interface AssistantsParts {
  store: Store;
  config: Readonly<Config>;
}

/** Refuses a client's JSON deeper than GRAPHBOX_MAX_INPUT_DEPTH, before the store walks it. */
function checkDepth(fields: Record<string, unknown>, limit: number): void {
  for (const [field, value] of Object.entries(fields)) {
    if (nestedDeeperThan(value, limit)) {
      throw new GraphboxError(
        "GBX_ERR_INVALID_REQUEST",
        `\`${field}\` is nested deeper than GRAPHBOX_MAX_INPUT_DEPTH (${limit}) allows`,
      );
    }
  }
}

export class Assistants {
  constructor(private readonly parts: AssistantsParts) {}

  /** See `resolveAssistant`. */
  resolve(owner: string, id: string): Promise<ResolvedAssistant> {
    return resolveAssistant(this.parts.store, owner, id);
  }

  /** The owner's assistant by its id or its graph's; GBX_ERR_ASSISTANT_NOT_FOUND when there is none. */
  async get(owner: string, id: string): Promise<AssistantRecord> {
    const { store } = this.parts;
    const assistant = await store.assistants.get(owner, (await assistantIdFor(store, owner, id)).id);
    if (!assistant) throw assistantNotFound();
    return assistant;
  }

  async create(owner: string, input: NewAssistantInput): Promise<AssistantRecord> {
    const { store, config } = this.parts;
    checkDepth({ config: input.config, context: input.context, metadata: input.metadata }, config.maxInputDepth);
    if (!(await store.graphs.get(owner, input.graphId))) throw graphNotFound(input.graphId);
    const ifExists = input.ifExists ?? "raise";
    const existing = input.assistantId ? await store.assistants.get(owner, input.assistantId) : null;
    if (existing) return this.alreadyThere(existing, ifExists);
    if ((await store.assistants.count(owner)) >= config.maxAssistantsPerKey) {
      throw new GraphboxError(
        "GBX_ERR_ASSISTANT_LIMIT",
        `this API key has ${config.maxAssistantsPerKey} assistants, as many as GRAPHBOX_MAX_ASSISTANTS_PER_KEY allows; delete one first`,
      );
    }
    const assistantId = input.assistantId ?? randomUUID();
    const created = await store.assistants.create({
      owner,
      assistantId,
      graphId: input.graphId,
      // LangGraph's server: an empty name is the graph's id, an absent one `Untitled`.
      name: input.name === undefined ? "Untitled" : input.name || input.graphId,
      description: input.description ?? null,
      config: input.config ?? {},
      context: input.context ?? {},
      metadata: input.metadata ?? {},
    });
    if (created) return created;
    // Created meanwhile by a concurrent request.
    const raced = await store.assistants.get(owner, assistantId);
    if (!raced)
      throw new GraphboxError("GBX_ERR_INTERNAL", "the store refused a new assistant and holds none by its id");
    return this.alreadyThere(raced, ifExists);
  }

  /** Replaces the given fields (metadata is merged into the assistant's), version + 1. */
  async update(owner: string, id: string, patch: AssistantPatch): Promise<AssistantRecord> {
    const { store, config } = this.parts;
    checkDepth({ config: patch.config, context: patch.context, metadata: patch.metadata }, config.maxInputDepth);
    if (patch.graphId !== undefined && !(await store.graphs.get(owner, patch.graphId)))
      throw graphNotFound(patch.graphId);
    const updated = await store.assistants.update(owner, (await assistantIdFor(store, owner, id)).id, patch);
    if (!updated) throw assistantNotFound();
    return updated;
  }

  /**
   * Deletes the assistant and, with `deleteThreads`, the owner's threads whose metadata names it
   * (as LangGraph's `delete_threads`), but those a run holds now. Answers the deleted ids, as LangGraph does.
   */
  async delete(owner: string, id: string, options: { deleteThreads?: boolean } = {}): Promise<string[]> {
    const { store } = this.parts;
    const assistantId = (await assistantIdFor(store, owner, id)).id;
    if (!(await store.assistants.delete(owner, assistantId))) throw assistantNotFound();
    if (options.deleteThreads) {
      // The deleted leave the search; only those kept are paged over.
      for (let kept = 0; ;) {
        const threads = await store.threads.search(owner, {
          metadata: { assistant_id: assistantId },
          limit: PAGE,
          offset: kept,
        });
        for (const thread of threads) {
          if (thread.status === "busy") kept += 1;
          else await store.threads.delete({ owner, threadId: thread.threadId });
        }
        if (threads.length < PAGE) break;
      }
    }
    return [assistantId];
  }

  search(owner: string, search: AssistantSearch): Promise<AssistantRecord[]> {
    checkDepth({ metadata: search.metadata }, this.parts.config.maxInputDepth);
    return this.parts.store.assistants.search(owner, search);
  }

  count(owner: string, search: Omit<AssistantSearch, "limit" | "offset">): Promise<number> {
    checkDepth({ metadata: search.metadata }, this.parts.config.maxInputDepth);
    return this.parts.store.assistants.count(owner, search);
  }

  private alreadyThere(existing: AssistantRecord, ifExists: IfExists): AssistantRecord {
    if (ifExists === "raise") throw new GraphboxError("GBX_ERR_ASSISTANT_EXISTS", "Assistant already exists");
    return existing;
  }
}
