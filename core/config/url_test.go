package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidatePluginURL(t *testing.T) {
	tests := []struct {
		url  string
		ssrf bool
		msg  string // "" means valid
	}{
		{"http://localhost:8000/mcp", true, ""},
		{"HTTPS://example.com/mcp?x=1", true, ""},
		{"ws://example.com", true, ""},
		{"wss://example.com:443/a", true, ""},
		{"http://127.0.0.1:8000/mcp", false, ""},
		{"http://10.1.2.3/x", false, ""},
		{"http://8.8.8.8/x", true, ""},
		{"http://example.com/a?q=a b", true, ""},
		{"http://127.0.0.1:8000/mcp", true, "SSRF"},
		{"http://10.1.2.3/x", true, "SSRF"},
		{"http://172.20.0.1/x", true, "SSRF"},
		{"http://192.168.1.1/x", true, "SSRF"},
		{"http://169.254.169.254/latest", true, "SSRF"},
		{"http://0.0.0.0:80/", false, "0.0.0.0"},
		{"", true, "cannot be empty"},
		{"   ", true, "cannot be empty"},
		{"http://h/" + strings.Repeat("a", 2048), true, "maximum length"},
		{"ftp://h/x", true, "must start with"},
		{"h/x", true, "must start with"},
		{"http://h/?next=javascript:alert(1)", true, "dangerous protocol"},
		{"http://h/?u=file:/etc/passwd", true, "dangerous protocol"},
		{"http://[::1]:80/", false, "IPv6"},
		{"http://h/a\nb", true, "line breaks"},
		{"http://h/a b", true, "spaces"},
		{"http://", true, "not a valid URL"},
		{"http://user:pw@h/x", true, "credentials"},
		{"http://h:0/x", true, "invalid port"},
		{"http://h:70000/x", true, "invalid port"},
		{"http://h/<script>alert(1)</script>", true, "HTML or script"},
		{"http://h/x?a=1&onload=2", true, "HTML or script"},
		{"http://h/x?session=1&only=2", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			err := ValidatePluginURL(tc.url, "MCP url", tc.ssrf)
			if tc.msg == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "MCP url "), err.Error())
		})
	}
	assert.ErrorContains(t, ValidatePluginURL("", "", true), "URL cannot be empty")
}
