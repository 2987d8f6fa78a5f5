package builtins

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// piiFindings runs a pii_filter built from cfg over text and returns "type=value" pairs.
func piiFindings(t *testing.T, cfg map[string]any, key, text string) []string {
	t.Helper()
	p, err := buildPIIFilter(core.PluginSpec{Name: "pii", Kind: "builtin/pii_filter", Config: cfg})
	require.NoError(t, err)
	var out []string
	for _, sp := range p.scanner.scan(text, key, nil) {
		out = append(out, sp.typ.String()+"="+text[sp.start:sp.end])
	}
	return out
}

func TestPIIScanTruePositives(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"ssn dashed", "My SSN is 123-45-6789.", []string{"ssn=123-45-6789"}},
		{"ssn labelled digits", "SSN: 123456789", []string{"ssn=123456789"}},
		{"ssn social security number", "Social Security Number 078051120", []string{"ssn=078051120"}},
		{"bsn labelled", "Mijn BSN is 111222333", []string{"bsn=111222333"}},
		{"credit card spaced", "card 4111 1111 1111 1111 exp", []string{"credit_card=4111 1111 1111 1111"}},
		{"credit card dashed", "4111-1111-1111-1111", []string{"credit_card=4111-1111-1111-1111"}},
		{"credit card plain amex", "amex 378282246310005!", []string{"credit_card=378282246310005"}},
		{"email", "write to john.doe+tag@mail.example.co.uk, thanks", []string{"email=john.doe+tag@mail.example.co.uk"}},
		{"phone dashed", "call 555-123-4567 now", []string{"phone=555-123-4567"}},
		{"phone dotted", "555.123.4567", []string{"phone=555.123.4567"}},
		{"phone parens", "tel (555) 123-4567", []string{"phone=(555) 123-4567"}},
		{"phone leading 1", "1-800-555-0199", []string{"phone=1-800-555-0199"}},
		{"phone plain 10", "5551234567", []string{"phone=5551234567"}},
		{"phone international", "reach me at +44 20 7946 0958 today", []string{"phone=+44 20 7946 0958"}},
		{"phone international compact", "+14155550123", []string{"phone=+14155550123"}},
		{"ipv4", "host 192.168.1.20 is up", []string{"ip_address=192.168.1.20"}},
		{"ipv4 end of sentence", "from 10.0.0.1.", []string{"ip_address=10.0.0.1"}},
		{"ipv6 full", "addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ok", []string{"ip_address=2001:0db8:85a3:0000:0000:8a2e:0370:7334"}},
		{"ipv6 compressed", "link fe80::1ff:fe23:4567:890a up", []string{"ip_address=fe80::1ff:fe23:4567:890a"}},
		{"ipv6 loopback", "bind ::1 now", []string{"ip_address=::1"}},
		{"ipv6 mapped ipv4", "peer ::ffff:192.0.2.128. done", []string{"ip_address=::ffff:192.0.2.128"}},
		{"date plain", "born on 04/12/1985 in", []string{"date_of_birth=04/12/1985"}},
		{"date labelled", "DOB: 4-7-85", []string{"date_of_birth=4-7-85"}},
		{"date of birth phrase", "Date of Birth: 12/31/1999", []string{"date_of_birth=12/31/1999"}},
		{"passport", "Passport No: X1234567", []string{"passport=X1234567"}},
		{"driver license", "Driver's License: D1234567", []string{"driver_license=D1234567"}},
		{"bank account", "Account Number: 12345678901", []string{"bank_account=12345678901"}},
		{"iban", "IBAN GB82WEST12345698765432 please", []string{"bank_account=GB82WEST12345698765432"}},
		{"mrn", "MRN 00A123456", []string{"medical_record=00A123456"}},
		{"medical record", "Medical Record Number: AB123456", []string{"medical_record=AB123456"}},
		{"aws key id", "key AKIAIOSFODNN7EXAMPLE here", []string{"aws_key=AKIAIOSFODNN7EXAMPLE"}},
		{"aws secret assignment", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", []string{"aws_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		{"api key assignment", `api_key: "sk_test_4eC39HqLyjWDarjtT1zdp7dc"`, []string{"api_key=sk_test_4eC39HqLyjWDarjtT1zdp7dc"}},
		{"api key dashed name", "X-Api-Key=abcdef0123456789abcd", []string{"api_key=abcdef0123456789abcd"}},
		{"several", "mail a@b.io or call 555-123-4567; SSN 123-45-6789",
			[]string{"email=a@b.io", "phone=555-123-4567", "ssn=123-45-6789"}},
		{"unicode around", "José → jose@example.com ←", []string{"email=jose@example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, piiFindings(t, nil, "", tc.text))
		})
	}
}

func TestPIIScanFalsePositives(t *testing.T) {
	texts := map[string]string{
		"invalid ssn area 000":     "000-12-3456",
		"invalid ssn area 666":     "666-12-3456",
		"invalid ssn area 9xx":     "900-12-3456",
		"card failing luhn":        "4111 1111 1111 1112",
		"all zero card":            "0000 0000 0000 0000",
		"iso date":                 "2024-01-15",
		"time":                     "at 10:30:45 today",
		"version":                  "v1.2.3.4.5 and 1.2.3.4.5",
		"ip out of range":          "999.1.1.1",
		"identifier digits":        "order ab1234567890 and x5551234567",
		"short numbers":            "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
		"decimal":                  "pi is 3.14159265358979323",
		"license words":            "MIT License: permissive, see LICENSE file",
		"passport without digits":  "Passport: required",
		"email without tld":        "user@localhost",
		"at sign alone":            "meet @ noon, @handle",
		"hex words with colons":    "Add::B and std::vector",
		"api key short value":      "api_key = short",
		"account too short":        "Account: 1234",
		"iban bad checksum":        "GB82WEST12345698765433",
		"aws key wrong prefix":     "AKZAIOSFODNN7EXAMPLE",
		"aws key lowercase body":   "AKIAiosfodnn7example",
		"plus sign math":           "x+1 and 2+2=4",
		"date invalid month":       "13/12/1985",
		"number glued to letters":  "4111111111111111abc",
		"unlabelled nine digits":   "ref 123456789 ok",
		"ssn label without number": "SSN: unknown",
		"dob label without date":   "born: yesterday",
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, piiFindings(t, nil, "", text))
		})
	}
}

func TestPIIScanPerTypeSwitches(t *testing.T) {
	text := "a@b.io 555-123-4567 123-45-6789 4111111111111111 10.1.2.3 AKIAIOSFODNN7EXAMPLE"
	tests := []struct {
		off  string
		gone string
	}{
		{"detect_email", "email"},
		{"detect_phone", "phone"},
		{"detect_ssn", "ssn"},
		{"detect_credit_card", "credit_card"},
		{"detect_ip_address", "ip_address"},
		{"detect_aws_keys", "aws_key"},
	}
	all := piiFindings(t, nil, "", text)
	require.Len(t, all, 6)
	for _, tc := range tests {
		t.Run(tc.off, func(t *testing.T) {
			got := piiFindings(t, map[string]any{tc.off: false}, "", text)
			assert.Len(t, got, 5)
			for _, f := range got {
				assert.NotContains(t, f, tc.gone+"=")
			}
		})
	}
	contextual := []struct{ off, text string }{
		{"detect_bsn", "BSN: 111222333"},
		{"detect_date_of_birth", "DOB: 01/02/1990"},
		{"detect_passport", "passport: X1234567"},
		{"detect_driver_license", "license: D1234567"},
		{"detect_bank_account", "acct: 12345678"},
		{"detect_medical_record", "MRN: AB123456"},
		{"detect_api_keys", "api_key=abcdef0123456789abcd"},
	}
	for _, tc := range contextual {
		t.Run(tc.off, func(t *testing.T) {
			assert.Len(t, piiFindings(t, nil, "", tc.text), 1)
			assert.Empty(t, piiFindings(t, map[string]any{tc.off: false}, "", tc.text))
		})
	}
}

func TestPIIScanKeyedAPIKey(t *testing.T) {
	assert.Equal(t, []string{"api_key=sk_live_0123456789abcdefXYZ"}, piiFindings(t, nil, "api_key", "sk_live_0123456789abcdefXYZ"))
	assert.Equal(t, []string{"api_key=tok-0123456789abcdefXYZ"}, piiFindings(t, nil, "Access-Token", "tok-0123456789abcdefXYZ"))
	assert.Empty(t, piiFindings(t, nil, "description", "sk_live_0123456789abcdefXYZ"))
	assert.Empty(t, piiFindings(t, nil, "api_key", "not a key"))
}

func TestPIIScanCustomAndWhitelist(t *testing.T) {
	cfg := map[string]any{
		"custom_patterns": []any{
			map[string]any{"pattern": `\bEMP\d{6}\b`, "description": "Employee ID"},
			map[string]any{"pattern": `secret-\w+`, "description": "off", "enabled": false},
		},
		"whitelist_patterns": []any{"test@example.com", "^555-555-5555$"},
	}
	got := piiFindings(t, cfg, "", "emp123456 wrote test@example.com and real@example.com from 555-555-5555 secret-x")
	assert.Equal(t, []string{"custom=emp123456", "email=real@example.com"}, got)
	// a custom pattern never overrides a built-in detection it overlaps
	got = piiFindings(t, map[string]any{"custom_patterns": []any{map[string]any{"pattern": `\d{3}-\d{2}`, "description": "x"}}}, "", "123-45-6789")
	assert.Equal(t, []string{"ssn=123-45-6789"}, got)
}

func TestLuhn(t *testing.T) {
	assert.True(t, luhn("4111111111111111"))
	assert.True(t, luhn("4111-1111-1111-1111"))
	assert.True(t, luhn("5555555555554444"))
	assert.False(t, luhn("4111111111111112"))
	assert.False(t, luhn("0000000000000000"))
}
