/**
 * How the engine serves the playground's files (src/http/routes/playground.ts): only the built
 * page's own files, with their types and cache rules, without an API key, and a clear 503 when the
 * page was never built. The page itself is tested in a browser by playground.test.ts.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import Fastify from "fastify";

import { installErrorHandlers } from "../src/http/errors.ts";
import { PLAYGROUND_DIR, playgroundRoutes } from "../src/http/routes/playground.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";

const KEY = "playground-files-key-0123456789";
let engine: RunningEngine;

before(async () => {
  assert.ok(existsSync(join(PLAYGROUND_DIR, "index.html")), "the playground is not built: run bash scripts/setup.sh");
  engine = await startEngine(undefined, { apiKeys: { tester: KEY } });
});
after(() => engine?.close());

const get = (url: string) => engine.app.server.inject({ method: "GET", url });

test("/playground/ answers the page without a key, and its script and stylesheet with their types and cache rules", async () => {
  const bare = await get("/playground");
  assert.equal(bare.statusCode, 308);
  assert.equal(bare.headers.location, "playground/");

  const page = await get("/playground/");
  assert.equal(page.statusCode, 200);
  assert.equal(page.headers["content-type"], "text/html; charset=utf-8");
  assert.equal(page.headers["cache-control"], "no-cache");
  assert.match(String(page.headers["content-security-policy"]), /default-src 'self'.*connect-src 'self'/);
  assert.equal(page.body, readFileSync(join(PLAYGROUND_DIR, "index.html"), "utf8"));

  const script = /src="(app-[A-Z0-9]+\.js)"/.exec(page.body)?.[1];
  const style = /href="(app-[A-Z0-9]+\.css)"/.exec(page.body)?.[1];
  assert.ok(script && style, page.body);
  for (const [name, type] of [
    [script, "text/javascript; charset=utf-8"],
    [style, "text/css; charset=utf-8"],
  ] as const) {
    const file = await get(`/playground/${name}`);
    assert.equal(file.statusCode, 200, name);
    assert.equal(file.headers["content-type"], type);
    assert.equal(file.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(file.headers["x-content-type-options"], "nosniff");
    assert.equal(file.rawPayload.length, readFileSync(join(PLAYGROUND_DIR, name)).length);
  }
  // Everything else still asks for the key.
  const api = await get("/threads/some-thread/history");
  assert.equal(api.statusCode, 401);
  assert.equal(api.json().code, "GBX_ERR_UNAUTHENTICATED");
});

test("no name reaches a file outside the built page: traversal, encodings, dotfiles and unknown types are 404", async () => {
  for (const url of [
    "/playground/..%2Fpackage.json",
    "/playground/%2e%2e%2f%2e%2e%2fpackage.json",
    "/playground/..%5Cpackage.json",
    "/playground/.built",
    "/playground/index.html%00.js",
    "/playground/build.mjs",
    "/playground/app.exe",
    "/playground/%2Fetc%2Fpasswd",
    // A real separator: no route of the playground's (it takes one flat name).
    "/playground/../package.json",
    "/playground/sub/index.html",
  ]) {
    const answer = await get(url);
    assert.ok([404, 401].includes(answer.statusCode), `${url}: ${answer.statusCode}`);
    assert.equal(answer.headers["content-type"], "application/json; charset=utf-8", url);
    assert.doesNotMatch(answer.body, /"name": "graphbox"|root:x:0/, url);
  }
});

test("a checkout whose page was never built answers 503 naming the setup to run", async () => {
  const empty = mkdtempSync(join(tmpdir(), "graphbox-no-playground-"));
  const server = Fastify();
  installErrorHandlers(server);
  await server.register(playgroundRoutes, { dir: join(empty, "dist") });
  try {
    for (const url of ["/playground/", "/playground/app-ABCDEFGH.js"]) {
      const answer = await server.inject({ method: "GET", url });
      assert.equal(answer.statusCode, 503, url);
      assert.equal(answer.json().code, "GBX_ERR_PLAYGROUND_NOT_BUILT");
      assert.match(answer.json().error, /scripts\/setup\.sh/);
    }
  } finally {
    await server.close();
    rmSync(empty, { recursive: true, force: true });
  }
});
