package engine

import (
	"fmt"
	"strconv"
)

// formatSeconds renders a timeout the way Python prints the number it was given: an
// integral value without a fraction ("30"), otherwise the shortest float ("0.5").
func formatSeconds(secs float64, integral bool) string {
	if integral && secs == float64(int64(secs)) {
		return strconv.FormatInt(int64(secs), 10)
	}
	s := strconv.FormatFloat(secs, 'g', -1, 64)
	if secs == float64(int64(secs)) && !containsAny(s, ".e") {
		s += ".0"
	}
	return s
}

func containsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}

func timeoutMessage(name, secs string) string {
	return fmt.Sprintf("Plugin %s exceeded %ss timeout", name, secs)
}
