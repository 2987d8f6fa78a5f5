// Package cmf holds the Go form of the CMF (Common Message Format) message that the
// message hooks (cmf.tool_pre_invoke, cmf.llm_input, ...) carry in their `message` field:
// Message, its typed content parts and the domain objects they wrap.
//
// Every type marshals to exactly the JSON of the Python model's model_dump(mode="json")
// (cpex.framework.cmf.message): the same keys in the same order, null for None, {} and []
// for empty defaults. Decoding applies the Python models' defaults and validators
// (required fields, the enums, content/blob exclusion, range order, the content_type tag,
// unknown top-level Message keys rejected, unknown nested keys ignored) and reports a
// *ValidationError naming the dotted field path, as pydantic's loc does. The golden file
// tests/py/cmf/goldens.json, produced by upstream cpex 0.1.4, pins both directions.
//
// Known differences from pydantic's lax mode: integer fields accept JSON integers only
// (not "5" or 5.0) and boolean fields JSON booleans only.
//
// Resource.Blob is the text pydantic stores for a bytes field validated from a JSON
// string: the string itself (not base64-decoded), which is what model_dump(mode="json")
// writes back.
package cmf
