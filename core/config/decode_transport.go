package config

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// mcpClient decodes an external plugin's mcp block (spec §4.3).
func (d *decoder) mcpClient(v *yaml.Node, at string) *MCPClientConfig {
	if isNull(v) || !d.requireMapping(v, at, "mcp") {
		return nil
	}
	before := len(d.issues)
	c := &MCPClientConfig{ReconnectAttempts: DefaultReconnectAttempts, ReconnectDelay: DefaultReconnectDelay}
	fs := d.fields(v)
	if _, ok := lookup(fs, "proto"); !ok {
		d.fail(v, at+".proto", "", "field required")
	}
	for _, f := range fs {
		fv, fp := f.value(), at+"."+f.key
		switch f.key {
		case "proto":
			if s, ok := d.str(fv, fp); ok {
				if t := TransportType(s); t.Valid() {
					c.Proto = t
				} else {
					d.failValue(fv, fp, "unknown transport, want one of %s", joinValues(TransportTypes))
				}
			}
		case "url":
			if c.URL, _ = d.optStr(fv, fp); c.URL != nil {
				if err := ValidatePluginURL(*c.URL, "MCP url", d.opts.ssrfProtection); err != nil {
					d.failValue(fv, fp, "%v", err)
				}
			}
		case "script":
			if c.Script, _ = d.optStr(fv, fp); c.Script != nil && d.opts.checkFiles {
				if err := checkScript(*c.Script); err != nil {
					d.failValue(fv, fp, "%v", err)
				}
			}
		case "cmd":
			c.Cmd = d.cmd(fv, fp)
		case "env":
			c.Env = d.envMap(fv, fp)
		case "cwd":
			if c.Cwd, _ = d.optStr(fv, fp); c.Cwd != nil && d.opts.checkFiles {
				resolved, err := checkDir(*c.Cwd)
				if err != nil {
					d.failValue(fv, fp, "%v", err)
				} else {
					c.Cwd = &resolved
				}
			}
		case "uds":
			c.UDS = d.uds(fv, fp)
		case "tls":
			c.TLS = d.mcpClientTLS(fv, fp)
		case "reconnect_attempts":
			c.ReconnectAttempts, _ = d.integer(fv, fp)
		case "reconnect_delay":
			c.ReconnectDelay, _ = d.number(fv, fp)
		}
	}
	if len(d.issues) > before {
		return c
	}
	// Model validators: which options go with which transport.
	stdio := c.Proto == TransportSTDIO
	if c.TLS != nil && c.Proto != TransportSSE && c.Proto != TransportStreamableHTTP {
		d.fail(v, at+".tls", string(c.Proto), "tls is only supported with SSE or STREAMABLEHTTP")
	}
	if c.TLS != nil && c.UDS != nil {
		d.fail(v, at, "", "tls and uds cannot be used together")
	}
	if c.URL != nil && stdio {
		d.fail(v, at+".url", strconv.Quote(*c.URL), "url is not allowed with STDIO")
	}
	if !stdio {
		stdioOnly := []struct {
			name string
			set  bool
		}{{"script", c.Script != nil}, {"cmd", c.Cmd != nil}, {"env", c.Env != nil}, {"cwd", c.Cwd != nil}}
		for _, o := range stdioOnly {
			if o.set {
				d.fail(v, at+"."+o.name, string(c.Proto), "%s is only allowed with STDIO", o.name)
			}
		}
	}
	if c.UDS != nil && c.Proto != TransportStreamableHTTP {
		d.fail(v, at+".uds", string(c.Proto), "uds is only allowed with STREAMABLEHTTP")
	}
	return c
}

// cmd decodes Optional[list[str]] that must be non-empty with non-blank entries.
func (d *decoder) cmd(v *yaml.Node, at string) []string {
	list, ok := d.strList(v, at, true)
	if !ok || list == nil {
		return nil
	}
	if len(list) == 0 {
		d.failValue(v, at, "cmd must be a non-empty list")
	}
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			d.failValue(v.Content[i], fmt.Sprintf("%s[%d]", at, i), "cmd entries must be non-blank")
		}
	}
	return list
}

// envMap decodes Optional[dict[str, str]]: non-empty, non-blank keys.
func (d *decoder) envMap(v *yaml.Node, at string) map[string]string {
	if isNull(v) || !d.requireMapping(v, at, "env") {
		return nil
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if k := resolve(v.Content[i]); k == nil || k.ShortTag() != "!!str" {
			if k == nil || k.ShortTag() != "!!merge" {
				d.failValue(k, at, "env keys must be strings")
			}
		}
	}
	out := map[string]string{}
	for _, f := range d.fields(v) {
		if strings.TrimSpace(f.key) == "" {
			d.fail(f.keyNode, at, strconv.Quote(f.key), "env keys must be non-blank")
			continue
		}
		if s, ok := d.str(f.value(), at+"."+f.key); ok {
			out[f.key] = s
		}
	}
	if len(out) == 0 && len(v.Content) == 0 {
		d.failValue(v, at, "env must be a non-empty mapping")
	}
	return out
}

// uds decodes and checks an Optional socket path (spec §4.3 server uds).
func (d *decoder) uds(v *yaml.Node, at string) *string {
	s, ok := d.optStr(v, at)
	if !ok || s == nil {
		return nil
	}
	if strings.TrimSpace(*s) == "" {
		d.failValue(v, at, "uds must be a non-empty path")
		return nil
	}
	if !d.opts.checkFiles {
		return s
	}
	resolved, err := checkSocketPath(*s)
	if err != nil {
		d.failValue(v, at, "%v", err)
		return nil
	}
	return &resolved
}

// tlsFiles decodes the shared TLS file fields; other keys are left to the caller.
func (d *decoder) tlsFiles(f field, at string, t *TLSFiles) {
	fv, fp := f.value(), at+"."+f.key
	var target **string
	switch f.key {
	case "certfile":
		target = &t.Certfile
	case "keyfile":
		target = &t.Keyfile
	case "ca_bundle":
		target = &t.CABundle
	case "keyfile_password":
		t.KeyfilePassword, _ = d.optStr(fv, fp)
		return
	default:
		return
	}
	s, ok := d.optStr(fv, fp)
	if !ok || s == nil {
		return
	}
	*target = s
	if *s == "" || !d.opts.checkFiles {
		return
	}
	expanded, err := checkTLSFile(*s)
	if err != nil {
		d.failValue(fv, fp, "%v", err)
		return
	}
	*target = &expanded
}

// tlsRules: a keyfile without a certfile is rejected.
func (d *decoder) tlsRules(v *yaml.Node, at string, t *TLSFiles) {
	if t.Keyfile != nil && *t.Keyfile != "" && (t.Certfile == nil || *t.Certfile == "") {
		d.fail(v, at+".keyfile", strconv.Quote(*t.Keyfile), "keyfile requires certfile")
	}
}

func (d *decoder) mcpClientTLS(v *yaml.Node, at string) *MCPClientTLSConfig {
	if isNull(v) || !d.requireMapping(v, at, "tls") {
		return nil
	}
	t := &MCPClientTLSConfig{Verify: true, CheckHostname: true}
	for _, f := range d.fields(v) {
		switch f.key {
		case "verify":
			t.Verify, _ = d.boolean(f.value(), at+".verify")
		case "check_hostname":
			t.CheckHostname, _ = d.boolean(f.value(), at+".check_hostname")
		default:
			d.tlsFiles(f, at, &t.TLSFiles)
		}
	}
	d.tlsRules(v, at, &t.TLSFiles)
	return t
}

func (d *decoder) mcpServerTLS(v *yaml.Node, at string) *MCPServerTLSConfig {
	if isNull(v) || !d.requireMapping(v, at, "tls") {
		return nil
	}
	t := &MCPServerTLSConfig{SSLCertReqs: DefaultSSLCertReqs}
	for _, f := range d.fields(v) {
		if f.key == "ssl_cert_reqs" {
			t.SSLCertReqs, _ = d.integer(f.value(), at+".ssl_cert_reqs")
			continue
		}
		d.tlsFiles(f, at, &t.TLSFiles)
	}
	d.tlsRules(v, at, &t.TLSFiles)
	return t
}

func (d *decoder) grpcClientTLS(v *yaml.Node, at string) *GRPCClientTLSConfig {
	if isNull(v) || !d.requireMapping(v, at, "tls") {
		return nil
	}
	t := &GRPCClientTLSConfig{Verify: true}
	for _, f := range d.fields(v) {
		if f.key == "verify" {
			t.Verify, _ = d.boolean(f.value(), at+".verify")
			continue
		}
		d.tlsFiles(f, at, &t.TLSFiles)
	}
	d.tlsRules(v, at, &t.TLSFiles)
	return t
}

func (d *decoder) grpcServerTLS(v *yaml.Node, at string) *GRPCServerTLSConfig {
	if isNull(v) || !d.requireMapping(v, at, "tls") {
		return nil
	}
	t := &GRPCServerTLSConfig{ClientAuth: DefaultGRPCClientAuth}
	for _, f := range d.fields(v) {
		if f.key != "client_auth" {
			d.tlsFiles(f, at, &t.TLSFiles)
			continue
		}
		fv, fp := f.value(), at+".client_auth"
		if s, ok := d.str(fv, fp); ok {
			s = strings.ToLower(s)
			switch s {
			case ClientAuthNone, ClientAuthOptional, ClientAuthRequire:
				t.ClientAuth = s
			default:
				d.failValue(fv, fp, "client_auth must be one of none, optional, require")
			}
		}
	}
	d.tlsRules(v, at, &t.TLSFiles)
	return t
}

// grpcClient decodes an external plugin's grpc block.
func (d *decoder) grpcClient(v *yaml.Node, at string) *GRPCClientConfig {
	if isNull(v) || !d.requireMapping(v, at, "grpc") {
		return nil
	}
	before := len(d.issues)
	c := &GRPCClientConfig{}
	for _, f := range d.fields(v) {
		fv, fp := f.value(), at+"."+f.key
		switch f.key {
		case "target":
			if c.Target, _ = d.optStr(fv, fp); c.Target != nil {
				if strings.TrimSpace(*c.Target) == "" || !strings.Contains(*c.Target, ":") {
					d.failValue(fv, fp, "target must be host:port")
				}
			}
		case "uds":
			c.UDS = d.uds(fv, fp)
		case "tls":
			c.TLS = d.grpcClientTLS(fv, fp)
		}
	}
	if len(d.issues) > before {
		return c
	}
	if (c.Target == nil) == (c.UDS == nil) {
		d.fail(v, at, "", "grpc needs exactly one of target or uds")
	}
	if c.UDS != nil && c.TLS != nil {
		d.fail(v, at, "", "tls and uds cannot be used together")
	}
	return c
}

// unixClient decodes an external plugin's unix_socket block.
func (d *decoder) unixClient(v *yaml.Node, at string) *UnixSocketClientConfig {
	if isNull(v) || !d.requireMapping(v, at, "unix_socket") {
		return nil
	}
	c := &UnixSocketClientConfig{ReconnectAttempts: DefaultReconnectAttempts, ReconnectDelay: DefaultReconnectDelay, Timeout: DefaultUnixSocketTimeout}
	fs := d.fields(v)
	if _, ok := lookup(fs, "path"); !ok {
		d.fail(v, at+".path", "", "field required")
	}
	for _, f := range fs {
		fv, fp := f.value(), at+"."+f.key
		switch f.key {
		case "path":
			if s, ok := d.str(fv, fp); ok {
				c.Path = s
				if !strings.HasPrefix(s, "/") {
					d.failValue(fv, fp, "path must be an absolute socket path")
				}
			}
		case "reconnect_attempts":
			c.ReconnectAttempts, _ = d.integer(fv, fp)
		case "reconnect_delay":
			c.ReconnectDelay, _ = d.number(fv, fp)
		case "timeout":
			c.Timeout, _ = d.number(fv, fp)
		}
	}
	return c
}

// mcpServer decodes server_settings.
func (d *decoder) mcpServer(v *yaml.Node, at string) *MCPServerConfig {
	if isNull(v) || !d.requireMapping(v, at, at) {
		return nil
	}
	c := &MCPServerConfig{Host: DefaultServerHost, Port: DefaultMCPServerPort}
	for _, f := range d.fields(v) {
		fv, fp := f.value(), at+"."+f.key
		switch f.key {
		case "host":
			c.Host, _ = d.str(fv, fp)
		case "port":
			c.Port, _ = d.integer(fv, fp)
		case "uds":
			c.UDS = d.uds(fv, fp)
		case "tls":
			c.TLS = d.mcpServerTLS(fv, fp)
		}
	}
	if c.UDS != nil && c.TLS != nil {
		d.fail(v, at, "", "tls and uds cannot be used together")
	}
	return c
}

// grpcServer decodes grpc_server_settings.
func (d *decoder) grpcServer(v *yaml.Node, at string) *GRPCServerConfig {
	if isNull(v) || !d.requireMapping(v, at, at) {
		return nil
	}
	c := &GRPCServerConfig{Host: DefaultServerHost, Port: DefaultGRPCServerPort}
	for _, f := range d.fields(v) {
		fv, fp := f.value(), at+"."+f.key
		switch f.key {
		case "host":
			c.Host, _ = d.str(fv, fp)
		case "port":
			c.Port, _ = d.integer(fv, fp)
		case "uds":
			c.UDS = d.uds(fv, fp)
		case "tls":
			c.TLS = d.grpcServerTLS(fv, fp)
		}
	}
	if c.UDS != nil && c.TLS != nil {
		d.fail(v, at, "", "tls and uds cannot be used together")
	}
	return c
}

// unixServer decodes unix_socket_server_settings.
func (d *decoder) unixServer(v *yaml.Node, at string) *UnixSocketServerConfig {
	if isNull(v) || !d.requireMapping(v, at, at) {
		return nil
	}
	c := &UnixSocketServerConfig{Path: DefaultUnixSocketServerPath}
	for _, f := range d.fields(v) {
		if f.key == "path" {
			c.Path, _ = d.str(f.value(), at+".path")
		}
	}
	return c
}
