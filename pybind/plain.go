package pybind

import (
	"fmt"
	"strconv"
	"strings"

	core "github.com/cpex-go/cpex/core/engine"
)

// RunReportPlain folds in the outcomes of the awaited call and of the calls its step
// listed in "next", in order, exactly as RunReport would one by one, and answers the step
// after the last (docs/protocol.md, "Batches"). plain is "i:dur,i:dur,..." (plugin index
// and duration in ns of each plain outcome, in the order the calls ran) and last is "" or
// the JSON of one more outcome (the first that was not plain, which ends the batch). A
// plain outcome is {"st":"ok","cont":true,"ret":"none","ext":0,"viol":null,"retry":0}:
// most serial calls end plain, and for them neither side formats nor parses an outcome
// document. A batch that breaks the rules is refused whole, the run left as it was.
func RunReportPlain(run int, plain string, last string) (_ string, err error) {
	defer guard("RunReportPlain", &err)
	re, err := st.run("RunReportPlain", run)
	if err != nil {
		return "", err
	}
	outs, err := parsePlain("RunReportPlain", plain, last != "")
	if err != nil {
		return "", err
	}
	if last != "" {
		o, err := parseOutcome("RunReportPlain", last)
		if err != nil {
			return "", fmt.Errorf("%w (last)", err)
		}
		outs = append(outs, *o)
	}
	return re.reportBatch("RunReportPlain", outs)
}

// maxPlainBatch bounds the pairs one RunReportPlain reads (a batch never lists more calls
// than a plan has plugins; the bound keeps a malformed argument from allocating at will).
const maxPlainBatch = 1 << 16

// parsePlain reads "i:dur,i:dur,..." into plain outcomes, with room for one more. An
// empty list is accepted only when a last outcome follows (hasLast).
func parsePlain(fn, plain string, hasLast bool) ([]core.Outcome, error) {
	if plain == "" {
		if !hasLast {
			return nil, fmt.Errorf("%s: no outcomes: plain and last are both empty", fn)
		}
		return make([]core.Outcome, 0, 1), nil
	}
	n := strings.Count(plain, ",") + 1
	if n > maxPlainBatch {
		return nil, fmt.Errorf("%s: plain: %d outcomes, at most %d", fn, n, maxPlainBatch)
	}
	outs := make([]core.Outcome, 0, n+1)
	rest := plain
	for k := 0; k < n; k++ {
		pair := rest
		if c := strings.IndexByte(rest, ','); c >= 0 {
			pair, rest = rest[:c], rest[c+1:]
		}
		colon := strings.IndexByte(pair, ':')
		if colon < 0 {
			return nil, fmt.Errorf("%s: plain[%d]: want index:duration, got %s", fn, k, clip(pair))
		}
		i, err := strconv.Atoi(pair[:colon])
		if err != nil || i < 0 {
			return nil, fmt.Errorf("%s: plain[%d]: index: want a non-negative integer, got %s", fn, k, clip(pair[:colon]))
		}
		dur, err := strconv.ParseInt(pair[colon+1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: plain[%d]: duration: want an integer (ns), got %s", fn, k, clip(pair[colon+1:]))
		}
		outs = append(outs, core.Outcome{Index: i, Status: core.OutcomeOK, Continue: true, DurationNs: dur})
	}
	return outs, nil
}
