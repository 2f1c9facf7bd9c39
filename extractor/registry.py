"""Stage 3 registry: interpreters that turn one kind of span into facts.

Built-in interpreters register themselves with the same decorator any
extension would use; `registered()` lists them for docs and golden tests.
"""
from __future__ import annotations

from typing import Callable

__all__ = ["interpreter", "registered", "interpreter_for"]

_REGISTRY: dict[str, Callable] = {}


def interpreter(*labels: str) -> Callable[[Callable], Callable]:
    """Register `fn(span, ctx) -> list[Draft]` for spans with these labels."""
    def wrap(fn: Callable) -> Callable:
        for label in labels:
            if label in _REGISTRY:
                raise ValueError(f"interpreter for {label} registered twice")
            _REGISTRY[label] = fn
        return fn
    return wrap


def interpreter_for(label: str) -> Callable | None:
    return _REGISTRY.get(label)


def registered() -> dict[str, str]:
    """label -> 'module.function' of every registered interpreter."""
    return {label: f"{fn.__module__}.{fn.__name__}" for label, fn in sorted(_REGISTRY.items())}
