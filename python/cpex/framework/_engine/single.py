"""One plugin's hook alone (invoke_hook_for_plugin, execute_plugin) in at most one crossing.

The general protocol starts a single run (RunSingle), awaits the hook and reports its
outcome (RunReport): two crossings and two JSON round trips around every call. Here the
core is asked once per (executor, plugin, facts) for its standing answer (SingleRule): the
call step every such run starts with, a rule id, and whether a plain outcome (the hook
returned, let processing go on, carried nothing to apply or say) ends the run with the
plugin's own result and nothing else. Then, per call:

- a plain outcome, when the core said it ends so: no crossing at all (metrics off);
- a plain outcome otherwise: RunSinglePlain(rule, duration), ints only, no JSON; the core
  decides and counts it, and answers "" for "the plugin's own result" or the final step;
- a modified payload and nothing else: RunSingleReport(rule, outcome) with the outcome
  preformatted (_returned_outcome), no _Run built unless the answer is a step;
- any other outcome: RunSingleReport(rule, outcome), one crossing with the outcome's
  JSON. Both answer "" too when the run ends with the plugin's own result (a plugin
  that modified the payload and let processing go on), else the final step, carried
  out as for any single run (_Run.drive).

The rules stay the core's: Python caches its answer, it does not decide it. The cache is
dropped whenever the executor's options or metrics change (CoreExecutor). Only the shape
invoke_hook_for_plugin produces takes this path: no observability span, no global
context to merge back and no metadata accumulator (those keep the general protocol, see
CoreExecutor._run_single).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from cpex.framework._engine import wire
from cpex.framework._engine.invoke import _Call, begin, finish, go_invoke_timeout
from cpex.framework._engine.payload import _dumps, _loads
from cpex.framework._engine.refs import core_ref_id
from cpex.framework._engine.run import _is_plain, _returned_kind, _Run
from cpex.framework.extensions import Extensions
from cpex.framework.models import PluginContext, PluginResult

if TYPE_CHECKING:
    from cpex.framework._engine.executor import CoreExecutor


class SingleRule:
    """The core's standing answer for single runs of one plugin under one set of facts."""

    __slots__ = ("timeout", "id", "plain_ends", "go_single")

    def __init__(self, step: dict[str, Any], go_single: Any) -> None:
        self.timeout: float = step["timeout"]
        self.id: int = step["rule"]
        self.plain_ends: bool = bool(step.get("plain_ends"))
        # A Go plugin's one-crossing call (_goplugin.py), None for any other hook. Kept
        # here because a HookRef resolves its handler once, at construction, and a lookup
        # that misses costs an AttributeError per call (5 k instructions, a tenth of a
        # pass-through call).
        self.go_single: Any = go_single


def _rule(executor: CoreExecutor, hook_ref: Any, ref_id: int, vexc: bool, hook_name: Any) -> SingleRule:
    # only the violation message reads "hook"; upstream formats the HookRef's name (an
    # f-string: a str-enum member reads "PromptHookType.PROMPT_PRE_FETCH")
    facts = _dumps({"vexc": vexc, "merge": False, "meta": False, "trace": False, "hook": f"{hook_name}"})
    step = _loads(wire.single_rule(executor._core(), ref_id, facts))
    # The fast path assumes the call step the general path would carry out: nothing to
    # merge, no accumulator, no span. A core answering otherwise is not taken on trust.
    if step.get("op") != "call" or step.get("merge") or step.get("meta") or step.get("span"):
        raise RuntimeError(f"cpex: unexpected single-run call step from the core: {step!r}")
    rule = SingleRule(step, getattr(hook_ref.hook, "go_single", None))
    executor._single_rules[(ref_id, vexc, hook_name)] = rule
    return rule


async def run_single(
    executor: CoreExecutor,
    hook_ref: Any,
    payload: Any,
    context: PluginContext,
    vexc: bool,
    extensions: Optional[Extensions],
) -> PluginResult:
    plugin_ref = hook_ref.plugin_ref
    ref_id = plugin_ref._core_id or core_ref_id(plugin_ref)
    name = hook_ref.name
    rule = executor._single_rules.get((ref_id, vexc, name))
    if rule is None:
        rule = _rule(executor, hook_ref, ref_id, vexc, name)
    # A Go plugin's hook runs with the core's rule in one crossing (_goplugin.py), unless
    # it answers None (the general path below) or its call raised (reported below).
    go_single = rule.go_single
    done = go_single(rule, payload, context) if go_single is not None else None
    if done is not None:
        call, step = done
        if step is not None:
            if not step:  # the run ended with the plugin's own result
                return call.result
            return (await _single_run(executor, hook_ref, payload, context, extensions, call).drive(step))[0]
    else:
        # a Go plugin's coroutine passes the executor's timeout on to the core
        token = go_invoke_timeout.set(rule.timeout)
        try:
            # awaited as every path awaits a hook (invoke.begin, invoke.finish): a hook that
            # returns without suspending runs as one coroutine step, and the timer is armed
            # only if it suspends (inline: a coroutine frame less per call)
            call = _Call()
            begin(call, hook_ref, payload, context, extensions)
            if call.pending is not None:
                await finish(call, rule.timeout)
        finally:
            go_invoke_timeout.reset(token)
    result = call.result
    if result is not None:
        try:
            if result.violation is not None:
                result.violation.plugin_name = plugin_ref.name
        except Exception as exc:  # noqa: BLE001 - the plugin's error, as in _Run._after_return
            call.result, call.exc, call.status = None, exc, "error"
            result = None
    if result is not None and _is_plain(result, None):
        modified = result.modified_payload
        if modified is None:
            if rule.plain_ends:
                return result
            answer = wire.run_single_plain(rule.id, call.duration)
        else:
            # a modified payload and nothing else (the header injection, a redaction): the
            # outcome _Run._outcome would format for it, without a _Run (none is needed
            # unless the core answers a step to carry out)
            answer = wire.run_single_report(rule.id, _returned_outcome(payload, modified, call.duration))
        if not answer:
            return result
        run = _single_run(executor, hook_ref, payload, context, extensions, call)
    else:
        # not plain: the general path's outcome, its final step in the same crossing
        run = _single_run(executor, hook_ref, payload, context, extensions, call)
        ret = None
        if result is not None and result.modified_payload is not None:
            ret = run._returned(False, payload, result.modified_payload)
        answer = wire.run_single_report(rule.id, run._outcome(0, call, ret))
        if not answer and result is not None:  # "" answers a returned result only
            return result
    # the core's final step, carried out as for any single run
    return (await run.drive(_loads(answer)))[0]


def _returned_outcome(payload: Any, modified: Any, duration: int) -> str:
    """RunSingleReport's outcome of a call that returned ``modified`` and nothing else to
    apply or say: the document _Run._outcome formats for it in a single run (index 0, the
    kind _Run._returned reports; never the run's current payload, a single run has none;
    no "chg": the single run's call step asks for no diff)."""
    kind = _returned_kind(payload, modified)
    return (f'{{"i":0,"st":"ok","cont":true,"ret":"{kind}","cur":false,"ext":0,"viol":null,'
            f'"retry":0,"dur":{duration}}}')


def _single_run(
    executor: CoreExecutor, hook_ref: Any, payload: Any, context: PluginContext, extensions: Optional[Extensions], call: _Call
) -> _Run:
    run = _Run(executor, [hook_ref], payload, None, "", None, extensions, None, None, 0)
    run.single_context = context
    run.calls[0] = call
    return run
