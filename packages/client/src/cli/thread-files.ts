/**
 * Which file each thread ran, so that `graphbox resume THREAD` can send its code again (the
 * engine's request carries the program every time). Kept in $XDG_STATE_HOME/graphbox/threads.json
 * (~/.local/state by default), the most recent threads only.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

const KEEP = 200;

export interface ThreadFile {
  file: string;
  language: string;
  url: string;
}

function storePath(): string {
  const base = process.env["XDG_STATE_HOME"] || join(homedir(), ".local", "state");
  return join(base, "graphbox", "threads.json");
}

function readAll(): [string, ThreadFile][] {
  try {
    const parsed = JSON.parse(readFileSync(storePath(), "utf8")) as unknown;
    return Array.isArray(parsed) ? (parsed as [string, ThreadFile][]) : [];
  } catch {
    return [];
  }
}

export function rememberThread(threadId: string, entry: ThreadFile): void {
  const entries = [...readAll().filter(([id]) => id !== threadId), [threadId, entry] as [string, ThreadFile]];
  const path = storePath();
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, JSON.stringify(entries.slice(-KEEP)));
    renameSync(`${path}.tmp`, path);
  } catch {
    // Only a convenience: resume still works with --file.
  }
}

export function threadFile(threadId: string): ThreadFile | null {
  return readAll().find(([id]) => id === threadId)?.[1] ?? null;
}
