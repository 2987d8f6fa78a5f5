package isolated

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzDecodeAnswer: whatever a worker writes, decoding neither panics nor yields a
// result from a non-object line.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []string{`{"continue_processing":false,"request_id":"a"}`, `{"status":"error","message":"x"}`,
		`{"modified_payload":[1]}`, `[]`, `nul`, `{"violation":{"http_headers":{"Cookie":"1"}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		a, err := decodeAnswer(line)
		if err != nil {
			return
		}
		if r, err := a.result(); err == nil && r.Violation != nil {
			for k := range r.Violation.HTTPHeaders {
				if IsSensitiveHeader(k) {
					t.Fatalf("sensitive header %q survived", k)
				}
			}
		}
	})
}

// FuzzReadLine: a bounded read never returns more than max bytes and stays in sync.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("abc\ndef\n"), 2)
	f.Add([]byte(`{"x":"yyyyyyyy","request_id":"r"}`+"\nok\n"), 8)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		br := bufio.NewReaderSize(bytes.NewReader(in), 16)
		for i := 0; i < 1000; i++ {
			line, over, _, err := readLine(br, max)
			if err != nil {
				return
			}
			if !over && max > 0 && len(line) > max {
				t.Fatalf("line of %d bytes with max %d", len(line), max)
			}
		}
	})
}
