r"""Your own function: a small, safe formula language compiled to JAX.

A person types ``x**2 + 10*sin(y)`` and races optimizers on it.  The formula
travels in shared links, so it is treated as hostile until proven otherwise.

Grammar
-------
A formula is one expression in the variables ``x`` and ``y``, built from

* numbers: ``3``, ``0.5``, ``.5``, ``1e-3``, ``2.5E4`` (``|value| <= 1e15``);
* the constants ``pi`` and ``e``;
* ``+ - * /`` and ``**`` for powers (``^`` is accepted as another spelling of
  ``**``, with the same precedence: ``-x^2 = -(x^2)``, ``2^3^2 = 2^(3^2)``);
* unary ``-`` and ``+``, and parentheses;
* calls of the functions in :data:`FUNCTIONS` (one argument, e.g. ``sin(x)``,
  or two for ``min max atan2 hypot``), positional arguments only.
  Aliases: ``ln = log``, ``atan = arctan``, ``asin``, ``acos``, ...

Where a formula is not finite (``log(x)`` for ``x <= 0``) it evaluates to NaN
or inf: the plots show a gap there and a run that walks in gets NaN values.

Safety
------
* Before anything recursive runs (``ast.parse`` is recursive) the raw text is
  checked: at most :data:`MAX_LENGTH` characters, printable ASCII only (tabs
  count as spaces; no NUL bytes, line breaks, control characters or unicode
  look-alikes such as a full-width or Cyrillic x),
  brackets nested at most :data:`MAX_NESTING` deep.
* The text is parsed by Python's ``ast`` module in ``eval`` mode; the tree's
  size (:data:`MAX_NODES`) and depth (:data:`MAX_TREE_DEPTH`) are measured
  without recursion before it is walked.
* The walk is an allowlist: only the node types, operators, names and
  functions listed here compile; anything else is a ``ValueError`` that says
  what was refused and at which column (1-based).
* The result is a tree of small Python closures over ``jax.numpy`` calls.  No
  user text ever reaches ``eval``, ``exec``, ``compile``, attribute lookup or
  string formatting of user-controlled format strings, and no arithmetic is
  ever done on user numbers in Python: even ``9**9**9`` is a ``jnp.power`` of
  floats (it evaluates to inf at once, and :func:`from_expression` then
  refuses it as "not finite anywhere").

Public API: :func:`validate`, :func:`check`, :func:`compile_formula`,
:func:`to_latex`, :func:`from_expression`, :data:`EXAMPLES`, :data:`FUNCTIONS`.
"""

from __future__ import annotations

import ast
import math
import threading
import warnings
from typing import Callable

import jax
import jax.numpy as jnp
import cachetools
import numpy as np

from landscapes import compiled
from landscapes.base import Landscape, _as_domain, _as_point

MAX_LENGTH = 500  # characters
MAX_NESTING = 30  # bracket depth, counted in the raw text
MAX_NODES = 300  # expression nodes after parsing
MAX_TREE_DEPTH = 60  # expression-tree depth after parsing
MAX_CONSTANT = 1e15  # largest |number| a formula may contain
_SMALL_INT_POWER = 64  # x**n with an integer literal |n| <= this uses integer_pow

# name -> (jax.numpy function, number of arguments, LaTeX template).  The
# templates are our own constant strings, filled by str.format with LaTeX we
# generate: {0} is the argument list in parentheses, {1} the bare argument.
FUNCTIONS: dict[str, tuple[Callable, int, str]] = {
    "sin": (jnp.sin, 1, r"\sin{0}"),
    "cos": (jnp.cos, 1, r"\cos{0}"),
    "tan": (jnp.tan, 1, r"\tan{0}"),
    "arcsin": (jnp.arcsin, 1, r"\arcsin{0}"),
    "arccos": (jnp.arccos, 1, r"\arccos{0}"),
    "arctan": (jnp.arctan, 1, r"\arctan{0}"),
    "sinh": (jnp.sinh, 1, r"\sinh{0}"),
    "cosh": (jnp.cosh, 1, r"\cosh{0}"),
    "tanh": (jnp.tanh, 1, r"\tanh{0}"),
    "arcsinh": (jnp.arcsinh, 1, r"\operatorname{{arsinh}}{0}"),
    "arccosh": (jnp.arccosh, 1, r"\operatorname{{arcosh}}{0}"),
    "arctanh": (jnp.arctanh, 1, r"\operatorname{{artanh}}{0}"),
    "exp": (jnp.exp, 1, r"\exp{0}"),
    "expm1": (jnp.expm1, 1, r"\operatorname{{expm1}}{0}"),
    "log": (jnp.log, 1, r"\ln{0}"),
    "log10": (jnp.log10, 1, r"\log_{{10}}{0}"),
    "log2": (jnp.log2, 1, r"\log_{{2}}{0}"),
    "log1p": (jnp.log1p, 1, r"\operatorname{{log1p}}{0}"),
    "sqrt": (jnp.sqrt, 1, r"\sqrt{{{1}}}"),
    "cbrt": (jnp.cbrt, 1, r"\sqrt[3]{{{1}}}"),
    "abs": (jnp.abs, 1, r"\left|{1}\right|"),
    "sign": (jnp.sign, 1, r"\operatorname{{sign}}{0}"),
    "floor": (jnp.floor, 1, r"\left\lfloor {1} \right\rfloor"),
    "min": (jnp.minimum, 2, r"\min{0}"),
    "max": (jnp.maximum, 2, r"\max{0}"),
    "atan2": (jnp.arctan2, 2, r"\operatorname{{atan2}}{0}"),
    "hypot": (jnp.hypot, 2, r"\operatorname{{hypot}}{0}"),
}
_ALIASES = {"ln": "log", "atan": "arctan", "asin": "arcsin", "acos": "arccos",
            "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh", "arctan2": "atan2"}
for _alias, _target in _ALIASES.items():
    FUNCTIONS[_alias] = FUNCTIONS[_target]

CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLES = ("x", "y")

_BINOPS = {ast.Add: jnp.add, ast.Sub: jnp.subtract, ast.Mult: jnp.multiply,
           ast.Div: jnp.divide, ast.Pow: jnp.power}
_UNARY = {ast.USub: jnp.negative, ast.UAdd: jnp.positive}
_REFUSED_OPS = {ast.FloorDiv: "'//' (floor division)", ast.Mod: "'%' (modulo)",
                ast.MatMult: "'@' (matrix product)", ast.BitAnd: "'&'", ast.BitOr: "'|'",
                ast.LShift: "'<<'", ast.RShift: "'>>'",
                ast.Not: "'not'", ast.Invert: "'~'"}
_REFUSED_NODES = {
    ast.Attribute: "attribute access ('.') is", ast.Subscript: "indexing ('[...]') is",
    ast.Lambda: "lambda is", ast.IfExp: "conditional expressions ('if ... else') are",
    ast.Compare: "comparisons are", ast.BoolOp: "'and' / 'or' are",
    ast.NamedExpr: "assignment (':=') is", ast.Starred: "starred arguments ('*') are",
    ast.JoinedStr: "f-strings are", ast.FormattedValue: "f-strings are",
    ast.List: "lists are", ast.Tuple: "tuples are", ast.Dict: "dicts are", ast.Set: "sets are",
    ast.ListComp: "comprehensions are", ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are", ast.GeneratorExp: "generator expressions are",
    ast.Await: "'await' is", ast.Yield: "'yield' is", ast.YieldFrom: "'yield' is",
    ast.Slice: "slices are",
}

EXAMPLES: list[tuple[str, str]] = [
    ("x**2 + 10*sin(y)", "a parabola across a washboard: many valleys in y"),
    ("sin(x)*cos(y) + 0.1*(x**2 + y**2)", "an egg crate in a shallow bowl: local minima around a global one"),
    ("(x**2 + y - 11)**2 + (x + y**2 - 7)**2", "Himmelblau: four equal minima (use domain -5..5)"),
    ("(1 - x)**2 + 100*(y - x**2)**2", "Rosenbrock's banana valley"),
    ("log(x) + y**2", "a log with a gap: no values where x <= 0"),
    ("abs(x) + 5*abs(y)", "a kinked diamond: gradients jump at the axes"),
    ("x**2 - y**2 + 0.1*y**4", "a saddle at the origin with two valleys beyond it"),
    ("1 - exp(-(x**2 + y**2))", "a flat plateau with a narrow well in the middle"),
    ("min((x-1)**2 + y**2, (x+1)**2 + y**2 + 0.3)", "two basins with a sharp ridge between them"),
]


class _Where:
    """Maps a column of the parsed text back to a 1-based column of the input."""

    def __init__(self, cols: list[int]):
        self.cols = cols

    def __call__(self, node_or_col) -> int:
        c = node_or_col if isinstance(node_or_col, int) else getattr(node_or_col, "col_offset", 0)
        c = min(max(c, 0), len(self.cols) - 1)
        return self.cols[c] + 1


def _fail(col: int | None, reason: str):
    where = f"at column {col}: " if col is not None else ""
    raise ValueError(where + reason)


def _precheck(text) -> tuple[str, _Where]:
    """Checks on the raw text, none recursive; returns (text to parse, column map)."""
    if not isinstance(text, str):
        _fail(None, f"a formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        _fail(None, f"the formula is too long ({len(text)} characters; at most {MAX_LENGTH})")
    text = text.replace("\t", " ")
    for i, ch in enumerate(text):
        if ch == "\x00":
            _fail(i + 1, "NUL byte is not allowed")
        if ch in "\r\n":
            _fail(i + 1, "line breaks are not allowed; a formula is one line")
        if not " " <= ch <= "~":
            kind = "control character" if ord(ch) < 128 else "non-ASCII character"
            shown = f"'{ch}' " if ch.isprintable() else ""
            _fail(i + 1, f"{kind} {shown}(U+{ord(ch):04X}) is not allowed; use plain ASCII "
                         "letters, digits and + - * / ^ ( )")
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                _fail(i + 1, f"brackets are nested too deeply (more than {MAX_NESTING} levels)")
        elif ch in ")]}":
            depth -= 1
    if not text.strip():
        _fail(None, "the formula is empty; type an expression in x and y, e.g. x**2 + y**2")
    # Strip, and spell '^' as '**', remembering where each character came from.
    lead = len(text) - len(text.lstrip())
    out, cols = [], []
    for i, ch in enumerate(text.strip(), start=lead):
        if ch == "^":
            out.append("**")
            cols += [i, i]
        else:
            out.append(ch)
            cols.append(i)
    return "".join(out), _Where(cols + [len(text)])


def _parse(text) -> tuple[ast.expr, _Where]:
    """Run every check that does not need the tree walk; return the body and column map."""
    src, where = _precheck(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(src, mode="eval")
    except SyntaxError as err:
        msg = err.msg or "invalid syntax"
        if "decimal literal" in msg:
            msg += " (write multiplication explicitly, e.g. 2*x)"
        _fail(where(max((err.offset or 1) - 1, 0)), f"syntax error: {msg}")
    except (RecursionError, MemoryError, ValueError, OverflowError):
        _fail(None, "the formula is too deeply nested or too complex")
    # Size and depth, measured iteratively so nothing recursive sees a huge tree.
    count, stack = 0, [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            _fail(None, f"the formula is too large (more than {MAX_NODES} parts)")
        if depth > MAX_TREE_DEPTH:
            _fail(where(node), f"the formula is nested too deeply (more than {MAX_TREE_DEPTH} levels)")
        stack.extend((c, depth + 1) for c in ast.iter_child_nodes(node) if isinstance(c, ast.AST)
                     and not isinstance(c, (ast.expr_context, ast.operator, ast.unaryop,
                                            ast.boolop, ast.cmpop)))
    return tree.body, where


def _number(node: ast.Constant, where: _Where) -> float:
    v = node.value
    if type(v) not in (int, float):  # excludes bool, complex, str, bytes, None, Ellipsis
        what = {bool: f"booleans ({v}) are", complex: "complex numbers are", str: "strings are",
                bytes: "bytes are", type(None): "None is", type(...): "'...' (Ellipsis) is"}
        _fail(where(node), f"{what.get(type(v), type(v).__name__ + ' is')} not allowed; "
                           "only real numbers")
    if not abs(v) <= MAX_CONSTANT:  # exact comparison for ints; False for nan
        _fail(where(node), f"the number is too large or not finite (at most {MAX_CONSTANT:g} in size)")
    return float(v)


def _build(node: ast.AST, where: _Where) -> Callable:
    """Compile one validated node to ``g(x, y) -> jnp value`` (refusing anything else)."""
    if isinstance(node, ast.Constant):
        c = _number(node, where)
        return lambda x, y: c
    if isinstance(node, ast.Name):
        name = node.id
        if name == "x":
            return lambda x, y: x
        if name == "y":
            return lambda x, y: y
        if name in CONSTANTS:
            c = CONSTANTS[name]
            return lambda x, y: c
        if name in FUNCTIONS:
            _fail(where(node), f"'{name}' is a function; call it like {name}(x)")
        _fail(where(node), f"unknown name '{name}'; use x, y, pi, e and the functions: "
                           + ", ".join(sorted(FUNCTIONS)))
    if isinstance(node, ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            _fail(where(node), f"the operator {_REFUSED_OPS.get(type(node.op), type(node.op).__name__)}"
                               " is not allowed")
        a, b = _build(node.left, where), _build(node.right, where)
        if (isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant)
                and type(node.right.value) is int and abs(node.right.value) <= _SMALL_INT_POWER):
            n = int(node.right.value)  # exact, small, and only ever used as an exponent
            return lambda x, y: jnp.power(a(x, y), n)
        return lambda x, y: op(a(x, y), b(x, y))
    if isinstance(node, ast.UnaryOp):
        op = _UNARY.get(type(node.op))
        if op is None:
            _fail(where(node), f"the operator {_REFUSED_OPS.get(type(node.op), '?')} is not allowed")
        a = _build(node.operand, where)
        return lambda x, y: op(a(x, y))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            _fail(where(node), "only the allowed functions can be called, by name, e.g. sin(x)")
        name = node.func.id
        if name in VARIABLES or name in CONSTANTS:
            _fail(where(node), f"'{name}' is not a function (write {name}*(...) to multiply)")
        if name not in FUNCTIONS:
            _fail(where(node), f"unknown function '{name}'; allowed: " + ", ".join(sorted(FUNCTIONS)))
        if node.keywords:
            _fail(where(node.keywords[0].value), f"keyword arguments are not allowed in {name}(...)")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            _fail(where(node), f"starred arguments ('*') are not allowed in {name}(...)")
        fn, arity, _ = FUNCTIONS[name]
        if len(node.args) != arity:
            _fail(where(node), f"{name} takes {arity} argument{'s' * (arity > 1)}, got {len(node.args)}")
        args = [_build(arg, where) for arg in node.args]
        if arity == 1:
            (a,) = args
            return lambda x, y: fn(a(x, y))
        a, b = args
        return lambda x, y: fn(a(x, y), b(x, y))
    what = _REFUSED_NODES.get(type(node), f"'{type(node).__name__}' is")
    _fail(where(node), f"{what} not allowed in a formula")


# --- validation -----------------------------------------------------------------------

def validate(text: str) -> None:
    """Raise ``ValueError("at column N: <reason>")`` unless ``text`` is a valid formula.

    Cheap enough to call on every keystroke: no JAX compilation happens.
    """
    body, where = _parse(text)
    _build(body, where)


def check(text: str) -> tuple[bool, str, int | None]:
    """``(ok, message, column)``: the structured form of :func:`validate`.

    ``column`` is 1-based, or None when the problem has no single position.
    """
    try:
        validate(text)
    except ValueError as err:
        msg = str(err)
        col = None
        if msg.startswith("at column "):
            head, _, rest = msg.partition(": ")
            col, msg = int(head[len("at column "):]), rest
        return False, msg, col
    return True, "", None


# --- compilation (one function object per distinct formula) ----------------------------

class _Key:
    """A parsed formula, hashed by its structure (so ``x^2`` and ``x ** 2`` share a key)."""

    def __init__(self, body: ast.expr, where: _Where):
        self.body, self.where = body, where
        self.dump = ast.dump(body)

    def __hash__(self):
        return hash(self.dump)

    def __eq__(self, other):
        return isinstance(other, _Key) and other.dump == self.dump


FORMULAS = 32  # formulas (and, separately, their landscapes) kept; each is a few kB


class _Formulas(cachetools.LRUCache):
    """Formulas' functions or landscapes, least recently used out first; the compiled
    programs of a formula that leaves go with it (``landscapes.compiled``)."""

    def popitem(self):
        key, value = super().popitem()
        compiled.PROGRAMS.forget(getattr(value, "f", value))
        return key, value


@cachetools.cached(_Formulas(maxsize=FORMULAS), lock=threading.Lock())
def _compiled(key: _Key) -> Callable:
    g = _build(key.body, key.where)

    def f(xy):
        xy = jnp.asarray(xy)
        if not jnp.issubdtype(xy.dtype, jnp.inexact):
            xy = xy.astype(jnp.float32)
        return jnp.asarray(g(xy[0], xy[1]), xy.dtype)

    return f


def compile_formula(text: str) -> Callable:
    """The formula as ``f(xy) -> scalar``, a pure, jit- and grad-able jnp function.

    The same formula (up to spacing and ``^``/``**``) returns the same object.
    """
    body, where = _parse(text)
    _build(body, where)  # validate before touching the cache
    return _compiled(_Key(body, where))


# --- LaTeX -------------------------------------------------------------------------------

_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}


def _prec(node) -> int:
    if isinstance(node, ast.BinOp):
        return _PREC[type(node.op)]
    if isinstance(node, ast.UnaryOp):
        return 3
    return 5


def _num_latex(v) -> str:
    if type(v) is int:
        return str(v)
    s = repr(float(v))
    if "e" in s:
        mant, exp = s.split("e")
        mant = mant[:-2] if mant.endswith(".0") else mant
        return ("" if mant == "1" else mant + r" \times ") + f"10^{{{int(exp)}}}"
    return s[:-2] if s.endswith(".0") else s


def _latex(node) -> str:
    def wrap(child, min_prec):
        s = _latex(child)
        return rf"\left({s}\right)" if _prec(child) < min_prec else s

    if isinstance(node, ast.Constant):
        return _num_latex(node.value)
    if isinstance(node, ast.Name):
        return r"\pi" if node.id == "pi" else node.id
    if isinstance(node, ast.UnaryOp):
        return ("-" if isinstance(node.op, ast.USub) else "+") + wrap(node.operand, 3)
    if isinstance(node, ast.Call):
        name = node.func.id
        args = [_latex(a) for a in node.args]
        template = FUNCTIONS[name][2]
        return template.format(r"\left(" + ", ".join(args) + r"\right)", args[0])
    op, p = type(node.op), _PREC[type(node.op)]
    if op is ast.Div:
        return rf"\frac{{{_latex(node.left)}}}{{{_latex(node.right)}}}"
    if op is ast.Pow:
        return f"{wrap(node.left, 5)}^{{{_latex(node.right)}}}"
    left, right = wrap(node.left, p), wrap(node.right, p + 1)
    if op is ast.Mult:
        joiner = " " if isinstance(node.left, ast.Constant) and not isinstance(node.right, ast.Constant) \
            and _prec(node.right) >= 2 and not right[0].isdigit() else r" \cdot "
        return left + joiner + right
    return left + (" + " if op is ast.Add else " - ") + right


def to_latex(text: str) -> str:
    """The formula as LaTeX, generated from the validated syntax tree."""
    body, where = _parse(text)
    _build(body, where)
    return _latex(body)


# --- minima estimation ----------------------------------------------------------------

_GRID_N = 101
_REFINE_STEPS = 200


@compiled.jit(static_argnames=("f", "n"))
def _grid_values(f, lo, hi, n):
    xs = jnp.linspace(lo[0], hi[0], n)
    ys = jnp.linspace(lo[1], hi[1], n)
    X, Y = jnp.meshgrid(xs, ys)  # [iy, ix]
    return jax.vmap(f)(jnp.stack([X, Y], -1).reshape(-1, 2)).reshape(n, n)


@compiled.jit(static_argnames=("f",))
def _refine(f, starts, lo, hi, h):
    """Levenberg-Marquardt descent from each start, clamped to the domain.

    A step ``(H + lam I)^-1 g`` is taken only when it lowers ``f`` to a finite
    value (then ``lam`` shrinks, towards Newton's method); otherwise ``lam``
    grows (towards a short gradient step).  So the result is never worse than
    the start and never lands where ``f`` is not finite.
    """
    grad, hess = jax.grad(f), jax.hessian(f)

    def one(p0):
        def step(_, s):
            p, fp, lam = s
            g, H = grad(p), hess(p)
            a, b, c, d = H[0, 0] + lam, H[0, 1], H[1, 0], H[1, 1] + lam
            det = a * d - b * c
            delta = jnp.stack([d * g[0] - b * g[1], a * g[1] - c * g[0]]) / det
            q = jnp.clip(p - delta, lo, hi)
            fq = f(q)
            ok = jnp.isfinite(fq) & (fq < fp)
            lam = jnp.clip(jnp.where(ok, lam / 3, lam * 4), 1e-12, 1e30)
            return jnp.where(ok, q, p), jnp.where(ok, fq, fp), lam

        lam0 = jnp.linalg.norm(grad(p0)) / h + 1e-6
        p, fp, _ = jax.lax.fori_loop(0, _REFINE_STEPS, step, (p0, f(p0), lam0))
        return p, fp

    return jax.vmap(one)(starts)


def _estimate(f, domain):
    """``(minima, grid z, grid xs, ys)``: estimates of the global minima of ``f`` on ``domain``."""
    (x0, x1), (y0, y1) = domain
    lo = jnp.array([x0, y0], jnp.float32)
    hi = jnp.array([x1, y1], jnp.float32)
    z = np.asarray(_grid_values(f, lo, hi, _GRID_N), np.float64)
    z = np.where(np.isfinite(z), z, np.inf)
    if not np.isfinite(z).any():
        raise ValueError("the formula is not finite anywhere on the domain")
    xs, ys = np.linspace(x0, x1, _GRID_N), np.linspace(y0, y1, _GRID_N)
    # Grid points no higher than their 8 neighbours, lowest first, well separated.
    pad = np.pad(z, 1, constant_values=np.inf)
    neigh = np.min([pad[1 + dy:1 + dy + _GRID_N, 1 + dx:1 + dx + _GRID_N]
                    for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx], axis=0)
    iy, ix = np.nonzero(np.isfinite(z) & (z <= neigh))
    order = np.argsort(z[iy, ix], kind="stable")
    span = np.array([x1 - x0, y1 - y0])
    picked: list[np.ndarray] = []
    for k in order:
        p = np.array([xs[ix[k]], ys[iy[k]]])
        if all(np.linalg.norm((p - q) / span) > 0.05 for q in picked):
            picked.append(p)
        if len(picked) == 12:
            break
    h = jnp.float32(float(np.max(span)) / (_GRID_N - 1))
    pts, vals = _refine(f, jnp.asarray(np.array(picked), jnp.float32), lo, hi, h)
    pts, vals = np.asarray(pts, np.float64), np.asarray(vals, np.float64)
    keep = np.isfinite(vals)
    pts, vals = pts[keep], vals[keep]
    if not len(vals):  # cannot happen unless f differs between grid and point evaluation
        return [tuple(picked[0])], z, xs, ys
    finite = z[np.isfinite(z)]
    best = vals.min()
    tol = 1e-5 * max(abs(best), np.percentile(finite, 90) - finite.min(), 1.0)  # float32 ties
    minima: list[tuple[float, float]] = []
    for k in np.argsort(vals, kind="stable"):
        if vals[k] > best + tol or len(minima) == 4:
            break
        if all(np.linalg.norm((pts[k] - np.array(q)) / span) > 0.01 for q in minima):
            minima.append((float(pts[k][0]), float(pts[k][1])))
    return minima, z, xs, ys


def _default_start(f, domain, minima, z, xs, ys):
    """A finite point far from every estimated minimum: 80% of the way to a corner if possible."""
    (x0, x1), (y0, y1) = domain
    cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    span, ms = np.array([2 * hx, 2 * hy]), np.array(minima)

    def clearance(p):  # distance to the nearest minimum, in units of the domain size
        return np.min(np.linalg.norm((np.asarray(p) - ms) / span, axis=-1), axis=-1)

    corners = [(cx + 0.8 * sx * hx, cy + 0.8 * sy * hy) for sx in (-1, 1) for sy in (1, -1)]
    for p in sorted(corners, key=lambda p: -clearance(p)):
        if np.isfinite(float(f(jnp.asarray(p, jnp.float32)))):
            return (round(p[0], 9), round(p[1], 9))
    iy, ix = np.nonzero(np.isfinite(z))  # fall back to the farthest finite grid point
    pts = np.stack([xs[ix], ys[iy]], -1)
    far = np.argmax(clearance(pts[:, None, :]))
    return (float(pts[far, 0]), float(pts[far, 1]))


@cachetools.cached(_Formulas(maxsize=FORMULAS), lock=threading.Lock())
def _landscape(key: _Key, text: str, domain, start, name: str) -> Landscape:
    f = _compiled(key)
    minima, z, xs, ys = _estimate(f, domain)
    if start is None:
        start = _default_start(f, domain, minima, z, xs, ys)
    elif not np.isfinite(float(f(jnp.asarray(start, jnp.float32)))):
        raise ValueError(f"the formula is not finite at the start point {start}")
    finite = z[np.isfinite(z)]
    return Landscape(
        name=name, f=f, domain=domain, minima=tuple(minima), start=start,
        title=text, latex=_latex(key.body), lesson="Your own function.",
        minima_estimated=True, log_scale=bool(finite.min() >= -1e-9),
    )


def from_expression(text: str, domain=((-3.0, 3.0), (-3.0, 3.0)), name: str | None = None,
                    start=None) -> Landscape:
    """A :class:`Landscape` from a formula in ``x`` and ``y``.

    Minima are estimated numerically (grid search, then refinement clamped to
    the domain) and marked ``minima_estimated=True``; ``start`` defaults to a
    finite point far from them.  Raises ValueError for an invalid formula,
    domain or start, or a formula that is not finite anywhere on the domain.
    The same arguments return the same Landscape (and the same ``f``).
    """
    body, where = _parse(text)
    _build(body, where)
    domain = _as_domain(domain)
    start = None if start is None else _as_point(start, "start")
    name = "custom" if name is None else name
    if not isinstance(name, str) or not name:
        raise ValueError("a landscape needs a non-empty name")
    return _landscape(_Key(body, where), text.strip(), domain, start, name)
