/** Placeholder until the PostgreSQL GraphStore lands (built apart; this file is replaced whole). */
import { StoreError } from "../errors.ts";
import type { GraphStore } from "../types.ts";
import type { PostgresContext } from "./context.ts";

const notYet = (): never => {
  throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "the PostgreSQL GraphStore is not implemented yet");
};

export class PostgresGraphStore implements GraphStore {
  readonly put = notYet;
  readonly get = notYet;
  readonly list = notYet;
  readonly count = notYet;
  readonly delete = notYet;

  constructor(readonly context: PostgresContext) {}
}
