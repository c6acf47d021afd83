/** Placeholder until the PostgreSQL ItemStore lands (built apart; this file is replaced whole). */
import { StoreError } from "../errors.ts";
import type { ItemStore } from "../types.ts";
import type { PostgresContext } from "./context.ts";

const notYet = (): never => {
  throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "the PostgreSQL ItemStore is not implemented yet");
};

export class PostgresItemStore implements ItemStore {
  readonly get = notYet;
  readonly put = notYet;
  readonly delete = notYet;
  readonly search = notYet;
  readonly listNamespaces = notYet;

  constructor(readonly context: PostgresContext) {}
}
