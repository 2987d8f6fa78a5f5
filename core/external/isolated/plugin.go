package isolated

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

// Error codes of the errors this host makes.
const (
	CodeConfig    = "ISOLATED_CONFIG_ERROR"
	CodeVenv      = "ISOLATED_VENV_ERROR"
	CodeWorker    = "ISOLATED_WORKER_ERROR"
	CodeFeatures  = "ISOLATED_FEATURES_MISSING"
	CodeTooLarge  = "ISOLATED_CONTENT_TOO_LARGE"
	CodeTimeout   = "ISOLATED_TIMEOUT"
	CodeResponse  = "ISOLATED_INVALID_RESPONSE"
	CodeRemote    = "ISOLATED_PLUGIN_ERROR"
	workerModule  = "cpex.framework.isolated.worker"
	shutdownGrace = 5 * time.Second
)

// DefaultCallTimeout is upstream's per-task timeout; the manager's deadline, when
// shorter, wins.
const DefaultCallTimeout = 30 * time.Second

// Options tune New. The zero value builds the venv with python3 under ./plugins.
type Options struct {
	// Python creates the venv (the Python extension passes sys.executable, as upstream).
	Python string
	// PluginDirs are the config document's plugin_dirs; the first is the cache root
	// and all go to the worker, which puts the allowed ones on its sys.path.
	PluginDirs []string
	// Dir is the worker's working directory (default: this process's).
	Dir string
	// SafeConfig is the plugin config JSON the worker instantiates the plugin with
	// (default: pc as JSON).
	SafeConfig string
	// Requirements is the requirements file (default: config.requirements_file
	// relative to the plugin root; "" and absent mean none).
	Requirements string
	// CallTimeout bounds one call (default DefaultCallTimeout), a worker's start and
	// handshake included when the call has to start one.
	CallTimeout time.Duration
	// StartTimeout bounds a worker's capabilities handshake (default CallTimeout). A
	// worker imports its plugin's dependencies before it answers, which on a loaded
	// host can take longer than a short call timeout allows; within a call the
	// call's own deadline still applies.
	StartTimeout time.Duration
	// WorkerArgv returns the worker's command line for the venv's interpreter (default:
	// python -I -m cpex.framework.isolated.worker: the venv's own cpex, the working
	// directory not on sys.path).
	WorkerArgv func(venvPython string) []string
	// Env is the worker's environment (default: only PLUGINS_CONFIG_FILE, as upstream).
	Env []string
	// SkipVenv uses an existing venv at the layout's path as is (tests, a prebuilt
	// image); the requirements are not installed.
	SkipVenv bool
}

// Plugin is one isolated_venv plugin: a Go core.Plugin whose Invoke runs a
// load_and_run_hook task on the venv's worker. A dead worker is replaced by the next
// call (one restart per death, shared by all callers that noticed it).
type Plugin struct {
	name, class string
	pc          *config.PluginConfig
	opts        Options
	layout      Layout
	argv        []string
	env         []string
	need        []string

	mu       sync.Mutex // guards w, closed, features; never held during a call
	w        *worker
	closed   bool
	features Features
	// Restarts counts workers started after the first (for tests and metrics).
	restarts int
}

var (
	_ core.Shutdowner = (*Plugin)(nil)
	_ core.Blocking   = (*Plugin)(nil)
)

// Blocking: every call is a round trip to another process.
func (p *Plugin) Blocking() bool { return true }

// New validates pc, makes its venv (cached), starts the worker and checks its features.
// Errors are *core.PluginError naming the plugin and the cause.
func New(ctx context.Context, pc *config.PluginConfig, o Options) (*Plugin, error) {
	if pc.Kind != config.KindIsolatedVenv {
		return nil, perr(pc.Name, CodeConfig, fmt.Sprintf("isolated plugin %s: kind is %q, want %q", pc.Name, pc.Kind, config.KindIsolatedVenv), nil)
	}
	class, _ := pc.Config["class_name"].(string)
	if strings.TrimSpace(class) == "" || !strings.Contains(class, ".") {
		return nil, perr(pc.Name, CodeConfig, fmt.Sprintf("isolated plugin %s: config.class_name must be a dotted module.Class path, got %v", pc.Name, pc.Config["class_name"]), nil)
	}
	for _, c := range pc.Capabilities {
		// Only capabilities this host knows go to a worker: an unknown one could be read
		// by a newer worker as a grant the host never meant.
		if !config.Capability(c).Valid() {
			return nil, perr(pc.Name, CodeConfig, fmt.Sprintf("isolated plugin %s: unknown capability %q", pc.Name, c), nil)
		}
	}
	if len(o.PluginDirs) == 0 {
		return nil, perr(pc.Name, CodeConfig, fmt.Sprintf("isolated plugin %s: plugin_dirs is empty; its first entry is where the venv is cached", pc.Name), nil)
	}
	layout, err := NewLayout(o.PluginDirs[0], class)
	if err != nil {
		return nil, perr(pc.Name, CodeConfig, fmt.Sprintf("isolated plugin %s: %v", pc.Name, err), err)
	}
	if err := o.fill(pc, layout); err != nil {
		return nil, perr(pc.Name, CodeConfig, fmt.Sprintf("isolated plugin %s: %v", pc.Name, err), err)
	}
	p := &Plugin{name: pc.Name, class: class, pc: pc, opts: o, layout: layout, need: requiredFeatures(pc)}
	p.argv = o.WorkerArgv(VenvPython(layout.Venv))
	p.env = o.Env
	if !o.SkipVenv {
		if err := os.MkdirAll(layout.Root, 0o755); err != nil {
			return nil, perr(pc.Name, CodeVenv, fmt.Sprintf("isolated plugin %s: creating %s: %v", pc.Name, layout.Root, err), err)
		}
		spec := Spec{Layout: layout, Requirements: o.Requirements, Version: pc.Version, Python: o.Python}
		if _, err := Ensure(ctx, spec); err != nil {
			var ie *InstallError
			if errors.As(err, &ie) {
				return nil, perr(pc.Name, CodeVenv, fmt.Sprintf("isolated plugin %s: installing its requirements failed: %v", pc.Name, err), err)
			}
			return nil, perr(pc.Name, CodeVenv, fmt.Sprintf("isolated plugin %s: %v", pc.Name, err), err)
		}
	}
	if _, err := p.worker(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func (o *Options) fill(pc *config.PluginConfig, layout Layout) error {
	if o.Python == "" {
		o.Python = "python3"
	}
	if o.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		o.Dir = wd
	}
	if o.SafeConfig == "" {
		b, err := json.Marshal(pc)
		if err != nil {
			return fmt.Errorf("encoding its config: %w", err)
		}
		o.SafeConfig = string(b)
	}
	if o.Requirements == "" {
		if rf, _ := pc.Config["requirements_file"].(string); rf != "" {
			if !filepath.IsAbs(rf) {
				rf = filepath.Join(layout.Root, rf)
			}
			o.Requirements = rf
		}
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = o.CallTimeout
	}
	if o.WorkerArgv == nil {
		o.WorkerArgv = func(py string) []string { return []string{py, "-I", "-m", workerModule} }
	}
	if o.Env == nil {
		cf := os.Getenv("PLUGINS_CONFIG_FILE")
		if cf == "" {
			cf = "plugins/config.yaml"
		}
		o.Env = []string{"PLUGINS_CONFIG_FILE=" + cf}
	}
	return nil
}

// Layout is where the plugin's venv and cache key live.
func (p *Plugin) Layout() Layout { return p.layout }

// Features are what the current worker announced.
func (p *Plugin) Features() Features {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.features
}

// Restarts counts the workers started after the first.
func (p *Plugin) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// worker returns the running worker, starting one (handshake and feature check
// included) when there is none or the last one died.
func (p *Plugin) worker(ctx context.Context) (*worker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, perr(p.name, CodeWorker, fmt.Sprintf("isolated plugin %s: shut down", p.name), nil)
	}
	if p.w != nil && p.w.alive() {
		return p.w, nil
	}
	if p.w != nil {
		p.restarts++
	}
	w, err := startWorker(p.argv, p.opts.Dir, p.env, p.pc.MaxContentSize)
	if err != nil {
		return nil, perr(p.name, CodeWorker, fmt.Sprintf("isolated plugin %s: %v", p.name, err), err)
	}
	hctx, cancel := context.WithTimeout(ctx, p.opts.StartTimeout)
	defer cancel()
	a, err := w.call(hctx, func(id string) ([]byte, error) {
		return marshal(controlTask{TaskType: taskCapabilities, RequestID: id})
	})
	if err == nil && a.tooLarge {
		err = fmt.Errorf("capabilities answer exceeds max_content_size")
	}
	var f Features
	if err == nil {
		f, err = parseFeatures(a)
	}
	if err != nil {
		w.stop(errors.New("handshake failed"))
		return nil, perr(p.name, CodeWorker, fmt.Sprintf("isolated plugin %s: worker handshake (capabilities): %v", p.name, describe(err)), err)
	}
	if miss := f.missing(p.need); len(miss) > 0 {
		go w.shutdown(shutdownGrace)
		return nil, perr(p.name, CodeFeatures, fmt.Sprintf("isolated plugin %s: its worker lacks the %s feature(s) the plugin needs (worker features %s, cpex %q); install a cpex with a newer worker in its venv",
			p.name, strings.Join(miss, ", "), f, f.CPEXVersion), nil)
	}
	p.w, p.features = w, f
	return w, nil
}

// Invoke runs hook on the worker. The payload and the answer lose their sensitive
// headers; the task and the answer are each bounded by max_content_size.
func (p *Plugin) Invoke(ctx context.Context, hook string, payload *core.Payload, pctx *core.PluginContext) (*core.Result, error) {
	raw, err := payloadJSON(payload)
	if err != nil {
		return nil, perr(p.name, CodeConfig, fmt.Sprintf("isolated plugin %s: encoding the payload: %v", p.name, err), err)
	}
	mk := func(id string) ([]byte, error) {
		return marshal(hookTask{TaskType: taskRunHook, PluginDirs: p.opts.PluginDirs, ClassName: p.class, Config: p.opts.SafeConfig,
			HookType: hook, PluginName: p.name, Payload: raw, Context: wireContext(pctx), Extensions: p.extensions(pctx), RequestID: id})
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	defer cancel()
	w, err := p.worker(ctx)
	if err != nil {
		return nil, err
	}
	a, err := w.call(ctx, mk)
	var gone *errWorkerGone
	if errors.As(err, &gone) && ctx.Err() == nil {
		// The worker died before answering: the call never ran to completion there,
		// so it is sent once more to a fresh worker.
		if w, err = p.worker(ctx); err != nil {
			return nil, err
		}
		a, err = w.call(ctx, mk)
	}
	if err != nil {
		return nil, p.callErr(hook, err, w.lastNoise())
	}
	if a.tooLarge {
		return nil, perr(p.name, CodeTooLarge, fmt.Sprintf("isolated plugin %s: %s answer exceeds max_content_size (%d bytes)", p.name, hook, p.pc.MaxContentSize), nil)
	}
	if a.status == "error" {
		return nil, perr(p.name, CodeRemote, fmt.Sprintf("Worker process error: %s", a.msg), nil)
	}
	r, err := a.result()
	if err != nil {
		return nil, perr(p.name, CodeResponse, fmt.Sprintf("isolated plugin %s: %s: %v", p.name, hook, err), err)
	}
	return r, nil
}

// ReadsExtensions: a plugin granted capabilities reads the extensions they allow
// (core.ExtensionsReader), so hosts hand them over.
func (p *Plugin) ReadsExtensions() bool { return len(p.pc.Capabilities) > 0 }

// extensions is what the task carries for pctx's extensions: nothing for a plugin
// without capabilities, else them with the sensitive headers stripped (never across the
// venv boundary).
func (p *Plugin) extensions(pctx *core.PluginContext) map[string]any {
	if pctx == nil || len(pctx.Extensions) == 0 || !p.ReadsExtensions() {
		return nil
	}
	out, _ := stripSensitive(pctx.Extensions).(map[string]any)
	return out
}

func (p *Plugin) callErr(hook string, err error, noise string) error {
	var tl *errTooLarge
	switch {
	case errors.As(err, &tl):
		return perr(p.name, CodeTooLarge, fmt.Sprintf("isolated plugin %s: %s %v", p.name, hook, err), err)
	case errors.Is(err, context.DeadlineExceeded):
		msg := fmt.Sprintf("isolated plugin %s: %s: the worker did not answer in time", p.name, hook)
		if noise != "" {
			msg += "; its last output that was not protocol JSON: " + noise
		}
		return perr(p.name, CodeTimeout, msg, err)
	case errors.Is(err, context.Canceled):
		return err
	}
	return perr(p.name, CodeWorker, fmt.Sprintf("isolated plugin %s: %s: %v", p.name, hook, err), err)
}

func describe(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return err.Error()
}

// Shutdown stops the worker (the shutdown task, then a kill after a grace period).
func (p *Plugin) Shutdown(context.Context) error {
	p.mu.Lock()
	w := p.w
	p.w, p.closed = nil, true
	p.mu.Unlock()
	if w != nil {
		w.shutdown(shutdownGrace)
	}
	return nil
}

func perr(plugin, code, msg string, cause error) *core.PluginError {
	return &core.PluginError{PluginName: plugin, Code: code, Message: msg, Err: cause}
}
