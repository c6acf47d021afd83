/**
 * Checks a request's `files`: the program's other modules, by path relative to its entry (`code`).
 * The names become module names in the harness and file names in tracebacks, so only plain
 * relative paths of ordinary characters pass, with an extension the program's language imports.
 */
import type { Config } from "../config/index.ts";
import type { Language } from "../contract/types.ts";
import { GraphboxError } from "../contract/errors.ts";

const MAX_NAME_LENGTH = 256;
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const PYTHON_MODULE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EXTENSIONS: Record<Language, readonly string[]> = {
  python: [".py"],
  javascript: [".js", ".mjs", ".ts", ".mts", ".json"],
  typescript: [".ts", ".mts", ".js", ".mjs", ".json"],
};

function refuse(name: string, problem: string): GraphboxError {
  return new GraphboxError("GBX_ERR_INVALID_REQUEST", `\`files\` name ${JSON.stringify(name)} ${problem}`);
}

/** What is wrong with one name, or null. */
function nameProblem(name: string, language: Language): string | null {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return `must be 1 to ${MAX_NAME_LENGTH} characters long`;
  if (/^([/\\]|[A-Za-z]:)/.test(name)) return "is absolute; name files relative to `code`, e.g. `state.py`";
  if (name.includes("\\")) return "has a backslash; separate folders with `/`";
  const segments = name.split("/");
  if (segments.some((s) => s === "" || s === "." || s === ".."))
    return "has an empty, `.` or `..` part; files live in the program's own folder and below";
  if (!segments.every((s) => SEGMENT.test(s)))
    return "may hold only letters, digits, `_`, `-` and `.` (not first in a part), and `/` between folders";
  const extensions = EXTENSIONS[language];
  if (!extensions.some((ext) => name.endsWith(ext)))
    return `is not a ${language} module: it must end in ${extensions.map((ext) => `\`${ext}\``).join(", ")}`;
  if (language === "python") {
    const parts = [...segments.slice(0, -1), segments.at(-1)!.slice(0, -".py".length)];
    if (!parts.every((part) => PYTHON_MODULE.test(part)))
      return "cannot be imported: each folder and the file's name (without `.py`) must be a Python identifier";
    if (name === "__init__.py") return "is the package's own module, which `code` is: put its source in `code`";
  }
  return null;
}

/** Python modules named twice: `tools.py` beside a folder `tools/`. */
function pythonClash(names: string[]): string | null {
  const folders = new Set(
    names.flatMap((name) =>
      name
        .split("/")
        .slice(0, -1)
        .map((_, i, all) => all.slice(0, i + 1).join("/")),
    ),
  );
  return names.find((name) => folders.has(name.slice(0, -".py".length))) ?? null;
}

/**
 * The request's files, checked against GRAPHBOX_MAX_FILES, GRAPHBOX_MAX_FILES_BYTES and the
 * rules above; throws GBX_ERR_INVALID_REQUEST naming the file and the problem.
 */
export function programFiles(
  files: Record<string, string> | undefined,
  language: Language,
  config: Readonly<Config>,
): Record<string, string> {
  const entries = Object.entries(files ?? {});
  if (entries.length > config.maxFiles) {
    throw new GraphboxError(
      "GBX_ERR_INVALID_REQUEST",
      `\`files\` holds ${entries.length} files; GRAPHBOX_MAX_FILES allows ${config.maxFiles}`,
    );
  }
  let bytes = 0;
  for (const [name, source] of entries) {
    const problem = nameProblem(name, language);
    if (problem) throw refuse(name, problem);
    bytes += Buffer.byteLength(name) + Buffer.byteLength(source);
  }
  if (bytes > config.maxFilesBytes) {
    throw new GraphboxError(
      "GBX_ERR_INVALID_REQUEST",
      `\`files\` holds ${bytes} bytes; GRAPHBOX_MAX_FILES_BYTES allows ${config.maxFilesBytes}`,
    );
  }
  const clash = language === "python" ? pythonClash(entries.map(([name]) => name)) : null;
  if (clash) throw refuse(clash, "names the same module as a folder beside it; rename one of them");
  return Object.fromEntries(entries);
}
