"""The import graph of the project's apps: no cycle between modules, and layers point one way.

grimp reads every import statement, function-level ones included, so a cycle hidden inside a
function ("import it late to dodge the circular import") counts as a cycle here.
"""

import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent

# Top to bottom: a layer may import the layers below it, never those above.
LAYERS = [
    "demo",
    "dashboards",
    "loans",
    "visits",
    "banks",
    "screening",
    "enterprises",
    grimp.Layer("core", "accounts", independent=False),
]
PACKAGES = [
    "demo",
    "dashboards",
    "loans",
    "visits",
    "banks",
    "screening",
    "enterprises",
    "core",
    "accounts",
]

KNOWN_CYCLES = []
KNOWN_LAYER_BREACHES = {}


def build_graph():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)


def cycles(graph):
    """The groups of modules that import each other, directly or through others (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others():
    found = [group for group in cycles(build_graph()) if group not in KNOWN_CYCLES]
    assert found == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert cycles(graph) == [{"a.x", "a.y"}]


def test_the_apps_import_only_the_layers_below_them():
    breaches = {
        (dep.importer, dep.imported): sorted(
            f"{head} -> {tail}"
            for route in dep.routes
            for head in route.heads
            for tail in route.tails
        )
        for dep in build_graph().find_illegal_dependencies_for_layers(layers=LAYERS)
    }
    unexpected = {
        pair: routes for pair, routes in breaches.items() if pair not in KNOWN_LAYER_BREACHES
    }
    assert unexpected == {}
