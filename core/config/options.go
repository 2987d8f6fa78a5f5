package config

import "os"

// EnvLookup returns the value of an environment variable and whether it is
// set (os.LookupEnv has this signature).
type EnvLookup func(name string) (string, bool)

// Option configures Load and Parse.
type Option func(*options)

type options struct {
	env                  EnvLookup
	templating           bool
	ssrfProtection       bool
	ignoreConfigExternal bool
	checkFiles           bool
}

func defaultOptions() options {
	return options{env: os.LookupEnv, templating: true, ssrfProtection: true, checkFiles: true}
}

func buildOptions(opts []Option) options {
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// WithEnv makes templating read variables from m instead of the process
// environment (a nil map means "no variables").
func WithEnv(m map[string]string) Option {
	return func(o *options) {
		o.env = func(name string) (string, bool) {
			v, ok := m[name]
			return v, ok
		}
	}
}

// WithEnvLookup makes templating read variables through fn (nil restores
// os.LookupEnv).
func WithEnvLookup(fn EnvLookup) Option {
	return func(o *options) {
		if fn == nil {
			fn = os.LookupEnv
		}
		o.env = fn
	}
}

// WithTemplating turns env templating ({{ env.NAME }}) on or off; it is on
// by default, as upstream's ConfigLoader(use_jinja=True). Turn it off for
// text that has already been rendered (the Python side renders with Jinja).
func WithTemplating(on bool) Option {
	return func(o *options) { o.templating = on }
}

// WithSSRFProtection sets whether mcp.url may name a private or loopback
// IPv4 literal (spec §21.2). On by default, as PLUGINS_SSRF_PROTECTION_ENABLED;
// callers that honour the setting pass Settings.SSRFProtectionEnabled.
func WithSSRFProtection(on bool) Option {
	return func(o *options) { o.ssrfProtection = on }
}

// WithIgnoreConfigExternal allows a non-empty config block on kind: external
// plugins (upstream validation context {"ignore_config_external": True},
// used by external plugin servers).
func WithIgnoreConfigExternal(on bool) Option {
	return func(o *options) { o.ignoreConfigExternal = on }
}

// WithFileChecks turns the filesystem validators on or off (TLS files, uds
// parent directories, absolute scripts, cwd). On by default, as upstream;
// turn it off to validate a document meant for another machine.
func WithFileChecks(on bool) Option {
	return func(o *options) { o.checkFiles = on }
}
