/** `npm run doctor`: prints which protections the sandbox has on this host; exit 1 when it cannot sandbox. */
import { ConfigError, installedPackages, loadConfig } from "./config/index.ts";
import { formatReport } from "./sandbox/doctor.ts";
import { SandboxLauncher } from "./sandbox/launcher.ts";

try {
  const config = loadConfig();
  const launcher = new SandboxLauncher(config.sandbox);
  const report = await launcher.report();
  process.stdout.write(`${formatReport(report)}\n`);
  // The operator's packages (the config check above refused any not installed).
  const packages = installedPackages(config);
  for (const [setting, list] of [
    ["GRAPHBOX_PYTHON_PACKAGES", packages.python],
    ["GRAPHBOX_JS_PACKAGES", packages.js],
  ] as const) {
    if (list.length > 0) process.stdout.write(`  packages (${setting}): ${list.map((p) => p.spec).join(", ")}\n`);
  }
  process.exitCode = report.sandboxed ? 0 : 1;
} catch (err: unknown) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`graphbox: ${err.message}\n`);
  process.exitCode = 2;
}
