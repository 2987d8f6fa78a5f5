package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// MaxURLLength is the longest plugin URL accepted.
const MaxURLLength = 2048

var (
	allowedURLSchemes = []string{"http://", "https://", "ws://", "wss://"}
	// Schemes that must not appear anywhere in the URL, even nested in a query.
	dangerousSchemes = []string{"javascript:", "data:", "vbscript:", "about:", "chrome:", "file:", "ftp:", "mailto:"}
	// ssrfBlockedNets are the private, loopback and link-local IPv4 ranges
	// rejected when SSRF protection is on.
	ssrfBlockedNets = mustCIDRs("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
	htmlTagPattern  = regexp.MustCompile(`(?i)<\s*/?\s*[a-z!][^>]*>`)
	// Script and event-handler patterns (onload=, onerror=, ...).
	scriptPattern = regexp.MustCompile(`(?i)(<\s*script|(^|[^a-z0-9_])on(load|error|click|dblclick|mouse[a-z]*|key[a-z]*|focus|blur|submit|change|input|abort|unload|resize|scroll|select|reset|toggle|wheel|drag[a-z]*|drop|copy|cut|paste|pointer[a-z]*|animation[a-z]*|transition[a-z]*)\s*=|expression\s*\()`)
)

func mustCIDRs(cidrs ...string) []*net.IPNet {
	out := make([]*net.IPNet, 0, len(cidrs))
	for _, c := range cidrs {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			panic(err)
		}
		out = append(out, n)
	}
	return out
}

// ValidatePluginURL applies the URL rules of spec §21.2 (upstream
// validate_plugin_url) in upstream order; the error names fieldName. With
// ssrfProtection, literal private, loopback and link-local IPv4 hosts are
// rejected; hostnames such as localhost are not resolved and pass.
func ValidatePluginURL(value, fieldName string, ssrfProtection bool) error {
	if fieldName == "" {
		fieldName = "URL"
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s %s", fieldName, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(value) == "" {
		return bad("cannot be empty")
	}
	if len(value) > MaxURLLength {
		return bad("exceeds maximum length of %d", MaxURLLength)
	}
	lower := strings.ToLower(value)
	allowed := false
	for _, s := range allowedURLSchemes {
		allowed = allowed || strings.HasPrefix(lower, s)
	}
	if !allowed {
		return bad("must start with one of %s", strings.Join(allowedURLSchemes, ", "))
	}
	for _, s := range dangerousSchemes {
		if strings.Contains(lower, s) {
			return bad("contains unsupported or dangerous protocol %q", s)
		}
	}
	if strings.ContainsAny(value, "[]") {
		return bad("contains IPv6 brackets, which are not supported")
	}
	if strings.ContainsAny(value, "\r\n") {
		return bad("contains line breaks")
	}
	if beforeQuery, _, _ := strings.Cut(value, "?"); strings.Contains(beforeQuery, " ") {
		return bad("contains spaces")
	}
	u, err := url.Parse(value)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return bad("is not a valid URL")
	}
	if u.User != nil {
		return bad("must not contain credentials")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("has an invalid port %q", p)
		}
	}
	host := u.Hostname()
	if host == "0.0.0.0" {
		return bad("must not use 0.0.0.0")
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil && ssrfProtection {
		for _, n := range ssrfBlockedNets {
			if n.Contains(ip) {
				return bad("host %s is in a blocked private or loopback range (SSRF protection)", host)
			}
		}
	}
	if htmlTagPattern.MatchString(value) || scriptPattern.MatchString(value) {
		return bad("contains HTML or script content")
	}
	return nil
}
