"""The packages LangGraph's docs assume, imported before the job; their model providers held to the gateway's.

`init_chat_model("anthropic:...")`, `create_react_agent(model="openai:...")` and langchain's
`create_agent(model=...)` all make their model in langchain.chat_models.base, which imports the
provider's package by name: for a provider the gateway does not serve that ends in a bare
ImportError ("requires the langchain-google-genai package"), or, for those whose class is installed
(azure_openai, langsmith), in a client aimed at a host the sandbox cannot reach. Every one of those
paths asks `_get_chat_model_creator(provider)` for the class, and looks it up in the module when it
does: the one place to say which providers are served. (A private name: the pinned langchain has it,
and test/packages.test.ts fails if a new one does not.)
"""

import importlib
import os

# The providers the gateway serves (src/gateway/), as langchain names them.
SERVED_PROVIDERS = ("openai", "anthropic")

# Imported by the zygote once (its children share the pages) and by a fresh sandbox before `ready`.
# Measured in docs/performance.md ("Packages"); langchain.agents is the only one above a few ms.
PRELOADED = (
    "dotenv",
    "langchain.chat_models",
    "langchain.agents",
    "langgraph.prebuilt",
    "langgraph_supervisor",
    "langgraph_swarm",
)


class ModelProviderError(ValueError):
    """A provider string naming a provider the engine does not serve."""


def unserved_provider_message(provider: str) -> str:
    return (
        f"model provider {provider!r} is not available here: LLM calls go through the engine's gateway, "
        f"which serves {' and '.join(SERVED_PROVIDERS)} "
        '(init_chat_model("openai:gpt-4o-mini"), init_chat_model("anthropic:claude-3-5-haiku-latest"))'
    )


# The operator's modules to import as well (GRAPHBOX_PYTHON_PREIMPORT, checked by the engine's config).
PREIMPORT_VARIABLE = "GRAPHBOX_PYTHON_PREIMPORT"


def preload() -> None:
    for name in PRELOADED:
        importlib.import_module(name)
    refuse_unserved_providers()
    for name in filter(None, os.environ.get(PREIMPORT_VARIABLE, "").split(",")):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - not installed, or failing: the program's own import says why
            pass


def refuse_unserved_providers() -> None:
    from langchain.chat_models import base

    creator = base._get_chat_model_creator
    if getattr(creator, "_graphbox_served_only", False):
        return

    def served_only(provider: str):
        if provider not in SERVED_PROVIDERS:
            raise ModelProviderError(unserved_provider_message(provider))
        return creator(provider)

    served_only._graphbox_served_only = True
    base._get_chat_model_creator = served_only
