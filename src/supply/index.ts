/**
 * The sandbox supply: the one place the engine gets sandboxes from (supply.ts says what it
 * offers). For each runtime it uses the first of its sources that serves it, with a pool of
 * pre-started sandboxes of that source in front:
 *
 *   Python:     pool -> fork server (forked.ts: a child of the warm zygote) -> fresh (fresh.ts)
 *   JavaScript: pool -> fresh
 *
 * A new kind of sandbox is one file and one line. A VM, say: `src/supply/vm.ts` holds
 * `class VmSandbox implements Sandbox` (sandbox/sandbox.ts: send, logs, kill, destroy...) and
 * `class VmSandboxes implements SandboxSource` (source.ts: start, serves, open, refresh, close),
 * and the composition below lists it where it should be preferred:
 *
 *   +import { VmSandboxes } from "./vm.ts";
 *   ...
 *      sources: [
 *   +    new VmSandboxes(config),
 *        forkServer,
 *        new FreshSandboxes(launcher),
 *      ],
 *
 * Pools, the runtime-file watch, the report and the engine need no change: the pools fill from
 * whichever source serves their runtime, and executions only ever see a Sandbox.
 */
import type { Config } from "../config/index.ts";
import { installedRuntimes } from "../runtimes/index.ts";
import { SandboxLauncher } from "../sandbox/launcher.ts";
import { ComposedSupply } from "./composed.ts";
import { PythonForkServer } from "./forked.ts";
import { FreshSandboxes } from "./fresh.ts";
import type { GatewayAddress } from "./source.ts";
import type { SandboxSupply } from "./supply.ts";

export type { AcquireOptions, PoolReport, SandboxSupply, SupplyReport } from "./supply.ts";

export interface SupplyOptions {
  config: Readonly<Config>;
  /** The engine's LLM gateway; the supply reads its address when it starts, after the gateway listens. */
  gateway: GatewayAddress;
}

export function createSandboxSupply({ config, gateway }: SupplyOptions): SandboxSupply {
  const launcher = new SandboxLauncher(config.sandbox);
  const forkServer = new PythonForkServer(config);
  return new ComposedSupply({
    config,
    gateway,
    launcher,
    runtimes: installedRuntimes(),
    sources: [forkServer, new FreshSandboxes(launcher)],
    forkServer,
  });
}
