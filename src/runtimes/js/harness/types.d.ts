// Types only, for the harness's JSDoc (`tsc -p src/runtimes/js/harness`); nothing here runs.
// The messages are the engine's own definitions: one protocol, checked on both sides.
export type {
  CheckpointOp,
  ChunkMode,
  JobMessage,
  ResponseMessage,
  StoreOp,
} from "../../../contract/protocol/messages.ts";
/** The engine's one PROTOCOL_VERSION, as a type: the harness's constant fails the type check when it differs. */
export type ProtocolVersion = typeof import("../../../contract/protocol/messages.ts").PROTOCOL_VERSION;

/** One checkpoint as the engine answers `get_tuple` and `list` (src/engine/checkpoints.ts toWire). */
export interface CheckpointRow {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  type: string;
  /** base64 */
  checkpoint: string;
  metadata: Record<string, unknown> | null;
  writes: { task_id: string; channel: string; type: string; value: string }[];
}

/** One item as the engine answers store `get` and `search` (src/engine/store-requests.ts toWire). */
export interface ItemRow {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  /** ISO 8601 */
  created_at: string;
  updated_at: string;
}

/** Where a syntax or import error is in the program (1-based). */
export interface SourceLocation {
  /** `<workflow>` (the entry) or the path of one of the program's files. */
  file?: string;
  line: number;
  column: number;
  lineText?: string;
}
