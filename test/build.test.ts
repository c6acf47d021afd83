/**
 * The engine as `npm start` runs it: compiled JavaScript from dist/, no transpiler in the process,
 * and the files it reads or mounts beside its sources (harnesses, the sandbox's /etc, the seccomp
 * exporter, the JS runtime's packages and snapshot) found from the compiled code too.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";

import { PROJECT_ROOT, SOURCE_ROOT } from "../src/contract/paths.ts";
import { JS_RUNTIME_DIR } from "../src/runtimes/js/launch.ts";
import { PYTHON_HARNESS_DIR } from "../src/runtimes/python/launch.ts";
import { compiledServer, randomPort, startEngineProcess, type EngineProcess } from "./support/process.ts";
import { PYTHON_OK, TYPESCRIPT_OK } from "./support/programs.ts";

type Json = Record<string, unknown>;

/** A module of the compiled build, loaded as plain JavaScript. */
const compiled = async <T>(path: string): Promise<T> =>
  (await import(pathToFileURL(join(PROJECT_ROOT, "dist", path)).href)) as T;

let engine: EngineProcess;
let dataDir: string;
before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "graphbox-build-"));
  engine = startEngineProcess(dataDir, randomPort());
  await engine.ready;
});
after(() => {
  engine.child.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

test("the compiled modules find the project's files where the sources do", async () => {
  const paths = await compiled<{ PROJECT_ROOT: string; SOURCE_ROOT: string }>("contract/paths.js");
  assert.equal(paths.PROJECT_ROOT, PROJECT_ROOT);
  assert.equal(paths.SOURCE_ROOT, SOURCE_ROOT);
  const js = await compiled<{ JS_RUNTIME_DIR: string }>("runtimes/js/launch.js");
  assert.equal(js.JS_RUNTIME_DIR, JS_RUNTIME_DIR);
  assert.ok(existsSync(join(js.JS_RUNTIME_DIR, "harness", "main.mjs")), js.JS_RUNTIME_DIR);
  const python = await compiled<{ PYTHON_HARNESS_DIR: string }>("runtimes/python/launch.js");
  assert.equal(python.PYTHON_HARNESS_DIR, PYTHON_HARNESS_DIR);
  assert.ok(existsSync(join(python.PYTHON_HARNESS_DIR, "run.py")), python.PYTHON_HARNESS_DIR);
});

test("the engine process runs dist/server.js with no transpiler: none on its command line, in NODE_OPTIONS or imported by the build", () => {
  const pid = engine.child.pid;
  assert.ok(pid !== undefined);
  const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  assert.deepEqual(argv, [process.execPath, compiledServer()]);
  const nodeOptions =
    readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .find((v) => v.startsWith("NODE_OPTIONS=")) ?? "";
  assert.doesNotMatch(nodeOptions, /--(import|loader|experimental-loader|require)\b|\btsx\b/);
  const compiledFiles = readdirSync(join(PROJECT_ROOT, "dist"), { recursive: true, encoding: "utf8" }).filter((file) =>
    file.endsWith(".js"),
  );
  assert.ok(compiledFiles.includes("server.js"), compiledFiles.join(", "));
  for (const file of compiledFiles) {
    const source = readFileSync(join(PROJECT_ROOT, "dist", file), "utf8");
    assert.doesNotMatch(source, /(from|import\(|require\()\s*["'](tsx|esbuild)["'/]/, file);
    assert.doesNotMatch(source, /(from|import\()\s*["']\.{1,2}\/[^"']*\.ts["']/, `${file} imports a .ts file`);
  }
});

test("the compiled engine runs a Python and a TypeScript program (harnesses, sandbox files and the JS snapshot found from dist/)", async () => {
  for (const [language, code] of [
    ["python", PYTHON_OK],
    ["typescript", TYPESCRIPT_OK],
  ] as const) {
    const response = await fetch(`${engine.url}/execute-langgraph`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code, language, inputs: {} }),
    });
    const answer = (await response.json()) as Json;
    assert.equal(answer["status"], "success", `${language}: ${JSON.stringify(answer)}`);
    assert.deepEqual(
      (answer["result"] as { state?: Json } | undefined)?.state?.["out"],
      "fine",
      `${language}: ${JSON.stringify(answer)}`,
    );
  }
});
