/**
 * Installs the operator's packages (GRAPHBOX_PYTHON_PACKAGES, GRAPHBOX_JS_PACKAGES) into the
 * runtimes' environments, beside their locks, and removes the ones the setting no longer lists.
 * Run by scripts/setup.sh after the locked packages are in place; does nothing when the
 * environments already hold what the settings say.
 *
 *   node --import tsx scripts/runtime-packages.ts [--quiet]
 *
 * Python: `pip install --only-binary=:all: -c requirements.lock <specs>` into GRAPHBOX_PYTHON's
 * environment: the lock as constraints, so no locked package can be moved (pip refuses instead),
 * and wheels only, so no package's build code runs here. JavaScript: `npm install --no-save
 * --ignore-scripts <specs>` in src/runtimes/js: the packages land in the runtime's own node_modules
 * (the only folder a program's imports resolve in), package.json and the lock stay as committed, and
 * the next such install (or `npm prune`, when the list is emptied) removes what is no longer listed.
 * npm may still choose to move a locked package a new one depends on: every locked package's version
 * is checked after the install, and a moved one restores the lock (`npm ci`) and fails setup.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";

import { OPTIONS } from "../src/config/index.ts";
import {
  jsLocked,
  jsPackageStates,
  lockConflicts,
  pythonLocked,
  pythonPackageStates,
} from "../src/config/installed-packages.ts";
import { normalizePythonName, type PackageSpec } from "../src/config/package-specs.ts";
import { JS_RUNTIME_DIR, PYTHON_LOCK } from "../src/config/paths.ts";

const { values: args } = parseArgs({ options: { quiet: { type: "boolean", default: false } } });
const say = (text: string): void => {
  if (!args.quiet) console.log(`setup: ${text}`);
};
const fail = (text: string): never => {
  console.error(`setup: ${text}`);
  process.exit(1);
};

/** The specs a marker file says were installed last time (none when it is missing). */
function previously(marker: string): string[] {
  try {
    const list = JSON.parse(readFileSync(marker, "utf8")) as unknown;
    return Array.isArray(list) ? list.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}

/** Records what was installed; no file when nothing was (setup.sh then skips this script). */
function record(marker: string, wanted: string[]): void {
  if (wanted.length === 0) rmSync(marker, { force: true });
  else writeFileSync(marker, `${JSON.stringify(wanted)}\n`);
}

const sameSet = (a: string[], b: string[]): boolean =>
  a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

function run(command: string, argv: string[], cwd?: string): void {
  execFileSync(command, argv, { stdio: ["ignore", args.quiet ? "ignore" : "inherit", "inherit"], cwd });
}

function installPython(pythonPath: string, specs: readonly PackageSpec[]): void {
  const marker = join(dirname(dirname(pythonPath)), ".graphbox-packages");
  const wanted = specs.map((p) => p.spec);
  const before = previously(marker);
  const states = pythonPackageStates(pythonPath, specs);
  if (sameSet(before, wanted) && states.every((s, i) => s.installed === specs[i]?.version)) return;
  const locked = pythonLocked();
  const keep = new Set([...specs.map((p) => normalizePythonName(p.name)), ...locked.keys()]);
  const dropped = before
    .map((spec) => spec.split("==")[0] ?? spec)
    .filter((name) => !keep.has(normalizePythonName(name)));
  if (dropped.length > 0) {
    say(`removing ${dropped.join(", ")} from the Python runtime (no longer in GRAPHBOX_PYTHON_PACKAGES)`);
    run(pythonPath, ["-m", "pip", "uninstall", "--quiet", "--disable-pip-version-check", "--yes", ...dropped]);
  }
  if (states.some((s, i) => s.installed !== specs[i]?.version)) {
    say(`installing ${wanted.join(", ")} into the Python runtime`);
    try {
      run(pythonPath, [
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--only-binary=:all:",
        "--constraint",
        PYTHON_LOCK,
        ...wanted,
      ]);
    } catch {
      fail(
        `GRAPHBOX_PYTHON_PACKAGES: pip could not install ${wanted.join(", ")} (see its message above): a version ` +
          "that does not exist, no wheel for this Python, or a dependency that would move a package requirements.lock pins",
      );
    }
  }
  record(marker, wanted);
}

/** Locked packages whose installed version is not the lock's (npm moved them to fit a new package). */
function movedLockedPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(JS_RUNTIME_DIR, "package-lock.json"), "utf8")) as {
    packages?: Record<string, { version?: string }>;
  };
  const moved: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    const manifest = join(JS_RUNTIME_DIR, path, "package.json");
    // Optional packages for other platforms are in the lock and not on disk.
    if (!path.startsWith("node_modules/") || !existsSync(manifest)) continue;
    const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version?: string };
    if (version !== entry.version) moved.push(`${path.slice("node_modules/".length)} ${entry.version} → ${version}`);
  }
  return moved;
}

function installJs(specs: readonly PackageSpec[]): void {
  if (!existsSync(join(JS_RUNTIME_DIR, "node_modules"))) return;
  const marker = join(JS_RUNTIME_DIR, "node_modules", ".graphbox-packages");
  const wanted = specs.map((p) => p.spec);
  const before = previously(marker);
  const states = jsPackageStates(specs);
  if (sameSet(before, wanted) && states.every((s, i) => s.installed === specs[i]?.version)) return;
  const npmFlags = ["--no-save", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"];
  if (wanted.length > 0) {
    say(`installing ${wanted.join(", ")} into the JavaScript runtime`);
    try {
      run("npm", ["install", ...npmFlags, ...wanted], JS_RUNTIME_DIR);
    } catch {
      fail(`GRAPHBOX_JS_PACKAGES: npm could not install ${wanted.join(", ")} (see its message above)`);
    }
  } else {
    say(`removing ${before.join(", ")} from the JavaScript runtime (GRAPHBOX_JS_PACKAGES is empty)`);
    run("npm", ["prune", ...npmFlags], JS_RUNTIME_DIR);
  }
  const moved = movedLockedPackages();
  if (moved.length > 0) {
    say("restoring the JavaScript runtime's locked packages");
    // npm ci empties node_modules, setup.sh's marker of the locked install with it: put it back.
    const installed = join(JS_RUNTIME_DIR, "node_modules", ".graphbox-installed");
    const lockHash = existsSync(installed) ? readFileSync(installed) : null;
    run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], JS_RUNTIME_DIR);
    if (lockHash) writeFileSync(installed, lockHash);
    fail(
      `GRAPHBOX_JS_PACKAGES: installing ${wanted.join(", ")} would move locked packages (${moved.join(", ")}); ` +
        "choose versions that accept the locked ones",
    );
  }
  record(marker, wanted);
}

const problems: string[] = [];
const pythonPath = OPTIONS.pythonPath.read(process.env, problems);
const python = OPTIONS.packages.python.read(process.env, problems);
const js = OPTIONS.packages.js.read(process.env, problems);
problems.push(...lockConflicts(python, pythonLocked(), normalizePythonName), ...lockConflicts(js, jsLocked()));
if (problems.length > 0) fail(`cannot install the runtimes' extra packages:\n  - ${problems.join("\n  - ")}`);
if (existsSync(pythonPath)) installPython(pythonPath, python);
else if (python.length > 0)
  fail(`GRAPHBOX_PYTHON: ${pythonPath} does not exist, so GRAPHBOX_PYTHON_PACKAGES cannot be installed`);
installJs(js);
