"""One executor's core handle, options and plan cache; runs start here."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, MutableSet
from typing import Any, Optional

from cpex.framework._engine import wire
from cpex.framework._engine.invoke import go_invoke_timeout
from cpex.framework._engine.payload import _dumps, _loads
from cpex.framework._engine.refs import _facts, core_ref_id, size_fact
from cpex.framework._engine.run import ChainRule, _Run
from cpex.framework._engine.single import SingleRule, run_single
from cpex.framework.extensions import Extensions
from cpex.framework.hooks.policies import DefaultHookPolicy, HookPayloadPolicy
from cpex.framework.models import (
    GlobalContext,
    PluginContext,
    PluginContextTable,
    PluginPayload,
    PluginResult,
)
from cpex.framework.observability import ObservabilityProvider, current_trace_id


class _RuntimeDisabledView(MutableSet[str]):
    """The executor's runtime-disabled names, live from the core: every read asks the core
    and every mutation (add, discard, remove, pop, clear, update, |=, -=, &=, ^=, ...)
    writes through, so no copy can go stale or be changed alone."""

    __slots__ = ("_executor",)

    def __init__(self, executor: CoreExecutor) -> None:
        self._executor = executor

    @classmethod
    def _from_iterable(cls, it: Iterable[str]) -> set[str]:  # type: ignore[override]
        # the result of view | x, view - x, ... is a plain set (a snapshot), not a view
        return set(it)

    def _names(self) -> list[str]:
        names: list[str] = _loads(wire.executor_runtime_disabled(self._executor._core()))
        return names

    def _op(self, op: str, name: str = "") -> None:
        wire.executor_set_runtime_disabled(self._executor._core(), op, name)
        self._executor._forget_chain_rules()

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({set(self._names())!r})"

    def add(self, name: str) -> None:
        self._op("add", str(name))

    def discard(self, name: str) -> None:
        self._op("discard", str(name))

    def clear(self) -> None:
        self._op("clear")

    def copy(self) -> set[str]:
        """A plain set of the names now (not a view)."""
        return set(self._names())

    def update(self, *others: Iterable[str]) -> None:
        for other in others:
            for name in list(other):
                self.add(name)

    def difference_update(self, *others: Iterable[Any]) -> None:
        for other in others:
            for name in list(other):
                self.discard(name)

    def intersection_update(self, *others: Iterable[Any]) -> None:
        keep = set(self._names()).intersection(*others)
        for name in self._names():
            if name not in keep:
                self.discard(name)

    def symmetric_difference_update(self, other: Iterable[str]) -> None:
        now = set(self._names())
        for name in set(other):
            if name in now:
                self.discard(name)
            else:
                self.add(name)


# a key of a plan's chain rules not asked for yet (None: the core has no rule for it)
_ASK: Any = object()


def _release_executor(exec_id: int) -> None:
    if wire.started():
        try:
            wire.executor_release(exec_id)
        except Exception:
            pass




class CoreExecutor:
    """State of one executor: its core handle, options and plan cache."""

    def __init__(
        self,
        *,
        timeout: float,
        hook_policies: dict[str, HookPayloadPolicy],
        default_hook_policy: DefaultHookPolicy,
        observability: Optional[ObservabilityProvider],
    ) -> None:
        self._timeout = timeout
        self._default_hook_policy = default_hook_policy
        self.hook_policies = hook_policies
        self.observability = observability
        self._exec_id = 0
        self._plans: dict[tuple[Any, ...], dict[str, Any]] = {}
        # the core's standing answers for single runs (single.py), valid until the
        # options or metrics change: both setters drop them
        self._single_rules: dict[tuple[Any, ...], SingleRule] = {}
        self._metrics = False

    # Options live in the core too; a change is pushed at once when the core has started.
    @property
    def timeout(self) -> float:
        return self._timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self._timeout = value
        self._push_options()

    @property
    def default_hook_policy(self) -> DefaultHookPolicy:
        return self._default_hook_policy

    @default_hook_policy.setter
    def default_hook_policy(self, value: DefaultHookPolicy) -> None:
        self._default_hook_policy = DefaultHookPolicy(value)
        self._plans.clear()
        self._push_options()

    @property
    def _runtime_disabled(self) -> MutableSet[str]:
        """The core's runtime-disabled names, as a set whose mutations write through."""
        return _RuntimeDisabledView(self)

    @_runtime_disabled.setter
    def _runtime_disabled(self, names: Iterable[str]) -> None:
        wanted = list(names)  # first: names may be this very view (``view |= x`` assigns it back)
        view = _RuntimeDisabledView(self)
        view.clear()
        view.update(wanted)

    def _options(self) -> str:
        return _dumps({"timeout": self._timeout, "default_policy": str(self._default_hook_policy.value)})

    def _forget_chain_rules(self) -> None:
        """Drops the core's chain rules (_run): they are asked again under the new state.
        A rule that no longer holds is never followed (RunChainStart checks), but every
        run would then take the general path."""
        for plan in self._plans.values():
            plan["_chains"].clear()

    def _push_options(self) -> None:
        self._single_rules.clear()
        self._forget_chain_rules()
        if self._exec_id:
            wire.executor_update(self._exec_id, self._options())

    @property
    def metrics(self) -> bool:
        """Whether the core counts this executor's plugin calls (cpex.framework.metrics)."""
        return self._metrics

    @metrics.setter
    def metrics(self, on: bool) -> None:
        self._metrics = bool(on)
        self._single_rules.clear()
        if self._exec_id:
            wire.executor_metrics(self._exec_id, self._metrics)

    def _core(self) -> int:
        if not self._exec_id:
            self._exec_id = wire.executor_new(self._options())
            if self._metrics:
                wire.executor_metrics(self._exec_id, True)
            fin = weakref.finalize(self, _release_executor, self._exec_id)
            fin.atexit = False
        return self._exec_id

    def _plan(self, hook: str, hook_refs: list[Any]) -> dict[str, Any]:
        # the registered id when there is one (a plain attribute read), else register it
        ids = tuple([h.plugin_ref._core_id or core_ref_id(h.plugin_ref) for h in hook_refs])
        policy = self.hook_policies.get(hook) if self.hook_policies else None
        key = (hook, ids, id(policy))
        plan = self._plans.get(key)
        if plan is None or plan["_policy"] is not policy:
            fields = "null" if policy is None else _dumps(sorted(policy.writable_fields))
            plan = _loads(wire.plan_get(self._core(), hook, ",".join(map(str, ids)), fields))
            plan["_policy"] = policy
            # the core's chain rules for runs of this plan, by (vexc, pool, hook text);
            # None where the core has none (RunChainRule, _run)
            plan["_chains"] = {}
            if plan.get("flush"):
                # the core emptied its plan cache (its one bound, core.MaxCachedPlans) and
                # forgot the plans it handed out: so does this one
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def _trace_id(self) -> Optional[str]:
        # spans only when a provider is set and the trace id is truthy (spec §20)
        return (current_trace_id.get() or None) if self.observability else None

    async def _run(
        self,
        hook_refs: list[Any],
        payload: PluginPayload,
        global_context: GlobalContext,
        hook: str,
        local_contexts: Optional[PluginContextTable],
        vexc: bool,
        extensions: Optional[Extensions],
        pool: int,
    ) -> tuple[PluginResult, Optional[PluginContextTable]]:
        plan = self._plan(hook, hook_refs)
        # _trace_id, inlined (once per run)
        trace_id = (current_trace_id.get() or None) if self.observability else None
        # Upstream names the hook in "<hook> blocked by plugin ..." by formatting the
        # HookRef's name: a ref built with a str-enum member reads "PromptHookType.X".
        htext = hook_refs[0].name
        if type(htext) is not str:
            htext = f"{htext}"
        run = _Run(self, hook_refs, payload, global_context, hook, local_contexts, extensions, plan, trace_id, pool)
        rule: Optional[ChainRule] = None
        if trace_id is None:
            # the core's chain rule for this plan and these facts (pybind/runchain.go): the
            # only facts its runs read besides the size are these (no rule otherwise)
            key = (vexc, pool or 0, htext)
            chains = plan["_chains"]
            rule = chains.get(key, _ASK)
            if rule is _ASK:
                facts = _facts(plan, payload, global_context, pool, vexc, False, extensions is not None)
                if htext != hook:
                    facts["htext"] = htext
                answer = _loads(wire.run_chain_rule(plan["plan"], _dumps(facts)))
                rule = chains[key] = ChainRule(answer) if answer["rule"] else None
        if rule is not None:
            size = size_fact(plan, payload)
            started = wire.run_chain_start(rule.id, size[0], size[1]) if size else wire.run_chain_start(rule.id, "", 0)
            if started[0] != "{":
                run.id = int(started)
                try:
                    return await run.chain(rule)
                finally:
                    if not run.finished:
                        wire.run_abort(run.id)
            # not as the rule says (a plugin disabled since, other options, the size
            # guard): the core's own first step, carried out the general way; the rule
            # is asked again next time
            plan["_chains"].pop(key, None)
            step = _loads(started)
        else:
            facts = _facts(plan, payload, global_context, pool, vexc, trace_id is not None, extensions is not None)
            if htext != hook:
                facts["htext"] = htext
            step = _loads(wire.run_start(plan["plan"], _dumps(facts)))
            size = facts["size"]
        run.id = step["run"]
        if size:
            run.size_hint = size[1]
        try:
            return await run.drive(step)
        finally:
            if not run.finished:
                wire.run_abort(run.id)

    async def _run_single(
        self,
        hook_ref: Any,
        payload: PluginPayload,
        local_context: PluginContext,
        vexc: bool,
        global_context: Optional[GlobalContext],
        combined_metadata: Optional[dict[str, Any]],
        extensions: Optional[Extensions],
    ) -> PluginResult:
        trace_id = self._trace_id()
        if trace_id is None and global_context is None and combined_metadata is None:
            # invoke_hook_for_plugin's shape: at most one crossing (single.py)
            return await run_single(self, hook_ref, payload, local_context, vexc, extensions)
        facts = {"vexc": vexc, "merge": global_context is not None, "meta": combined_metadata is not None,
                 "trace": trace_id is not None,
                 # only the violation message reads it; upstream formats the HookRef's name
                 # (an f-string: a str-enum member reads "PromptHookType.PROMPT_PRE_FETCH")
                 "hook": f"{hook_ref.name}"}
        step = _loads(wire.run_single(self._core(), core_ref_id(hook_ref.plugin_ref), _dumps(facts)))
        run = _Run(self, [hook_ref], payload, global_context, "", None, extensions, None, trace_id, 0)
        run.id = step["run"]
        run.drop = step.get("drop", "")
        run.combined = combined_metadata if combined_metadata is not None else {}
        run.single_meta = combined_metadata
        run.single_context = local_context
        token = go_invoke_timeout.set(self._timeout)
        try:
            result = await run.drive(step)
        finally:
            go_invoke_timeout.reset(token)
            if not run.finished:
                wire.run_abort(run.id)
        return result[0]
