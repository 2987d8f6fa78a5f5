"""The documents of the config golden (tests/cases/config/config.json).

tests/py/test_goldens.py dumps each through the Python Config model (as ConfigLoader does
after rendering) and compares with the file (CPEX_UPDATE_GOLDENS=1 rewrites it);
tests/go/config_test.go parses the same text with config.Parse and expects the same JSON,
or an error where the model rejects the document. The documents avoid file paths, so
filesystem checks do not matter.
"""

from __future__ import annotations

from typing import Any

import yaml

DOCS = {
    "empty": "",
    "ignored_top_level_keys": "plugin_settings: {parallel_execution_within_band: true}\nother: 1\n",
    "plugins_null": "plugins:\n",
    "minimal_plugin": "plugins:\n  - {name: a, kind: pkg.Plugin}\n",
    "every_field": """
plugin_dirs: [plugins/native, /etc/plugins]
plugins:
  - name: full
    kind: pkg.mod.Full
    description: d
    author: au
    namespace: ns
    version: "1.2"
    hooks: [tool_pre_invoke, tool_post_invoke]
    tags: [security, pii]
    mode: audit
    on_error: disable
    priority: 7
    max_content_size: 1024
    capabilities: [append_labels, read_headers, read_headers]
    conditions:
      - server_ids: [s1]
        tenant_ids: [t1]
        tools: [x]
        prompts: [p]
        resources: ["file:///r"]
        agents: [a]
        user_patterns: [admin, admin]
        content_types: ["Application/JSON; charset=utf-8"]
      - {}
    applied_to:
      tools: [{tool_name: web, fields: [q], result: true, context: [c], extensions: {k: v}}]
      prompts: [{prompt_name: greet}]
      resources: [{resource_uri: "file:///x"}]
    config: {nested: {list: [1, 2.5, true, null, text]}, n: 3}
""",
    "legacy_enforce": "plugins:\n  - {name: a, kind: k, mode: enforce}\n",
    "legacy_permissive": "plugins:\n  - {name: a, kind: k, mode: permissive}\n",
    "legacy_enforce_ignore_error": "plugins:\n  - {name: a, kind: k, mode: enforce_ignore_error}\n",
    "legacy_explicit_on_error_wins": "plugins:\n  - {name: a, kind: k, mode: enforce_ignore_error, on_error: disable}\n",
    "empty_sets_and_lists": "plugins:\n  - {name: a, kind: k, conditions: [{server_ids: [], tools: [], user_patterns: [], content_types: []}]}\n",
    "string_priority": "plugins:\n  - {name: a, kind: k, priority: '5'}\n",
    "float_priority": "plugins:\n  - {name: a, kind: k, priority: 5.0}\n",
    "capabilities_not_a_list": "plugins:\n  - {name: a, kind: k, capabilities: read_headers}\n",
    "capabilities_null": "plugins:\n  - {name: a, kind: k, capabilities: null}\n",
    "external_unix_socket": "plugins:\n  - {name: e, kind: external, unix_socket: {path: /tmp/p.sock}}\n",
    "external_grpc": "plugins:\n  - {name: e, kind: external, grpc: {target: 'plugins.example.com:50051', tls: {verify: false}}}\n",
    "external_mcp_http": "plugins:\n  - {name: e, kind: external, mcp: {proto: STREAMABLEHTTP, url: 'https://plugins.example.com/mcp'}}\n",
    "external_mcp_stdio_cmd": "plugins:\n  - {name: e, kind: external, mcp: {proto: STDIO, cmd: [python, -m, srv], env: {A: b}}}\n",
    "external_empty_config": "plugins:\n  - {name: e, kind: external, config: {}, grpc: {target: 'h:1'}}\n",
    "server_settings_defaults": "server_settings: {}\ngrpc_server_settings: {}\nunix_socket_server_settings: {}\n",
    "server_settings_values": "server_settings: {host: 0.0.0.0, port: 9000}\ngrpc_server_settings: {host: h, port: '50052', tls: {client_auth: OPTIONAL}}\n",
    # invalid documents
    "missing_name": "plugins:\n  - {kind: k}\n",
    "missing_kind": "plugins:\n  - {name: a}\n",
    "unknown_mode": "plugins:\n  - {name: a, kind: k, mode: strict}\n",
    "unknown_on_error": "plugins:\n  - {name: a, kind: k, on_error: retry}\n",
    "fractional_priority": "plugins:\n  - {name: a, kind: k, priority: 1.5}\n",
    "unknown_capability": "plugins:\n  - {name: a, kind: k, capabilities: [fly]}\n",
    "hooks_not_a_list": "plugins:\n  - {name: a, kind: k, hooks: tool_pre_invoke}\n",
    "hooks_null": "plugins:\n  - {name: a, kind: k, hooks: null}\n",
    "name_not_a_string": "plugins:\n  - {name: 1, kind: k}\n",
    "conditions_null": "plugins:\n  - {name: a, kind: k, conditions: null}\n",
    "external_without_transport": "plugins:\n  - {name: e, kind: external}\n",
    "external_two_transports": "plugins:\n  - {name: e, kind: external, grpc: {target: 'h:1'}, unix_socket: {path: /tmp/p.sock}}\n",
    "external_with_config": "plugins:\n  - {name: e, kind: external, config: {a: 1}, grpc: {target: 'h:1'}}\n",
    "stdio_script_and_cmd": "plugins:\n  - {name: e, kind: external, mcp: {proto: STDIO, script: s.py, cmd: [x]}}\n",
    "http_without_url": "plugins:\n  - {name: e, kind: external, mcp: {proto: STREAMABLEHTTP}}\n",
    "http_proto_rejected": "plugins:\n  - {name: e, kind: external, mcp: {proto: HTTP, url: 'https://x.example.com'}}\n",
    "private_ip_url": "plugins:\n  - {name: e, kind: external, mcp: {proto: SSE, url: 'http://10.0.0.1/sse'}}\n",
    "grpc_target_without_port": "plugins:\n  - {name: e, kind: external, grpc: {target: plugins}}\n",
    "unix_socket_relative": "plugins:\n  - {name: e, kind: external, unix_socket: {path: p.sock}}\n",
    "plugins_not_a_list": "plugins: {a: 1}\n",
    "bad_client_auth": "grpc_server_settings: {tls: {client_auth: sometimes}}\n",
}


def build() -> dict[str, Any]:
    """The golden document: each DOCS entry dumped by Config, or marked invalid."""
    from cpex.framework.models import Config

    cases = []
    for name, text in DOCS.items():
        entry: dict[str, Any] = {"name": name, "yaml": text}
        try:
            data = yaml.safe_load(text) or {}
            entry["dump"] = Config(**data).model_dump(mode="json")
        except Exception:  # validation failure is the expected outcome of invalid documents
            entry["error"] = True
        cases.append(entry)
    return {"source": "cpex.framework.models.Config(**yaml.safe_load(doc)).model_dump(mode='json')", "cases": cases}
