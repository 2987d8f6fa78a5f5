package builtins

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxRateCount bounds the count of one rate. A larger count is almost certainly a typo,
// and the sliding state of a key must stay small. The same ceiling as the gateway's
// Rust rate limiter, so a config valid there is valid here.
const maxRateCount = 1_000_000

// rate is a parsed `N/unit` limit: Count requests per Window.
type rate struct {
	Count  int64
	Window time.Duration
}

// String renders the rate back in the config syntax with the short unit.
func (r rate) String() string {
	switch r.Window {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Count)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.Count)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.Count)
	}
	return fmt.Sprintf("%d/%s", r.Count, r.Window)
}

// rateUnits are the accepted spellings of the window, compared case-insensitively. They
// are the spellings the gateway's rate limiter accepts (s/sec/second, m/min/minute,
// h/hr/hour), so a migrated config parses unchanged.
var rateUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hour": time.Hour,
}

// parseRate parses `<count>/<unit>` (spaces around either part are ignored): count is a
// decimal integer in 1..1,000,000, unit one of s, sec, second, m, min, minute, h, hr, hour.
// The error says what is wrong without repeating the key (the caller names it).
func parseRate(s string) (rate, error) {
	countText, unitText, found := strings.Cut(strings.TrimSpace(s), "/")
	if !found {
		return rate{}, fmt.Errorf("expected \"<count>/<unit>\" such as \"30/m\" (unit s, m or h)")
	}
	countText = strings.TrimSpace(countText)
	// Only plain decimal digits: ParseInt alone would accept "+5" or "-0".
	if countText == "" || strings.TrimLeft(countText, "0123456789") != "" {
		return rate{}, fmt.Errorf("count %q is not a positive integer", countText)
	}
	count, err := strconv.ParseInt(countText, 10, 64)
	if err != nil || count > maxRateCount {
		return rate{}, fmt.Errorf("count %q exceeds the ceiling of %d", countText, maxRateCount)
	}
	if count == 0 {
		return rate{}, fmt.Errorf("count must be at least 1")
	}
	window, ok := rateUnits[strings.ToLower(strings.TrimSpace(unitText))]
	if !ok {
		return rate{}, fmt.Errorf("unit %q is not one of s, sec, second, m, min, minute, h, hr, hour", strings.TrimSpace(unitText))
	}
	return rate{Count: count, Window: window}, nil
}
