"""Upstream cpex 0.1.4's gRPC / Unix-socket client side beyond data/upstream_client.py,
run in an upstream virtualenv: denial metrics, a client-side timeout and the server's
health services. Prints what it saw as JSON.

argv: client config, transport (grpc-tcp, grpc-uds, unix), address (host:port or path).
"""

import asyncio
import json
import sys

from cpex.framework import GlobalContext, PluginManager, ToolPreInvokePayload


def health(transport, address):
    """The raw answers of cpex.Health/Check and grpc.health.v1.Health/Check (empty
    requests; status 1 is SERVING, encoded as b"\\x08\\x01")."""
    if transport == "unix":
        return None
    import grpc

    target = address if transport == "grpc-tcp" else f"unix://{address}"
    out = {}
    with grpc.insecure_channel(target) as channel:
        for method in ("/cpex.Health/Check", "/grpc.health.v1.Health/Check"):
            call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
            try:
                out[method] = call(b"", timeout=10).hex()
            except grpc.RpcError as exc:
                out[method] = exc.code().name
    return out


async def main(config, transport, address):
    out = {}
    manager = PluginManager(config, timeout=30)
    await manager.initialize()
    try:
        # the plugin's own result: a chain result carries no denial metrics
        result = await manager.invoke_hook_for_plugin("InteropGuard", "tool_pre_invoke",
                                                      ToolPreInvokePayload(name="deny_metrics", args={}),
                                                      GlobalContext(request_id="m1"))
        out["metrics"] = {"continue": result.continue_processing, "code": result.violation.code,
                          "denial_metadata": result.denial_metadata}
    finally:
        await manager.shutdown()
    PluginManager.reset()
    manager = PluginManager(config, timeout=1)
    await manager.initialize()
    try:
        try:
            await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="hang", args={}),
                                      GlobalContext(request_id="t1"))
            out["timeout"] = "no error"
        except Exception as exc:  # what the client raises is the comparison
            out["timeout"] = type(exc).__name__
        if transport != "unix":
            # upstream's Unix-socket client keeps the connection of a cancelled call and
            # reads its late answer next (against any server): only gRPC is checked here
            result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="allow", args={}),
                                                  GlobalContext(request_id="t2"))
            out["after_timeout"] = result.continue_processing
    finally:
        await manager.shutdown()
    out["health"] = health(transport, address)
    print(json.dumps(out, sort_keys=True, default=str))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
