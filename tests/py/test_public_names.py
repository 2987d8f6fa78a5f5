"""Every module and name of spec §1-§2 (and the other public names of §3-§21) imports.

The lists below are transcribed from the spec, not from the package: a name that
disappears or moves makes this file fail.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

# §2: cpex.framework.__all__ (62 names).
FRAMEWORK_ALL = """
AgentHookType AgentPostInvokePayload AgentPostInvokeResult AgentPreInvokePayload AgentPreInvokeResult
ConfigLoader ControlExecutionRecord ControlExecutionStatus ExternalPluginServer get_attr
get_hook_registry get_plugin_manager GlobalContext hook HookRegistry
HttpAuthCheckPermissionPayload HttpAuthCheckPermissionResult HttpAuthCheckPermissionResultPayload
HttpAuthResolveUserPayload HttpAuthResolveUserResult HttpHeaderPayload HttpHookType
HttpPostRequestPayload HttpPostRequestResult HttpPreRequestPayload HttpPreRequestResult
MCPClientConfig MCPServerConfig ObservabilityProvider OnError Plugin PluginCondition PluginConfig
PluginContext PluginContextTable PluginError PluginErrorModel PluginLoader PluginManager PluginMode
PluginPayload PluginResult PluginViolation PluginViolationError PromptHookType PromptPosthookPayload
PromptPosthookResult PromptPrehookPayload PromptPrehookResult ResourceHookType ResourcePostFetchPayload
ResourcePostFetchResult ResourcePreFetchPayload ResourcePreFetchResult TenantPluginManager ToolHookType
ToolPostInvokePayload ToolPostInvokeResult ToolPreInvokePayload ToolPreInvokeResult TransportType UserContext
""".split()

# The published 0.1.4 sdist exports two more names than the spec's 62 (denial outcomes).
SDIST_ADDITIONS = ["DenialExecutionRecord", "DenialOutcome"]

# Module -> names that must be importable from it (spec sections in comments).
MODULE_NAMES: dict[str, str] = {
    # §7.1, §8
    "cpex.framework.base": "Plugin PluginRef HookRef",
    # §21.4
    "cpex.framework.constants": """NATIVE_PLUGIN_TYPE BUILTIN_PLUGIN_TYPE WASM_PLUGIN_TYPE EXTERNAL_PLUGIN_TYPE
        ISOLATED_VENV_PLUGIN_TYPE PDP_PLUGIN_TYPE KNOWN_PLUGIN_KINDS PYTHON_SUFFIX URL SCRIPT CMD ENV CWD UDS NAME
        PLUGIN_NAME PAYLOAD CONTEXT RESULT ERROR IGNORE_CONFIG_EXTERNAL TOOL_METADATA GATEWAY_METADATA
        MCP_SERVER_NAME MCP_SERVER_INSTRUCTIONS GET_PLUGIN_CONFIGS GET_PLUGIN_CONFIG HOOK_TYPE INVOKE_HOOK""",
    # §7.3
    "cpex.framework.decorator": "hook HookMetadata get_hook_metadata has_hook_metadata _HOOK_METADATA_ATTR P R",
    # §19
    "cpex.framework.errors": """PluginViolationError PluginError convert_exception_to_error
        DenialExecutionRecord DenialOutcome DenialMetadataValue sanitize_denial_metadata""",
    # §10.1
    "cpex.framework.manager": """PluginExecutor PluginManager TenantPluginManager PluginTimeoutError PayloadSizeError
        DEFAULT_PLUGIN_TIMEOUT MAX_PAYLOAD_SIZE ConfigLoader""",
    # §14
    "cpex.framework.memory": """CopyOnWriteDict CopyOnWriteList copyonwrite wrap_payload_for_isolation
        _safe_deepcopy _wrap_value""",
    # §3, §4
    "cpex.framework.models": """T TransportType PluginMode OnError ControlExecutionStatus PluginInstallationType
        BaseTemplate ToolTemplate PromptTemplate ResourceTemplate AppliedTo PluginCondition
        MCPTransportTLSConfigBase MCPClientTLSConfig MCPServerTLSConfig MCPServerConfig MCPClientConfig
        GRPCClientTLSConfig GRPCServerTLSConfig GRPCClientConfig GRPCServerConfig UnixSocketClientConfig
        UnixSocketServerConfig Config PluginConfig Monorepo PyPiRepo GitRepo PluginManifest PluginPackageInfo
        PluginVersionInfo PluginVersionRegistry InstalledPluginInfo InstalledPluginRegistry
        _MAX_STRING_LEN _MAX_CONFIG_KEYS _ELLIPSIS _truncate _truncate_opt _collect_config_keys
        ControlExecutionRecord PluginErrorModel PluginViolation UserContext PluginResult GlobalContext
        PluginContext PluginContextTable PluginPayload""",
    # §20
    "cpex.framework.observability": "ObservabilityProvider NullObservability current_trace_id",
    # §21.3
    "cpex.framework.protocols": "MessageLike PromptResultLike",
    # §8.3
    "cpex.framework.registry": "PluginInstanceRegistry PluginRef",
    # §6
    "cpex.framework.settings": """PluginsSettings PluginsEnabledSettings PluginsConfigPathSettings
        PluginsStartupSettings PluginsPolicySettings PluginsSsrfSettings PluginsTransportSettings
        PluginsClientMtlsSettings PluginsMcpServerSettings PluginsGrpcClientMtlsSettings PluginsHttpClientSettings
        PluginsCliSettings PluginsGrpcServerSettings get_settings get_enabled_settings get_startup_settings
        get_config_path_settings get_policy_settings get_ssrf_settings get_transport_settings
        get_client_mtls_settings get_mcp_server_settings get_grpc_client_mtls_settings get_http_client_settings
        get_cli_settings get_grpc_server_settings settings LazySettingsWrapper""",
    # §21.1, §12
    "cpex.framework.utils": """StructuredData coerce_nested coerce_messages import_module parse_class_name
        manifest_filename_for_class normalize_content_type matches get_matchable_value payload_matches get_attr
        ORJSONResponse find_package_path""",
    # §21.2
    "cpex.framework.validators": "SecurityValidator validate_plugin_url",
    # §16
    "cpex.framework.hooks.agents": """AgentHookType AgentPreInvokePayload AgentPostInvokePayload
        AgentPreInvokeResult AgentPostInvokeResult""",
    "cpex.framework.hooks.http": """HttpHookType HttpHeaderPayload HttpHeaderPayloadResult HttpPreRequestPayload
        HttpPostRequestPayload HttpAuthResolveUserPayload HttpAuthCheckPermissionPayload
        HttpAuthCheckPermissionResultPayload HttpPreRequestResult HttpPostRequestResult HttpAuthResolveUserResult
        HttpAuthCheckPermissionResult""",
    "cpex.framework.hooks.identity": """IdentityHookType IdentityPayload IdentityResult AttenuationConfig
        DelegationPayload DelegationResult IdentityResolveResult TokenDelegateResult""",
    "cpex.framework.hooks.policies": "DefaultHookPolicy HookPayloadPolicy apply_policy",
    "cpex.framework.hooks.prompts": """PromptHookType PromptPrehookPayload PromptPosthookPayload
        PromptPrehookResult PromptPosthookResult""",
    "cpex.framework.hooks.registry": "HookRegistry get_hook_registry _global_registry",
    "cpex.framework.hooks.resources": """ResourceHookType ResourcePreFetchPayload ResourcePostFetchPayload
        ResourcePreFetchResult ResourcePostFetchResult""",
    "cpex.framework.hooks.tools": """ToolHookType ToolPreInvokePayload ToolPostInvokePayload
        ToolPreInvokeResult ToolPostInvokeResult""",
    # §5, §9
    "cpex.framework.loader.config": "ConfigLoader ConfigSaver",
    "cpex.framework.loader.plugin": "PluginLoader ALLOWED_PLUGIN_DIRS",
    # §17
    "cpex.framework.extensions": """AccessPolicy SlotName AgentExtension Capability CompletionExtension
        ConversationContext DataPolicy DelegationExtension DelegationHop Extensions FrameworkExtension HttpExtension
        LLMExtension MCPExtension MetaExtension MutabilityTier ObjectSecurityProfile PromptMetadata
        ProvenanceExtension RequestExtension ResourceMetadata RetentionPolicy SecurityExtension StopReason
        SubjectExtension SubjectType TierViolationError TokenUsage ToolMetadata""",
    "cpex.framework.extensions.tiers": """MutabilityTier Capability AccessPolicy SlotPolicy _slot_registry
        filter_extensions validate_tier_constraints merge_extensions TierViolationError""",
    "cpex.framework.extensions.constants": "SlotName",
    "cpex.framework.extensions.extensions": "Extensions",
    "cpex.framework.extensions.agent": "AgentExtension ConversationContext",
    "cpex.framework.extensions.completion": "CompletionExtension StopReason TokenUsage",
    "cpex.framework.extensions.delegation": "DelegationExtension DelegationHop",
    "cpex.framework.extensions.framework": "FrameworkExtension",
    "cpex.framework.extensions.http": "HttpExtension",
    "cpex.framework.extensions.llm": "LLMExtension",
    "cpex.framework.extensions.mcp": "MCPExtension ToolMetadata ResourceMetadata PromptMetadata",
    "cpex.framework.extensions.meta": "MetaExtension",
    "cpex.framework.extensions.provenance": "ProvenanceExtension",
    "cpex.framework.extensions.request": "RequestExtension",
    "cpex.framework.extensions.security": """SecurityExtension SubjectExtension SubjectType ObjectSecurityProfile
        RetentionPolicy DataPolicy""",
    # §23.5 / gateway contract §1.1: importable even though external transports come later.
    "cpex.framework.external": "ExternalPluginServer",
    "cpex.framework.external.mcp.server": "ExternalPluginServer",
    "cpex.framework.external.mcp.server.runtime": "main",
    "cpex.framework.external.mcp.client": "ExternalHookRef",
    "cpex.framework.external.grpc.client": "GrpcExternalPlugin",
    "cpex.framework.external.unix.client": "UnixSocketExternalPlugin",
}


def test_framework_all_is_exactly_the_spec_list() -> None:
    import cpex.framework as framework

    assert len(FRAMEWORK_ALL) == 62
    assert sorted(framework.__all__) == sorted(FRAMEWORK_ALL + SDIST_ADDITIONS)


def test_star_import_gives_the_public_names_and_nothing_private() -> None:
    namespace: dict[str, object] = {}
    exec("from cpex.framework import *", namespace)  # noqa: S102 - the behaviour under test
    names = {n for n in namespace if n != "__builtins__"}
    assert names == set(FRAMEWORK_ALL + SDIST_ADDITIONS)


def test_names_outside_all_are_importable() -> None:
    import cpex.framework as framework
    from cpex.framework import HookPayloadPolicy, Optional
    from cpex.framework.hooks.policies import HookPayloadPolicy as PolicyFromHooks

    assert HookPayloadPolicy is PolicyFromHooks
    assert Optional is typing.Optional
    assert "_plugin_manager" in vars(framework)


@pytest.mark.parametrize("module", sorted(MODULE_NAMES))
def test_module_names_import(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in MODULE_NAMES[module].split() if not hasattr(mod, name)]
    assert missing == []


def test_framework_reexports_are_the_defining_objects() -> None:
    import cpex.framework as framework
    from cpex.framework import errors, models, observability, utils
    from cpex.framework.hooks import tools
    from cpex.framework.loader import config

    assert framework.PluginConfig is models.PluginConfig
    assert framework.ToolPreInvokePayload is tools.ToolPreInvokePayload
    assert framework.ConfigLoader is config.ConfigLoader
    assert framework.PluginError is errors.PluginError
    assert framework.ObservabilityProvider is observability.ObservabilityProvider
    assert framework.get_attr is utils.get_attr


def test_manager_module_exposes_the_same_config_loader() -> None:
    # The gateway's tests patch "cpex.framework.manager.ConfigLoader.load_config".
    from cpex.framework.loader.config import ConfigLoader
    from cpex.framework.manager import ConfigLoader as ManagerConfigLoader

    assert ManagerConfigLoader is ConfigLoader


def _child_env() -> dict[str, str]:
    # The child must import the same package as this process (PYTHONPATH may be relative).
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def test_importing_the_framework_registers_exactly_the_twelve_builtin_hooks() -> None:
    code = (
        "import cpex.framework\n"
        "from cpex.framework.hooks.registry import get_hook_registry\n"
        "print(','.join(sorted(str(h.value) for h in get_hook_registry().get_registered_hooks())))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_child_env()
    ).stdout.strip()
    assert out.split(",") == sorted(
        [
            "tool_pre_invoke",
            "tool_post_invoke",
            "prompt_pre_fetch",
            "prompt_post_fetch",
            "resource_pre_fetch",
            "resource_post_fetch",
            "agent_pre_invoke",
            "agent_post_invoke",
            "http_pre_request",
            "http_post_request",
            "http_auth_resolve_user",
            "http_auth_check_permission",
        ]
    )


def test_external_runtime_runs_as_a_module_and_ends_with_its_stdio_client(tmp_path: Path) -> None:
    # stdin is not a terminal: stdio; closed at once: the client went, the server ends cleanly.
    proc = subprocess.run(
        [sys.executable, "-m", "cpex.framework.external.mcp.server.runtime"],
        capture_output=True,
        text=True,
        env={**_child_env(), "PLUGINS_CONFIG_PATH": str(tmp_path / "none.yaml")},
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "", "over stdio, stdout is the MCP channel"


def test_external_plugin_server_is_the_served_runtime_class() -> None:
    from cpex.framework import ExternalPluginServer
    from cpex.framework.external.mcp.server import ExternalPluginServer as ServerClass

    assert ExternalPluginServer is ServerClass


def test_importing_the_framework_loads_neither_the_core_nor_optional_heavy_modules() -> None:
    # The Go runtime must not start at import (pre-fork masters import the framework);
    # jinja2 and fastapi are imported on first use only.
    code = (
        "import sys, cpex.framework\n"
        "print(','.join(m for m in ('cpex._native', 'jinja2', 'fastapi') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_child_env()
    ).stdout.strip()
    assert out == ""
