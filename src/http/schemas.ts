/**
 * JSON schemas of the HTTP contract: Fastify validates with them, /openapi.json shows them, and
 * json-schema-to-ts derives the handlers' TypeScript types from them (one source for all three).
 * json-schema-to-ts rather than TypeBox: the schemas stay the plain JSON they are, so the document
 * and ajv's error keywords (which errors.ts turns into messages) do not change; TypeBox writes an
 * enum as an anyOf of consts and a nullable object as an anyOf too.
 */
import type { FromSchema } from "json-schema-to-ts";

import { LANGUAGES } from "../contract/types.ts";

/** A string with something besides white space in it. */
export const NOT_BLANK = "\\S";

export const executeBodySchema = {
  type: "object",
  required: ["code"],
  additionalProperties: false,
  properties: {
    code: { type: "string", minLength: 1, pattern: NOT_BLANK, description: "The program's source." },
    language: { type: "string", enum: LANGUAGES },
    inputs: { description: "The graph input; null or absent continues a thread from its last checkpoint." },
    resume: { description: "Value handed to a pending interrupt() (Command(resume=...))." },
    files: {
      type: "object",
      additionalProperties: { type: "string" },
      description:
        "More modules of the program, by relative path (`state.py`, `tools/search.ts`): `code` imports them " +
        "(Python: `from .state import State` or `from state import State`; JavaScript/TypeScript: `./state.js`).",
    },
    config: {
      type: ["object", "null"],
      additionalProperties: false,
      properties: {
        thread_id: { type: "string", minLength: 1, maxLength: 256 },
        debug: { type: "boolean" },
        breakpoints: {
          type: "array",
          maxItems: 256,
          items: {
            anyOf: [
              { type: "string", minLength: 1 },
              {
                type: "object",
                required: ["node"],
                additionalProperties: false,
                properties: {
                  node: { type: "string", minLength: 1 },
                  when: { type: "string", enum: ["before", "after"] },
                },
              },
            ],
          },
        },
        timeout_ms: { type: "integer", minimum: 1 },
        recursion_limit: { type: "integer", minimum: 1, maximum: 100000 },
        max_tokens: {
          type: "integer",
          minimum: 1,
          description: "Token budget of this execution's LLM calls, capped by the server's.",
        },
        checkpoint_id: { type: ["string", "null"] },
        configurable: { type: "object" },
        graph: {
          type: "string",
          minLength: 1,
          maxLength: 256,
          description: "The variable holding the graph to run, when the program defines several.",
        },
        egress: {
          type: "array",
          maxItems: 256,
          items: { type: "string", minLength: 1, maxLength: 300 },
          description:
            "Hosts this execution may reach through the egress proxy, `host[:port]` patterns as GRAPHBOX_EGRESS_ALLOW takes them; it only narrows the engine's list (and the API key's). `[]`: no egress for this execution.",
        },
        context: {
          type: ["object", "null"],
          description:
            "The run's LangGraph context (Python `context=`, JavaScript `context`): what a node reads as `runtime.context`. Per run: a thread's next run has none unless it sends its own.",
        },
      },
    },
  },
} as const;

export type ExecuteBody = FromSchema<typeof executeBodySchema>;

/** `{id}` of the records' routes: a thread's or an execution's id. */
export const idParams = { type: "object", required: ["id"], properties: { id: { type: "string" } } } as const;
