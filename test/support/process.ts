/** Starts the engine as its own process, the way `npm start` runs it. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

import { PROJECT_ROOT } from "../../src/config/index.ts";

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
  const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "src/server.ts")], {
    env: { ...process.env, GRAPHBOX_PORT: String(port), GRAPHBOX_DATA_DIR: dataDir, GRAPHBOX_LOG_LEVEL: "warn", ...env },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = waitFor(async () => ((await fetch(`${url}/health`).catch(() => null))?.ok ? true : null), 30_000);
  return { child, url, ready, exited };
}

export const randomPort = (): number => 18_000 + Math.floor(Math.random() * 4000);
