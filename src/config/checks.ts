/** Rules between options, and on what an option names: each gives the problem with what to do instead, or null. */
import { existsSync } from "node:fs";

import { jsLocked, jsPackageStates, lockConflicts, pythonLocked, pythonPackageStates } from "./installed-packages.ts";
import type { Config } from "./options.ts";
import { normalizePythonName, type PackageSpec } from "./package-specs.ts";

type Check = (config: Readonly<Config>) => string | null;

const timeouts: Check = ({ defaultTimeoutMs, maxTimeoutMs }) =>
  defaultTimeoutMs > maxTimeoutMs
    ? `GRAPHBOX_DEFAULT_TIMEOUT_MS (${defaultTimeoutMs}) is above GRAPHBOX_MAX_TIMEOUT_MS (${maxTimeoutMs}); lower it or raise the maximum`
    : null;

const gatewayBody: Check = ({ gatewayLimits: { maxBodyBytes, executionBufferBytes } }) =>
  maxBodyBytes > executionBufferBytes
    ? `GRAPHBOX_GATEWAY_MAX_BODY_BYTES (${maxBodyBytes}) is above GRAPHBOX_GATEWAY_EXECUTION_BUFFER_BYTES (${executionBufferBytes}): no body that large could ever be held; lower it or raise the buffer`
    : null;

const gatewayBuffers: Check = ({ gatewayLimits: { executionBufferBytes, bufferBytes } }) =>
  executionBufferBytes > bufferBytes
    ? `GRAPHBOX_GATEWAY_EXECUTION_BUFFER_BYTES (${executionBufferBytes}) is above GRAPHBOX_GATEWAY_BUFFER_BYTES (${bufferBytes}); lower it or raise the total`
    : null;

const publicNeedsKeys: Check = ({ host, apiKeys, allowUnauthenticatedPublic }) => {
  const loopback = ["127.0.0.1", "::1", "localhost"].includes(host) || host.startsWith("127.");
  if (loopback || Object.keys(apiKeys).length > 0 || allowUnauthenticatedPublic) return null;
  return `GRAPHBOX_HOST=${host} is not a loopback address and no API keys are set: set GRAPHBOX_API_KEYS (or GRAPHBOX_API_KEYS_FILE), or GRAPHBOX_ALLOW_UNAUTHENTICATED_PUBLIC=1 if something in front of the engine authenticates`;
};

const pythonExists: Check = ({ pythonPath }) =>
  existsSync(pythonPath)
    ? null
    : `GRAPHBOX_PYTHON: ${pythonPath} does not exist; run \`npm run setup\` to create the runtime's virtual environment, or point GRAPHBOX_PYTHON at a Python with requirements.lock installed`;

/** What is configured but not installed, as `spec (found: version)`. */
function notInstalled(states: { spec: string; installed: string | null }[], specs: readonly PackageSpec[]): string[] {
  return states.flatMap((state, i) =>
    state.installed === specs[i]?.version ? [] : [`${state.spec} (found: ${state.installed ?? "none"})`],
  );
}

/**
 * The operator's packages: none may move a locked one, and each must be installed at its version
 * before the engine starts (setup installs them; an engine that started anyway would fail the
 * programs that need them one by one, at run time).
 */
const pythonPackagesInstalled: Check = ({ packages, pythonPath }) => {
  if (packages.python.length === 0) return null;
  const conflicts = lockConflicts(packages.python, pythonLocked(), normalizePythonName);
  if (conflicts.length > 0)
    return `GRAPHBOX_PYTHON_PACKAGES: ${conflicts.join("; ")} (requirements.lock): use the locked version or leave it out`;
  const missing = existsSync(pythonPath)
    ? notInstalled(pythonPackageStates(pythonPath, packages.python), packages.python)
    : [];
  return missing.length > 0
    ? `GRAPHBOX_PYTHON_PACKAGES: not installed in ${pythonPath}'s environment: ${missing.join(", ")}; run \`npm run setup\` with this setting to install them`
    : null;
};

const jsPackagesInstalled: Check = ({ packages }) => {
  if (packages.js.length === 0) return null;
  const conflicts = lockConflicts(packages.js, jsLocked());
  if (conflicts.length > 0)
    return `GRAPHBOX_JS_PACKAGES: ${conflicts.join("; ")} (src/runtimes/js/package-lock.json): use the locked version or leave it out`;
  const missing = notInstalled(jsPackageStates(packages.js), packages.js);
  return missing.length > 0
    ? `GRAPHBOX_JS_PACKAGES: not installed in the JavaScript runtime: ${missing.join(", ")}; run \`npm run setup\` with this setting to install them`
    : null;
};

export const CHECKS: readonly Check[] = [
  timeouts,
  gatewayBody,
  gatewayBuffers,
  publicNeedsKeys,
  pythonExists,
  pythonPackagesInstalled,
  jsPackagesInstalled,
];
