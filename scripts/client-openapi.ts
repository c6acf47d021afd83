/**
 * Writes packages/client/src/generated.ts from the engine's OpenAPI document: the request bodies
 * the client sends, the fields each answer it reads always has, the stream's event names and the
 * error codes. `node --import tsx scripts/client-openapi.ts` (it builds the engine in-process to
 * read the document); test/client-openapi.test.ts fails while the file differs from what the
 * engine's document gives.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import * as prettier from "prettier";

import { ROUTES, type RouteName } from "../packages/client/src/routes.ts";

export const GENERATED_FILE = new URL("../packages/client/src/generated.ts", import.meta.url).pathname;

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  nullable?: boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  description?: string;
}

interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema: Schema; description?: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

/** What the client takes from each route: its body (sent), its query (sent), its 200 answer (read). */
const TYPES: { name: string; route: RouteName; part: "body" | "query" | "200"; doc: string }[] = [
  { name: "ExecuteRequest", route: "execute", part: "body", doc: "The body of POST /execute-langgraph (and /stream)." },
  { name: "DescribeRequest", route: "describe", part: "body", doc: "The body of POST /execute-langgraph/graph." },
  { name: "ThreadSearchRequest", route: "threadSearch", part: "body", doc: "The body of POST /threads/search." },
  { name: "ThreadHistoryQuery", route: "threadHistory", part: "query", doc: "GET /threads/{id}/history's query." },
  { name: "ExecuteResponseFields", route: "execute", part: "200", doc: "What every 200 of an execution has." },
  { name: "GraphDescriptionFields", route: "describe", part: "200", doc: "What a drawn graph always has." },
  { name: "ExecutionRecordFields", route: "execution", part: "200", doc: "What an execution's record always has." },
  { name: "CancelResponseFields", route: "cancel", part: "200", doc: "What a cancel's answer always has." },
  { name: "ThreadStateFields", route: "threadState", part: "200", doc: "What a thread's state always has." },
  { name: "ThreadHistoryFields", route: "threadHistory", part: "200", doc: "What a thread's history always has." },
  { name: "ThreadFields", route: "thread", part: "200", doc: "What LangGraph's Thread always has." },
  { name: "HealthFields", route: "health", part: "200", doc: "GET /health's answer." },
  { name: "ReadyFields", route: "ready", part: "200", doc: "What GET /ready always has." },
];

const comment = (text: string | undefined): string =>
  text ? `/** ${text.replace(/\*\//g, "*\\/").replace(/\s+/g, " ")} */\n` : "";
const key = (name: string): string => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));

/**
 * A JSON schema as a TypeScript type (the subset fastify's schemas use). In an answer (`read`),
 * an object's fields beyond those listed are the hand-written types' business (types.ts), not an
 * index signature.
 */
export function typeOf(schema: Schema, read = false): string {
  const nullable = schema.nullable === true;
  const withNull = (t: string, hasNull: boolean) => (nullable && !hasNull ? `${t} | null` : t);
  if (schema.enum) return withNull(schema.enum.map((v) => JSON.stringify(v)).join(" | "), schema.enum.includes(null));
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return withNull(alternatives.map((s) => `(${typeOf(s, read)})`).join(" | "), false);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return "unknown";
  return withNull(types.map((t) => typeOfKind(t, schema, read)).join(" | "), types.includes("null"));
}

function typeOfKind(kind: string, schema: Schema, read: boolean): string {
  switch (kind) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return `Array<${schema.items ? typeOf(schema.items, read) : "unknown"}>`;
    case "object":
      return objectType(schema, read);
    default:
      throw new Error(`a schema of type ${kind} has no TypeScript type here`);
  }
}

function objectType(schema: Schema, read = false): string {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(
    ([name, s]) => `${comment(s.description)}${key(name)}${required.has(name) ? "" : "?"}: ${typeOf(s, read)};`,
  );
  const extra = schema.additionalProperties;
  const listed = fields.length > 0;
  if (!(read && listed) && extra !== false && !(listed && extra === undefined)) {
    fields.push(`[key: string]: ${typeof extra === "object" ? typeOf(extra) : "unknown"};`);
  }
  return `{\n${fields.join("\n")}\n}`;
}

function operationOf(doc: OpenApiDocument, route: RouteName): Operation {
  const { method, path } = ROUTES[route];
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (!operation) throw new Error(`the engine's OpenAPI has no ${method} ${path}`);
  return operation;
}

function declaration(doc: OpenApiDocument, { name, route, part, doc: text }: (typeof TYPES)[number]): string {
  const operation = operationOf(doc, route);
  let body: string;
  if (part === "body") {
    const schema = operation.requestBody?.content["application/json"]?.schema;
    if (!schema) throw new Error(`${route} takes no JSON body`);
    body = objectType(schema);
  } else if (part === "query") {
    const query = (operation.parameters ?? []).filter((p) => p.in === "query");
    body = objectType({
      type: "object",
      additionalProperties: false,
      properties: Object.fromEntries(query.map((p) => [p.name, { ...p.schema, description: p.description }])),
      required: query.filter((p) => p.required).map((p) => p.name),
    });
  } else {
    const schema = operation.responses["200"]?.content?.["application/json"]?.schema;
    if (!schema) throw new Error(`${route} answers no JSON 200`);
    body = objectType(schema, true);
  }
  return `${comment(`${text} ${ROUTES[route].method} ${ROUTES[route].path}`)}export interface ${name} ${body}\n`;
}

/** The `event:` names of the execution streams, as the document's text/event-stream schema lists them. */
function streamEventNames(doc: OpenApiDocument): string[] {
  const names = (route: RouteName) =>
    operationOf(doc, route).responses["200"]?.content?.["text/event-stream"]?.schema.properties?.["event"]?.enum;
  const post = names("stream");
  const get = names("executionStream");
  if (!post || JSON.stringify(post) !== JSON.stringify(get)) throw new Error("the two streams name different events");
  return post.map(String);
}

export async function renderClientTypes(doc: OpenApiDocument): Promise<string> {
  const codes = [...new Set(JSON.stringify(doc).match(/GBX_ERR_[A-Z_]+/g))].sort();
  const text = [
    "// Generated from the engine's OpenAPI document by scripts/client-openapi.ts: do not edit.",
    "// test/client-openapi.test.ts fails when the engine's document and this file differ.",
    "",
    ...TYPES.map((t) => declaration(doc, t)),
    "/** The `event:` names of POST /execute-langgraph/stream and GET /executions/{id}/stream. */",
    `export const STREAM_EVENT_NAMES = ${JSON.stringify(streamEventNames(doc))} as const;`,
    "",
    "/** Every error code the engine's document names (an envelope's `code`). */",
    `export const ERROR_CODES = ${JSON.stringify(codes)} as const;`,
    "",
  ].join("\n");
  const options = await prettier.resolveConfig(GENERATED_FILE);
  return prettier.format(text, { ...options, filepath: GENERATED_FILE });
}

/** The engine's document, from an app built in-process on a throwaway data directory. */
async function engineDocument(): Promise<OpenApiDocument> {
  const { loadConfig } = await import("../src/config/index.ts");
  const { buildApp } = await import("../src/app.ts");
  const dataDir = mkdtempSync(join(tmpdir(), "graphbox-openapi-"));
  const app = await buildApp(loadConfig({ GRAPHBOX_DATA_DIR: dataDir }));
  try {
    await app.server.ready();
    return app.server.swagger() as unknown as OpenApiDocument;
  } finally {
    await app.server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(GENERATED_FILE, await renderClientTypes(await engineDocument()));
  console.log(`wrote ${GENERATED_FILE}`);
}
