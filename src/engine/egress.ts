/**
 * An execution's egress, when the engine has an egress proxy and the execution's lists leave it
 * somewhere to go: its account, and the variables that point its HTTP clients at the proxy.
 * Without one, nothing is set: the execution runs exactly as one of an engine without egress.
 */
import { parseEgressList } from "../config/egress.ts";
import type { EgressAccount } from "../egress/account.ts";
import type { EgressProxy } from "../egress/proxy.ts";

export function openEgress({
  proxy,
  executionId,
  owner,
  requested,
  onLimit,
}: {
  proxy: EgressProxy | undefined;
  executionId: string;
  owner: string;
  /** The request's config.egress (checked at the HTTP boundary). */
  requested: readonly string[] | undefined;
  onLimit: (message: string) => void;
}): EgressAccount | null {
  if (!proxy?.enabled) return null;
  return proxy.open(executionId, {
    owner,
    requested: requested ? parseEgressList(requested) : null,
    onLimit,
  });
}

/**
 * HTTP_PROXY and HTTPS_PROXY in both cases (curl and Python read the lower-case ones first), and
 * NO_PROXY naming the gateway's port so the LLM clients keep going to it directly; a client that
 * ignores NO_PROXY's `host:port` entries still reaches the gateway, through the proxy.
 */
export function egressEnvironment(proxyUrl: string, gatewayUrl: string): Record<string, string> {
  const port = new URL(gatewayUrl).port;
  const noProxy = `127.0.0.1:${port},localhost:${port}`;
  return {
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    https_proxy: proxyUrl,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}
