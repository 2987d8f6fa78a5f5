"""String constants of the plugin framework (spec §21.4).

Plugin kinds, the keys of external-transport configs and results, the global-context
metadata keys the gateway writes before tool hooks, and the names used by the
external MCP server runtime.
"""

from __future__ import annotations

# Plugin kinds. Anything else in ``PluginConfig.kind`` is a dotted class path.
NATIVE_PLUGIN_TYPE = "native"
BUILTIN_PLUGIN_TYPE = "builtin"
WASM_PLUGIN_TYPE = "wasm"
EXTERNAL_PLUGIN_TYPE = "external"
ISOLATED_VENV_PLUGIN_TYPE = "isolated_venv"
PDP_PLUGIN_TYPE = "PDP"
KNOWN_PLUGIN_KINDS = frozenset(
    {
        NATIVE_PLUGIN_TYPE,
        BUILTIN_PLUGIN_TYPE,
        WASM_PLUGIN_TYPE,
        EXTERNAL_PLUGIN_TYPE,
        ISOLATED_VENV_PLUGIN_TYPE,
        PDP_PLUGIN_TYPE,
    }
)

# Keys of MCP client configs and of the external plugin protocol.
PYTHON_SUFFIX = ".py"
URL = "url"
SCRIPT = "script"
CMD = "cmd"
ENV = "env"
CWD = "cwd"
UDS = "uds"
NAME = "name"
PLUGIN_NAME = "plugin_name"
PAYLOAD = "payload"
CONTEXT = "context"
RESULT = "result"
ERROR = "error"
# Validation-context key that lets an external entry carry a local ``config`` block.
IGNORE_CONFIG_EXTERNAL = "ignore_config_external"

# GlobalContext.metadata keys the gateway fills before tool hooks.
TOOL_METADATA = "tool"
GATEWAY_METADATA = "gateway"

# External MCP plugin server runtime.
MCP_SERVER_NAME = "MCP Plugin Server"
MCP_SERVER_INSTRUCTIONS = "External plugin server for ContextForge"
GET_PLUGIN_CONFIGS = "get_plugin_configs"
GET_PLUGIN_CONFIG = "get_plugin_config"
HOOK_TYPE = "hook_type"
INVOKE_HOOK = "invoke_hook"
