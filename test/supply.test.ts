/**
 * The sandbox supply on its own, with real parts (bubblewrap, the fork server, a listening
 * gateway): each runtime is served by the first source that could start, pools hand out
 * pre-started sandboxes whose `ready` reaches the taker, and an unsandboxed run's working
 * directory lives exactly as long as its sandbox.
 */
import assert from "node:assert/strict";
import { existsSync, readlinkSync } from "node:fs";
import { after, before, test } from "node:test";

import { loadConfig, type Config } from "../src/config/index.ts";
import type { HarnessMessage } from "../src/contract/protocol/messages.ts";
import { Gateway } from "../src/gateway/gateway.ts";
import { ForkedSandbox } from "../src/runtimes/python/forkserver.ts";
import { SandboxProcess } from "../src/sandbox/process.ts";
import type { Sandbox, SandboxHandlers } from "../src/sandbox/sandbox.ts";
import { createSandboxSupply, type SandboxSupply } from "../src/supply/index.ts";
import { waitFor } from "./support/process.ts";

let gateway: Gateway;
before(async () => {
  gateway = new Gateway(loadConfig({}), { modelAllowlist: [], upstreamTimeoutMs: 1000 });
  await gateway.listen();
});
after(async () => gateway.close());

/** A supply of its own, closed when the test ends. */
async function supplyWith(
  t: { after: (fn: () => Promise<void>) => void },
  overrides: Partial<Config>,
): Promise<SandboxSupply> {
  const supply = createSandboxSupply({ config: loadConfig({}, overrides), gateway });
  t.after(() => supply.destroy());
  await supply.start();
  return supply;
}

/** Acquires a sandbox and resolves with it once its harness has said `ready`; the sandbox's first message is that `ready`. */
async function acquireReady(
  supply: SandboxSupply,
  runtime: "python" | "js",
): Promise<{ sandbox: Sandbox; messages: HarnessMessage[] }> {
  const messages: HarnessMessage[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const handlers: SandboxHandlers = {
    onMessage: (message) => {
      messages.push(message);
      if (message.type === "ready") ready();
    },
    onFault: (fault) => assert.fail(`channel fault: ${fault.message}`),
  };
  const sandbox = await supply.acquire(runtime, { handlers });
  await Promise.race([
    isReady,
    sandbox.exited.then((exit) =>
      assert.fail(`the sandbox exited before ready: ${JSON.stringify(exit)} ${sandbox.logs()}`),
    ),
  ]);
  return { sandbox, messages };
}

test("Python forks from the zygote while the fork server runs; JavaScript starts fresh", async (t) => {
  const supply = await supplyWith(t, { warmPoolMax: 0 });
  assert.equal(supply.report().pythonForkServer.state, "warm");
  const python = await acquireReady(supply, "python");
  assert.ok(python.sandbox instanceof ForkedSandbox);
  await python.sandbox.destroy();
  const js = await acquireReady(supply, "js");
  assert.ok(js.sandbox instanceof SandboxProcess);
  await js.sandbox.destroy();
});

test("a source that cannot start leaves its runtime to the next one, and the report says why", async (t) => {
  // The zygote cannot import LangGraph in 1 ms; a fresh sandbox's start-up is not the supply's to time.
  const supply = await supplyWith(t, { warmPoolMax: 0, startupTimeoutMs: 1 });
  const forkServer = supply.report().pythonForkServer;
  assert.equal(forkServer.state, "off");
  assert.match(forkServer.state === "off" ? forkServer.reason : "", /within 1 ms/);
  const { sandbox } = await acquireReady(supply, "python");
  assert.ok(sandbox instanceof SandboxProcess);
  await sandbox.destroy();
});

test("a pool hands out its pre-started sandbox, replaying its ready to the taker, and counts the hit", async (t) => {
  const supply = await supplyWith(t, { warmPoolMin: 1, warmPoolMax: 1, pythonForkServer: false });
  const pool = (): { ready: number; hits: number; misses: number } =>
    supply.report().pools.find((p) => p.runtime === "python")!;
  await waitFor(async () => (pool().ready === 1 ? true : null), 30_000);
  const { sandbox, messages } = await acquireReady(supply, "python");
  assert.deepEqual(
    messages.map((m) => m.type),
    ["ready"],
  );
  assert.deepEqual({ hits: pool().hits, misses: pool().misses }, { hits: 1, misses: 0 });
  await sandbox.destroy();
});

test("unsandboxed, a run's working directory is a host directory of its own, gone with its sandbox", async (t) => {
  const supply = await supplyWith(t, {
    warmPoolMax: 0,
    pythonForkServer: false,
    sandbox: { ...loadConfig({}).sandbox, unsafeNoSandbox: true },
  });
  const { sandbox } = await acquireReady(supply, "python");
  assert.ok(sandbox instanceof SandboxProcess && sandbox.pid !== undefined);
  const cwd = readlinkSync(`/proc/${sandbox.pid}/cwd`);
  assert.match(cwd, /\/graphbox-exec-/);
  await sandbox.destroy();
  assert.equal(existsSync(cwd), false, `${cwd} is still there`);
});
