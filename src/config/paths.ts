/** Where the engine's own files are by default: each default path written once, here. */
import { join } from "node:path";

import { PROJECT_ROOT } from "../contract/paths.ts";

export { PROJECT_ROOT };

/** The embedded store's directory unless GRAPHBOX_DATA_DIR names another. */
export const DEFAULT_DATA_DIR = join(PROJECT_ROOT, ".data");

/** The Python that `npm run setup` installs the runtime into, unless GRAPHBOX_PYTHON names another. */
export const DEFAULT_PYTHON = join(PROJECT_ROOT, ".venv/bin/python");

/** The pins the Python runtime's virtual environment is installed from. */
export const PYTHON_LOCK = join(PROJECT_ROOT, "src/runtimes/python/requirements.lock");

/** The JavaScript runtime's folder: its package.json, lock and node_modules (runtimes/js/launch.ts mounts them). */
export const JS_RUNTIME_DIR = join(PROJECT_ROOT, "src/runtimes/js");
