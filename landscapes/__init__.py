"""2-D test functions for watching optimizers move.

    >>> import landscapes
    >>> L = landscapes.get("rosenbrock")
    >>> float(L.f(jnp.array([1.0, 1.0])))
    0.0
"""

from __future__ import annotations

from landscapes.base import Landscape
from landscapes.catalog import _ENTRIES, LOCAL_MINIMA
from landscapes.expression import from_expression as _from_expression
from landscapes.params import Param

__all__ = ["Landscape", "Param", "names", "get", "param_specs", "from_expression", "LOCAL_MINIMA"]

_REGISTRY = {e["name"]: e for e in _ENTRIES}
_DEFAULTS: dict[str, Landscape] = {}


def names() -> list[str]:
    """Names of the built-in landscapes, the four headline ones first."""
    return list(_REGISTRY)


def param_specs(name: str) -> tuple[Param, ...]:
    """The tunable numbers of landscape ``name`` (empty for most)."""
    return tuple(_entry(name).get("param_specs", ()))


def _entry(name):
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown landscape {name!r:.60}; choose one of: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def get(name: str, **params) -> Landscape:
    """The built-in landscape ``name``, with its parameters (if any) set.

    Raises ValueError for an unknown name, an unknown parameter or an
    out-of-range value.
    """
    entry = _entry(name)
    specs = {p.name: p for p in entry.get("param_specs", ())}
    for k in params:
        if k not in specs:
            valid = ", ".join(specs) or "none"
            raise ValueError(f"landscape {name!r} has no parameter {k!r:.40}; its parameters: {valid}")
    values = {p.name: p.validate(params.get(p.name, p.default), f"landscape {name!r}")
              for p in specs.values()}
    key = (name, tuple(sorted(values.items())))
    if key in _DEFAULTS:
        return _DEFAULTS[key]
    fields = {k: v for k, v in entry.items() if k != "param_specs"}
    if specs:
        fields["params"] = values
    L = Landscape(**fields)
    if len(_DEFAULTS) > 512:
        _DEFAULTS.clear()
    _DEFAULTS[key] = L
    return L


def from_expression(text: str, domain=((-3.0, 3.0), (-3.0, 3.0)), **kwargs) -> Landscape:
    """A landscape from a formula in x and y, compiled safely (see landscapes.expression)."""
    return _from_expression(text, domain=domain, **kwargs)
