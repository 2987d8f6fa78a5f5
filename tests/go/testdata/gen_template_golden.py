"""Write template_golden.json: how upstream's ConfigLoader renders config templates.

Run from the repository root:  .venv/bin/python tests/go/testdata/gen_template_golden.py

Each case is rendered the way cpex 0.1.x's ConfigLoader does it (spec §5.2): a
sandboxed Jinja2 environment with autoescape=True and one variable, ``env``, bound to
the environment (here the fixed ENV below). The Go test renders the same text with
config.Render and expects the same output.
"""

from __future__ import annotations

import json
from pathlib import Path

from jinja2.sandbox import SandboxedEnvironment

HERE = Path(__file__).resolve().parent

ENV = {
    "HOST": "redis.internal",
    "PORT": "6380",
    "EMPTY": "",
    "SPECIAL": "a&b<c>\"d'e",
    "SPACES": "  padded  ",
}

TEMPLATES = [
    "{{ env.HOST }}",
    "{{ env['HOST'] }}",
    '{{ env["PORT"] }}',
    "{{env.HOST}}",
    "{{ env.MISSING }}",
    "[{{ env.MISSING }}]",
    "{{ env.MISSING | default('fallback') }}",
    "{{ env.MISSING | d('short') }}",
    "{{ env.EMPTY | default('fallback') }}",
    "{{ env.EMPTY | default('fallback', true) }}",
    "{{ env.EMPTY | default('fallback', True) }}",
    "{{ env.HOST | default('x', false) }}",
    "{{ env.MISSING | default(env.HOST | default('redis://redis:6379/0')) }}",
    "{{ env.MISSING | default(env.NOPE | default(\"redis://redis:6379/0\")) }}",
    "{{ env.MISSING | default(5) }}",
    "{{ env.MISSING | default(1.5) }}",
    "{{ env.MISSING | default(2.0) }}",
    "{{ env.MISSING | default(true) }}",
    "{{ env.MISSING | default(false) }}",
    "{{ env.MISSING | default(none) }}",
    "{{ env.MISSING | default('it\\'s') }}",
    "{{ env.MISSING | default(\"tab\\there\") }}",
    "{{ env.MISSING | default('a}}b') }}",
    "{{ env.SPECIAL }}",
    "{{ env.MISSING | default('<b>&</b>') }}",
    "{{ env.SPACES }}",
    "{{ (env.HOST) }}",
    "redis://{{ env.HOST }}:{{ env.PORT }}/0",
    "a {{- env.HOST -}} b",
    "line1\n  {{- env.HOST }}\nline3",
    "x{# a comment #}y",
    "no tags at all",
    "keeps a single } and { alone",
    "trailing newline is dropped\n",
    "only one\n\n",
    "crlf\r\nline\r\n",
    "{{ undefined_name }}",
    "{{ 42 }}",
    "{{ -3 }}",
    "{{ 1e3 }}",
]


def main() -> int:
    jinja = SandboxedEnvironment(autoescape=True)
    cases = []
    for text in TEMPLATES:
        rendered = jinja.from_string(text).render(env=ENV)
        cases.append({"template": text, "rendered": rendered})
    doc = {"source": "jinja2 SandboxedEnvironment(autoescape=True), as cpex 0.1.x ConfigLoader", "env": ENV, "cases": cases}
    (HERE / "template_golden.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
