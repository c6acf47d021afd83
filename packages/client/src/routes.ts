/**
 * Every route the client calls, as the engine's OpenAPI document names it: the client builds its
 * URLs from this table, and the agreement test (test/client-openapi.test.ts) checks each entry
 * against the engine's /openapi.json.
 */
export const ROUTES = {
  execute: { method: "POST", path: "/execute-langgraph" },
  stream: { method: "POST", path: "/execute-langgraph/stream" },
  describe: { method: "POST", path: "/execute-langgraph/graph" },
  execution: { method: "GET", path: "/executions/{id}" },
  cancel: { method: "POST", path: "/executions/{id}/cancel" },
  executionStream: { method: "GET", path: "/executions/{id}/stream" },
  threadState: { method: "GET", path: "/threads/{id}/state" },
  threadHistory: { method: "GET", path: "/threads/{id}/history" },
  thread: { method: "GET", path: "/threads/{id}" },
  threadSearch: { method: "POST", path: "/threads/search" },
  threadDelete: { method: "DELETE", path: "/threads/{id}" },
  health: { method: "GET", path: "/health" },
  ready: { method: "GET", path: "/ready" },
} as const satisfies Record<string, { method: "GET" | "POST" | "DELETE"; path: string }>;

export type RouteName = keyof typeof ROUTES;

/** The route's path with `{id}` filled in (encoded: an id is the caller's string, not a path). */
export function pathOf(name: RouteName, id?: string): string {
  const { path } = ROUTES[name];
  if (!path.includes("{id}")) return path;
  if (id === undefined || id === "") throw new TypeError(`${name} needs an id`);
  return path.replace("{id}", encodeURIComponent(id));
}
