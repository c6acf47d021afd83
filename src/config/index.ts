/**
 * The engine's configuration: each option declared once (options.ts), from which its type, its
 * reading and checking, its default and the README's table all come.
 */
export { ConfigError, loadConfig } from "./load.ts";
export { OPTIONS, type Config } from "./options.ts";
export { DEFAULT_DATA_DIR, DEFAULT_PYTHON, PROJECT_ROOT } from "./paths.ts";
export type { Prices } from "./prices.ts";
export { installedPackages, type PackageState } from "./installed-packages.ts";

import type { Config } from "./options.ts";

/** What one execution (and all of them) may hold of the gateway. */
export type GatewayLimits = Config["gatewayLimits"];
/** Isolation and limits of every execution's sandbox: the sandbox launcher's options. */
export type SandboxConfig = Config["sandbox"];
/** Where and how traces are exported, when they are. */
export type TracingConfig = NonNullable<Config["tracing"]>;
