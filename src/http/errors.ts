/** Maps every failure of request handling to the contract's envelope: never an HTML page or a bare stack. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

import { GraphboxError } from "../contract/errors.ts";
import { StoreError } from "../store/errors.ts";
import { envelopeFor } from "./langgraph.ts";
import { NOT_BLANK } from "./schemas.ts";

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/config/thread_id` → `config.thread_id`. */
function fieldName(path: string): string {
  return path
    .replace(/^\//, "")
    .replace(/\/(\d+)(?=\/|$)/g, "[$1]")
    .replace(/\//g, ".");
}

/** Says which field is wrong and how, in words a client author understands. */
export function describeValidation(issue: ValidationIssue): string {
  const where = fieldName(issue.instancePath);
  const prefix = where === "" ? "the body" : `\`${where}\``;
  switch (issue.keyword) {
    case "required":
      return `\`${where === "" ? "" : `${where}.`}${String(issue.params["missingProperty"])}\` is required`;
    case "additionalProperties":
      return `${prefix} has an unknown field \`${String(issue.params["additionalProperty"])}\``;
    case "type":
      return `${prefix} must be ${String(issue.params["type"]).replace(",", " or ")}`;
    case "enum":
      return `${prefix} must be one of ${(issue.params["allowedValues"] as unknown[]).join(", ")}`;
    case "minLength":
      return issue.params["limit"] === 1
        ? `${prefix} must not be empty`
        : `${prefix} must be at least ${String(issue.params["limit"])} characters`;
    case "pattern":
      return issue.params["pattern"] === NOT_BLANK
        ? `${prefix} must not be empty`
        : `${prefix} must match ${String(issue.params["pattern"])}`;
    case "anyOf":
      return `${prefix} must be a node name or {"node": "<name>", "when": "before" | "after"}`;
    default:
      return `${prefix} ${issue.message ?? "is invalid"}`;
  }
}

function translate(err: FastifyError): GraphboxError {
  if (err instanceof GraphboxError) return err;
  // A value the store cannot hold (PostgreSQL: a NUL character in an id or in metadata): the
  // request's, so a 400 that names it, not an internal error.
  if (err instanceof StoreError && err.code === "GBX_STORE_INVALID_ARGUMENT")
    return new GraphboxError("GBX_ERR_INVALID_REQUEST", err.message);
  if (err.validation && err.validation.length > 0) {
    // anyOf reports each branch's failure first; the anyOf entry itself says it best.
    const issues = err.validation as unknown as ValidationIssue[];
    const issue = issues.find((i) => i.keyword === "anyOf") ?? issues[0]!;
    return new GraphboxError("GBX_ERR_INVALID_REQUEST", describeValidation(issue));
  }
  switch (err.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new GraphboxError("GBX_ERR_INVALID_JSON", `the body is not valid JSON: ${err.message}`);
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new GraphboxError("GBX_ERR_BODY_TOO_LARGE", "the body is larger than GRAPHBOX_BODY_LIMIT_BYTES allows");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new GraphboxError(
        "GBX_ERR_UNSUPPORTED_MEDIA_TYPE",
        "the body must be JSON (Content-Type: application/json)",
      );
  }
  if (err instanceof SyntaxError)
    return new GraphboxError("GBX_ERR_INVALID_JSON", `the body is not valid JSON: ${err.message}`);
  if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
    return new GraphboxError("GBX_ERR_INVALID_REQUEST", err.message);
  }
  return new GraphboxError("GBX_ERR_INTERNAL", "internal error; the engine logged it with this request's id");
}

/** Methods a route of this API can take, in the order `Allow` lists them. */
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

/** 405 with `Allow` when the path has routes for other methods (RFC 9110), else 404. */
function noRoute(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply): GraphboxError {
  const path = request.url.split("?")[0]!;
  // The resource is the most specific route the path matches: `/assistants/count` is POST's
  // route of that name, not the GET that `/assistants/{assistant_id}` would also match.
  const found = METHODS.map((method) => {
    const route = app.findRoute({ method, url: path });
    return { method, params: route ? Object.keys(route.params).length : Number.POSITIVE_INFINITY };
  });
  const fewest = Math.min(...found.map((f) => f.params));
  const allowed = found.filter((f) => f.params === fewest && fewest !== Number.POSITIVE_INFINITY).map((f) => f.method);
  if (allowed.length === 0) return new GraphboxError("GBX_ERR_NOT_FOUND", `no route ${request.method} ${path}`);
  void reply.header("allow", allowed.join(", "));
  return new GraphboxError(
    "GBX_ERR_METHOD_NOT_ALLOWED",
    `${request.method} is not allowed on ${path}; it takes ${allowed.join(", ")}`,
  );
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    // A request that matched no route can fail before the not-found handler runs (a QUERY with a
    // body and no content type): it still gets 404 or 405, not the parser's complaint.
    const mapped = request.is404 ? noRoute(app, request, reply) : translate(err);
    if (mapped.code === "GBX_ERR_INTERNAL") request.log.error({ err }, "request failed");
    if (mapped.retryAfterSeconds !== undefined) void reply.header("retry-after", String(mapped.retryAfterSeconds));
    void reply.status(mapped.status).send(envelopeFor(request, mapped.toEnvelope()));
  });
  app.setNotFoundHandler((request, reply) => {
    const mapped = noRoute(app, request, reply);
    void reply.status(mapped.status).send(mapped.toEnvelope());
  });
}
