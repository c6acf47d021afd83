/** Starts the real engine on a real port for a test file, pointed at an LLM stand-in. */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { loadConfig, PROJECT_ROOT, type Config } from "../../src/config/index.ts";
import { buildApp, type GraphboxApp } from "../../src/app.ts";
import { after, before } from "node:test";

import {
  HOST_FROM_CONTAINER,
  IMAGE_DATA_DIR,
  IMAGE_PROJECT_ROOT,
  listeningPorts,
  settingsOf,
  startContainer,
  TEST_IMAGE,
} from "./container.ts";
import { startLlmStandIn, type LlmStandIn } from "./llm-standin.ts";

export interface RunningEngine {
  url: string;
  /** The engine's objects, when it runs in the test's process; a container's throws (GRAPHBOX_TEST_IMAGE). */
  app: GraphboxApp;
  /** Whether the engine runs as root (it then hides the runtime folders' paths from sandboxes: mounts.ts). */
  root: boolean;
  /** Where the engine's own files and its data are, as the engine sees them. */
  projectRoot: string;
  dataDir: string;
  /** Whether a file exists where the engine runs. */
  exists(path: string): Promise<boolean>;
  /** The folder of the gateway's socket, as the engine sees it. */
  gatewaySocketDir(): Promise<string>;
  /** The ports the engine listens on besides its HTTP port (the gateway's). */
  otherPorts(): Promise<number[]>;
  /** GET /ready's answer. */
  ready(): Promise<Record<string, unknown>>;
  /** POSTs JSON (or raw text) and returns the status and parsed answer. */
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** POSTs JSON (or raw text) to `url + path`. */
async function postTo(url: string, path: string, body: unknown, headers: Record<string, string>) {
  const response = await fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function readyOf(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${url}/ready`)).json()) as Record<string, unknown>;
}

/** The engine in its image (GRAPHBOX_TEST_IMAGE), given `overrides` as the GRAPHBOX_* settings that give them. */
async function startEngineContainer(llm: LlmStandIn | undefined, overrides: Partial<Config>): Promise<RunningEngine> {
  const fromContainer = (url: string) => url.replace("127.0.0.1", HOST_FROM_CONTAINER);
  const env = settingsOf(overrides);
  for (const name of Object.keys(env).filter((n) => n.endsWith("_BASE_URL"))) env[name] = fromContainer(env[name]!);
  // A test's canary variables (GRAPHBOX_TEST_CANARY_*) are the engine's environment, as they are in-process.
  for (const [name, value] of Object.entries(process.env))
    if (name.startsWith("GRAPHBOX_TEST_CANARY_") && value !== undefined) env[name] = value;
  if (llm) {
    Object.assign(env, {
      OPENAI_BASE_URL: fromContainer(llm.openaiBaseUrl),
      OPENAI_API_KEY: "sk-test-engine-openai-key",
      ANTHROPIC_BASE_URL: fromContainer(llm.anthropicBaseUrl),
      ANTHROPIC_API_KEY: "sk-ant-test-engine-anthropic-key",
    });
  }
  const container = await startContainer(env);
  return {
    url: container.url,
    get app(): GraphboxApp {
      throw new Error("this test reads the engine's objects: it runs only with the engine in its own process");
    },
    root: false,
    projectRoot: IMAGE_PROJECT_ROOT,
    dataDir: IMAGE_DATA_DIR,
    exists: (path) =>
      container.exec("test", "-e", path).then(
        () => true,
        () => false,
      ),
    gatewaySocketDir: async () =>
      (await container.exec("sh", "-c", "ls -d /tmp/graphbox-gateway-*")).trim().split("\n")[0]!,
    otherPorts: async () => (await listeningPorts(container)).filter((port) => port !== 8000),
    ready: () => readyOf(container.url),
    post: (path, body, headers = {}) => postTo(container.url, path, body, headers),
    close: () => container.remove(),
  };
}

export async function startEngine(llm?: LlmStandIn, overrides: Partial<Config> = {}): Promise<RunningEngine> {
  if (TEST_IMAGE !== null && !overrides.dataDir) return startEngineContainer(llm, overrides);
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
    root: process.getuid?.() === 0,
    projectRoot: PROJECT_ROOT,
    dataDir,
    exists: async (path) => existsSync(path),
    gatewaySocketDir: async () => dirname(app.engine.gateway.socketPath ?? "/nonexistent/gateway.sock"),
    otherPorts: async () => [Number(new URL(app.engine.gateway.url).port)],
    ready: () => readyOf(url),
    post: (path, body, headers = {}) => postTo(url, path, body, headers),
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
