"""The update rules by name, and the check of a rule's hyperparameters.

Adding a rule is adding one entry to ``_RULES``.
"""

from __future__ import annotations

from typing import Any, Mapping

from optimizers.adam import ADAM, ADAMAX, ADAMW, AMSGRAD, NADAM, RADAM
from optimizers.adaptive import ADADELTA, ADAGRAD, RMSPROP
from optimizers.base import Rule
from optimizers.ftrl import FTRL
from optimizers.lookahead import lookahead
from optimizers.sgd import MOMENTUM_RULE, NESTEROV_RULE, SGD

__all__ = ["names", "get", "resolve"]

_RULES: dict[str, Rule] = {r.name: r for r in [
    SGD, MOMENTUM_RULE, NESTEROV_RULE, ADAGRAD, RMSPROP, ADADELTA,
    ADAM, NADAM, ADAMAX, FTRL, AMSGRAD, RADAM, ADAMW,
]}
_RULES["ranger"] = lookahead(RADAM, name="ranger")
_LOOKAHEAD = {name: lookahead(rule) for name, rule in _RULES.items() if name != "ranger"}


def names() -> list[str]:
    """Names of the update rules, in the order the app lists them."""
    return list(_RULES)


def get(name: str, lookahead: bool = False) -> Rule:
    """The rule ``name``; with ``lookahead=True``, wrapped in Lookahead."""
    if not isinstance(name, str) or name not in _RULES:
        raise ValueError(f"unknown optimizer {name!r:.60}; choose one of: {', '.join(_RULES)}")
    if lookahead and name != "ranger":
        return _LOOKAHEAD[name]
    return _RULES[name]


def resolve(rule: Rule, hyperparams: Mapping[str, Any]) -> dict[str, float]:
    """All of ``rule``'s hyperparameters, defaults filled in, each checked against its range."""
    specs = {p.name: p for p in rule.hyperparams}
    for k in hyperparams:
        if k not in specs:
            raise ValueError(f"{rule.name} has no hyperparameter {k!r:.40}; "
                             f"its hyperparameters: {', '.join(specs)}")
    return {p.name: p.validate(hyperparams.get(p.name, p.default), rule.name) for p in specs.values()}
