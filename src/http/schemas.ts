/** JSON schemas of the HTTP contract (validated by Fastify, and the source of the API docs). */

export const executeBodySchema = {
  type: "object",
  required: ["code"],
  additionalProperties: false,
  properties: {
    code: { type: "string", minLength: 1, description: "The program's source." },
    language: { type: "string", enum: ["python", "javascript", "typescript"] },
    inputs: { description: "The graph input; null or absent continues a thread from its last checkpoint." },
    resume: { description: "Value handed to a pending interrupt() (Command(resume=...))." },
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
                properties: { node: { type: "string", minLength: 1 }, when: { type: "string", enum: ["before", "after"] } },
              },
            ],
          },
        },
        timeout_ms: { type: "integer", minimum: 1 },
        recursion_limit: { type: "integer", minimum: 1, maximum: 100000 },
        max_tokens: { type: "integer", minimum: 1, description: "Token budget of this execution's LLM calls, capped by the server's." },
        checkpoint_id: { type: ["string", "null"] },
        configurable: { type: "object" },
      },
    },
  },
} as const;

export interface ExecuteBody {
  code: string;
  language?: "python" | "javascript" | "typescript";
  inputs?: unknown;
  resume?: unknown;
  config?: {
    thread_id?: string;
    debug?: boolean;
    breakpoints?: (string | { node: string; when?: "before" | "after" })[];
    timeout_ms?: number;
    recursion_limit?: number;
    max_tokens?: number;
    checkpoint_id?: string | null;
    configurable?: Record<string, unknown>;
  } | null;
}
