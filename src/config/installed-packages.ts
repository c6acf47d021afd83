/**
 * What the runtimes' environments hold of the operator's packages, read from disk (no interpreter
 * started): the version of each in the Python virtual environment (its `*.dist-info` folders) and
 * in the JavaScript runtime's node_modules (each package's package.json), and the versions their
 * locks pin. The config check at start, /ready and setup's installer all read it here.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

import type { Config } from "./options.ts";
import { normalizePythonName, type PackageSpec } from "./package-specs.ts";
import { JS_RUNTIME_DIR, PYTHON_LOCK } from "./paths.ts";

/** A configured package and the version the environment holds of it (null: not installed). */
export interface PackageState {
  spec: string;
  installed: string | null;
}

/** The venv's site-packages folders (one per `lib/pythonX.Y`). */
export function sitePackages(pythonPath: string): string[] {
  const lib = join(dirname(dirname(pythonPath)), "lib");
  let names: string[];
  try {
    names = readdirSync(lib);
  } catch {
    return [];
  }
  return names.filter((name) => name.startsWith("python")).map((name) => join(lib, name, "site-packages"));
}

/** Installed distributions by normalized name: `<name>-<version>.dist-info`, the version holding no `-`. */
function pythonDistributions(pythonPath: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of sitePackages(pythonPath)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = /^(.+)-([^-]+)\.dist-info$/.exec(name);
      if (match?.[1] && match[2]) found.set(normalizePythonName(match[1]), match[2]);
    }
  }
  return found;
}

export function pythonPackageStates(pythonPath: string, specs: readonly PackageSpec[]): PackageState[] {
  if (specs.length === 0) return [];
  const installed = pythonDistributions(pythonPath);
  return specs.map((p) => ({ spec: p.spec, installed: installed.get(normalizePythonName(p.name)) ?? null }));
}

/** The version in `<modules>/<name>/package.json`, or null. Names are checked (package-specs.ts): no `..` reaches here. */
function jsVersion(modules: string, name: string): string | null {
  try {
    const manifest = JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")) as { version?: unknown };
    return typeof manifest.version === "string" ? manifest.version : null;
  } catch {
    return null;
  }
}

export function jsPackageStates(specs: readonly PackageSpec[], runtimeDir = JS_RUNTIME_DIR): PackageState[] {
  const modules = join(runtimeDir, "node_modules");
  return specs.map((p) => ({ spec: p.spec, installed: jsVersion(modules, p.name) }));
}

/** requirements.lock's pins by normalized name. */
export function pythonLocked(lock = PYTHON_LOCK): Map<string, string> {
  const pins = new Map<string, string>();
  if (!existsSync(lock)) return pins;
  for (const line of readFileSync(lock, "utf8").split("\n")) {
    const match = /^([A-Za-z0-9._-]+)==([^\s;#]+)/.exec(line.trim());
    if (match?.[1] && match[2]) pins.set(normalizePythonName(match[1]), match[2]);
  }
  return pins;
}

/** The JS runtime's package-lock.json: each package node_modules holds at its top level, with its version. */
export function jsLocked(runtimeDir = JS_RUNTIME_DIR): Map<string, string> {
  const pins = new Map<string, string>();
  const lock = join(runtimeDir, "package-lock.json");
  if (!existsSync(lock)) return pins;
  const { packages } = JSON.parse(readFileSync(lock, "utf8")) as { packages?: Record<string, { version?: string }> };
  for (const [path, entry] of Object.entries(packages ?? {})) {
    const name = /^node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(path)?.[1];
    if (name && typeof entry.version === "string") pins.set(name, entry.version);
  }
  return pins;
}

/**
 * Specs that would move a locked package: the lock pins it at another version. pip (with the lock as
 * constraints) would refuse them at setup and npm would replace the locked copy, so they are refused
 * at config load instead, with the pinned version.
 */
export function lockConflicts(
  specs: readonly PackageSpec[],
  locked: Map<string, string>,
  normalize = (name: string): string => name,
): string[] {
  return specs.flatMap((p) => {
    const pinned = locked.get(normalize(p.name));
    return pinned !== undefined && pinned !== p.version ? [`${p.spec}: ${p.name} is locked at ${pinned}`] : [];
  });
}

/** /ready's and the doctor's `packages`: each configured package with what its runtime holds, and the modules pre-imported. */
export function installedPackages({ packages, pythonPath }: Readonly<Pick<Config, "packages" | "pythonPath">>): {
  python: PackageState[];
  js: PackageState[];
  python_preimport: string[];
} {
  return {
    python: pythonPackageStates(pythonPath, packages.python),
    js: jsPackageStates(packages.js),
    python_preimport: [...packages.pythonPreimport],
  };
}
