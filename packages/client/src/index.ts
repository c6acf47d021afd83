/** @graphbox/client: a typed client for Graphbox's HTTP API (the CLI is `graphbox`, src/cli/). */
export {
  GraphboxClient,
  type CallOptions,
  type ClientOptions,
  type FollowOptions,
  type StreamOptions,
} from "./client.ts";
export { GraphboxError, GraphboxExecutionError, GraphboxStreamError } from "./errors.ts";
export {
  isTerminal,
  outcomeOf,
  type EventData,
  type StreamEvent,
  type StreamEventName,
  type TerminalEvent,
} from "./events.ts";
export {
  ERROR_CODES,
  STREAM_EVENT_NAMES,
  type DescribeRequest,
  type ExecuteRequest,
  type ThreadSearchRequest,
} from "./generated.ts";
export { ROUTES } from "./routes.ts";
export type * from "./types.ts";
