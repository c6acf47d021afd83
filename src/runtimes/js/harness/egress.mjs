// @ts-check
// Node's fetch ignores HTTP_PROXY: when the job brings the egress proxy's variables, fetch (and
// whatever is built on it: LangChain's tools, the SDKs) is sent through it by undici's
// EnvHttpProxyAgent, which reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY as curl does. undici is the
// version Node bundles (src/runtimes/js/package.json), so the dispatcher it installs is one
// Node's own fetch can drive. Loaded from disk only then: an execution without egress never
// evaluates it.
import { createRequire } from "node:module";

/** @returns {boolean} whether a proxy was installed */
export function useEgressProxy() {
  const env = process.env;
  if (!env.HTTPS_PROXY && !env.https_proxy && !env.HTTP_PROXY && !env.http_proxy) return false;
  /** @type {typeof import("undici")} */
  const undici = createRequire(import.meta.url)("undici");
  undici.setGlobalDispatcher(new undici.EnvHttpProxyAgent());
  return true;
}
