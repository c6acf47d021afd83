/**
 * API keys, sent as `Authorization: Bearer <key>` or as `x-api-key: <key>` (the header LangGraph's
 * SDKs send). Keys are compared as SHA-256 digests with timingSafeEqual, against every
 * configured key, so neither a key's content nor its position leaks through timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";

import type { FastifyInstance, FastifyRequest } from "fastify";

import { GraphboxError } from "../contract/errors.ts";

/** Owner of everything when no keys are configured (loopback-only engines). */
export const ANONYMOUS_OWNER = "anonymous";
/** Paths anyone may call: liveness. A route may also declare `config: { public: true }` (the playground's files). */
const PUBLIC_ROUTES = new Set(["/health"]);

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

declare module "fastify" {
  interface FastifyRequest {
    /** The name of the API key that made the request. */
    owner: string;
  }
  interface FastifyContextConfig {
    /** A route anyone may call (the playground's static files): set by the route, never by the request's path. */
    public?: boolean;
  }
}

export class Authenticator {
  private readonly keys: { name: string; digest: Buffer }[];

  constructor(keys: Record<string, string>) {
    this.keys = Object.entries(keys).map(([name, key]) => ({ name, digest: digest(key) }));
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** The name of the key the headers carry (the bearer token, else `x-api-key`), or null. */
  identify(headers: {
    authorization?: string | undefined;
    "x-api-key"?: string | string[] | undefined;
  }): string | null {
    const match = headers.authorization ? /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization) : null;
    const bearer = match ? this.match(match[1]!) : null;
    if (bearer !== null) return bearer;
    // A header sent twice arrives as a list: no key is chosen from several.
    const apiKey = headers["x-api-key"];
    return typeof apiKey === "string" && apiKey.trim() !== "" ? this.match(apiKey.trim()) : null;
  }

  private match(presentedKey: string): string | null {
    const presented = digest(presentedKey);
    let found: string | null = null;
    for (const key of this.keys) {
      if (timingSafeEqual(presented, key.digest) && found === null) found = key.name;
    }
    return found;
  }

  install(server: FastifyInstance): void {
    server.decorateRequest("owner", ANONYMOUS_OWNER);
    server.addHook("onRequest", async (request: FastifyRequest) => {
      if (!this.enabled) return;
      const path = request.url.split("?")[0]!;
      if (PUBLIC_ROUTES.has(path) || request.routeOptions.config.public === true) return;
      const owner = this.identify(request.headers);
      if (owner === null)
        throw new GraphboxError(
          "GBX_ERR_UNAUTHENTICATED",
          "missing or invalid API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`",
        );
      request.owner = owner;
    });
  }
}
