package host

import (
	"context"
	"fmt"

	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/plugin"
)

// InvokePlugin runs one hook of one plugin by name (upstream invoke_hook_for_plugin):
// the timeout, on_error and the mode's result conversion apply, but no filtering, no
// size check, no policy, no records. pctx may be nil. Errors: *PluginError (unknown
// plugin or hook, on_error fail), *ViolationError, *TimeoutError (a timeout under
// on_error ignore/disable), ErrManagerClosed.
func (m *Manager) InvokePlugin(ctx context.Context, name, hook string, payload *plugin.Payload, pctx *plugin.PluginContext, opts ...InvokeOption) (*plugin.Result, error) {
	set := m.acquire()
	if set == nil {
		return nil, ErrManagerClosed
	}
	defer m.release(set)
	var ref *engine.Ref
	for _, r := range set.refs {
		if r.Name == name {
			ref = r
			break
		}
	}
	if ref == nil || !set.hooks[name][hook] {
		return nil, &plugin.PluginError{PluginName: name, Message: fmt.Sprintf("Unable to find %s for plugin %s.  Make sure the plugin is registered.", hook, name)}
	}
	io := collectInvokeOptions(opts)
	if pctx == nil {
		pctx = &plugin.PluginContext{}
	}
	if payload == nil {
		payload = plugin.NewPayloadValue(map[string]any{})
	}
	run, step := m.exec.StartSingle(ref, &engine.Facts{Hook: hook, ViolationsAsErrors: io.vexc}, false, false)
	res, o := callGo(ctx, m.tracer, ref, hook, payload, pctx, m.timeout(run))
	o.Index = step.Call().Index
	next, err := run.Report(&o)
	if err != nil {
		return nil, err
	}
	m.emit(next.Logs)
	if next.Op == engine.OpRaise {
		step := next.Raise()
		switch step.Kind {
		case engine.RaisePluginTimeout:
			return nil, &plugin.TimeoutError{Message: step.Message}
		case engine.RaiseTimeout:
			return nil, &plugin.PluginError{PluginName: name, Message: step.Message, Timeout: true}
		case engine.RaiseViolation:
			if ve, ok := o.Err.(*plugin.ViolationError); ok && step.Own {
				return nil, ve
			}
			var v *plugin.Violation
			if res != nil && res.Violation != nil {
				cp := *res.Violation
				cp.PluginName = name
				v = &cp
			}
			return nil, &plugin.ViolationError{Message: step.Message, Violation: v}
		}
		if pe, ok := o.Err.(*plugin.PluginError); ok && step.Own {
			return nil, pe
		}
		err := &plugin.PluginError{PluginName: name, Message: step.Message}
		if step.Cause {
			err.Err = o.Err
		}
		return nil, err
	}
	if res == nil {
		res = &plugin.Result{}
	}
	done := next.Done()
	if done.Single == engine.SinglePlugin {
		return res, nil
	}
	out := &plugin.Result{Block: !done.Continue}
	if done.Payload {
		out.ModifiedPayload = res.ModifiedPayload
	}
	if done.Violation && res.Violation != nil {
		cp := *res.Violation
		cp.PluginName = name
		out.Violation = &cp
	}
	if done.Denial {
		out.DenialMetadata = res.DenialMetadata
	}
	return out, nil
}
