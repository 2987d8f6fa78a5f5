package core

import (
	"context"
	"fmt"
)

// InvokePlugin runs one hook of one plugin by name (upstream invoke_hook_for_plugin):
// the timeout, on_error and the mode's result conversion apply, but no filtering, no
// size check, no policy, no records. pctx may be nil. Errors: *PluginError (unknown
// plugin or hook, on_error fail), *ViolationError, *TimeoutError (a timeout under
// on_error ignore/disable), ErrManagerClosed.
func (m *Manager) InvokePlugin(ctx context.Context, name, hook string, payload *Payload, pctx *PluginContext, opts ...InvokeOption) (*Result, error) {
	set := m.acquire()
	if set == nil {
		return nil, ErrManagerClosed
	}
	defer m.release(set)
	var ref *Ref
	for _, r := range set.refs {
		if r.Name == name {
			ref = r
			break
		}
	}
	if ref == nil || !set.hooks[name][hook] {
		return nil, &PluginError{PluginName: name, Message: fmt.Sprintf("Unable to find %s for plugin %s.  Make sure the plugin is registered.", hook, name)}
	}
	io := invokeOptions{pool: -1}
	for _, opt := range opts {
		opt(&io)
	}
	if pctx == nil {
		pctx = &PluginContext{}
	}
	if payload == nil {
		payload = NewPayloadValue(map[string]any{})
	}
	run, step := m.exec.StartSingle(ref, &Facts{Hook: hook, ViolationsAsErrors: io.vexc}, false, false)
	res, o := callGo(ctx, ref, hook, payload, pctx, m.timeout(run))
	o.Index = step.Call().Index
	next, err := run.Report(&o)
	if err != nil {
		return nil, err
	}
	m.emit(next.Logs)
	if next.Op == OpRaise {
		step := next.Raise()
		switch step.Kind {
		case RaisePluginTimeout:
			return nil, &TimeoutError{Message: step.Message}
		case RaiseTimeout:
			return nil, &PluginError{PluginName: name, Message: step.Message, Timeout: true}
		case RaiseViolation:
			if ve, ok := o.err.(*ViolationError); ok && step.Own {
				return nil, ve
			}
			var v *Violation
			if res != nil && res.Violation != nil {
				cp := *res.Violation
				cp.PluginName = name
				v = &cp
			}
			return nil, &ViolationError{Message: step.Message, Violation: v}
		}
		if pe, ok := o.err.(*PluginError); ok && step.Own {
			return nil, pe
		}
		err := &PluginError{PluginName: name, Message: step.Message}
		if step.Cause {
			err.Err = o.err
		}
		return nil, err
	}
	if res == nil {
		res = &Result{}
	}
	done := next.Done()
	if done.Single == SinglePlugin {
		return res, nil
	}
	out := &Result{Block: !done.Continue}
	if done.Payload {
		out.ModifiedPayload = res.ModifiedPayload
	}
	if done.Violation && res.Violation != nil {
		cp := *res.Violation
		cp.PluginName = name
		out.Violation = &cp
	}
	return out, nil
}
