/**
 * What GRAPHBOX_PYTHON_PREIMPORT saves a run: one operator package (networkx, pure Python, no
 * dependencies, a few hundred ms to import) installed by setup's installer into a copy of the
 * project's virtual environment, then the same program (`import networkx`, timed inside it) run
 * over HTTP by an engine without and with the module pre-imported by the zygote. Medians of the
 * runs after two warm-ups; the copy is removed at the end.
 *
 *   node --import tsx bench/preimport.ts [--runs 12] [--package networkx==3.4.2] [--module networkx]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";

import { loadConfig, PROJECT_ROOT } from "../src/config/index.ts";
import { pythonPackages } from "../src/config/package-specs.ts";
import { buildApp } from "../src/app.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "12" },
    package: { type: "string", default: "networkx==3.4.2" },
    module: { type: "string", default: "networkx" },
  },
});
const runs = Number(args.runs);
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const venv = join(mkdtempSync(join(tmpdir(), "graphbox-bench-venv-")), "venv");
execFileSync("cp", ["-a", join(PROJECT_ROOT, ".venv"), venv]);
const python = join(venv, "bin", "python");
execFileSync(process.execPath, ["--import", "tsx", "scripts/runtime-packages.ts"], {
  cwd: PROJECT_ROOT,
  env: { ...process.env, GRAPHBOX_PYTHON: python, GRAPHBOX_PYTHON_PACKAGES: args.package, GRAPHBOX_JS_PACKAGES: "" },
  stdio: "inherit",
});

const code = `import time
_t = time.perf_counter()
import ${args.module}
took = (time.perf_counter() - _t) * 1000
from typing import TypedDict
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    took: float

app = StateGraph(State).add_node("work", lambda s: {"took": took}).add_edge(START, "work").add_edge("work", END).compile()
`;

try {
  for (const preimport of [[], [args.module]]) {
    const config = loadConfig(
      { GRAPHBOX_PORT: "0", GRAPHBOX_DATA_DIR: mkdtempSync(join(tmpdir(), "graphbox-bench-store-")) },
      {
        pythonPath: python,
        packages: { python: pythonPackages.parse(args.package), js: [], pythonPreimport: preimport },
      },
    );
    const app = await buildApp(config);
    const url = await app.server.listen({ host: "127.0.0.1", port: 0 });
    const imports: number[] = [];
    const durations: number[] = [];
    const walls: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const started = performance.now();
      const response = await fetch(`${url}/execute-langgraph`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code, language: "python", inputs: {} }),
      });
      const body = (await response.json()) as {
        result?: { state: { took: number }; metadata: { duration_ms: number } };
      };
      if (!body.result) throw new Error(`the run failed: ${JSON.stringify(body).slice(0, 2000)}`);
      if (i < 2) continue;
      walls.push(performance.now() - started);
      imports.push(body.result.state.took);
      durations.push(body.result.metadata.duration_ms);
    }
    const forkServer = app.engine.supply.report().pythonForkServer;
    const zygote =
      forkServer.state === "warm" && forkServer.zygote
        ? `${(forkServer.zygote.rssBytes / 2 ** 20).toFixed(1)} MiB`
        : "off";
    console.log(
      `preimport ${JSON.stringify(preimport)}: import in the program ${median(imports).toFixed(1)} ms, ` +
        `run (metadata.duration_ms) ${median(durations)} ms, HTTP round trip ${median(walls).toFixed(0)} ms ` +
        `(median of ${runs}); zygote RSS ${zygote}`,
    );
    await app.server.close();
    rmSync(config.dataDir, { recursive: true, force: true });
  }
} finally {
  rmSync(dirname(venv), { recursive: true, force: true });
}
