/**
 * Bearer API keys. Keys are compared as SHA-256 digests with timingSafeEqual, against every
 * configured key, so neither a key's content nor its position leaks through timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";

import type { FastifyInstance, FastifyRequest } from "fastify";

import { GraphboxError } from "../contract/errors.ts";

/** Owner of everything when no keys are configured (loopback-only engines). */
export const ANONYMOUS_OWNER = "anonymous";
/** Routes anyone may call: liveness only. */
const PUBLIC_ROUTES = new Set(["/health"]);

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

declare module "fastify" {
  interface FastifyRequest {
    /** The name of the API key that made the request. */
    owner: string;
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

  /** The name of the key the header carries, or null. */
  identify(authorization: string | undefined): string | null {
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) return null;
    const presented = digest(match[1]!);
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
      if (PUBLIC_ROUTES.has(path)) return;
      const owner = this.identify(request.headers.authorization);
      if (owner === null)
        throw new GraphboxError(
          "GBX_ERR_UNAUTHENTICATED",
          "missing or invalid API key: send `Authorization: Bearer <key>`",
        );
      request.owner = owner;
    });
  }
}
