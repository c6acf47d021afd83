/** Who is calling: the name of the API key (see auth.ts). */
import type { FastifyRequest } from "fastify";

export function ownerOf(request: FastifyRequest): string {
  return request.owner;
}
