package builtins

import (
	"context"
	"net/netip"
	"regexp"
)

// piiType is one kind of personal data the pii_filter recognises.
type piiType uint8

const (
	piiSSN piiType = iota
	piiBSN
	piiCreditCard
	piiEmail
	piiPhone
	piiIPAddress
	piiDateOfBirth
	piiPassport
	piiDriverLicense
	piiBankAccount
	piiMedicalRecord
	piiAWSKey
	piiAPIKey
	piiCustom
	numPIITypes
)

// piiTypeNames are the type names used in metadata, violation details and docs (the same
// names as the gateway's PII filter).
var piiTypeNames = [numPIITypes]string{
	"ssn", "bsn", "credit_card", "email", "phone", "ip_address", "date_of_birth",
	"passport", "driver_license", "bank_account", "medical_record", "aws_key", "api_key", "custom",
}

func (t piiType) String() string { return piiTypeNames[t] }

// piiSpan is one detection: the byte range [start, end) of the text and its type. custom
// is the index of the custom pattern that found it (-1 for built-in types).
type piiSpan struct {
	start, end int
	typ        piiType
	custom     int
}

// piiCustomRule is a compiled custom_patterns entry.
type piiCustomRule struct {
	re          *regexp.Regexp
	description string
	strategy    maskStrategy
	insts       int  // program size (pattern_cost.go)
	longText    int  // text length from which matching goes through findAllLong
	anchored    bool // the pattern has assertions (regex_replace_long.go)
}

// piiScanner finds personal data in a string in one left-to-right pass: it looks at each
// byte once through a class table, and only at the starts of tokens (a digit run, a word,
// '@', '+', '(' or "::") does it try the few formats that can start there. Digit runs are
// checked structurally (group lengths, separators, value ranges, Luhn); words are checked
// against a handful of context keywords (SSN, passport, MRN, ...) that introduce a value.
// Custom patterns (user regexes) run afterwards, then the whitelist removes detections
// whose text matches a whitelist pattern.
type piiScanner struct {
	on        [numPIITypes]bool
	context   bool // any keyword-introduced type is on
	custom    []piiCustomRule
	whitelist []*regexp.Regexp
}

// scan appends the detections in s to out, sorted by start and non-overlapping. key is the
// map key the string is stored under ("" for list items and the root): a value stored
// under an API-key-like key (api_key, access_token, ...) is itself an api_key.
func (sc *piiScanner) scan(s, key string, out []piiSpan) []piiSpan {
	out, _ = sc.scanCtx(context.Background(), s, key, out)
	return out
}

// scanCtx is scan bounded by ctx: custom patterns on long text stop at its deadline
// with its error (the built-in formats are a single linear pass).
func (sc *piiScanner) scanCtx(ctx context.Context, s, key string, out []piiSpan) ([]piiSpan, error) {
	first := len(out)
	if sc.on[piiAPIKey] && key != "" && isAPIKeyName(key) && isTokenValue(s, 16) {
		out = append(out, piiSpan{0, len(s), piiAPIKey, -1})
	} else {
		out = sc.scanBuiltin(s, out)
	}
	if len(sc.custom) > 0 {
		var err error
		if out, err = sc.scanCustom(ctx, s, out, first); err != nil {
			return out, err
		}
	}
	if len(sc.whitelist) > 0 && len(out) > first {
		out = sc.applyWhitelist(s, out, first)
	}
	return out, nil
}

func (sc *piiScanner) scanBuiltin(s string, out []piiSpan) []piiSpan {
	n := len(s)
	last := 0 // end of the last detection: backward expansion (email) stops here
	var vr valueRun
	i := 0
	for i < n {
		c := s[i]
		cls := byteClass[c]
		switch {
		case cls&bcDigit != 0:
			// not inside a word, nor a dotted continuation ("v1.2.3.4.5", "example.4")
			if wordBefore(s, i) || i >= 2 && s[i-1] == '.' && isWordByte(s[i-2]) {
				i++
				continue
			}
			if sp, ok := sc.number(s, i); ok {
				out = append(out, sp)
				i, last = sp.end, sp.end
				continue
			}
			// skip the digit run, and all of a dotted run: "1.2.3.4.5" must not yield "2.3.4.5"
			i = runOf(s, i, bcDigit)
			for i+1 < n && s[i] == '.' && isDigitByte(s[i+1]) {
				i = runOf(s, i+1, bcDigit)
			}
			i = runOf(s, i, bcWord)
		case cls&bcAlpha != 0:
			if wordBefore(s, i) {
				i++
				continue
			}
			j := runOf(s, i, bcWord)
			if !worthChecking(s, i, j) {
				i = j
				continue
			}
			if sp, ok := sc.word(s, i, j, &vr); ok {
				out = append(out, sp)
				i, last = sp.end, sp.end
				continue
			}
			i = j
		case c == '@':
			if sc.on[piiEmail] {
				// the local part was skipped as words; it starts after the last detection,
				// so out stays sorted and non-overlapping
				if sp, ok := emailAt(s, i, last); ok {
					out = append(out, sp)
					i, last = sp.end, sp.end
					continue
				}
			}
			i++
		case c == '+':
			if sc.on[piiPhone] && !wordBefore(s, i) {
				if end, ok := intlPhone(s, i); ok {
					out = append(out, piiSpan{i, end, piiPhone, -1})
					i, last = end, end
					continue
				}
			}
			i++
		case c == '(':
			if sc.on[piiPhone] {
				if end, ok := parenPhone(s, i); ok {
					out = append(out, piiSpan{i, end, piiPhone, -1})
					i, last = end, end
					continue
				}
			}
			i++
		case c == ':':
			if sc.on[piiIPAddress] && i+1 < n && s[i+1] == ':' && (i == 0 || (!isWordByte(s[i-1]) && s[i-1] != ':')) {
				if end, ok := ipv6At(s, i); ok {
					out = append(out, piiSpan{i, end, piiIPAddress, -1})
					i, last = end, end
					continue
				}
			}
			i++
		default:
			i++
		}
	}
	return out
}

// ---- numbers -------------------------------------------------------------------------

const maxNumGroups = 8

// numGroups is a run of digit groups joined by single separators, e.g. "4111 1111 1111
// 1111" or "192.168.0.1".
type numGroups struct {
	start, end [maxNumGroups]int
	sep        [maxNumGroups]byte // sep[k] joins group k and k+1
	n          int
}

func parseNumGroups(g *numGroups, s string, i int, seps string) {
	for g.n < maxNumGroups {
		j := runOf(s, i, bcDigit)
		g.start[g.n], g.end[g.n] = i, j
		g.n++
		if j+1 >= len(s) || !isDigitByte(s[j+1]) {
			break
		}
		ok := false
		for k := 0; k < len(seps); k++ {
			if s[j] == seps[k] {
				ok = true
				break
			}
		}
		if !ok {
			break
		}
		g.sep[g.n-1] = s[j]
		i = j + 1
	}
}

func (g *numGroups) len(k int) int { return g.end[k] - g.start[k] }

// number tries the digit-led formats at i (a word boundary), most specific first.
func (sc *piiScanner) number(s string, i int) (piiSpan, bool) {
	d := runOf(s, i, bcDigit)
	if sc.on[piiIPAddress] && d < len(s) && (s[d] == ':' || isHexByte(s[d])) {
		if end, ok := ipv6At(s, i); ok {
			return piiSpan{i, end, piiIPAddress, -1}, true
		}
	}
	if d < len(s) && isWordByte(s[d]) {
		return piiSpan{}, false // digits glued to letters: an identifier, not a number
	}
	// the common case in prose: a short number not followed by a group separator can be
	// none of the formats below (they need a separator or at least 10 digits)
	if d-i < 10 && (d+1 >= len(s) || !isDigitByte(s[d+1]) || (s[d] != '-' && s[d] != '.' && s[d] != ' ' && s[d] != '/')) {
		return piiSpan{}, false
	}
	var g numGroups
	parseNumGroups(&g, s, i, "-. /")
	if sc.on[piiIPAddress] && g.n >= 4 {
		if end, ok := ipv4(s, &g); ok {
			return piiSpan{i, end, piiIPAddress, -1}, true
		}
	}
	if sc.on[piiDateOfBirth] && g.n >= 3 && g.sep[0] == g.sep[1] && (g.sep[0] == '/' || g.sep[0] == '-') &&
		g.len(0) == 2 && g.len(1) == 2 && g.len(2) == 4 && !wordAt(s, g.end[2]) &&
		validDate(s, g.start[0], g.start[1], g.start[2], 4, true) {
		return piiSpan{i, g.end[2], piiDateOfBirth, -1}, true
	}
	if sc.on[piiSSN] && g.n >= 3 && g.sep[0] == '-' && g.sep[1] == '-' &&
		g.len(0) == 3 && g.len(1) == 2 && g.len(2) == 4 && !wordAt(s, g.end[2]) &&
		!(g.n > 3 && g.sep[2] == '-') && validSSN(s[g.start[0]:g.end[0]], s[g.start[1]:g.end[1]], s[g.start[2]:g.end[2]]) {
		return piiSpan{i, g.end[2], piiSSN, -1}, true
	}
	if sc.on[piiCreditCard] {
		if end, ok := creditCard(s, &g); ok {
			return piiSpan{i, end, piiCreditCard, -1}, true
		}
	}
	if sc.on[piiPhone] {
		if end, ok := usPhone(s, &g); ok {
			return piiSpan{i, end, piiPhone, -1}, true
		}
	}
	return piiSpan{}, false
}

func ipv4(s string, g *numGroups) (int, bool) {
	for k := 0; k < 4; k++ {
		if k < 3 && g.sep[k] != '.' {
			return 0, false
		}
		l := g.len(k)
		if l < 1 || l > 3 {
			return 0, false
		}
		v := 0
		for p := g.start[k]; p < g.end[k]; p++ {
			v = v*10 + int(s[p]-'0')
		}
		if v > 255 {
			return 0, false
		}
	}
	end := g.end[3]
	// "1.2.3.4.5" is a version or OID, not an address
	if g.n > 4 && g.sep[3] == '.' || wordAt(s, end) {
		return 0, false
	}
	return end, true
}

// validDate checks MM, DD and a year of yearLen digits (19xx/20xx when strict).
func validDate(s string, m, d, y, yearLen int, strict bool) bool {
	mm := atoi(s, m, 2)
	dd := atoi(s, d, 2)
	if mm < 1 || mm > 12 || dd < 1 || dd > 31 {
		return false
	}
	if strict && yearLen == 4 {
		return s[y] == '1' && s[y+1] == '9' || s[y] == '2' && s[y+1] == '0'
	}
	return true
}

// atoi reads up to n digits at i (stopping at a non-digit).
func atoi(s string, i, n int) int {
	v := 0
	for k := 0; k < n && i+k < len(s) && isDigitByte(s[i+k]); k++ {
		v = v*10 + int(s[i+k]-'0')
	}
	return v
}

// validSSN applies the SSA's issuance rules: area 001-899 except 666, group 01-99,
// serial 0001-9999.
func validSSN(area, group, serial string) bool {
	a := atoi(area, 0, 3)
	return a != 0 && a != 666 && a < 900 && group != "00" && serial != "0000"
}

// creditCard takes the longest prefix of groups joined by '-' or ' ' (each group at least
// 3 digits when there are several, to leave lists of small numbers alone) that has 13-19
// digits, passes the Luhn check and ends at a word boundary.
func creditCard(s string, g *numGroups) (int, bool) {
	m := 1
	for m < g.n && (g.sep[m-1] == '-' || g.sep[m-1] == ' ') {
		m++
	}
	if m > 1 {
		for k := 0; k < m; k++ {
			if g.len(k) < 3 {
				m = k
				break
			}
		}
	}
	for k := m; k >= 1; k-- {
		digits := 0
		for q := 0; q < k; q++ {
			digits += g.len(q)
		}
		if digits < 13 || digits > 19 || wordAt(s, g.end[k-1]) {
			continue
		}
		if k == 1 && g.n > 1 && g.sep[0] == '.' {
			continue // a decimal number
		}
		if luhn(s[g.start[0]:g.end[k-1]]) {
			return g.end[k-1], true
		}
	}
	return 0, false
}

// luhn checks the Luhn checksum of the digits of s (other bytes skipped); all-zero
// numbers are rejected.
func luhn(s string) bool {
	sum, n, nonzero := 0, 0, false
	for p := len(s) - 1; p >= 0; p-- {
		c := s[p]
		if !isDigitByte(c) {
			continue
		}
		v := int(c - '0')
		if v != 0 {
			nonzero = true
		}
		if n%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		n++
	}
	return nonzero && sum%10 == 0
}

// usPhone: 555-123-4567, 555.123.4567, 555 123 4567, 1-555-123-4567, 5551234567,
// 15551234567.
func usPhone(s string, g *numGroups) (int, bool) {
	phoneSep := func(k int) bool { return g.sep[k] == '-' || g.sep[k] == '.' || g.sep[k] == ' ' }
	switch {
	case g.n >= 3 && g.len(0) == 3 && g.len(1) == 3 && g.len(2) == 4 && phoneSep(0) && phoneSep(1):
		// "555-123-4567-89" is some longer number, "555-123-4567 123-45-6789" is a phone then more
		if !wordAt(s, g.end[2]) && !(g.n > 3 && g.sep[2] == g.sep[1] && g.sep[2] != ' ') {
			return g.end[2], true
		}
	case g.n >= 4 && g.len(0) == 1 && s[g.start[0]] == '1' && g.len(1) == 3 && g.len(2) == 3 && g.len(3) == 4 &&
		phoneSep(0) && phoneSep(1) && phoneSep(2):
		if !wordAt(s, g.end[3]) {
			return g.end[3], true
		}
	case g.len(0) == 10 || (g.len(0) == 11 && s[g.start[0]] == '1'):
		if !wordAt(s, g.end[0]) && (g.n == 1 || g.sep[0] == ' ' || g.sep[0] == '/') {
			return g.end[0], true
		}
	}
	return 0, false
}

// parenPhone: (555) 123-4567, (555)123-4567.
func parenPhone(s string, i int) (int, bool) {
	p := i + 1
	if runOf(s, p, bcDigit) != p+3 || p+3 >= len(s) || s[p+3] != ')' {
		return 0, false
	}
	p += 4
	if p < len(s) && (s[p] == ' ' || s[p] == '-' || s[p] == '.') {
		p++
	}
	if runOf(s, p, bcDigit) != p+3 {
		return 0, false
	}
	p += 3
	if p < len(s) && (s[p] == ' ' || s[p] == '-' || s[p] == '.') {
		p++
	}
	if runOf(s, p, bcDigit) != p+4 || wordAt(s, p+4) {
		return 0, false
	}
	return p + 4, true
}

// intlPhone: '+' then 10-15 digits, first not 0, in groups joined by single ' ', '-' or
// '.', e.g. +14155550123 or +44 20 7946 0958.
func intlPhone(s string, i int) (int, bool) {
	if i+1 >= len(s) || s[i+1] < '1' || s[i+1] > '9' {
		return 0, false
	}
	var g numGroups
	parseNumGroups(&g, s, i+1, " -.")
	digits, end := 0, i+1
	for k := 0; k < g.n; k++ {
		digits += g.len(k)
		end = g.end[k]
		if digits >= 10 && (k+1 == g.n || digits+g.len(k+1) > 15) {
			break
		}
	}
	if digits < 10 || digits > 15 || wordAt(s, end) {
		return 0, false
	}
	return end, true
}

// ipv6At matches an IPv6 address starting at i: a run of hex digits and colons with at
// least two colons and one decimal digit (so words like "add::b" stay alone), that
// net/netip accepts.
func ipv6At(s string, i int) (int, bool) {
	j := i
	colons, digit := 0, false
	for j < len(s) && j-i < 40 {
		c := s[j]
		if c == ':' {
			colons++
			if colons > 7 { // an address has at most 8 groups: "1:1:1:..." is not one
				return 0, false
			}
		} else if isHexByte(c) {
			if isDigitByte(c) {
				digit = true
			}
		} else {
			break
		}
		j++
	}
	if j < len(s) && s[j] == '.' && colons >= 2 { // an embedded IPv4 tail (::ffff:192.0.2.1)
		k := j
		for k < len(s) && k-i < 46 && (isDigitByte(s[k]) || s[k] == '.') {
			k++
		}
		for k > j && s[k-1] == '.' {
			k--
		}
		if !wordAt(s, k) {
			if a, err := netip.ParseAddr(s[i:k]); err == nil && a.Is6() {
				return k, true
			}
		}
	}
	if colons < 2 || !digit || wordAt(s, j) {
		return 0, false
	}
	for _, end := range [2]int{j, j - 1} { // a trailing ':' may be punctuation
		if end <= i || (end == j-1 && s[end] != ':') {
			continue
		}
		if a, err := netip.ParseAddr(s[i:end]); err == nil && a.Is6() {
			return end, true
		}
	}
	return 0, false
}

// ---- email ---------------------------------------------------------------------------

func isEmailLocal(b byte) bool {
	return isWordByte(b) || b == '.' || b == '%' || b == '+' || b == '-'
}

// emailAt matches local@domain.tld around the '@' at a; the local part extends back no
// further than last.
func emailAt(s string, a, last int) (piiSpan, bool) {
	st := a
	for st > last && isEmailLocal(s[st-1]) {
		st--
	}
	for st < a && !isWordByte(s[st]) { // `\b` before the local part
		st++
	}
	if st == a {
		return piiSpan{}, false
	}
	e := a + 1
	for e < len(s) && (isWordByte(s[e]) && s[e] != '_' || s[e] == '.' || s[e] == '-') {
		e++
	}
	for e > a+1 && (s[e-1] == '.' || s[e-1] == '-') {
		e--
	}
	dot := -1
	for k := e - 1; k > a+1; k-- {
		if s[k] == '.' {
			dot = k
			break
		}
	}
	if dot < 0 || e-dot-1 < 2 {
		return piiSpan{}, false
	}
	for k := dot + 1; k < e; k++ {
		if !isAlphaByte(s[k]) {
			return piiSpan{}, false
		}
	}
	return piiSpan{st, e, piiEmail, -1}, true
}

// ---- custom patterns and whitelist ---------------------------------------------------

// scanCustom adds the matches of the custom patterns that do not overlap a detection
// already in out[first:] (built-in types win over custom ones; earlier custom patterns
// win over later ones), keeping out[first:] sorted by start.
func (sc *piiScanner) scanCustom(ctx context.Context, s string, out []piiSpan, first int) ([]piiSpan, error) {
	for ci := range sc.custom {
		rule := &sc.custom[ci]
		var matches [][]int
		if len(s) >= rule.longText {
			var err error
			if matches, err = findAllLong(ctx, rule.re, rule.insts, rule.anchored, s); err != nil {
				return out, err
			}
		} else {
			matches = rule.re.FindAllStringIndex(s, -1)
		}
		for _, m := range matches {
			if m[0] == m[1] {
				continue
			}
			pos, overlap := first, false
			for k := first; k < len(out); k++ {
				if out[k].start < m[1] && m[0] < out[k].end {
					overlap = true
					break
				}
				if out[k].end <= m[0] {
					pos = k + 1
				}
			}
			if overlap {
				continue
			}
			out = append(out, piiSpan{})
			copy(out[pos+1:], out[pos:])
			out[pos] = piiSpan{m[0], m[1], piiCustom, ci}
		}
	}
	return out, nil
}

// applyWhitelist drops the detections whose text matches a whitelist pattern.
func (sc *piiScanner) applyWhitelist(s string, out []piiSpan, first int) []piiSpan {
	kept := out[:first]
	for _, sp := range out[first:] {
		v := s[sp.start:sp.end]
		allowed := false
		for _, re := range sc.whitelist {
			if re.MatchString(v) {
				allowed = true
				break
			}
		}
		if !allowed {
			kept = append(kept, sp)
		}
	}
	return kept
}
