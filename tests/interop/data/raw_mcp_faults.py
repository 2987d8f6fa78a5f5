"""A raw MCP client (the Python MCP SDK of an upstream virtualenv) sends a plugin server
malformed and oversized invoke_hook arguments over stdio, then a good call, and prints
each answer's text as JSON: the server must answer every one with an error model and
keep serving."""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

GOOD_CONTEXT = {"state": {}, "metadata": {}, "global_context": {"request_id": "r1", "state": {}, "metadata": {}}}


async def main(cmd, env):
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=env)
    out = {}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        cases = {
            "not_an_object_payload": {"hook_type": "tool_pre_invoke", "plugin_name": "InteropGuard", "payload": "x",
                                      "context": GOOD_CONTEXT},
            "missing_plugin": {"hook_type": "tool_pre_invoke", "payload": {"name": "allow"}, "context": GOOD_CONTEXT},
            "unknown_plugin": {"hook_type": "tool_pre_invoke", "plugin_name": "Nobody", "payload": {"name": "allow"},
                               "context": GOOD_CONTEXT},
            "oversized": {"hook_type": "tool_pre_invoke", "plugin_name": "InteropGuard",
                          "payload": {"name": "allow", "args": {"blob": "x" * (9 << 20)}}, "context": GOOD_CONTEXT},
            "good": {"hook_type": "tool_pre_invoke", "plugin_name": "InteropGuard", "payload": {"name": "allow", "args": {}},
                     "context": GOOD_CONTEXT},
        }
        for name, args in cases.items():
            res = await session.call_tool("invoke_hook", args)
            text = res.content[0].text if res.content else ""
            try:
                out[name] = {"is_error": bool(getattr(res, "is_error", getattr(res, "isError", False))), "answer": json.loads(text)}
            except ValueError:
                out[name] = {"is_error": bool(getattr(res, "is_error", getattr(res, "isError", False))), "text": text[:500]}
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1]), json.loads(sys.argv[2])))
