/** Starts the engine as its own process, the way `npm start` runs it: compiled, from dist/. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

import { PROJECT_ROOT } from "../../src/contract/paths.ts";

let built = false;

/**
 * dist/server.js, compiled first when dist/ is missing or older than src/ (scripts/build.sh, as
 * setup does): a test file run on its own after an edit must not exercise the previous build.
 */
export function compiledServer(): string {
  if (!built) {
    execFileSync("bash", [join(PROJECT_ROOT, "scripts/build.sh"), "--quiet"], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    built = true;
  }
  return join(PROJECT_ROOT, "dist/server.js");
}

export async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface EngineProcess {
  child: ChildProcess;
  url: string;
  ready: Promise<unknown>;
  exited: Promise<number | null>;
}

export function startEngineProcess(dataDir: string, port: number, env: Record<string, string> = {}): EngineProcess {
  const child = spawn(process.execPath, [compiledServer()], {
    env: {
      ...process.env,
      GRAPHBOX_PORT: String(port),
      GRAPHBOX_DATA_DIR: dataDir,
      GRAPHBOX_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = waitFor(async () => ((await fetch(`${url}/health`).catch(() => null))?.ok ? true : null), 30_000);
  return { child, url, ready, exited };
}

export const randomPort = (): number => 18_000 + Math.floor(Math.random() * 4000);
