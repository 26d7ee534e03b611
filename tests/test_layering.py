"""The house rules of shared/DESIGN.md that code can check: the core (landscapes, optimizers)
imports no page, plot or Streamlit module; the pure modules of viz/ import no Streamlit; no
product function is over 60 lines; the entry and the pages stay small; no private Streamlit
name is used."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ("landscapes", "optimizers")
PRODUCT = CORE + ("viz", "app_pages")  # and app.py
MAX_LINES = 60
# every module of the core, imported in a fresh interpreter
CORE_IMPORTS = ("landscapes", "optimizers", "landscapes.network", "landscapes.expression",
                "optimizers.train")
FORBIDDEN = ("streamlit", "plotly", "viz", "app_pages")  # and the entry module `app`


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


def _product_files() -> list[Path]:
    return [ROOT / "app.py"] + [p for package in PRODUCT for p in sorted((ROOT / package).rglob("*.py"))]


def test_no_product_function_is_over_60_lines():
    offenders = []
    for path in _product_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _body_lines(node)
                if n > MAX_LINES:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert not offenders, f"functions over {MAX_LINES} lines (docstring excluded): {offenders}"


def _loaded_after(imports: list[str]) -> list[str]:
    code = (f"import importlib, json, sys\n"
            f"for m in {imports!r}:\n"
            f"    importlib.import_module(m)\n"
            f"print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_pure_viz_modules_import_no_streamlit():
    from viz import STREAMLIT_MODULES

    pure = [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in sorted((ROOT / "viz").rglob("*.py"))]
    pure = [m.removesuffix(".__init__") for m in pure]
    pure = [m for m in pure if m not in STREAMLIT_MODULES]
    assert "viz.race.link" in pure and "viz.common.url" in pure and len(pure) > 20
    loaded = _loaded_after(pure)
    assert not [m for m in loaded if m == "streamlit" or m.startswith("streamlit.")], \
        "a module outside viz.STREAMLIT_MODULES imports streamlit"
    assert not [m for m in loaded if m.startswith("app_pages")]


def test_the_entry_and_the_pages_stay_small():
    assert len((ROOT / "app.py").read_text().splitlines()) <= 80
    for page in sorted((ROOT / "app_pages").glob("*.py")):
        assert len(page.read_text().splitlines()) <= 250, page.name
    assert sorted(p.stem for p in (ROOT / "app_pages").glob("*.py")) == ["network", "race", "sweeps"]


def test_no_private_streamlit_name_is_used():
    private = ["_script" + "_hash", "pages" + "_manager", "_registered" + "_pages", "_page" + "_hash"]
    files = _product_files() + sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    found = [f"{p.relative_to(ROOT)}: {name}" for p in files for name in private if name in p.read_text()]
    assert not found
