"""The house of modules has no import circle: src/holdbeat's modules, drawn as a graph of
who imports whom (top-level and function-level imports alike, `if TYPE_CHECKING` ones
left out: they never run), contain no cycle. A circle makes a module unusable on its own
and its import order fragile; the usual fix is a small lower module both can use."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "holdbeat"


def module_names(src: Path = SRC) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under src/holdbeat."""
    out = {}
    for f in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(f.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _type_checking_only(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The holdbeat modules `name` imports anywhere in its code (not for type checking)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()

    def resolve(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = name.split(".") if is_pkg else name.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for a in node.names:
                found.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            mod = resolve(node)
            found.add(mod)
            for a in node.names:  # `from holdbeat.gui import model` imports a module
                found.add(f"{mod}.{a.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in found if m in known and m != name}


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    mods = module_names(src)
    known = set(mods)
    return {name: imported(name, path, known) for name, path in mods.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def strong(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return sorted(out)


def test_the_cycle_finder_finds_a_circle_and_no_false_one() -> None:
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(g) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
    assert cycles({"x": {"y"}, "y": {"x"}, "p": {"q"}, "q": {"p"}}) == [["p", "q"], ["x", "y"]]


def test_the_graph_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "low.py").write_text("X = 1\n")
    (pkg / "sub" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from holdbeat import top\n"
        "def f():\n    from ..low import X\n    return X\n"
    )
    (pkg / "top.py").write_text("import holdbeat.sub.a\nfrom holdbeat.sub import a\n")
    g = import_graph(tmp_path)
    assert g["holdbeat.sub.a"] == {"holdbeat.low"}  # the TYPE_CHECKING import left out
    assert g["holdbeat.top"] == {"holdbeat.sub", "holdbeat.sub.a"}
    assert g["holdbeat.low"] == set()


def test_no_import_circle_among_holdbeat_modules() -> None:
    graph = import_graph()
    assert len(graph) > 50  # the tree was found
    assert "holdbeat.commands._common" not in graph  # the old bucket is gone
    assert cycles(graph) == []


def test_architecture_page_names_every_module_and_only_real_ones() -> None:
    """docs/architecture.md has one line per module: every module under src/holdbeat (a
    package's __init__ may be left out) is listed, and every listed path exists."""
    import re

    page = (SRC.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([\w/]+\.py)` \|", page, flags=re.M))
    root = SRC / PACKAGE
    modules = {f.relative_to(root).as_posix() for f in root.rglob("*.py")}
    missing = {m for m in modules - listed if not m.endswith("__init__.py")} - {"__main__.py"}
    assert not missing, f"not on docs/architecture.md: {sorted(missing)}"
    assert listed <= modules, f"on the page but not in the tree: {sorted(listed - modules)}"
