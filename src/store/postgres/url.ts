/** A database URL as the operator gives it, and as it may be shown: never with its password. */
import { StoreError } from "../errors.ts";

export interface DatabaseAddress {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** The parts of a `postgres://user:password@host:port/database` URL that may be shown. */
export function databaseAddress(url: string): DatabaseAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreError(
      "GBX_STORE_INVALID_ARGUMENT",
      "the database URL is not a URL; expected postgres://user:password@host:port/database",
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:")
    throw new StoreError(
      "GBX_STORE_INVALID_ARGUMENT",
      `the database URL's scheme is ${parsed.protocol.replace(/:$/, "")}; expected postgres://user:password@host:port/database`,
    );
  return {
    host: parsed.hostname || "localhost",
    port: parsed.port === "" ? 5432 : Number(parsed.port),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || decodeURIComponent(parsed.username),
    user: decodeURIComponent(parsed.username),
  };
}

/** `postgres://user@host:port/database`: the URL without its password, for logs and /ready. */
export function redactedUrl(url: string): string {
  const { host, port, database, user } = databaseAddress(url);
  const shownHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `postgres://${user === "" ? "" : `${encodeURIComponent(user)}@`}${shownHost}:${port}/${encodeURIComponent(database)}`;
}
