package builtins

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// maskStrategy is how a detected value is replaced (default_mask_strategy and the
// mask_strategy of a custom pattern).
type maskStrategy uint8

const (
	maskRedact   maskStrategy = iota // the redaction_text
	maskPartial                      // keep a few characters: ***-**-6789, j***e@example.com
	maskHash                         // [HASH:<16 hex>] of sha256(salt:value), stable per plugin instance
	maskTokenize                     // [TOKEN:<8 random hex>], new for every occurrence
	maskRemove                       // the empty string
)

var maskStrategyNames = map[string]maskStrategy{
	"redact": maskRedact, "partial": maskPartial, "hash": maskHash, "tokenize": maskTokenize, "remove": maskRemove,
}

const maskStrategyList = "redact, partial, hash, tokenize, remove"

// piiMasker renders replacements.
type piiMasker struct {
	strategy      maskStrategy
	redactionText string
	salt          string // random per plugin instance: hashes are stable within it, not guessable across
}

// mask returns s with every span replaced; spans are sorted and non-overlapping.
func (m *piiMasker) mask(s string, spans []piiSpan, custom []piiCustomRule) string {
	var b strings.Builder
	b.Grow(len(s))
	cur := 0
	for _, sp := range spans {
		b.WriteString(s[cur:sp.start])
		st := m.strategy
		if sp.custom >= 0 {
			st = custom[sp.custom].strategy
		}
		m.replacement(&b, s[sp.start:sp.end], sp.typ, st)
		cur = sp.end
	}
	b.WriteString(s[cur:])
	return b.String()
}

func (m *piiMasker) replacement(b *strings.Builder, v string, t piiType, st maskStrategy) {
	switch st {
	case maskPartial:
		partialMask(b, v, t)
	case maskHash:
		h := sha256.New()
		h.Write([]byte(m.salt))
		h.Write([]byte{':'})
		h.Write([]byte(v))
		var sum [sha256.Size]byte
		b.WriteString("[HASH:")
		b.WriteString(hex.EncodeToString(h.Sum(sum[:0])[:8]))
		b.WriteByte(']')
	case maskTokenize:
		var r [4]byte
		_, _ = rand.Read(r[:]) // crypto/rand.Read never fails on supported platforms
		b.WriteString("[TOKEN:")
		b.WriteString(hex.EncodeToString(r[:]))
		b.WriteByte(']')
	case maskRemove:
	default:
		b.WriteString(m.redactionText)
	}
}

// lastDigits returns the last n decimal digits of v ("" when it has fewer).
func lastDigits(v string, n int) string {
	var buf [8]byte
	k := n
	for p := len(v) - 1; p >= 0 && k > 0; p-- {
		if isDigitByte(v[p]) {
			k--
			buf[k] = v[p]
		}
	}
	if k > 0 {
		return ""
	}
	return string(buf[:n])
}

// partialPrefix is what stands for the hidden digits of each number-like type.
var partialPrefix = [numPIITypes]string{
	piiSSN: "***-**-", piiCreditCard: "****-****-****-", piiPhone: "***-***-", piiBSN: "*****", piiBankAccount: "****",
}

// partialMask keeps the part of a value people use to recognise it (the last four digits
// of numbers, the domain of an email) and stars the rest.
func partialMask(b *strings.Builder, v string, t piiType) {
	switch t {
	case piiSSN, piiCreditCard, piiPhone, piiBSN, piiBankAccount:
		tail := lastDigits(v, 4)
		if t == piiBankAccount && len(v) >= 15 && isAlphaByte(v[0]) { // IBAN: country + last 4
			b.WriteString(v[:2])
			b.WriteString(strings.Repeat("*", len(v)-6))
			b.WriteString(v[len(v)-4:])
			return
		}
		prefix := partialPrefix[t]
		if tail == "" {
			tail = "****"
		}
		b.WriteString(prefix)
		b.WriteString(tail)
	case piiEmail:
		at := strings.LastIndexByte(v, '@')
		local := v[:at]
		if len(local) > 2 {
			b.WriteByte(local[0])
			b.WriteString("***")
			b.WriteByte(local[len(local)-1])
		} else {
			b.WriteString("***")
		}
		b.WriteString(v[at:])
	default: // first and last character, stars between (by runes: custom matches may be non-ASCII)
		n := utf8.RuneCountInString(v)
		first, fl := utf8.DecodeRuneInString(v)
		last, _ := utf8.DecodeLastRuneInString(v)
		switch {
		case n > 2:
			b.WriteRune(first)
			b.WriteString(strings.Repeat("*", n-2))
			b.WriteRune(last)
		case n == 2:
			b.WriteString(v[:fl])
			b.WriteByte('*')
		default:
			b.WriteByte('*')
		}
	}
}
