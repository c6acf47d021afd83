/**
 * LangGraph's `list(filter=...)`: a checkpoint matches when its metadata has every key of the
 * filter with an equal value (as the in-memory saver compares: `query_value == metadata[key]`).
 * Done in code rather than SQL so that every backend agrees on nested values and key order.
 */
import { isDeepStrictEqual } from "node:util";

import type { CheckpointMetadata } from "./types.ts";

export function matchesFilter(metadata: CheckpointMetadata, filter: CheckpointMetadata | undefined): boolean {
  if (!filter) return true;
  for (const [key, want] of Object.entries(filter)) {
    if (!Object.hasOwn(metadata, key)) {
      if (want === null || want === undefined) continue;
      return false;
    }
    if (!isDeepStrictEqual(metadata[key], want)) return false;
  }
  return true;
}
