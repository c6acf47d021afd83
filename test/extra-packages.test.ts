/**
 * The packages an operator adds (GRAPHBOX_PYTHON_PACKAGES, GRAPHBOX_JS_PACKAGES), installed by the
 * real setup from the real registries: importable in both runtimes, listed in /ready, pre-imported
 * by the zygote, refused when malformed or not installed, and a change of what is installed
 * replaces the warm sandboxes.
 *
 * Python installs into a copy of the project's virtual environment that this file owns
 * (GRAPHBOX_PYTHON points the engine at it). The JavaScript runtime has one place, the project's
 * own node_modules: the packages are installed there and removed again after (setup with the
 * setting emptied), and no other test file runs meanwhile (scripts/test.sh runs this file alone, after the others).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { ConfigError, loadConfig, PROJECT_ROOT } from "../src/config/index.ts";
import { jsPackages, pythonPackages } from "../src/config/package-specs.ts";
import { JS_RUNTIME_DIR } from "../src/config/paths.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { waitFor } from "./support/process.ts";
import { pythonGraph, typescriptGraph } from "./support/programs.ts";

const run = promisify(execFile);
const KEY = `ops-key-${crypto.randomUUID()}`;
const AUTH = { authorization: `Bearer ${KEY}` };

let venv: string;
let python: string;
let engine: RunningEngine | undefined;

/** scripts/setup.sh as `npm start` runs it, with these settings. */
async function setup(env: Record<string, string>): Promise<void> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^GRAPHBOX_(PYTHON|JS)_PACKAGES$/.test(name)),
  );
  await run("bash", ["scripts/setup.sh", "--quiet"], {
    cwd: PROJECT_ROOT,
    env: { ...clean, GRAPHBOX_PYTHON: python, ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
}

before(async () => {
  venv = join(mkdtempSync(join(tmpdir(), "graphbox-test-venv-")), "venv");
  // cp -a keeps the mtimes the compiled .pyc files are checked against (a fresh mtime recompiles every import).
  await run("cp", ["-a", join(PROJECT_ROOT, ".venv"), venv]);
  python = join(venv, "bin", "python");
  await setup({ GRAPHBOX_PYTHON_PACKAGES: "six==1.17.0", GRAPHBOX_JS_PACKAGES: "ms@2.1.3" });
  engine = await startEngine(undefined, {
    pythonPath: python,
    apiKeys: { ops: KEY },
    packages: {
      python: pythonPackages.parse("six==1.17.0"),
      js: jsPackages.parse("ms@2.1.3"),
      pythonPreimport: ["six"],
    },
  });
});

after(async () => {
  await engine?.close();
  // The project's JS runtime as it was: setup with the setting emptied prunes what it installed.
  if (python) await setup({});
  if (venv) rmSync(dirname(venv), { recursive: true, force: true });
  assert.equal(existsSync(join(JS_RUNTIME_DIR, "node_modules", "ms")), false, "ms is still in the JS runtime");
});

function running(): RunningEngine {
  if (!engine) throw new Error("the engine starts in before()");
  return engine;
}

async function execute(code: string, language: string): Promise<Record<string, unknown>> {
  const { body } = await running().post("/execute-langgraph", { code, language, inputs: {} }, AUTH);
  return body;
}

async function outOf(code: string, language: string): Promise<string> {
  const body = await execute(code, language);
  assert.equal(body["status"], "success", JSON.stringify(body));
  return String((body["result"] as { state: { out: string } }).state.out);
}

interface Ready {
  packages: {
    python: { spec: string; installed: string | null }[];
    js: { spec: string; installed: string | null }[];
    python_preimport: string[];
  };
  warm_start: { python_fork_server: { hostPid?: number }; runtime_file_changes: number };
}

async function ready(): Promise<Ready> {
  return (await (await fetch(`${running().url}/ready`, { headers: AUTH })).json()) as Ready;
}

test("a package setup installed is importable: Python (six) and TypeScript (ms)", async () => {
  assert.equal(
    await outOf(pythonGraph(`import six\nreturn {"out": six.__version__ + " " + six.ensure_str(b"ok")}`), "python"),
    "1.17.0 ok",
  );
  assert.equal(
    await outOf(
      typescriptGraph(`return { out: String(ms("2 days")) + " " + ms(60000) };`, `import ms from "ms";`),
      "typescript",
    ),
    "172800000 1m",
  );
});

test("GRAPHBOX_PYTHON_PREIMPORT: the module is already imported when the program starts", async () => {
  assert.equal(await outOf(pythonGraph(`return {"out": str("six" in sys.modules)}`, "import sys"), "python"), "True");
});

test("a package that is not installed: the error names it and the setting that would add it", async () => {
  const py = await execute(pythonGraph(`return {"out": "never"}`, "import tomli"), "python");
  assert.equal(py["status"], "error");
  assert.equal(py["error_type"], "program_error");
  assert.match(String(py["error"]), /^ModuleNotFoundError: No module named 'tomli'; .*GRAPHBOX_PYTHON_PACKAGES=/);
  const ts = await execute(
    typescriptGraph(`return { out: String(isNumber(1)) };`, `import isNumber from "is-number";`),
    "typescript",
  );
  assert.equal(ts["status"], "error");
  assert.match(
    String(ts["error"]),
    /^ImportError: cannot import "is-number": .*GRAPHBOX_JS_PACKAGES=is-number@<version>/,
  );
  // A computed import() fails at run time: the same advice.
  const dynamic = await execute(
    typescriptGraph(`const name = ["is", "number"].join("-");\nawait import(name);\nreturn { out: "never" };`),
    "typescript",
  );
  assert.equal(dynamic["status"], "error");
  assert.match(String(dynamic["error"]), /Cannot find package 'is-number'.*GRAPHBOX_JS_PACKAGES=is-number@<version>/);
});

test("/ready lists the configured packages with the versions installed", async () => {
  const { packages } = await ready();
  assert.deepEqual(packages, {
    python: [{ spec: "six==1.17.0", installed: "1.17.0" }],
    js: [{ spec: "ms@2.1.3", installed: "2.1.3" }],
    python_preimport: ["six"],
  });
});

test("setup installing another package replaces the warm sandboxes and the zygote, which then hold it", async () => {
  const before = await ready();
  await setup({
    GRAPHBOX_PYTHON_PACKAGES: "six==1.17.0,tomli==2.2.1",
    GRAPHBOX_JS_PACKAGES: "ms@2.1.3 is-number@7.0.0",
  });
  const after = await waitFor(async () => {
    const now = await ready();
    return now.warm_start.runtime_file_changes >= before.warm_start.runtime_file_changes + 2 &&
      now.warm_start.python_fork_server.hostPid !== before.warm_start.python_fork_server.hostPid
      ? now
      : null;
  }, 30_000);
  assert.notEqual(after.warm_start.python_fork_server.hostPid, before.warm_start.python_fork_server.hostPid);
  assert.equal(
    await outOf(pythonGraph(`import tomli\nreturn {"out": tomli.loads("a = 1")["a"] and "parsed"}`), "python"),
    "parsed",
  );
  assert.equal(
    await outOf(
      typescriptGraph(`return { out: String(isNumber(5)) };`, `import isNumber from "is-number";`),
      "typescript",
    ),
    "true",
  );
  // Setup again with the first setting: what it no longer lists is removed.
  await setup({ GRAPHBOX_PYTHON_PACKAGES: "six==1.17.0", GRAPHBOX_JS_PACKAGES: "ms@2.1.3" });
  assert.equal(existsSync(join(JS_RUNTIME_DIR, "node_modules", "is-number")), false);
  const { stdout } = await run(python, ["-c", "import importlib.util as u; print(u.find_spec('tomli') is None)"]);
  assert.equal(stdout.trim(), "True");
});

test("malformed, unpinned or lock-moving specs are refused at config load, each named", () => {
  const refused = (env: Record<string, string>): string => {
    try {
      loadConfig({ GRAPHBOX_PORT: "0", ...env });
    } catch (err: unknown) {
      assert.ok(err instanceof ConfigError);
      return err.message;
    }
    assert.fail(`accepted ${JSON.stringify(env)}`);
  };
  const py = refused({
    GRAPHBOX_PYTHON_PACKAGES:
      "six, tomli>=2, --index-url=https://evil.example/simple, https://evil.example/x.whl, ./pkg, requests[socks]==2.0.0, six==1.*",
  });
  for (const spec of [
    "six:",
    "tomli>=2:",
    "--index-url=https://evil.example/simple:",
    "https://evil.example/x.whl:",
    "./pkg:",
    "requests[socks]==2.0.0:",
    "six==1.*:",
  ])
    assert.ok(py.includes(spec), `${spec} not named in: ${py}`);
  const js = refused({
    GRAPHBOX_JS_PACKAGES:
      "ms, ms@^2.1.3, left-pad@latest, git+https://x.example/y.git, file:../x, --registry=https://evil.example, npm:ms@2.1.3",
  });
  for (const spec of [
    "ms:",
    "ms@^2.1.3:",
    "left-pad@latest:",
    "git+https://x.example/y.git:",
    "file:../x:",
    "--registry=https://evil.example:",
    "npm:ms@2.1.3:",
  ])
    assert.ok(js.includes(spec), `${spec} not named in: ${js}`);
  assert.match(
    refused({ GRAPHBOX_PYTHON_PACKAGES: "langgraph==0.0.1" }),
    /langgraph==0\.0\.1: langgraph is locked at \d/,
  );
  assert.match(refused({ GRAPHBOX_JS_PACKAGES: "zod@3.0.0" }), /zod@3\.0\.0: zod is locked at 4\./);
  assert.match(refused({ GRAPHBOX_PYTHON_PREIMPORT: "six, os;import" }), /GRAPHBOX_PYTHON_PREIMPORT.*os;import/);
});

test("the engine refuses to start while a configured package is not installed, and says to run setup", async () => {
  const server = await run(process.execPath, [join(PROJECT_ROOT, "dist", "server.js")], {
    env: {
      PATH: process.env["PATH"] ?? "",
      GRAPHBOX_PORT: "0",
      GRAPHBOX_PYTHON: python,
      GRAPHBOX_PYTHON_PACKAGES: "attrs==25.3.0",
      GRAPHBOX_JS_PACKAGES: "is-odd@3.0.1",
    },
  }).then(
    () => assert.fail("the engine started"),
    (err: { code?: number; stderr?: string }) => err,
  );
  assert.equal(server.code, 2);
  assert.match(
    String(server.stderr),
    /GRAPHBOX_PYTHON_PACKAGES: not installed .*attrs==25\.3\.0 \(found: none\); run `npm run setup`/,
  );
  assert.match(
    String(server.stderr),
    /GRAPHBOX_JS_PACKAGES: not installed .*is-odd@3\.0\.1 \(found: none\); run `npm run setup`/,
  );
});
