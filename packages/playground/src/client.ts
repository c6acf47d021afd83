/**
 * The page talks to the engine through the typed client (`@graphbox/client`), bundled in; the
 * names the page uses for the client's types are kept here.
 */
export { GraphboxClient, GraphboxError } from "@graphbox/client";
export type {
  Checkpoint,
  ExecuteRequest,
  ExecuteResponse,
  ExecutionMetadata,
  GraphDescription as GraphDrawing,
  Language,
  StreamEvent,
  ThreadHistory,
} from "@graphbox/client";

import type { ExecuteRequest } from "@graphbox/client";

/** A breakpoint as a request names it with its side: `{node, when}`. */
export type Breakpoint = Extract<NonNullable<NonNullable<ExecuteRequest["config"]>["breakpoints"]>[number], object>;
