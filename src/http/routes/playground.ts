/**
 * The playground page at /playground/: the static files packages/playground builds at setup (one
 * index.html, a script and a stylesheet with hashed names), served from that folder and nothing
 * else. The page is public like /health; the API calls it makes carry the key the user types into it.
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";

import type { FastifyPluginAsync, FastifyReply } from "fastify";

import { GraphboxError } from "../../contract/errors.ts";
import { PROJECT_ROOT } from "../../contract/paths.ts";
import { errorResponses } from "../openapi.ts";

/** Where scripts/setup.sh has packages/playground/build.mjs write the page. */
export const PLAYGROUND_DIR = join(PROJECT_ROOT, "packages", "playground", "dist");

const CONTENT_TYPES = new Map([
  [".html", "text/html; charset=utf-8"],
  [".js", "text/javascript; charset=utf-8"],
  [".css", "text/css; charset=utf-8"],
  [".txt", "text/plain; charset=utf-8"],
  [".svg", "image/svg+xml"],
  [".png", "image/png"],
  [".woff2", "font/woff2"],
]);

/**
 * One flat name: the build writes no folders, so no separator and no leading dot (no `..`, no
 * `.built`) can ever name a file outside the page's own.
 */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+$/;
/** esbuild's `[name]-[hash]`: the content never changes under that name. */
const HASHED = /-[A-Z0-9]{8}\.[a-z0-9.]+$/;

/**
 * The page's own rules: its script and styles only from itself, calls only to this engine. React
 * Flow and CodeMirror set styles inline.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export interface PlaygroundRoutesOptions {
  /** The built page's folder; PLAYGROUND_DIR unless a test says otherwise. */
  dir?: string;
}

const notBuilt = (dir: string) =>
  new GraphboxError(
    "GBX_ERR_PLAYGROUND_NOT_BUILT",
    `the playground is not built (no ${join(dir, "index.html")}): run \`bash scripts/setup.sh\` or \`npm start\``,
  );

async function sendFile(reply: FastifyReply, dir: string, name: string): Promise<FastifyReply> {
  const type = CONTENT_TYPES.get(name.slice(name.lastIndexOf(".")));
  if (!FILE_NAME.test(name) || type === undefined)
    throw new GraphboxError("GBX_ERR_NOT_FOUND", `no playground file ${name}`);
  let body: Buffer;
  try {
    body = await readFile(join(dir, name));
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!existsSync(join(dir, "index.html"))) throw notBuilt(dir);
    if (code === "ENOENT" || code === "EISDIR")
      throw new GraphboxError("GBX_ERR_NOT_FOUND", `no playground file ${name}`);
    throw err;
  }
  return reply
    .type(type)
    .header("cache-control", HASHED.test(name) ? "public, max-age=31536000, immutable" : "no-cache")
    .header("x-content-type-options", "nosniff")
    .header("content-security-policy", CONTENT_SECURITY_POLICY)
    .send(body);
}

export const playgroundRoutes: FastifyPluginAsync<PlaygroundRoutesOptions> = async (app, options) => {
  const dir = options.dir ?? PLAYGROUND_DIR;
  const hidden = { hide: true, security: [] };
  // Served without an API key (auth.ts reads `public`).
  const config = { public: true };

  // The page's assets are relative to it: /playground must become /playground/ (relative Location:
  // it still works behind a proxy that mounts the engine under a prefix).
  app.get("/playground", { schema: hidden, config }, async (_request, reply) =>
    reply.code(308).header("location", "playground/").send(),
  );
  app.get(
    "/playground/",
    {
      config,
      schema: {
        tags: ["playground"],
        summary: "The playground page: edit a program, run it, watch its graph, step through its thread (no auth)",
        description:
          "A static page built at setup (packages/playground). Its API calls carry the key typed into it. " +
          "Its script and styles are served beside it, under /playground/.",
        security: [],
        response: {
          200: { description: "The page (text/html)", content: { "text/html": { schema: { type: "string" } } } },
          ...errorResponses(["GBX_ERR_PLAYGROUND_NOT_BUILT"]),
        },
      },
    },
    async (_request, reply) => sendFile(reply, dir, "index.html"),
  );
  app.get<{ Params: { file: string } }>("/playground/:file", { schema: hidden, config }, async (request, reply) =>
    sendFile(reply, dir, request.params.file),
  );
};
