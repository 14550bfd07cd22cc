"""The layout shows the architecture, and the import graph keeps to it.

Every ``import latentatlas...`` (at module level or inside a function; ``if TYPE_CHECKING:`` blocks
excepted) is an edge between two modules. Rules: no cycle; a package imports only the packages
below it (:data:`LAYERS`); ``core`` imports nothing else of latentatlas; the array layers, the
generators outside ``learned/``, the verdict's ranking and the atlas import no torch; CLI modules
import only public names; the package's top holds one folder per concept.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


# Package -> the packages it may import. analysis and metrics share a layer: the Mahalanobis
# tail metric is built on the voids analysis, and the fragmentation analysis measures midpoints
# with k-NN precision. generators may import models for sampling.py alone (it decodes, lazily).
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "data": {"core"},
    "analysis": {"core", "metrics"},
    "metrics": {"core", "analysis"},
    "models": {"core", "data"},
    "generators": {"core", "data", "analysis", "metrics", "models"},
    "verdict": {"core", "data", "analysis", "metrics", "models", "generators"},
    "atlas": {"core", "data", "analysis", "metrics", "models", "generators", "verdict"},
    "explore": {"core", "data", "analysis", "metrics", "models", "generators"},
    "cli": {"core", "data", "analysis", "metrics", "models", "generators", "verdict", "atlas"}
    | {"explore"},
    # __main__ runs the CLI; every package may read the root's __version__.
    "": {"cli"},
}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (SRC / parts[-1]).is_dir() else ""


def test_packages_import_only_the_layers_below() -> None:
    wrong = [
        f"{m} -> {e}"
        for m, edges in import_graph().items()
        for e in edges
        if _package(m) != _package(e) and _package(e) not in LAYERS[_package(m)] | {""}
    ]
    assert not wrong, "\n".join(sorted(wrong))


def test_core_imports_nothing_else_of_latentatlas() -> None:
    graph = import_graph()
    wrong = [f"{m} -> {e}" for m in graph if _package(m) == "core" for e in graph[m]]
    wrong = [w for w in wrong if _package(w.split(" -> ")[1]) != "core"]
    assert not wrong, "\n".join(wrong)


# What must import without torch: the array layers, the generators outside learned/, the verdict's
# catalogue, ladder and ranking (the atlas and the demo read verdict.json with them), the atlas,
# and the bundled assets. An import hook refuses torch, so the failure names the importer.
TORCH_FREE_PACKAGES = ("core", "data", "analysis", "metrics", "generators", "atlas")
TORCH_FREE_MODULES = (
    "latentatlas.verdict.catalogue",
    "latentatlas.verdict.ladder",
    "latentatlas.verdict.ranking",
    "latentatlas.models.pretrained",
    "latentatlas.generators.registry",
)


def test_array_layers_generators_ranking_and_atlas_never_import_torch() -> None:
    import subprocess
    import sys

    code = f"""
import importlib, pkgutil, sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError("torch imported")
sys.meta_path.insert(0, NoTorch())
import latentatlas
names = [m.name for m in pkgutil.walk_packages(latentatlas.__path__, "latentatlas.")
         if m.name.split(".")[1] in {TORCH_FREE_PACKAGES!r}
         and not m.name.startswith("latentatlas.generators.learned")]
bad = []
for name in [*names, *{TORCH_FREE_MODULES!r}]:
    try:
        importlib.import_module(name)
    except ImportError as e:
        bad.append(f"{{name}}: {{e}}")
print("\\n".join(bad))
sys.exit(1 if bad else 0)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_imports_only_public_names() -> None:
    private = []
    for path in sorted((SRC / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("latentatlas"):
                parts = [*node.module.split("."), *(a.name for a in node.names)]
                private += [
                    f"{path.name}: {node.module}"
                    for p in parts
                    if p.startswith("_") and not p.endswith("__")
                ]
    assert not private, "\n".join(private)


def test_the_top_shows_one_folder_per_concept() -> None:
    entries = sorted(p.name for p in SRC.iterdir() if p.name != "__pycache__")
    assert len(entries) <= 12, entries
    loose = [e for e in entries if e.endswith(".py")]
    assert loose == ["__init__.py", "__main__.py"], loose


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return node.targets if isinstance(node, ast.Assign) else [node.target]


def test_every_package_states_its_job_and_exports() -> None:
    missing = []
    for init in sorted(SRC.rglob("__init__.py")):
        tree = ast.parse(init.read_text())
        rel = init.parent.relative_to(SRC.parent)
        if not ast.get_docstring(tree):
            missing.append(f"{rel}: no docstring")
        if init.parent != SRC and not any(
            isinstance(n, ast.Assign | ast.AnnAssign)
            and any(getattr(t, "id", None) == "__all__" for t in _targets(n))
            for n in tree.body
        ):
            missing.append(f"{rel}: no __all__")
    assert not missing, "\n".join(missing)


def test_no_module_name_means_two_things() -> None:
    """A module name is used once, except a CLI verb's module (``cli/train.py`` runs
    ``models/train.py``) and an atlas section (``atlas/sections/radii.py`` shows
    ``analysis/radii.py``), which are named for what they present."""
    seen: dict[str, list[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if path.name in ("__init__.py", "__main__.py") or rel.parts[0] == "cli":
            continue
        if rel.parts[:2] == ("atlas", "sections"):
            continue
        seen.setdefault(path.stem, []).append(str(rel))
    twice = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not twice, twice


@pytest.mark.parametrize("package", ["latentatlas.generators", "latentatlas.models"])
def test_lazy_exports_match_all_and_resolve(package: str) -> None:
    """A package that imports its names on first use (core.lazy) lists each once in ``_EXPORTS``
    and ``__all__``, and every one of them resolves."""
    import importlib

    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(module._EXPORTS)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
