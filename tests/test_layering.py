"""The house rules of shared/DESIGN.md that code can check: the core (landscapes, optimizers)
imports no page, plot or Streamlit module, and no function in it is over 60 lines."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ("landscapes", "optimizers")
MAX_LINES = 60
# every module of the core, imported in a fresh interpreter
CORE_IMPORTS = ("landscapes", "optimizers", "landscapes.network", "landscapes.expression",
                "optimizers.train")
FORBIDDEN = ("streamlit", "plotly", "viz", "pages")  # and the entry module `app`


def test_the_core_imports_no_ui_module():
    code = (f"import importlib, json, sys\n"
            f"for m in {CORE_IMPORTS!r}:\n"
            f"    importlib.import_module(m)\n"
            f"print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    bad = [m for m in loaded
           if m == "app" or any(m == f or m.startswith(f) for f in FORBIDDEN)]
    assert not bad, f"importing the core loaded UI modules: {bad}"


def _body_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of ``fn`` from its ``def`` to its end, its docstring not counted."""
    lines = fn.end_lineno - fn.lineno + 1
    first = fn.body[0]
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def test_no_function_in_the_core_is_over_60_lines():
    offenders = []
    for package in CORE:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = _body_lines(node)
                    if n > MAX_LINES:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not offenders, f"functions over {MAX_LINES} lines (docstring excluded): {offenders}"
