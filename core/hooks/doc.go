// Package hooks holds the Go forms of the payloads of the twelve built-in hook
// types (spec §16.1–§16.5), the nested gateway types that travel inside them
// (PromptResult, Message, ContentBlock, ResourceContent, ToolResult), the hook name
// constants, the gateway's payload policies, and a raw-JSON path (Object) for custom
// hook types.
//
// Every payload type marshals to exactly the JSON that the Python model's
// model_dump(mode="json") produces: the same field names in the same order, null for
// None, and the same defaults when a field is absent on input ({} for args,
// metadata and parameters, false for is_admin, null for the other optional fields).
// Decoding accepts what the pydantic models accept, lax int and bool coercions
// included ("8080" for a port, "yes" or 1 for is_admin), and rejects the rest with a
// PayloadError that names the model and the field; unknown fields are ignored, as
// pydantic's extra="ignore" does. testdata golden files produced by the Python
// models pin all of this down.
//
// Plugins and the executor exchange payloads as *core.Payload (JSON text or a
// decoded tree). ToPayload and Decode convert between the two, and Tree turns a
// changed payload into the tree a Go plugin returns as its modified payload:
//
//	p, err := hooks.ToPayload(hooks.ToolPreInvokePayload{Name: "search", Args: map[string]any{"q": "go"}})
//	tp, err := hooks.Decode[hooks.ToolPreInvokePayload](p)
//	tree, err := hooks.Tree(tp)
//
// Numbers inside free-form values (args, result, content, ...) decode as
// json.Number, so integers of any size and float spellings survive a round trip.
//
// Known difference from pydantic: the typed int fields (client_port, status_code)
// reject integers outside the int64 range, which Python would accept.
package hooks
