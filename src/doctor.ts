/** `npm run doctor`: prints which protections the sandbox has on this host; exit 1 when it cannot sandbox. */
import { ConfigError, loadConfig } from "./config/index.ts";
import { formatReport } from "./sandbox/doctor.ts";
import { SandboxLauncher } from "./sandbox/launcher.ts";

try {
  const launcher = new SandboxLauncher(loadConfig().sandbox);
  const report = await launcher.report();
  process.stdout.write(`${formatReport(report)}\n`);
  process.exitCode = report.sandboxed ? 0 : 1;
} catch (err: unknown) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`graphbox: ${err.message}\n`);
  process.exitCode = 2;
}
