/** Placeholder until the PostgreSQL RunStore lands (built apart; this file is replaced whole). */
import { StoreError } from "../errors.ts";
import type { RunStore } from "../types.ts";
import type { PostgresContext } from "./context.ts";

const notYet = (): never => {
  throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "the PostgreSQL RunStore is not implemented yet");
};

export class PostgresRunStore implements RunStore {
  readonly create = notYet;
  readonly get = notYet;
  readonly list = notYet;
  readonly update = notYet;
  readonly delete = notYet;
  readonly nextPending = notYet;
  readonly claimNext = notYet;
  readonly unclaim = notYet;
  readonly recoverFromDeadEngines = notYet;

  constructor(readonly context: PostgresContext) {}
}
