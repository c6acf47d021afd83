/** Checks on what callers hand the store, shared by every backend. */
import { StoreError } from "./errors.ts";
import type { ListOptions, TypedBlob } from "./types.ts";

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export function limitOf(options: ListOptions | undefined, fallback = DEFAULT_LIMIT): number {
  const limit = options?.limit ?? fallback;
  if (!Number.isInteger(limit) || limit < 1)
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `limit must be a whole number ≥ 1, got ${String(limit)}`);
  return Math.min(limit, MAX_LIMIT);
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
