/** Starts the real engine on a real port for a test file, pointed at an LLM stand-in. */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { loadConfig, type Config } from "../../src/config/index.ts";
import { buildApp, type GraphboxApp } from "../../src/app.ts";
import { after, before } from "node:test";

import { startLlmStandIn, type LlmStandIn } from "./llm-standin.ts";

export interface RunningEngine {
  url: string;
  app: GraphboxApp;
  /** POSTs JSON (or raw text) and returns the status and parsed answer. */
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startEngine(llm?: LlmStandIn, overrides: Partial<Config> = {}): Promise<RunningEngine> {
  // A store of its own, removed on close, unless the test names a data directory to share.
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), "graphbox-test-store-"));
  const env: Record<string, string> = { GRAPHBOX_PORT: "0", GRAPHBOX_DATA_DIR: dataDir };
  if (llm) {
    Object.assign(env, {
      OPENAI_BASE_URL: llm.openaiBaseUrl,
      OPENAI_API_KEY: "sk-test-engine-openai-key",
      ANTHROPIC_BASE_URL: llm.anthropicBaseUrl,
      ANTHROPIC_API_KEY: "sk-ant-test-engine-anthropic-key",
    });
  }
  const config = loadConfig(env, overrides);
  const app = await buildApp(config);
  await app.server.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    app,
    async post(path, body, headers = {}) {
      const response = await fetch(url + path, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async close() {
      await app.server.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * For a test file that talks to one engine wired to one LLM stand-in: starts both before the
 * file's tests and stops them after. Read `.engine` and `.llm` inside tests.
 */
export function engineWithLlm(overrides: Partial<Config> = {}): {
  readonly engine: RunningEngine;
  readonly llm: LlmStandIn;
} {
  let engine: RunningEngine | undefined;
  let llm: LlmStandIn | undefined;
  before(async () => {
    llm = await startLlmStandIn();
    engine = await startEngine(llm, overrides);
  });
  after(async () => {
    await engine?.close();
    await llm?.close();
  });
  return {
    get engine() {
      if (!engine) throw new Error("the engine starts in before()");
      return engine;
    },
    get llm() {
      if (!llm) throw new Error("the stand-in starts in before()");
      return llm;
    },
  };
}
