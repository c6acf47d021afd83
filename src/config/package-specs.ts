/**
 * The packages an operator adds to the runtimes (GRAPHBOX_PYTHON_PACKAGES, GRAPHBOX_JS_PACKAGES):
 * exact pins only, so what setup installs is what the setting says and every engine started with
 * it holds the same code. Anything that would let the setting choose where packages come from or how
 * the installer runs (a URL, a path, `--index-url`, a version range, an extra, a marker) is refused
 * here, naming the spec, before setup or the engine ever hands it to pip or npm.
 */
import { kind, type Kind } from "./kinds.ts";

/** One pinned package: `name` as written, `version` exactly, `spec` as pip or npm takes it. */
export interface PackageSpec {
  readonly name: string;
  readonly version: string;
  readonly spec: string;
}

/** PEP 508 names (letters, digits, `.`, `_`, `-`, starting and ending with a letter or digit). */
const PYTHON_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9])?$/;
/** A PEP 440 version without wildcards: digits first, then the letters, dots, `!` and `+` of epochs, pre/post/dev and local parts. */
const PYTHON_VERSION = /^[0-9][0-9A-Za-z.!+]{0,63}$/;
/** npm's names: lowercase, optionally scoped, at most 214 characters. */
const JS_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
/** One exact semver version (no range, no tag). */
const JS_VERSION = /^\d{1,9}\.\d{1,9}\.\d{1,9}(?:-[0-9A-Za-z.-]{1,64})?(?:\+[0-9A-Za-z.-]{1,64})?$/;

/** PEP 503's normalized form: the name pip, dist-info folders and the lock agree on. */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

function pythonSpec(spec: string): PackageSpec | string {
  if (spec.startsWith("-")) return `${spec}: options are not accepted, only name==version`;
  if (spec.includes("://") || spec.includes("/") || spec.includes("@"))
    return `${spec}: URLs and paths are not accepted, only a package from the index as name==version`;
  if (spec.includes("[")) return `${spec}: extras are not accepted; list the packages the extra brings, each pinned`;
  if (spec.includes(";")) return `${spec}: environment markers are not accepted, only name==version`;
  const at = spec.indexOf("==");
  if (at < 0 || spec.startsWith("===", at))
    return `${spec}: not pinned; write name==version (e.g. ${spec.split(/[<>=!~]/)[0] || "six"}==1.0.0)`;
  const name = spec.slice(0, at);
  const version = spec.slice(at + 2);
  if (!PYTHON_NAME.test(name)) return `${spec}: ${JSON.stringify(name)} is not a package name`;
  if (!PYTHON_VERSION.test(version))
    return `${spec}: ${JSON.stringify(version)} is not one exact version (no wildcards, ranges or lists)`;
  return { name, version, spec: `${name}==${version}` };
}

function jsSpec(spec: string): PackageSpec | string {
  if (spec.startsWith("-")) return `${spec}: options are not accepted, only name@version`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) || spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("~"))
    return `${spec}: URLs, paths and aliases are not accepted, only a package from the registry as name@version`;
  const at = spec.lastIndexOf("@");
  if (at <= 0) return `${spec}: not pinned; write name@version (e.g. ${spec.replace(/@$/, "") || "ms"}@1.0.0)`;
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  if (!JS_NAME.test(name) || name.length > 214) return `${spec}: ${JSON.stringify(name)} is not an npm package name`;
  if (!JS_VERSION.test(version))
    return `${spec}: ${JSON.stringify(version)} is not one exact version (no ranges, tags or URLs)`;
  return { name, version, spec: `${name}@${version}` };
}

/** The items of a comma- or space-separated setting. */
const items = (raw: string): string[] => raw.split(/[\s,]+/).filter((item) => item !== "");

function specList(options: {
  accepts: string;
  /** What the refusal says is expected. */
  expects: string;
  parseOne: (spec: string) => PackageSpec | string;
  sameName: (name: string) => string;
}): Kind<PackageSpec[]> {
  return kind({
    accepts: options.accepts,
    parse(raw) {
      const problems: string[] = [];
      const specs: PackageSpec[] = [];
      const seen = new Set<string>();
      for (const item of items(raw)) {
        const parsed = options.parseOne(item);
        if (typeof parsed === "string") {
          problems.push(parsed);
        } else if (seen.has(options.sameName(parsed.name))) {
          problems.push(`${item}: ${parsed.name} is listed twice`);
        } else {
          seen.add(options.sameName(parsed.name));
          specs.push(parsed);
        }
      }
      if (problems.length > 0) throw new Error(`expected ${options.expects}; refused ${problems.join("; ")}`);
      return specs;
    },
    format: (value) => (value.length === 0 ? null : value.map((p) => p.spec).join(",")),
  });
}

/** `six==1.17.0, tomli==2.2.1`: PyPI packages pinned with `==`. */
export const pythonPackages = specList({
  accepts: "`name==version`, comma- or space-separated",
  expects: "PyPI packages pinned as name==version",
  parseOne: pythonSpec,
  sameName: normalizePythonName,
});

/** `ms@2.1.3 @scope/pkg@1.0.0`: npm packages pinned to one version. */
export const jsPackages = specList({
  accepts: "`name@version`, comma- or space-separated",
  expects: "npm packages pinned as name@version",
  parseOne: jsSpec,
  sameName: (name) => name,
});

const MODULE = /^[A-Za-z_][A-Za-z0-9_]{0,99}(?:\.[A-Za-z_][A-Za-z0-9_]{0,99}){0,15}$/;

/** `tavily, langchain_community.tools`: Python module names, dotted. */
export const pythonModules = kind<string[]>({
  accepts: "module names, comma- or space-separated",
  parse(raw) {
    const names = items(raw);
    const bad = names.filter((name) => !MODULE.test(name));
    if (bad.length > 0) throw new Error(`expected module names (e.g. tomli, yaml.cyaml); refused ${bad.join(", ")}`);
    return [...new Set(names)];
  },
  format: (value) => (value.length === 0 ? null : value.join(",")),
});
