/** The OpenAPI document: its header, and the pieces of the routes' response schemas. */
import swagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";

import { ERRORS, type ErrorCode } from "../contract/errors.ts";
import { EVENT_TYPES } from "../contract/types.ts";

// additionalProperties: Fastify serializes with these schemas, and must not drop a field.
// required: the fuzz run (test/fuzz-http.test.ts) checks every error answer against it.
const envelope = {
  type: "object",
  additionalProperties: true,
  required: ["status", "error", "error_type", "code"],
  properties: {
    status: { type: "string", enum: ["error"] },
    error: { type: "string" },
    error_type: { type: "string" },
    code: { type: "string" },
  },
};

/**
 * Response schemas for the error codes a route can answer, grouped by HTTP status; each
 * status's description names its codes (a test checks they exist in the catalogue).
 */
export function errorResponses(codes: ErrorCode[]): Record<number, object> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const responses: Record<number, object> = {};
  for (const [status, list] of byStatus) {
    responses[status] = { description: list.map((c) => `${c}: ${ERRORS[c].doc}`).join("\n"), ...envelope };
  }
  return responses;
}

/**
 * A 200 answer described in words (its shape is the contract's, CONTRACT.md), with the fields it
 * always has. Values stay untyped but for enums: Fastify serializes with this schema, and would
 * coerce a value to a declared type, hiding the mismatch the fuzz run (test/fuzz-http.test.ts) looks for.
 */
export const described = (description: string, fields: Record<string, object> = {}): Record<number, object> => ({
  200: {
    description,
    type: "object",
    additionalProperties: true,
    ...(Object.keys(fields).length > 0 ? { required: Object.keys(fields), properties: fields } : {}),
  },
});

/** A field that is always there, of any JSON type. */
export const ANY = {};
/** A field that is always one of these strings. */
export const oneOf = (...values: string[]) => ({ type: "string", enum: values });

/** The names a stream's `event:` lines may carry: the engine's own, never a program's. */
export const STREAM_EVENT_NAMES = EVENT_TYPES;

/**
 * A 200 answered as Server-Sent Events. OpenAPI 3.0 has `schema` describe one event as a
 * client parses it (what the fuzz run checks each event against).
 */
export const eventStream = (description: string): Record<number, object> => ({
  200: {
    description,
    content: {
      "text/event-stream": {
        schema: {
          type: "object",
          required: ["id", "event", "data"],
          properties: {
            id: {
              type: "string",
              pattern: "^[1-9][0-9]*$",
              description: "1, 2, 3... within the execution (Last-Event-ID)",
            },
            event: { type: "string", enum: [...STREAM_EVENT_NAMES] },
            data: { type: "string", description: "JSON whose `type` is the event name" },
          },
        },
      },
    },
  },
});

/** Codes every authenticated route can answer. */
export const COMMON_ERRORS: ErrorCode[] = ["GBX_ERR_UNAUTHENTICATED", "GBX_ERR_SHUTTING_DOWN", "GBX_ERR_INTERNAL"];

/** Collects every route registered after it into the document (routes/docs.ts serves it). */
export async function registerOpenApi(server: FastifyInstance): Promise<void> {
  await server.register(swagger, {
    openapi: {
      info: {
        title: "Graphbox",
        version: "0.1.0",
        description:
          "Runs LangGraph programs (Python, JavaScript, TypeScript) in sandboxes. Every error answers the envelope {status: error, error, error_type, code}; each response lists its codes. An unknown route answers 404 GBX_ERR_NOT_FOUND; a route asked with a method it does not take, 405 GBX_ERR_METHOD_NOT_ALLOWED with `Allow`.",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          apiKey: { type: "apiKey", in: "header", name: "x-api-key" },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
  });
}
