/** Who is calling: the name of the API key (one shared owner until keys are configured). */
import type { FastifyRequest } from "fastify";

export const ANONYMOUS_OWNER = "anonymous";

export function ownerOf(_request: FastifyRequest): string {
  return ANONYMOUS_OWNER;
}
