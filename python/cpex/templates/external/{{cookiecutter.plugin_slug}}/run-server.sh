#!/usr/bin/env bash
# Serve the plugins of resources/plugins/config.yaml over MCP with cpex's external runtime.
#   PLUGINS_CONFIG_PATH  plugin config (default ./resources/plugins/config.yaml)
#   PLUGINS_TRANSPORT    http (default) or stdio
set -euo pipefail
export PLUGINS_CONFIG_PATH="${PLUGINS_CONFIG_PATH:-./resources/plugins/config.yaml}"
export PLUGINS_TRANSPORT="${PLUGINS_TRANSPORT:-http}"
# to stderr: over stdio, stdout is the MCP channel
echo "plugin config: ${PLUGINS_CONFIG_PATH} transport: ${PLUGINS_TRANSPORT}" >&2
exec python -m cpex.framework.external.mcp.server.runtime
