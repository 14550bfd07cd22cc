"""The package's import graph has no cycle: every ``import latentatlas...`` (at module level or
inside a function; ``if TYPE_CHECKING:`` blocks excepted) is an edge between two modules."""

from __future__ import annotations

import ast
from pathlib import Path

import latentatlas

SRC = Path(latentatlas.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = ("latentatlas", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, here: str, is_package: bool, modules: set[str]) -> set[str]:
    """The latentatlas modules that ``tree`` imports (a name imported from a package counts as
    its submodule when there is one of that name)."""
    out: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "latentatlas")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here if is_package else here.rsplit(".", 1)[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rsplit(".", 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            if base.split(".")[0] == "latentatlas":
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    out.add(sub if sub in modules else base)
        stack.extend(ast.iter_child_nodes(node))
    out.discard(here)
    return out


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in SRC.rglob("*.py")}
    modules = set(paths)
    graph = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(), str(path))
        edges = _imports(tree, name, path.name == "__init__.py", modules)
        graph[name] = {e for e in edges if e in modules}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first = last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_graph_sees_the_imports() -> None:
    graph = import_graph()
    assert "latentatlas.models" in graph["latentatlas.models.encode"]
    assert "latentatlas.models.protocol" in graph["latentatlas.models.loaders"]
    # A function-level import is an edge too.
    assert "latentatlas.models.checkpoint" in graph["latentatlas.models.loaders"]


def test_finds_a_cycle_when_there_is_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a"}}) is None


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle)


def test_numpy_layers_and_bundled_names_never_import_torch() -> None:
    """The store, analyses, metrics and the bundled-name resolver load without torch."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import latentatlas.analysis, latentatlas.core.bundled, latentatlas.metrics\n"
        "import latentatlas.models.pretrained, latentatlas.data.store\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
