/** Checks on what callers hand the store, shared by every backend. */
import { StoreError } from "./errors.ts";
import type {
  CancelAction,
  ListOptions,
  PageOptions,
  RunStatus,
  ThreadHead,
  ThreadStatus,
  TypedBlob,
} from "./types.ts";

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** The Agent API's search routes' default page size. */
export const DEFAULT_PAGE_LIMIT = 10;
/** Keys a metadata filter may name: each is one condition of the query. */
export const MAX_FILTER_KEYS = 64;

export function limitOf(options: ListOptions | undefined, fallback = DEFAULT_LIMIT): number {
  const limit = options?.limit ?? fallback;
  if (!Number.isInteger(limit) || limit < 1)
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `limit must be a whole number ≥ 1, got ${String(limit)}`);
  return Math.min(limit, MAX_LIMIT);
}

// Records, so that adding a status to the type without listing it here fails to compile.
const THREAD_STATUS: Record<ThreadStatus, true> = { idle: true, busy: true, interrupted: true, error: true };
export const THREAD_STATUSES = Object.keys(THREAD_STATUS) as ThreadStatus[];
const RUN_STATUS: Record<RunStatus, true> = {
  pending: true,
  running: true,
  success: true,
  error: true,
  timeout: true,
  interrupted: true,
};
export const RUN_STATUSES = Object.keys(RUN_STATUS) as RunStatus[];
export const SORT_ORDERS = ["asc", "desc"] as const;

/** `limit` (default 10, at most 1000) and `offset` (default 0) of a search. */
export function pageOf(options: PageOptions | undefined): { limit: number; offset: number } {
  return {
    limit: limitOf(options, DEFAULT_PAGE_LIMIT),
    offset: nonNegativeInteger("offset", options?.offset ?? 0),
  };
}

/** `value` when it is one of `allowed` (a status, a sort key...), else GBX_STORE_INVALID_ARGUMENT. */
export function oneOf<T extends string>(name: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value))
    throw new StoreError(
      "GBX_STORE_INVALID_ARGUMENT",
      `${name} must be one of ${allowed.join(", ")}, got ${String(value)}`,
    );
  return value;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON object `value` as the store will hold it (undefined members dropped, -0 as 0...). */
export function jsonObject(name: string, value: Record<string, unknown>): Record<string, unknown> {
  const normalised: unknown = isJsonObject(value) ? JSON.parse(toJson(name, value)) : null;
  if (!isJsonObject(normalised)) throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `${name} must be a JSON object`);
  return normalised;
}

/** A metadata filter (absent: none), as JSON; at most MAX_FILTER_KEYS keys. */
export function metadataFilter(filter: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (filter === undefined) return undefined;
  const normalised = jsonObject("metadata filter", filter);
  if (Object.keys(normalised).length > MAX_FILTER_KEYS)
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `a metadata filter names at most ${MAX_FILTER_KEYS} keys`);
  return normalised;
}

/** `value` when it is a string (an id, a name...), else GBX_STORE_INVALID_ARGUMENT. */
export function text(name: string, value: string): string {
  if (typeof value !== "string") throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `${name} must be a string`);
  return value;
}

export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `${name} must be a whole number ≥ 1, got ${String(value)}`);
  return value;
}

export function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `${name} must be a whole number ≥ 0, got ${String(value)}`);
  return value;
}

/** The blob's bytes as a Buffer over the same memory (no copy). */
export function blobBytes(name: string, blob: TypedBlob): Buffer {
  if (typeof blob?.type !== "string" || !(blob.bytes instanceof Uint8Array)) {
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `${name} must be {type: string, bytes: Uint8Array}`);
  }
  return Buffer.isBuffer(blob.bytes)
    ? blob.bytes
    : Buffer.from(blob.bytes.buffer, blob.bytes.byteOffset, blob.bytes.byteLength);
}

/** JSON text of a value the store keeps as JSON; `undefined` is kept as null. */
export function toJson(name: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err: unknown) {
    throw new StoreError(
      "GBX_STORE_INVALID_ARGUMENT",
      `${name} is not JSON-serialisable: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return text ?? "null";
}

export const CANCEL_ACTIONS: readonly CancelAction[] = ["interrupt", "rollback"];

/** An execution's `nodesExecuted` as the JSON text both backends keep; null when not given. */
export function nodeList(nodes: string[] | undefined): string | null {
  if (nodes === undefined) return null;
  if (!Array.isArray(nodes) || !nodes.every((n) => typeof n === "string"))
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "nodesExecuted must be a list of node names");
  return JSON.stringify(nodes);
}

/** An execution's LangGraph context as JSON text. */
export function contextJson(context: Record<string, unknown>): string {
  if (typeof context !== "object" || Array.isArray(context))
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "context must be a JSON object or null");
  return toJson("context", context);
}

/** What a thread keeps of its head, as JSON text. */
export function headJson(head: ThreadHead): string {
  if (head.threadState != null && !isJsonObject(head.threadState))
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "threadState must be a JSON object or null");
  return toJson("thread head", {
    checkpointId: head.checkpointId,
    next: head.next,
    interrupts: head.interrupts,
    // Left out when absent, so a head without one reads back without one.
    threadState: head.threadState,
  });
}

/** A checkpoint whose blob and pending writes are over what one read may load. */
export function readTooLarge(checkpointId: string, bytes: number, maxBytes: number): StoreError {
  return new StoreError(
    "GBX_STORE_READ_TOO_LARGE",
    `checkpoint ${JSON.stringify(checkpointId)} and its pending writes take ${bytes} bytes, over the ${maxBytes} one read may load`,
  );
}
