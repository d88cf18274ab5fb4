"""Order rules between procedures, as a graph over plain ids: checks that a new rule does not
make two procedures each wait for the other, which no plan could ever satisfy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """`procedure_id` comes after `requires_procedure_id`, or after any procedure of `requires_category`."""

    procedure_id: int
    requires_procedure_id: int | None = None
    requires_category: str = ""


def must_follow(rules: Iterable[Rule], categories: Mapping[int, str]) -> dict[int, set[int]]:
    """procedure id → the ids it must follow, with category rules spelt out as their procedures."""
    by_category: dict[str, set[int]] = {}
    for procedure_id, category in categories.items():
        by_category.setdefault(category, set()).add(procedure_id)
    graph: dict[int, set[int]] = {}
    for rule in rules:
        if rule.requires_procedure_id is not None:
            required = {rule.requires_procedure_id}
        else:
            required = by_category.get(rule.requires_category, set())
        graph.setdefault(rule.procedure_id, set()).update(required - {rule.procedure_id})
    return graph


def waits_for(graph: Mapping[int, set[int]], start: int) -> set[int]:
    """Every procedure `start` comes after, directly or through others."""
    seen: set[int] = set()
    stack = list(graph.get(start, ()))
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(graph.get(current, ()))
    return seen


def circular_with(rules: Iterable[Rule], new: Rule, categories: Mapping[int, str]) -> set[int]:
    """The procedures the new rule makes `new.procedure_id` wait for that already wait for it
    (empty when the rule is fine)."""
    graph = must_follow(rules, categories)
    added = must_follow([new], categories).get(new.procedure_id, set())
    return {required for required in added if new.procedure_id in waits_for(graph, required)}
