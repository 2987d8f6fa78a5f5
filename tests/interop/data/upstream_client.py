"""Upstream cpex's client side, run in an upstream virtualenv: a PluginManager with one
``kind: external`` entry (the config file given) calls the InteropGuard cases and prints
what it saw as JSON, so a test can compare upstream's runtime with ours as the server."""

import asyncio
import json
import sys

from cpex.framework import GlobalContext, PluginError, PluginManager, ToolPostInvokePayload, ToolPreInvokePayload


def failure(exc):
    out = {"type": type(exc).__name__, "text": str(exc)}
    if isinstance(exc, PluginError):
        out.update(plugin_name=exc.error.plugin_name, code=exc.error.code, message=exc.error.message)
    return out


async def main(config):
    manager = PluginManager(config, timeout=30)
    await manager.initialize()
    out = {}
    try:
        gc = GlobalContext(request_id="r1", state={"from_client": "client"})
        result, table = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="allow", args={"a": 1}), gc)
        out["allow"] = {"continue": result.continue_processing, "metadata": result.metadata,
                        "modified": result.modified_payload is not None, "global_state": dict(gc.state)}
        post, _ = await manager.invoke_hook("tool_post_invoke", ToolPostInvokePayload(name="allow", result={}), gc,
                                            local_contexts=table)
        out["post"] = post.metadata
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="block", args={}),
                                              GlobalContext(request_id="r2"))
        out["block"] = {"continue": result.continue_processing,
                        "violation": result.violation.model_dump() if result.violation else None}
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="modify", args={"x": "y"}),
                                              GlobalContext(request_id="r3"))
        out["modify"] = result.modified_payload.model_dump() if result.modified_payload else None
        try:
            await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="error", args={}),
                                      GlobalContext(request_id="r4"))
            out["error"] = "no error"
        except Exception as exc:  # what the client raises is the comparison
            out["error"] = failure(exc)
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="allow", args={}),
                                              GlobalContext(request_id="r5"))
        out["after_error"] = result.continue_processing
    finally:
        await manager.shutdown()
    print(json.dumps(out, sort_keys=True, default=str))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
