package builtins

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func secretFindings(on map[secretType]bool, key, text string) []string {
	all := secretDefaultOn
	for t, v := range on {
		all[t] = v
	}
	sc := newSecretScanner(all)
	var out []string
	for _, sp := range sc.scan(text, key, nil) {
		out = append(out, sp.typ.String()+"="+text[sp.start:sp.end])
	}
	return out
}

var broadOn = map[secretType]bool{secJWTLike: true, secGenericAPIKeyAssignment: true, secHexSecret32: true, secBase64_24: true}

func TestSecretsScanTruePositives(t *testing.T) {
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn\n-----END RSA PRIVATE KEY-----"
	tests := []struct {
		name, text string
		broad      bool
		want       []string
	}{
		{"aws key id", "AWS_ACCESS_KEY_ID=AKIAFAKE12345EXAMPLE", false, []string{"aws_access_key_id=AKIAFAKE12345EXAMPLE"}},
		{"aws secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", false, []string{"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		{"aws secret colon quoted", `"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"`, false, []string{"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		{"google", "key=AIzaSyA1234567890abcdefghijklmnopqrstuv ok", false, []string{"google_api_key=AIzaSyA1234567890abcdefghijklmnopqrstuv"}},
		{"github classic", "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 end", false, []string{"github_token=ghp_abcdefghijklmnopqrstuvwxyz0123456789"}},
		{"github fine grained", "github_pat_11ABCDEFG0123456789_abcdefghijKLMNOP", false, []string{"github_token=github_pat_11ABCDEFG0123456789_abcdefghijKLMNOP"}},
		{"stripe", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", false, []string{"stripe_secret_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc"}},
		{"stripe restricted test", "rk_test_4eC39HqLyjWDarjtT1zdp7dc.", false, []string{"stripe_secret_key=rk_test_4eC39HqLyjWDarjtT1zdp7dc"}},
		{"slack", "xoxb-1234567890-ABCDEFGHIJKLmnop in chat", false, []string{"slack_token=xoxb-1234567890-ABCDEFGHIJKLmnop"}},
		{"private key whole block", "key:\n" + pem + "\nrest", false, []string{"private_key_block=" + pem}},
		{"private key header only", "-----BEGIN OPENSSH PRIVATE KEY----- truncated", false, []string{"private_key_block=-----BEGIN OPENSSH PRIVATE KEY-----"}},
		{"pkcs8 key", "-----BEGIN PRIVATE KEY-----", false, []string{"private_key_block=-----BEGIN PRIVATE KEY-----"}},
		{"jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", true,
			[]string{"jwt_like=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}},
		{"generic assignment", `api_key: "abcdefghij0123456789XYZ"`, true, []string{"generic_api_key_assignment=abcdefghij0123456789XYZ"}},
		{"generic keeps specific type", "api_key=AKIAFAKE12345EXAMPLE", true, []string{"aws_access_key_id=AKIAFAKE12345EXAMPLE"}},
		{"hex 32", "secret 0123456789abcdef0123456789ABCDEF done", true, []string{"hex_secret_32=0123456789abcdef0123456789ABCDEF"}},
		{"base64", "blob aGVsbG8gd29ybGQgaGVsbG8gV29ybGQx== end", true, []string{"base64_24=aGVsbG8gd29ybGQgaGVsbG8gV29ybGQx=="}},
		{"slack long body stops at 80", "xoxb-" + strings.Repeat("a", 79) + "-" + strings.Repeat("b", 30), false,
			[]string{"slack_token=xoxb-" + strings.Repeat("a", 79) + "-"}}, // as the regex: 80 bytes, then `\b`
		{"google key with dashes", "AIza-_Ab0123456789abcdefghijklmnopqrstu ok", false, []string{"google_api_key=AIza-_Ab0123456789abcdefghijklmnopqrstu"}},
		{"jwt with dashes", "t=eyJh-bGciOiJIUzI1.eyJz-dWIiOiIxMjM0.do-zjgNryP4J3 end", true, []string{"jwt_like=eyJh-bGciOiJIUzI1.eyJz-dWIiOiIxMjM0.do-zjgNryP4J3"}},
		{"two findings", "AKIAFAKE12345EXAMPLE and xoxp-1234567890-abcdefghij", false,
			[]string{"aws_access_key_id=AKIAFAKE12345EXAMPLE", "slack_token=xoxp-1234567890-abcdefghij"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var on map[secretType]bool
			if tc.broad {
				on = broadOn
			}
			assert.Equal(t, tc.want, secretFindings(on, "", tc.text))
		})
	}
}

func TestSecretsScanFalsePositives(t *testing.T) {
	texts := map[string]string{
		"aws id too short":        "AKIA1234",
		"aws id inside word":      "XAKIAFAKE12345EXAMPLE",
		"aws id lowercase":        "AKIAfake12345example",
		"aws secret no context":   "password = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"aws secret too long":     "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYXX",
		"google short":            "AIzaShort",
		"github short":            "ghp_short",
		"stripe short":            "sk_live_short",
		"slack short":             "xoxb-123",
		"not a private key":       "-----BEGIN CERTIFICATE-----",
		"public key":              "-----BEGIN PUBLIC KEY-----",
		"dashes":                  "---- -- ----------",
		"prose":                   "The quick brown fox jumps over the lazy dog, 42 times.",
		"broad detectors are off": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmN 0123456789abcdef0123456789abcdef",
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, secretFindings(nil, "", text))
		})
	}
	broadFalse := map[string]string{
		"hex 31":              "0123456789abcdef0123456789abcde",
		"hex in word":         "x0123456789abcdef0123456789abcdef",
		"long plain word":     "internationalizationsprocessesarelong",
		"snake identifier":    "this_is_a_very_long_identifier_name_ok",
		"jwt wrong shape":     "eyJhbGciOiJIUzI1NiJ9.notjwt",
		"generic short value": "api_key = abc123",
		"generic other name":  "username = abcdefghij0123456789XYZ",
	}
	for name, text := range broadFalse {
		t.Run("broad "+name, func(t *testing.T) {
			assert.Empty(t, secretFindings(broadOn, "", text))
		})
	}
}

func TestSecretsScanKeyedValues(t *testing.T) {
	assert.Equal(t, []string{"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		secretFindings(nil, "aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
	assert.Equal(t, []string{"generic_api_key_assignment=abcdefghij0123456789XYZ"},
		secretFindings(broadOn, "X-API-Key", "abcdefghij0123456789XYZ"))
	assert.Equal(t, []string{"aws_access_key_id=AKIAFAKE12345EXAMPLE"},
		secretFindings(broadOn, "api_key", "AKIAFAKE12345EXAMPLE"), "specific type wins over the name")
	assert.Empty(t, secretFindings(nil, "api_key", "abcdefghij0123456789XYZ"), "generic is opt-in")
	assert.Empty(t, secretFindings(broadOn, "description", "abcdefghij0123456789XYZ"))
}

func TestSecretsScanLongInputIsLinear(t *testing.T) {
	// pathological repetitions of prefixes must not make the scan quadratic; this only
	// checks it completes with the right count (benchmarks measure speed)
	s := strings.Repeat("-----BEGIN ", 2000) + strings.Repeat("AKIA", 5000) + strings.Repeat("eyJ.", 5000)
	assert.Empty(t, secretFindings(broadOn, "", s))
}

func TestSecretsScanPrivateKeyEndSearch(t *testing.T) {
	rsa := "-----BEGIN RSA PRIVATE KEY-----"
	ec := "-----BEGIN EC PRIVATE KEY----- b -----END EC PRIVATE KEY-----"
	text := rsa + " a " + ec + " " + rsa + " c"
	assert.Equal(t, []string{"private_key_block=" + rsa, "private_key_block=" + ec, "private_key_block=" + rsa},
		secretFindings(nil, "", text), "a header without END is reported alone; the EC block spans to its END")
	two := "-----BEGIN PRIVATE KEY-----x-----END PRIVATE KEY-----"
	assert.Equal(t, []string{"private_key_block=" + two, "private_key_block=" + two}, secretFindings(nil, "", two+"\n"+two))
}

func TestSecretsScanBase64MemoKeepsSpecificDetectors(t *testing.T) {
	assert.Equal(t, []string{"aws_access_key_id=AKIAFAKE12345EXAMPLE"}, secretFindings(broadOn, "", "a/AKIAFAKE12345EXAMPLE"))
	assert.Equal(t, []string{"base64_24=Zm9vYmFyYmF6cXV4cXV1eA1/Q2"}, secretFindings(broadOn, "", "x/ Zm9vYmFyYmF6cXV4cXV1eA1/Q2 y"))
}
