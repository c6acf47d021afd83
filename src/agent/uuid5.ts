/**
 * RFC 9562's name-based UUID (version 5, SHA-1). LangGraph's servers name each graph's default
 * assistant `uuid5(NAMESPACE_GRAPH, graph_id)`; the same id here lets a client that computed it
 * (or saved it from LangGraph) find the same assistant.
 */
import { createHash } from "node:crypto";

/** LangGraph's NAMESPACE_GRAPH (RFC 9562's URL namespace), in langgraph-api's `graph/load` and langgraph_api. */
export const NAMESPACE_GRAPH = "6ba7b821-9dad-11d1-80b4-00c04fd430c8";

export function uuid5(name: string, namespace: string): string {
  const hash = createHash("sha1")
    .update(Buffer.from(namespace.replace(/-/g, ""), "hex"))
    .update(name, "utf8")
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The id of the assistant LangGraph's servers make for a graph. */
export const defaultAssistantId = (graphId: string): string => uuid5(graphId, NAMESPACE_GRAPH);
