"""A minimal MCP plugin server over stdio (newline-delimited JSON-RPC), for tests only.

It speaks just enough MCP for the core's client (initialize, tools/list, tools/call of
get_plugin_config and invoke_hook) without any MCP library, so the Python suite can run
an external plugin end to end. What invoke_hook answers depends on the payload's name.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

CONFIG = {
    "name": "Mini",
    "kind": "mini.Plugin",
    "description": "served by mini_mcp_server",
    "hooks": ["tool_pre_invoke"],
    "mode": "sequential",
    "priority": 9,
    "config": {"level": 2},
}


def invoke(args: dict[str, Any]) -> Any:
    name = args["payload"].get("name")
    if name == "block":
        return {"result": {"continue_processing": False, "violation": {
            "reason": "blocked", "description": "mini blocks it", "code": "MINI", "details": {"tool": name}}}}
    if name == "modify":
        return {"result": {"modified_payload": {"name": "modify", "args": {"changed": True}}}}
    if name == "error":
        return {"error": {"message": "mini failed", "plugin_name": args["plugin_name"], "code": "MINI_ERR"}}
    if name == "garbage":
        return "not json at all"
    if name == "die":
        os._exit(3)
    return {"result": {"metadata": {"hook": args["hook_type"], "request_id": args["context"]["global_context"]["request_id"]}}}


def tool_call(params: dict[str, Any]) -> str:
    args = params.get("arguments") or {}
    if params["name"] == "get_plugin_config":
        return json.dumps(CONFIG if args.get("name") == CONFIG["name"] else {})
    out = invoke(args)
    return out if isinstance(out, str) else json.dumps(out)


def main() -> None:
    for line in sys.stdin:
        msg = json.loads(line)
        if "id" not in msg:
            continue  # a notification
        method, result = msg.get("method"), None
        if method == "initialize":
            result = {"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}},
                      "serverInfo": {"name": "mini", "version": "0"}}
        elif method == "tools/list":
            result = {"tools": [{"name": n, "inputSchema": {"type": "object"}}
                                for n in ("get_plugin_configs", "get_plugin_config", "invoke_hook")]}
        elif method == "tools/call":
            result = {"content": [{"type": "text", "text": tool_call(msg["params"])}], "isError": False}
        else:
            result = {}
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
