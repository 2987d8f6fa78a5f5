#!/usr/bin/env bash
# Regenerates proto/cpexpb from proto/plugin_service.proto (make proto).
# protoc comes from PyPI's grpcio-tools (pinned below) in .venv-proto, the two Go
# plugins are go.mod tools, so the output depends only on pinned versions. The
# generated code is committed: a plain build needs neither protoc nor Python, and
# proto/cpexpb's TestGeneratedCodeIsCurrent fails when the .proto and it disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
GRPCIO_TOOLS_VERSION=1.85.1
PYTHON=${PYTHON:-python3}
VENV=.venv-proto
if [ ! -f "$VENV/.ready-$GRPCIO_TOOLS_VERSION" ]; then
	"$PYTHON" -m venv "$VENV"
	"$VENV/bin/pip" install -q "grpcio-tools==$GRPCIO_TOOLS_VERSION"
	touch "$VENV/.ready-$GRPCIO_TOOLS_VERSION"
fi
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$BIN/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
INCLUDE=$("$VENV/bin/python" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
"$VENV/bin/python" -m grpc_tools.protoc -I proto -I "$INCLUDE" \
	--plugin=protoc-gen-go="$BIN/protoc-gen-go" --plugin=protoc-gen-go-grpc="$BIN/protoc-gen-go-grpc" \
	--go_out=proto/cpexpb --go_opt=paths=source_relative \
	--go-grpc_out=proto/cpexpb --go-grpc_opt=paths=source_relative \
	plugin_service.proto
