package builtins

// ContextFree is embedded by the built-ins whose Invoke never reads its
// PluginContext (the scanners: pii_filter, secrets_detection, regex_replace, deny_list,
// noop). A Python caller asks the core for such a plugin's call without the request's
// facts (pybind's GoPluginInvoke answers "ctx": false): writing and reading them was a
// tenth of a small call. A built-in that starts reading its context must drop it.
type ContextFree struct{}

// IgnoresContext reports that Invoke does not read its PluginContext.
func (ContextFree) IgnoresContext() bool { return true }

// ContextIgnorer is implemented by plugins that declare they never read their context.
type ContextIgnorer interface{ IgnoresContext() bool }

// IgnoresContextOf reports whether p declared that it never reads its PluginContext.
func IgnoresContextOf(p any) bool {
	c, ok := p.(ContextIgnorer)
	return ok && c.IgnoresContext()
}
