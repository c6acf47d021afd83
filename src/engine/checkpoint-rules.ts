/**
 * What a checkpoint from a harness must look like before the engine stores it: only what the
 * runtime's own serializer writes, under an id in LangGraph's own format. The harness runs in
 * the program's process, so anything here may be forged; a checkpoint that breaks a rule ends the
 * run (see `CheckpointRejected`) rather than being stored for a later run to load.
 */
import type { RuntimeName } from "../contract/types.ts";

/** A checkpoint the runtime's harness would never have written: the program forged it. */
export class CheckpointRejected extends Error {
  override name = "CheckpointRejected";
}

/** A checkpoint write or read over one of the engine's checkpoint limits. */
export class CheckpointQuotaExceeded extends Error {
  override name = "CheckpointQuotaExceeded";
  constructor(
    /** The environment variable of the limit, for the run's `output_limit` message. */
    readonly limit: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The serializer types each harness writes, found by running the corpus (README "Checkpoints"):
 * Python's JsonPlusSerializer.dumps_typed writes "msgpack", "null", "bytes" and "bytearray"
 * ("pickle" only with pickle_fallback, which the harness turns off; "json" is a type it reads
 * from old savers, never writes); LangGraph.js's writes "json" and "bytes".
 */
export const SERIALIZER_TYPES: Readonly<Record<RuntimeName, ReadonlySet<string>>> = {
  python: new Set(["msgpack", "null", "bytes", "bytearray"]),
  js: new Set(["json", "bytes"]),
};

/**
 * LangGraph's checkpoint ids (both runtimes): UUIDv6, lower-case, whose first 60 bits are 100 ns
 * ticks since 1582-10-15, so the text sorts by time. The clock-sequence group carries LangGraph's
 * own counter (e.g. "ffff" for -1), so it is not held to the RFC variant.
 */
const UUID6 = /^[0-9a-f]{8}-[0-9a-f]{4}-6[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GREGORIAN_TO_UNIX_MS = 12_219_292_800_000n;
/** The sandbox reads the engine's own clock; this only absorbs the time a run takes to send its put. */
const FUTURE_TOLERANCE_MS = 60_000;

/** Epoch ms of a UUIDv6's timestamp. */
export function uuid6Time(id: string): number {
  const ticks = BigInt(`0x${id.slice(0, 8)}${id.slice(9, 13)}${id.slice(15, 18)}`);
  return Number(ticks / 10_000n - GREGORIAN_TO_UNIX_MS);
}

/**
 * Refuses an id not in LangGraph's format, or dated in the future: a far-future id would sort
 * after every id the thread's real runs will write, and the store refuses ids that do not grow,
 * so one forged id could freeze the thread.
 */
export function checkCheckpointId(what: string, id: string, now: number): void {
  if (!UUID6.test(id))
    throw new CheckpointRejected(
      `${what} ${JSON.stringify(id.slice(0, 64))} is not a LangGraph checkpoint id (a lower-case UUIDv6)`,
    );
  const at = uuid6Time(id);
  if (at > now + FUTURE_TOLERANCE_MS)
    throw new CheckpointRejected(`${what} ${JSON.stringify(id)} is dated ${new Date(at).toISOString()}, in the future`);
}

export function checkSerializerType(runtime: RuntimeName, what: string, type: string): void {
  if (!SERIALIZER_TYPES[runtime].has(type)) {
    throw new CheckpointRejected(
      `${what} has serializer type ${JSON.stringify(type.slice(0, 64))}, which the ${runtime} harness never writes (it writes ${[...SERIALIZER_TYPES[runtime]].join(", ")})`,
    );
  }
}
