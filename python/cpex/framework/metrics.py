"""Per-plugin Prometheus metrics for Python hosts (a cpex-go extension).

The Go core counts every plugin call of an executor whose metrics are on: calls by
plugin, hook and outcome, a latency histogram by plugin and hook, and per hook the
duration of the whole call and the number of plugins it executed. This module exposes
them through ``prometheus_client``: :func:`register` adds one collector to a registry
(the default ``REGISTRY`` unless told otherwise), so a host that already serves that
registry on ``/metrics`` (the gateway does) shows the series with no change of its own.
Each scrape reads every series in one crossing into the core.

Metrics are on by default (their measured cost is within the benchmarks' noise, README
"Metrics"); ``PLUGINS_METRICS_ENABLED=false`` or ``PluginManager(..., metrics=False)``
turns them off (no counting, no collector). ``prometheus_client`` is an optional
dependency (``pip install 'cpex[metrics]'``): without it the core still counts (read the
counts with :func:`snapshot`) and nothing is exposed, with a warning naming the missing
package when metrics were asked for explicitly (the variable or the manager option), a
debug line when they are on by default. Missing observability never stops plugins from
running: guards keep guarding.

Series (the Go collector, core/metrics, exposes the same names and labels):

- ``cpex_plugin_calls_total{plugin,hook,outcome}``: outcome is one of ``allowed``,
  ``blocked``, ``modified``, ``error``, ``timeout``, ``skipped_condition``, ``disabled``
- ``cpex_plugin_duration_seconds{plugin,hook}``: calls that ran
- ``cpex_hook_duration_seconds{hook}``: whole hook calls, as the core sees them (from
  the run's start to its end; hooks with no plugin never reach the core and are not
  counted)
- ``cpex_hook_chain_length{hook}``: plugins executed per hook call
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional

from cpex.framework._engine import wire

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

logger = logging.getLogger(__name__)

CALLS_TOTAL = "cpex_plugin_calls_total"
PLUGIN_DURATION = "cpex_plugin_duration_seconds"
HOOK_DURATION = "cpex_hook_duration_seconds"
CHAIN_LENGTH = "cpex_hook_chain_length"

_CALLS_HELP = (
    "Plugin calls by plugin, hook and outcome "
    "(allowed, blocked, modified, error, timeout, skipped_condition, disabled)."
)
_PLUGIN_DURATION_HELP = "Duration of plugin calls that ran, in seconds, by plugin and hook."
_HOOK_DURATION_HELP = "Duration of whole hook calls (invoke_hook), in seconds, by hook."
_CHAIN_HELP = "Plugins executed per hook call, by hook."

_lock = threading.Lock()
_registered: list[Any] = []  # the registries our collector joined (compared by identity)
_warned = False


def snapshot() -> wire.MetricsSnapshot:
    """Every series of this process, as the core holds them (no prometheus_client needed)."""
    return wire.metrics_snapshot()


class CpexCollector:
    """A prometheus_client collector over the core's series (one crossing per scrape)."""

    def describe(self) -> Iterator[Any]:
        # The names without samples: registering must not start the core.
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        yield CounterMetricFamily(CALLS_TOTAL, _CALLS_HELP, labels=["plugin", "hook", "outcome"])
        yield HistogramMetricFamily(PLUGIN_DURATION, _PLUGIN_DURATION_HELP, labels=["plugin", "hook"])
        yield HistogramMetricFamily(HOOK_DURATION, _HOOK_DURATION_HELP, labels=["hook"])
        yield HistogramMetricFamily(CHAIN_LENGTH, _CHAIN_HELP, labels=["hook"])

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        calls = CounterMetricFamily(CALLS_TOTAL, _CALLS_HELP, labels=["plugin", "hook", "outcome"])
        plugin_dur = HistogramMetricFamily(PLUGIN_DURATION, _PLUGIN_DURATION_HELP, labels=["plugin", "hook"])
        hook_dur = HistogramMetricFamily(HOOK_DURATION, _HOOK_DURATION_HELP, labels=["hook"])
        chain = HistogramMetricFamily(CHAIN_LENGTH, _CHAIN_HELP, labels=["hook"])
        if wire.started():  # nothing was counted before the core started: do not start it
            snap = wire.metrics_snapshot()
            outcomes, dur_bounds, chain_bounds = snap["outcomes"], snap["duration_bounds"], snap["chain_bounds"]
            for series in snap["plugins"]:
                labels = [series["plugin"], series["hook"]]
                for outcome, n in zip(outcomes, series["calls"], strict=True):
                    calls.add_metric([*labels, outcome], n)
                plugin_dur.add_metric(labels, _buckets(dur_bounds, series["duration"]), series["duration"]["sum"])
            for hook in snap["hooks"]:
                hook_dur.add_metric([hook["hook"]], _buckets(dur_bounds, hook["duration"]), hook["duration"]["sum"])
                chain.add_metric([hook["hook"]], _buckets(chain_bounds, hook["chain"]), hook["chain"]["sum"])
        yield calls
        yield plugin_dur
        yield hook_dur
        yield chain


def _buckets(bounds: list[float], h: wire.HistogramSnapshot) -> list[tuple[str, float]]:
    from prometheus_client.utils import floatToGoString

    out: list[tuple[str, float]] = [(floatToGoString(b), n) for b, n in zip(bounds, h["buckets"], strict=True)]
    out.append(("+Inf", h["count"]))
    return out


_COLLECTOR = CpexCollector()


def register(registry: Optional[CollectorRegistry] = None, *, explicit: bool = True) -> bool:
    """Adds the collector to registry (prometheus_client's default REGISTRY when None),
    once: registering again, from another manager or after a re-initialize, does nothing.
    Answers whether the collector is registered there; False when prometheus_client is not
    installed (logged once: a warning when explicit, else at debug level)."""
    global _warned
    try:
        from prometheus_client import REGISTRY
    except ImportError:
        if not explicit:
            logger.debug("cpex: prometheus_client is not installed: per-plugin metrics are counted, not exposed")
        elif not _warned:
            _warned = True
            logger.warning(
                "cpex: metrics are enabled (PLUGINS_METRICS_ENABLED or PluginManager(metrics=True)) but "
                "prometheus_client is not installed: install 'cpex[metrics]' to expose them; the core "
                "still counts (cpex.framework.metrics.snapshot())"
            )
        return False
    target = REGISTRY if registry is None else registry
    with _lock:
        if any(r is target for r in _registered):
            return True
        try:
            target.register(_COLLECTOR)
        except ValueError as exc:
            # the names are taken there already (an earlier copy of this module, or
            # another exporter): keep theirs rather than fail the manager
            logger.warning("cpex: metrics collector not registered: %s", exc)
            return False
        _registered.append(target)
    return True


def unregister(registry: Optional[CollectorRegistry] = None) -> None:
    """Removes the collector from registry (the default REGISTRY when None), if there."""
    from prometheus_client import REGISTRY

    target = REGISTRY if registry is None else registry
    with _lock:
        for i, r in enumerate(_registered):
            if r is target:
                target.unregister(_COLLECTOR)
                del _registered[i]
                return
