package builtins

// Word-led PII formats: AWS access key ids, IBANs, IPv6 addresses that start with a hex
// letter, and values introduced by a context keyword ("SSN: 123456789", "Passport No
// X1234567", "MRN 00123456", "api_key=..."). Only the value is reported, never the
// keyword, so masking keeps the label readable ("SSN: [REDACTED]").

// awsKeyPrefixes are the 4-letter prefixes of AWS access key ids (AKIA long-term, ASIA
// temporary, and the ids of other principals that share the format).
var awsKeyPrefixes = [...]string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ABIA", "ACCA"}

// isAWSKeyID reports whether w is a 20-byte AWS access key id.
func isAWSKeyID(w string) bool {
	if len(w) != 20 {
		return false
	}
	ok := false
	for _, p := range awsKeyPrefixes {
		if w[:4] == p {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	for k := 4; k < 20; k++ {
		c := w[k]
		if !(c >= 'A' && c <= 'Z' || isDigitByte(c)) {
			return false
		}
	}
	return true
}

// isIBAN checks the IBAN shape (country letters, check digits, 11-30 upper-case
// alphanumerics) and its ISO 7064 mod-97 checksum.
func isIBAN(w string) bool {
	if len(w) < 15 || len(w) > 34 {
		return false
	}
	if !(w[0] >= 'A' && w[0] <= 'Z' && w[1] >= 'A' && w[1] <= 'Z' && isDigitByte(w[2]) && isDigitByte(w[3])) {
		return false
	}
	rem := 0
	add := func(c byte) bool {
		switch {
		case isDigitByte(c):
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		default:
			return false
		}
		return true
	}
	for k := 4; k < len(w); k++ {
		if !add(w[k]) {
			return false
		}
	}
	for k := 0; k < 4; k++ {
		add(w[k])
	}
	return rem == 1
}

// apiKeyNames are the (lower-case, '-' folded to '_') identifiers that introduce an API
// key or token, in assignments ("api_key = ...") and as payload keys.
var apiKeyNames = map[string]bool{
	"api_key": true, "apikey": true, "x_api_key": true, "api_secret": true, "api_token": true,
	"access_token": true, "auth_token": true, "secret_key": true, "client_secret": true,
	"bearer_token": true, "refresh_token": true, "private_token": true,
	"aws_secret_access_key": true, "aws_secret_key": true,
}

// isAPIKeyName folds name ('-' to '_', ASCII lower case) and looks it up.
func isAPIKeyName(name string) bool {
	if len(name) < 6 || len(name) > 24 {
		return false
	}
	var buf [24]byte
	for k := 0; k < len(name); k++ {
		c := lowerASCII(name[k])
		if c == '-' {
			c = '_'
		}
		buf[k] = c
	}
	return apiKeyNames[string(buf[:len(name)])]
}

// maxTokenLen bounds what counts as one key or token.
const maxTokenLen = 4096

// isTokenValue reports whether v looks like a credential: at least min bytes of
// [A-Za-z0-9_-./+=] with a digit and a letter.
func isTokenValue(v string, min int) bool {
	if len(v) < min || len(v) > maxTokenLen {
		return false
	}
	digit, alpha := false, false
	for k := 0; k < len(v); k++ {
		c := v[k]
		switch {
		case isDigitByte(c):
			digit = true
		case isAlphaByte(c):
			alpha = true
		case c == '_' || c == '-' || c == '.' || c == '/' || c == '+' || c == '=':
		default:
			return false
		}
	}
	return digit && alpha
}

// contextKeywords are the words that introduce a value (matched case-insensitively).
var contextKeywords = []string{"ssn", "social", "bsn", "burgerservicenummer", "dob", "born", "birthday", "date",
	"passport", "dl", "license", "licence", "account", "acct", "mrn", "medical"}

// Bits of wordPrefix: which word-led checks a word's first two bytes allow.
const (
	prefixKeyword = 1 << iota
	prefixAPIName
)

// wordPrefix indexes the lower-cased first two bytes of a word; most words have a prefix
// no keyword or API-key name starts with and are dismissed with one look-up.
var wordPrefix = func() (t [256][256]uint8) {
	mark := func(w string, bit uint8) {
		a, b := w[0], w[1]
		for _, x := range []byte{a, a - ('a' - 'A')} {
			for _, y := range []byte{b, b - ('a' - 'A')} {
				t[x][y] |= bit
			}
		}
		if b == '_' { // "x_api_key" is also written "x-api-key" (the word then ends at '-')
			t[a][0] |= bit
			t[a-('a'-'A')][0] |= bit
		}
	}
	for _, w := range contextKeywords {
		mark(w, prefixKeyword)
	}
	for w := range apiKeyNames {
		mark(w, prefixAPIName)
	}
	return t
}()

// wordPrefixBits returns the wordPrefix bits of the word s[i:j] (a one-byte word uses the
// second index 0, for names written with '-').
func wordPrefixBits(s string, i, j int) uint8 {
	if j-i >= 2 {
		return wordPrefix[s[i]][s[i+1]]
	}
	return wordPrefix[s[i]][0]
}

// worthChecking is the cheap filter scanBuiltin applies before calling word.
func worthChecking(s string, i, j int) bool {
	return j-i >= 15 || (j < len(s) && (s[j] == ':' || s[j] == '-')) || wordPrefixBits(s, i, j) != 0
}

// word tries the word-led formats for the word s[i:j] (i at a word boundary).
func (sc *piiScanner) word(s string, i, j int, vr *valueRun) (piiSpan, bool) {
	w := s[i:j]
	if len(w) == 20 && sc.on[piiAWSKey] && isAWSKeyID(w) && !wordAt(s, j) {
		return piiSpan{i, j, piiAWSKey, -1}, true
	}
	if len(w) >= 15 && sc.on[piiBankAccount] && isIBAN(w) {
		return piiSpan{i, j, piiBankAccount, -1}, true
	}
	if j < len(s) && s[j] == ':' && sc.on[piiIPAddress] && runOf(s, i, bcHex) == j {
		if end, ok := ipv6At(s, i); ok {
			return piiSpan{i, end, piiIPAddress, -1}, true
		}
	}
	// API-key names are at least 6 bytes unless they continue with '-' ("x-api-key")
	bits := wordPrefixBits(s, i, j)
	if sc.on[piiAPIKey] && bits&prefixAPIName != 0 && (len(w) >= 6 || j < len(s) && s[j] == '-') {
		if sp, ok := apiKeyAssignment(s, i, j, vr); ok {
			if sp.typ == piiAWSKey && !sc.on[piiAWSKey] {
				sp.typ = piiAPIKey
			}
			return sp, true
		}
	}
	if !sc.context || len(w) > 19 || len(w) < 2 || bits&prefixKeyword == 0 {
		return piiSpan{}, false
	}
	var buf [20]byte
	for k := 0; k < len(w); k++ {
		buf[k] = lowerASCII(w[k])
	}
	switch string(buf[:len(w)]) {
	case "ssn":
		return sc.ssnAfter(s, j)
	case "social":
		if p, ok := followWord(s, j, "security"); ok {
			if q, ok := followWord(s, p, "number"); ok {
				p = q
			}
			return sc.ssnAfter(s, p)
		}
	case "bsn", "burgerservicenummer":
		if sc.on[piiBSN] {
			p := j
			if q, ok := followWord(s, p, "is"); ok {
				p = q
			}
			return digitsAfter(s, skipSet(s, p, ": \t#"), 9, 9, piiBSN)
		}
	case "dob", "born", "birthday":
		if sc.on[piiDateOfBirth] {
			return labelledDate(s, j)
		}
	case "date":
		if sc.on[piiDateOfBirth] {
			if p, ok := followWord(s, j, "of"); ok {
				if q, ok := followWord(s, p, "birth"); ok {
					return labelledDate(s, q)
				}
			}
		}
	case "passport":
		if sc.on[piiPassport] {
			p := j
			if q, ok := followWord(s, p, "number"); ok {
				p = q
			} else if q, ok := followWord(s, p, "no"); ok {
				p = q
			}
			return idAfter(s, p, "#:. \t-", 6, 9, piiPassport)
		}
	case "dl", "license", "licence":
		if sc.on[piiDriverLicense] {
			p := j
			if q, ok := followWord(s, p, "number"); ok {
				p = q
			} else if q, ok := followWord(s, p, "no"); ok {
				p = q
			}
			return idAfter(s, p, "#:. \t", 5, 20, piiDriverLicense)
		}
	case "account", "acct":
		if sc.on[piiBankAccount] {
			p := j
			if q, ok := followWord(s, p, "number"); ok {
				p = q
			} else if q, ok := followWord(s, p, "no"); ok {
				p = q
			}
			return digitsAfter(s, skipSet(s, p, "#:. \t-"), 8, 17, piiBankAccount)
		}
	case "mrn":
		if sc.on[piiMedicalRecord] {
			return idAfter(s, j, "#:. \t", 6, 12, piiMedicalRecord)
		}
	case "medical":
		if sc.on[piiMedicalRecord] {
			if p, ok := followWord(s, j, "record"); ok {
				if q, ok := followWord(s, p, "number"); ok {
					p = q
				}
				return idAfter(s, p, "#:. \t", 6, 12, piiMedicalRecord)
			}
		}
	}
	return piiSpan{}, false
}

// ssnAfter matches a 9-digit SSN (or a dashed one) after an "SSN" label.
func (sc *piiScanner) ssnAfter(s string, p int) (piiSpan, bool) {
	if !sc.on[piiSSN] {
		return piiSpan{}, false
	}
	p = skipSet(s, p, ": \t#-")
	if p == len(s) || !isDigitByte(s[p]) {
		return piiSpan{}, false
	}
	if e := runOf(s, p, bcDigit); e-p == 9 && !wordAt(s, e) {
		if validSSN(s[p:p+3], s[p+3:p+5], s[p+5:p+9]) {
			return piiSpan{p, e, piiSSN, -1}, true
		}
	}
	return piiSpan{}, false
}

// digitsAfter matches a run of min..max digits at p ending at a word boundary.
func digitsAfter(s string, p, min, max int, t piiType) (piiSpan, bool) {
	if p >= len(s) || !isDigitByte(s[p]) || wordBefore(s, p) {
		return piiSpan{}, false
	}
	e := runOf(s, p, bcDigit)
	if e-p < min || e-p > max || wordAt(s, e) {
		return piiSpan{}, false
	}
	return piiSpan{p, e, t, -1}, true
}

// idAfter matches, after at least one separator byte from seps, an alphanumeric id of
// min..max bytes that contains a digit (so "License agreement" is not a licence number).
func idAfter(s string, p int, seps string, min, max int, t piiType) (piiSpan, bool) {
	q := skipSet(s, p, seps)
	if q == p || q >= len(s) {
		return piiSpan{}, false
	}
	e := q
	digit := false
	for e < len(s) && (isAlphaByte(s[e]) || isDigitByte(s[e])) {
		if isDigitByte(s[e]) {
			digit = true
		}
		e++
	}
	if !digit || e-q < min || e-q > max || wordAt(s, e) {
		return piiSpan{}, false
	}
	return piiSpan{q, e, t, -1}, true
}

// labelledDate matches d{1,2}[-/]d{1,2}[-/]d{2,4} after a date-of-birth label.
func labelledDate(s string, p int) (piiSpan, bool) {
	q := skipSet(s, p, ": \t")
	if q == p || q >= len(s) || !isDigitByte(s[q]) {
		return piiSpan{}, false
	}
	var g numGroups
	parseNumGroups(&g, s, q, "/-")
	if g.n < 3 || g.sep[0] != g.sep[1] || g.len(0) > 2 || g.len(1) > 2 || g.len(2) < 2 || g.len(2) > 4 ||
		wordAt(s, g.end[2]) {
		return piiSpan{}, false
	}
	return piiSpan{q, g.end[2], piiDateOfBirth, -1}, true
}

// skipQuotesSpaces skips spaces, tabs and quotes around an assignment's '=' or ':'.
func skipQuotesSpaces(s string, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '"' || s[p] == '\'' || s[p] == '\t') {
		p++
	}
	return p
}

// valueRun memoises the last run of value bytes measured after an assignment, so that
// "k=k=k=..." (every name's value a suffix of the same run) is scanned in linear time.
type valueRun struct {
	start, end           int
	lastDigit, lastAlpha int // positions of the last digit / letter in the run (-1: none)
}

func isValueByte(c byte) bool {
	return byteClass[c]&bcIdent != 0 || c == '/' || c == '+' || c == '=' || c == '.'
}

// measure returns the end of the value run containing p and whether s[p:end] has a digit
// and a letter.
func (vr *valueRun) measure(s string, p int) (end int, digit, alpha bool) {
	if p < vr.start || p >= vr.end {
		vr.start, vr.lastDigit, vr.lastAlpha = p, -1, -1
		e := p
		for e < len(s) && isValueByte(s[e]) {
			if isDigitByte(s[e]) {
				vr.lastDigit = e
			} else if isAlphaByte(s[e]) {
				vr.lastAlpha = e
			}
			e++
		}
		vr.end = e
	}
	return vr.end, vr.lastDigit >= p, vr.lastAlpha >= p
}

// apiKeyAssignment matches `<api-key name> ["'] [:=] ["'] <token>` at i (the word s[i:j]
// extends over '-' to the name) and reports the token (16 to maxTokenLen bytes with a
// digit and a letter). AWS secret access keys (exactly 40 bytes) are reported as aws_key.
func apiKeyAssignment(s string, i, j int, vr *valueRun) (piiSpan, bool) {
	e := j
	if e < len(s) && s[e] == '-' {
		e = runOf(s, i, bcIdent)
	}
	if e-i < 6 || e >= len(s) {
		return piiSpan{}, false
	}
	if c := s[e]; c != ':' && c != '=' && c != ' ' && c != '"' && c != '\'' && c != '\t' {
		return piiSpan{}, false
	}
	p := skipQuotesSpaces(s, e)
	// the cheap test first: most words are not followed by ':' or '='
	if p >= len(s) || (s[p] != ':' && s[p] != '=') || !isAPIKeyName(s[i:e]) {
		return piiSpan{}, false
	}
	p = skipQuotesSpaces(s, p+1)
	if hasPrefixFold(s, p, "bearer ") {
		p += len("bearer ")
	}
	v, digit, alpha := vr.measure(s, p)
	if v-p < 16 || v-p > maxTokenLen || !digit || !alpha {
		return piiSpan{}, false
	}
	t := piiAPIKey
	if hasPrefixFold(s, i, "aws") && v-p == 40 {
		t = piiAWSKey
	}
	return piiSpan{p, v, t, -1}, true
}
