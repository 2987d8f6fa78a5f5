package isolated

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// The test binary doubles as a fake worker: TestMain runs fakeWorker when
// FAKE_ISOLATED_WORKER names a behaviour.
func TestMain(m *testing.M) {
	if mode := os.Getenv("FAKE_ISOLATED_WORKER"); mode != "" {
		fakeWorker(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeWorker speaks NDJSON v1 on stdin/stdout with one misbehaviour per mode.
func fakeWorker(mode string) {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	var outMu sync.Mutex
	write := func(v any) {
		b, _ := json.Marshal(v)
		outMu.Lock()
		os.Stdout.Write(append(b, '\n'))
		outMu.Unlock()
	}
	// held: answers parked until the task they wait for has been seen (out-of-order).
	held := map[string]func(){}
	seen := map[string]bool{}
	for in.Scan() {
		var t map[string]any
		if err := json.Unmarshal(in.Bytes(), &t); err != nil {
			write(map[string]any{"status": "error", "message": "Invalid JSON input", "request_id": "unknown"})
			continue
		}
		id, _ := t["request_id"].(string)
		switch t["task_type"] {
		case "shutdown":
			write(map[string]any{"status": "success", "request_id": id})
			return
		case "capabilities":
			switch mode {
			case "old":
				write(map[string]any{"status": "error", "message": "task type not supported.", "request_id": id})
			case "silent_handshake":
			case "v2":
				write(map[string]any{"status": "success", "protocol_version": 2, "features": []string{}, "request_id": id})
			default:
				write(map[string]any{"status": "success", "protocol_version": 1, "cpex_version": "fake",
					"features": []string{"credential", "extensions", "modified_extensions", "telepathy"}, "request_id": id})
			}
			continue
		}
		payload, _ := t["payload"].(map[string]any)
		switch mode {
		case "silent":
			continue
		case "garbage":
			fmt.Println("this is not json")
			continue
		case "chatty":
			fmt.Println("a plugin printing on stdout")
		case "oversized":
			fmt.Printf("{\"metadata\": {\"pad\": %q}, \"request_id\": %q}\n", strings.Repeat("x", 4096), id)
			continue
		case "die":
			os.Exit(3)
		case "dieonce":
			marker := os.Getenv("FAKE_MARKER")
			if _, err := os.Stat(marker); err != nil {
				_ = os.WriteFile(marker, []byte("x"), 0o644)
				fmt.Fprintln(os.Stderr, "fake worker: dying on purpose")
				os.Exit(3)
			}
		case "error":
			write(map[string]any{"status": "error", "message": "Unexpected error: boom", "request_id": id})
			continue
		case "block":
			write(map[string]any{"continue_processing": false, "request_id": id, "violation": map[string]any{
				"reason": "no", "description": "denied", "code": "DENY", "details": map[string]any{},
				"http_headers": map[string]string{"Set-Cookie": "s=1", "Retry-After": "5"}}})
			continue
		}
		// Echo: the payload as received, plus a Set-Cookie the host must drop, and the
		// context as metadata.
		mod := map[string]any{}
		for k, v := range payload {
			mod[k] = v
		}
		mod["headers"] = map[string]any{"Set-Cookie": "leak=1", "X-Kept": "yes"}
		answer := map[string]any{"continue_processing": true, "modified_payload": mod,
			"metadata": map[string]any{"context": t["context"], "hook": t["hook_type"], "class": t["class_name"], "extensions": t["extensions"]}, "request_id": id}
		name, _ := payload["name"].(string)
		seen[name] = true
		if wait, _ := payload["wait_for"].(string); wait != "" && !seen[wait] {
			held[wait] = func() { write(answer) }
			continue
		}
		write(answer)
		if f, ok := held[name]; ok {
			delete(held, name)
			f()
		}
	}
}
