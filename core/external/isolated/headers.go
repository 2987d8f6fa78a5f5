package isolated

import "strings"

// sensitiveHeaders never cross the venv boundary, in either direction: a credential
// belongs to the host, and a plugin must not inject one into the pipeline.
var sensitiveHeaders = map[string]bool{"authorization": true, "cookie": true, "set-cookie": true, "x-api-key": true}

// headerFields are the keys whose object value is a header map (HttpExtension's
// `headers`, the split request/response maps, an HTTP payload's `headers`, a
// violation's `http_headers`).
var headerFields = map[string]bool{"headers": true, "request_headers": true, "response_headers": true, "http_headers": true}

// IsSensitiveHeader reports whether name (any case) is stripped at the boundary.
func IsSensitiveHeader(name string) bool { return sensitiveHeaders[strings.ToLower(name)] }

// stripSensitive returns v with the sensitive entries removed from every header map it
// contains, at any depth. Values that need no change are shared, not copied.
func stripSensitive(v any) any {
	out, _ := strip(v, false)
	return out
}

// strip walks v; inHeaders says v is a header map. changed reports a copy was made.
func strip(v any, inHeaders bool) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		var out map[string]any
		for k, e := range t {
			if inHeaders && IsSensitiveHeader(k) {
				out = copyOnce(out, t)
				delete(out, k)
				continue
			}
			if ne, ch := strip(e, headerFields[k]); ch {
				out = copyOnce(out, t)
				out[k] = ne
			}
		}
		if out == nil {
			return t, false
		}
		return out, true
	case []any:
		var out []any
		for i, e := range t {
			if ne, ch := strip(e, false); ch {
				if out == nil {
					out = append([]any(nil), t...)
				}
				out[i] = ne
			}
		}
		if out == nil {
			return t, false
		}
		return out, true
	}
	return v, false
}

func copyOnce(out, src map[string]any) map[string]any {
	if out != nil {
		return out
	}
	out = make(map[string]any, len(src))
	for k, e := range src {
		out[k] = e
	}
	return out
}

func stripHeaderMap(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if !IsSensitiveHeader(k) {
			out[k] = v
		}
	}
	return out
}
