/** Reads the configuration once at start: every problem reported at once by the variable's name, then frozen. */
import { CHECKS } from "./checks.ts";
import { readDeclarations, type Env } from "./declare.ts";
import { OPTIONS, type Config } from "./options.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Reads and checks the whole configuration; throws one ConfigError listing every problem.
 * `overrides` replace whole top-level entries (tests); they are checked like the rest.
 */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Readonly<Config> {
  const problems: string[] = [];
  const config: Config = { ...deepFreeze(readDeclarations(OPTIONS, env, problems)), ...overrides };
  for (const check of CHECKS) {
    const problem = check(config);
    if (problem !== null) problems.push(problem);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
