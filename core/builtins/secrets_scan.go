package builtins

import "strings"

// secretType is one detector of secrets_detection; the names are the gateway plugin's
// `enabled:` keys.
type secretType uint8

const (
	secAWSAccessKeyID secretType = iota
	secAWSSecretAccessKey
	secGoogleAPIKey
	secGitHubToken
	secStripeSecretKey
	secSlackToken
	secPrivateKeyBlock
	secJWTLike
	secGenericAPIKeyAssignment
	secHexSecret32
	secBase64_24
	numSecretTypes
)

var secretTypeNames = [numSecretTypes]string{
	"aws_access_key_id", "aws_secret_access_key", "google_api_key", "github_token", "stripe_secret_key",
	"slack_token", "private_key_block", "jwt_like", "generic_api_key_assignment", "hex_secret_32", "base64_24",
}

// secretDefaultOn: the broad detectors are opt-in (they match ordinary long ids).
var secretDefaultOn = [numSecretTypes]bool{
	secAWSAccessKeyID: true, secAWSSecretAccessKey: true, secGoogleAPIKey: true, secGitHubToken: true,
	secStripeSecretKey: true, secSlackToken: true, secPrivateKeyBlock: true,
}

func (t secretType) String() string { return secretTypeNames[t] }

type secretSpan struct {
	start, end int
	typ        secretType
}

// secretScanner finds secrets in one pass. It stops only at bytes where a secret can
// start: a word start whose first byte begins a known key prefix (AKIA, AIza, ghp_,
// github_pat_, sk_live_, xoxb-, eyJ) or, for the opt-in broad detectors, any word start;
// a '-' that may open "-----BEGIN ... PRIVATE KEY-----"; and ':' / '=' that may assign a
// value to an AWS secret or an API-key name. Everything else is skipped through the byte
// class table. When several detectors match the same bytes the most specific wins, and
// every finding is a separate non-overlapping span.
type secretScanner struct {
	on          [numSecretTypes]bool
	wordStarts  [256]bool // first bytes worth a closer look at a word start
	assignments bool      // aws_secret_access_key or generic_api_key_assignment on
}

func newSecretScanner(on [numSecretTypes]bool) secretScanner {
	sc := secretScanner{on: on}
	mark := func(t secretType, firsts string) {
		if on[t] {
			for k := 0; k < len(firsts); k++ {
				sc.wordStarts[firsts[k]] = true
			}
		}
	}
	mark(secAWSAccessKeyID, "A")
	mark(secGoogleAPIKey, "A")
	mark(secGitHubToken, "g")
	mark(secStripeSecretKey, "sr")
	mark(secSlackToken, "x")
	mark(secJWTLike, "e")
	if on[secHexSecret32] {
		for _, c := range "0123456789abcdefABCDEF" {
			sc.wordStarts[c] = true
		}
	}
	if on[secBase64_24] {
		for c := 0; c < 256; c++ {
			if byteClass[c]&bcB64 != 0 {
				sc.wordStarts[c] = true
			}
		}
	}
	sc.assignments = on[secAWSSecretAccessKey] || on[secGenericAPIKeyAssignment]
	return sc
}

// scan appends the findings in s to out (sorted, non-overlapping). key is the map key the
// string is stored under ("" for list items and roots): a whole value stored under an
// API-key name ("api_key", "aws_secret_access_key", ...) is checked as if assigned to it.
func (sc *secretScanner) scan(s, key string, out []secretSpan) []secretSpan {
	if key != "" && sc.assignments {
		if sp, ok := sc.keyedValue(s, key); ok {
			return append(out, sp)
		}
	}
	n := len(s)
	st := scanState{}
	i := 0
	for i < n {
		c := s[i]
		switch {
		case byteClass[c]&bcWord != 0:
			if wordBefore(s, i) {
				i++
				continue
			}
			j := runOf(s, i, bcWord)
			if sc.wordStarts[c] && sc.worthToken(s, i, j) {
				if sp, ok := sc.token(s, i, &st); ok {
					out = append(out, sp)
					i = sp.end
					continue
				}
			}
			i = j
		case c == '-':
			if sc.on[secPrivateKeyBlock] && i+5 < n && s[i+1] == '-' {
				if end, ok := privateKeyBlock(s, i, &st); ok {
					out = append(out, secretSpan{i, end, secPrivateKeyBlock})
					i = end
					continue
				}
			}
			i++
		case (c == '=' || c == ':') && sc.assignments:
			if sp, ok := sc.assignment(s, i, &st); ok {
				out = append(out, sp)
				i = sp.end
				continue
			}
			i++
		default:
			i++
		}
	}
	return out
}

// scanState remembers, within one scan, what cannot match again further on, so that no
// input makes the scan quadratic.
type scanState struct {
	b64NoMatchUntil int // base64 runs end here and failed: a suffix of them fails too
	valueRunStart   int // the last measured run of [A-Za-z0-9+/=] after ':' or '='
	valueRunEnd     int
	noEnd           uint32 // bit per private key header kind: no END line after the last look
}

// worthToken is the cheap length filter before token: the word s[i:j] (a run of
// [A-Za-z0-9_]) is long enough for some enabled detector that can start with s[i].
func (sc *secretScanner) worthToken(s string, i, j int) bool {
	n := j - i
	if sc.on[secBase64_24] { // a base64 run can continue past the word through '+' or '/'
		return true
	}
	if sc.on[secHexSecret32] && n >= 32 {
		return true
	}
	// Google keys and JWTs may contain '-', which ends a word: check their prefix instead
	switch s[i] {
	case 'A':
		return n >= 20 || hasPrefix(s, i, "AIza")
	case 'g':
		return n >= 31 // github_pat_ + 20; gh?_ + 36 is 40
	case 's', 'r':
		return n >= 24
	case 'x':
		return n == 4 && j < len(s) && s[j] == '-'
	case 'e':
		return hasPrefix(s, i, "eyJ")
	}
	return false
}

// token tries the word-led detectors at the word start i, most specific first. st may be
// nil (a one-off check).
func (sc *secretScanner) token(s string, i int, st *scanState) (secretSpan, bool) {
	switch s[i] {
	case 'A':
		if sc.on[secAWSAccessKeyID] && hasPrefix(s, i, "AKIA") {
			if e := i + 20; e <= len(s) && allUpperDigit(s[i+4:e]) && !wordAt(s, e) {
				return secretSpan{i, e, secAWSAccessKeyID}, true
			}
		}
		if sc.on[secGoogleAPIKey] && hasPrefix(s, i, "AIza") {
			if e := i + 39; e <= len(s) && runOf(s, i+4, bcIdent) >= e && !identAt(s, e) {
				return secretSpan{i, e, secGoogleAPIKey}, true
			}
		}
	case 'g':
		if sc.on[secGitHubToken] {
			if i+4 <= len(s) && s[i+1] == 'h' && s[i+3] == '_' && (s[i+2] == 'p' || s[i+2] == 'o' || s[i+2] == 'u' || s[i+2] == 's' || s[i+2] == 'r') {
				e := runOf(s, i+4, bcWord)
				if a := alnumRun(s, i+4); a == i+40 && e == a {
					return secretSpan{i, a, secGitHubToken}, true
				}
			}
			if hasPrefix(s, i, "github_pat_") {
				if e := runOf(s, i+11, bcWord); e-(i+11) >= 20 {
					return secretSpan{i, e, secGitHubToken}, true
				}
			}
		}
	case 's', 'r':
		if sc.on[secStripeSecretKey] && i+8 <= len(s) && s[i+1] == 'k' && s[i+2] == '_' &&
			(hasPrefix(s, i+3, "live_") || hasPrefix(s, i+3, "test_")) {
			if e := alnumRun(s, i+8); e-(i+8) >= 16 && !wordAt(s, e) {
				return secretSpan{i, e, secStripeSecretKey}, true
			}
		}
	case 'x':
		if sc.on[secSlackToken] && i+5 <= len(s) && hasPrefix(s, i, "xox") && s[i+4] == '-' &&
			(s[i+3] == 'a' || s[i+3] == 'b' || s[i+3] == 'p' || s[i+3] == 'q' || s[i+3] == 'r') {
			if e, ok := slackBody(s, i+5); ok {
				return secretSpan{i, e, secSlackToken}, true
			}
		}
	case 'e':
		if sc.on[secJWTLike] && hasPrefix(s, i, "eyJ") {
			if e, ok := jwtLike(s, i); ok {
				return secretSpan{i, e, secJWTLike}, true
			}
		}
	}
	if sc.on[secHexSecret32] && isHexByte(s[i]) {
		if e := runOf(s, i, bcHex); e-i >= 32 && !wordAt(s, e) {
			return secretSpan{i, e, secHexSecret32}, true
		}
	}
	if sc.on[secBase64_24] && (st == nil || i >= st.b64NoMatchUntil) {
		e, ok := base64Like(s, i)
		if ok {
			return secretSpan{i, e, secBase64_24}, true
		}
		if st != nil {
			st.b64NoMatchUntil = e
		}
	}
	return secretSpan{}, false
}

func hasPrefix(s string, i int, p string) bool { return len(s)-i >= len(p) && s[i:i+len(p)] == p }

func allUpperDigit(s string) bool {
	for k := 0; k < len(s); k++ {
		if !(s[k] >= 'A' && s[k] <= 'Z' || isDigitByte(s[k])) {
			return false
		}
	}
	return true
}

// alnumRun returns the end of the [A-Za-z0-9] run at i.
func alnumRun(s string, i int) int {
	for i < len(s) && (isAlphaByte(s[i]) || isDigitByte(s[i])) {
		i++
	}
	return i
}

// identAt reports whether s[i] is a token byte [A-Za-z0-9_-].
func identAt(s string, i int) bool { return i < len(s) && byteClass[s[i]]&bcIdent != 0 }

// slackBody matches 10-80 bytes of [0-9A-Za-z-] ending at a word boundary.
func slackBody(s string, p int) (int, bool) {
	e := runOf(s, p, bcIdent)
	for e > p && s[e-1] == '_' { // '_' is not in the body alphabet: stop before it
		e--
	}
	for k := p; k < e; k++ {
		if s[k] == '_' {
			e = k
			break
		}
	}
	if e-p > 80 {
		e = p + 80
	}
	for ; e-p >= 10; e-- { // the end needs a `\b`: word byte on exactly one side
		if isWordByte(s[e-1]) != wordAt(s, e) {
			return e, true
		}
	}
	return 0, false
}

// jwtLike matches eyJ<10+>.eyJ<10+>.<10+> over [A-Za-z0-9_-].
func jwtLike(s string, i int) (int, bool) {
	p := i
	for part := 0; part < 3; part++ {
		if part < 2 && !hasPrefix(s, p, "eyJ") {
			return 0, false
		}
		e := runOf(s, p, bcIdent)
		min := 10
		if part < 2 {
			min = 13 // "eyJ" plus 10
		}
		if e-p < min {
			return 0, false
		}
		if part < 2 {
			if e >= len(s) || s[e] != '.' {
				return 0, false
			}
			p = e + 1
			continue
		}
		for e > p && s[e-1] == '-' { // `\b` at the end: back off trailing dashes
			e--
		}
		if e-p < 10 {
			return 0, false
		}
		return e, true
	}
	return 0, false
}

// base64Like is the opt-in base64_24 heuristic: 24+ bytes of [A-Za-z0-9+/] (plus up to two
// '=') that mix upper case, lower case and a digit or '+' '/', so long plain words and
// identifiers stay alone.
// On failure it returns the end of the run it looked at.
func base64Like(s string, i int) (int, bool) {
	e := runOf(s, i, bcB64)
	if e-i < 24 {
		return e, false
	}
	upper, lower, other := false, false, false
	for k := i; k < e; k++ {
		c := s[k]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		default:
			other = true
		}
	}
	if !(upper && lower && other) || wordAt(s, e) {
		return e, false
	}
	for k := 0; k < 2 && e < len(s) && s[e] == '='; k++ {
		e++
	}
	return e, true
}

// privateKeyBlock matches "-----BEGIN [RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP ]PRIVATE
// KEY[ BLOCK]-----" at i and extends the finding to the matching "-----END ...-----"
// when it follows, so redaction removes the key material and not only its header. A
// failed search for the END line is remembered in st, so a text of many headers without
// END lines is still scanned in linear time.
func privateKeyBlock(s string, i int, st *scanState) (int, bool) {
	if !hasPrefix(s, i, "-----BEGIN ") {
		return 0, false
	}
	p := i + len("-----BEGIN ")
	kind := 0
	for k, name := range privateKeyKinds {
		if hasPrefix(s, p, name) {
			p += len(name)
			kind = k + 1
			break
		}
	}
	if !hasPrefix(s, p, "PRIVATE KEY") {
		return 0, false
	}
	p += len("PRIVATE KEY")
	if hasPrefix(s, p, " BLOCK") {
		p += len(" BLOCK")
		kind += len(privateKeyKinds) + 1
	}
	if !hasPrefix(s, p, "-----") {
		return 0, false
	}
	header := s[i+len("-----BEGIN ") : p]
	p += len("-----")
	bit := uint32(1) << kind
	if st.noEnd&bit == 0 {
		if k := strings.Index(s[p:], "-----END "+header+"-----"); k >= 0 {
			return p + k + len("-----END -----") + len(header), true
		}
		st.noEnd |= bit
	}
	return p, true
}

var privateKeyKinds = [...]string{"RSA ", "DSA ", "EC ", "OPENSSH ", "ENCRYPTED ", "PGP "}

// genericKeyNames are the names the generic_api_key_assignment detector accepts before
// ':' or '=' (lower case, '-' folded to '_').
var genericKeyNames = map[string]bool{
	"api_key": true, "apikey": true, "x_api_key": true, "xapikey": true, "x_apikey": true, "api_token": true,
	"apitoken": true, "access_token": true, "accesstoken": true, "bearer_token": true, "bearertoken": true,
	"auth_token": true, "authtoken": true, "api_secret": true,
}

// assignment handles ':' or '=' at d: an AWS secret access key (aws ... secret|access ...
// = <40 base64>) or an API key assigned to a well-known name. Only the value is reported.
func (sc *secretScanner) assignment(s string, d int, st *scanState) (secretSpan, bool) {
	p := d + 1
	for p < len(s) && (s[p] == ' ' || s[p] == '\t' || s[p] == '"' || s[p] == '\'') {
		p++
	}
	if p >= len(s) {
		return secretSpan{}, false
	}
	if sc.on[secAWSSecretAccessKey] {
		// the value must be a whole run of exactly 40; a run is measured once per scan,
		// so "=====..." (every '=' a candidate inside one run) stays linear
		var e int
		if p >= st.valueRunStart && p < st.valueRunEnd {
			e = st.valueRunEnd
		} else {
			e = p
			for e < len(s) && (byteClass[s[e]]&bcB64 != 0 || s[e] == '=') {
				e++
			}
			st.valueRunStart, st.valueRunEnd = p, e
		}
		if e-p == 40 && awsSecretContext(s, d) {
			return secretSpan{p, e, secAWSSecretAccessKey}, true
		}
	}
	if sc.on[secGenericAPIKeyAssignment] {
		if e := runOf(s, p, bcIdent); e-p >= 20 && genericNameBefore(s, d) {
			// a specific detector that matches the value takes precedence
			if sp, ok := sc.token(s, p, st); ok && sp.typ < secGenericAPIKeyAssignment {
				return sp, true
			}
			return secretSpan{p, e, secGenericAPIKeyAssignment}, true
		}
	}
	return secretSpan{}, false
}

// awsSecretContext looks back from the '=' or ':' at d for "aws" followed within 20 bytes
// by "secret" or "access", itself within 20 bytes of d (case-insensitive).
func awsSecretContext(s string, d int) bool {
	lo := d - 46
	if lo < 0 {
		lo = 0
	}
	for k := d - 6; k >= lo; k-- {
		if !(hasPrefixFold(s, k, "secret") || hasPrefixFold(s, k, "access")) || d-(k+6) > 20 {
			continue
		}
		for a := k - 3; a >= k-23 && a >= 0; a-- {
			if hasPrefixFold(s, a, "aws") {
				return true
			}
		}
	}
	return false
}

// genericNameBefore reports whether an API-key name ends right before the ':' or '=' at d
// (spaces and a closing quote allowed between).
func genericNameBefore(s string, d int) bool {
	e := d
	for e > 0 && (s[e-1] == ' ' || s[e-1] == '\t' || s[e-1] == '"' || s[e-1] == '\'') {
		e--
	}
	st := e
	for st > 0 && e-st < 24 && byteClass[s[st-1]]&bcIdent != 0 {
		st--
	}
	if e-st < 6 || e-st > 20 || (st > 0 && byteClass[s[st-1]]&bcIdent != 0) {
		return false
	}
	var buf [20]byte
	for k := st; k < e; k++ {
		c := lowerASCII(s[k])
		if c == '-' {
			c = '_'
		}
		buf[k-st] = c
	}
	return genericKeyNames[string(buf[:e-st])]
}

// keyedValue applies the assignment detectors to a value whose map key is the name (the
// context functions read only the bytes before d, so the key itself serves as the text).
func (sc *secretScanner) keyedValue(v, key string) (secretSpan, bool) {
	if len(v) < 20 {
		return secretSpan{}, false
	}
	var t secretType
	switch {
	case sc.on[secAWSSecretAccessKey] && len(v) == 40 && isB64Padded(v) && awsSecretContext(key, len(key)):
		t = secAWSSecretAccessKey
	case sc.on[secGenericAPIKeyAssignment] && runOf(v, 0, bcIdent) == len(v) && genericNameBefore(key, len(key)):
		t = secGenericAPIKeyAssignment
	default:
		return secretSpan{}, false
	}
	if sp, ok := sc.token(v, 0, nil); ok && sp.typ < t {
		return secretSpan{}, false // a specific detector owns it: the word scan reports that
	}
	return secretSpan{0, len(v), t}, true
}

func isB64Padded(v string) bool {
	for k := 0; k < len(v); k++ {
		if byteClass[v[k]]&bcB64 == 0 && v[k] != '=' {
			return false
		}
	}
	return true
}
