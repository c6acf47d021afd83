// @ts-check
// The model providers a program can name: the ones the engine's gateway serves.
//
// langchain's initChatModel("<provider>:<model>") (and createAgent({ model: "<provider>:..." }),
// which calls it) imports the provider's package by name from its MODEL_PROVIDER_CONFIG table.
// For a provider the gateway does not serve that ends in a bare "Unable to import
// @langchain/google-genai", or, for the providers whose class is installed (azure_openai,
// langsmith), in a client aimed at a host the sandbox cannot reach. The table is the one place
// langchain reads the package from, just before importing it: each entry of a provider the gateway
// does not serve says so there instead.

/** The providers the gateway serves (src/gateway/), as langchain names them. */
export const SERVED_PROVIDERS = ["openai", "anthropic"];

/** A provider string naming a provider the engine does not serve. */
export class ModelProviderError extends Error {
  name = "ModelProviderError";
}

/** @param {string} provider */
export function unservedProviderMessage(provider) {
  return (
    `model provider "${provider}" is not available here: LLM calls go through the engine's gateway, ` +
    `which serves ${SERVED_PROVIDERS.join(" and ")} (initChatModel("openai:gpt-4o-mini"), ` +
    `initChatModel("anthropic:claude-3-5-haiku-latest"))`
  );
}

/**
 * Makes langchain's table refuse every provider the gateway does not serve, when a model of it is made.
 * @param {Record<string, unknown>} universal the namespace of langchain/chat_models/universal
 */
export function refuseUnservedProviders(universal) {
  const table = universal["MODEL_PROVIDER_CONFIG"];
  // A langchain without the table would bring back the bare errors: the runtime must not start so.
  if (typeof table !== "object" || table === null || !("openai" in table))
    throw new Error("langchain/chat_models/universal has no MODEL_PROVIDER_CONFIG with an openai entry");
  for (const [provider, entry] of Object.entries(table)) {
    if (SERVED_PROVIDERS.includes(provider)) continue;
    Object.defineProperty(entry, "package", {
      get() {
        throw new ModelProviderError(unservedProviderMessage(provider));
      },
    });
  }
}
