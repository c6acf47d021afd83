/** Placeholder until the PostgreSQL AssistantStore lands (built apart; this file is replaced whole). */
import { StoreError } from "../errors.ts";
import type { AssistantStore } from "../types.ts";
import type { PostgresContext } from "./context.ts";

const notYet = (): never => {
  throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "the PostgreSQL AssistantStore is not implemented yet");
};

export class PostgresAssistantStore implements AssistantStore {
  readonly create = notYet;
  readonly get = notYet;
  readonly update = notYet;
  readonly delete = notYet;
  readonly search = notYet;
  readonly count = notYet;

  constructor(readonly context: PostgresContext) {}
}
