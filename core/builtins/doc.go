// Package builtins holds the Go built-in guards of cpex-go: plugins that run entirely
// inside the core, with no Python object and no GIL, selected from the same YAML as
// Python plugins.
//
// # Naming scheme
//
// Every built-in is selected by `kind: builtin/<name>`, where <name> is the snake_case
// name of the guard (builtin/pii_filter, builtin/secrets_detection, builtin/regex_replace,
// builtin/deny_list, builtin/rate_limiter, builtin/noop). A kind without the `builtin/`
// prefix is a Python dotted class path; a `builtin/` kind that no file registers is a load
// error listing the registered kinds (core.NewPlugin).
//
// # Registration
//
// Each guard lives in its own files (<name>.go, <name>_test.go, ...) and registers its
// factory in an init function, Caddy-style:
//
//	func init() { core.RegisterFactory("builtin/pii_filter", newPIIFilter) }
//
// Importing this package (a blank import is enough) makes every guard available to a Go
// program; the Python extension imports it through pybind.
//
// # Shared machinery (walk.go, config.go)
//
// Guards share one way of reading payloads and configs:
//
//   - ScanFields(hook) names the top-level payload attributes a guard scans for a hook
//     (tool args, tool result, prompt args and result, resource content, agent messages).
//   - VisitStrings and RewriteStrings walk the decoded JSON tree of those attributes in a
//     deterministic order; RewriteStrings copies only the changed paths, so the input tree
//     (shared with other plugins) is never mutated.
//   - RewritePayload applies RewriteStrings to the scanned fields of a payload and yields
//     the whole new top-level object that goes into core.Result.ModifiedPayload.
//   - DecodeConfig decodes the `config:` mapping into a struct with `json` tags and rejects
//     unknown or ill-typed keys with an error naming the key and the value.
//   - CheckHooks rejects hooks a guard does not implement, at load time.
package builtins
