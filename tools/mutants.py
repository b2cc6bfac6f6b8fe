"""Mutants of one module (classic operators, applied to its source text with `ast`), the
seeded sample of them, and the test files that import the module. See tools/mutation.py."""

from __future__ import annotations

import ast
import copy
import random
from dataclasses import dataclass
from pathlib import Path

KEY_WIDTH = 80  # mutation texts are cut here (they are keys of the equivalent list)

CMP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
BIN_SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Div,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
    ast.BitXor: ast.BitOr,
    ast.MatMult: ast.Mult,
}
DELETABLE = (
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Raise,
    ast.Assert,
    ast.Delete,
    ast.Continue,
    ast.Break,
)


@dataclass(frozen=True)
class Mutant:
    module: str  # path relative to the repository root
    index: int  # position among the module's mutants (stable for a given source)
    line: int
    function: str  # qualified name of the enclosing def/class, "<module>" at top level
    kind: str
    mutation: str  # "original -> replacement", the key of the equivalent list
    statement: str  # the enclosing statement's first line (tells equal mutations apart)
    start: int  # byte offsets of the replaced span
    end: int
    text: bytes  # what replaces it

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.text + source[self.end :]

    def where(self) -> str:
        return f"{self.module}:{self.line}"


def _short(node: ast.AST) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= KEY_WIDTH else text[: KEY_WIDTH - 1] + "…"


def _is_docstring(stmt: ast.stmt, parent: ast.AST) -> bool:
    body = getattr(parent, "body", None)
    return (
        isinstance(parent, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and bool(body)
        and body[0] is stmt
        and isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


class _Generator:
    """Walks one module's AST and yields (node, replacement node or "pass", kind, scope)."""

    def __init__(self, module: str, source: bytes) -> None:
        self.module = module
        self.source = source
        self.tree = ast.parse(source)
        self.line_starts = [0]
        for i, b in enumerate(source):
            if b == 0x0A:
                self.line_starts.append(i + 1)
        self.mutants: list[Mutant] = []
        self.stmt: ast.AST = self.tree

    def offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col  # ast columns are UTF-8 byte offsets

    def add(self, node: ast.AST, new: ast.AST | None, kind: str, scope: str) -> None:
        start = self.offset(node.lineno, node.col_offset)
        end = self.offset(node.end_lineno, node.end_col_offset)
        extra_lines = b"\n" * (node.end_lineno - node.lineno)  # keep later line numbers
        if new is None:  # delete a statement
            text = b"pass" + extra_lines
            mutation = f"{_short(node).splitlines()[0]} -> pass"
        else:
            text = b"(" + ast.unparse(new).encode() + extra_lines + b")"
            mutation = f"{_short(node)} -> {_short(new)}"
        stmt = self.stmt
        if getattr(stmt, "decorator_list", None):
            stmt = copy.copy(stmt)
            stmt.decorator_list = []  # type: ignore[attr-defined]
        line = ast.unparse(stmt).splitlines()[0]
        statement = " ".join(line.split())[:160]
        self.mutants.append(
            Mutant(
                self.module,
                len(self.mutants),
                node.lineno,
                scope,
                kind,
                mutation,
                statement,
                start,
                end,
                text,
            )
        )

    def run(self) -> list[Mutant]:
        self.visit(self.tree, None, "<module>")
        return self.mutants

    def visit(self, node: ast.AST, parent: ast.AST | None, scope: str) -> None:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            scope = node.name if scope == "<module>" else f"{scope}.{node.name}"
        if isinstance(node, ast.Import | ast.ImportFrom | ast.JoinedStr | ast.Global):
            return  # imports break loudly; f-string internals have no reliable positions
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            return
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return
        if isinstance(node, ast.stmt) and _is_docstring(node, parent):
            return
        outer = self.stmt
        if isinstance(node, ast.stmt):
            self.stmt = node
        self.mutate(node, scope)
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "decorator_list", "type_comment"):
                continue  # types and decorators are declarations, not behaviour
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    self.visit(child, node, scope)
        self.stmt = outer

    def mutate(self, node: ast.AST, scope: str) -> None:
        add = self.add
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for swap in CMP_SWAPS.get(type(op), ()):
                    new = copy.deepcopy(node)
                    new.ops[i] = swap()
                    add(node, new, "comparison", scope)
        elif isinstance(node, ast.BinOp) and type(node.op) in BIN_SWAPS:
            new = copy.deepcopy(node)
            new.op = BIN_SWAPS[type(node.op)]()
            add(node, new, "arithmetic", scope)
        elif isinstance(node, ast.BoolOp):
            new = copy.deepcopy(node)
            new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            add(node, new, "boolean", scope)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub | ast.Invert):
            add(node, copy.deepcopy(node.operand), "unary", scope)
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                new_value: object = not value
            elif isinstance(value, int):
                new_value = value + 1
            elif isinstance(value, float):
                new_value = float(f"{value * 1.5:.12g}") if value else 1.0
            elif isinstance(value, str):
                new_value = f"XX{value}XX"
            else:
                return
            add(node, ast.Constant(new_value), "constant", scope)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("min", "max")
        ):
            new = copy.deepcopy(node)
            new.func.id = "max" if node.func.id == "min" else "min"
            add(node, new, "min/max", scope)
        elif isinstance(node, ast.Return) and not (
            node.value is None
            or (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            add(node.value, ast.Constant(None), "return None", scope)
        if isinstance(node, ast.If | ast.While | ast.IfExp) and not isinstance(
            node.test, ast.Compare | ast.UnaryOp
        ):
            add(node.test, ast.UnaryOp(ast.Not(), copy.deepcopy(node.test)), "negate", scope)
        if isinstance(node, DELETABLE) and not (isinstance(node, ast.AnnAssign) and not node.value):
            add(node, None, "delete", scope)


def mutants_of(module: str, source: bytes) -> list[Mutant]:
    """All mutants of one module that still compile, in source order."""
    out = []
    for m in _Generator(module, source).run():
        try:
            compile(m.apply(source), module, "exec")
        except SyntaxError:
            continue
        out.append(m)
    return [Mutant(**{**m.__dict__, "index": i}) for i, m in enumerate(out)]


def sample(mutants: list[Mutant], k: int, seed: int) -> list[Mutant]:
    """k mutants drawn without replacement, the same for the same seed and source."""
    if k <= 0 or k >= len(mutants):
        return list(mutants)
    rng = random.Random(f"{seed}:{mutants[0].module}")
    return sorted(rng.sample(mutants, k), key=lambda m: m.index)


# --- which tests ---------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """Dotted names a file imports (for `from a import b`: both a and a.b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def dotted(module: str) -> str:
    parts = Path(module).with_suffix("").parts
    return ".".join(parts[1:] if parts[0] == "src" else parts)


def tests_for(module: str, tests_dir: Path) -> list[str]:
    """Test files that import the module, directly or through a helper module in tests/."""
    files = sorted(tests_dir.glob("*.py"))
    imports = {f.stem: _imports(f) for f in files}
    target = dotted(module)
    reach = {stem for stem, names in imports.items() if target in names}
    grew = True
    while grew:  # helpers importing helpers that import the module
        grew = False
        for stem, names in imports.items():
            if stem not in reach and any(h in names or f"tests.{h}" in names for h in reach):
                reach.add(stem)
                grew = True
    own = f"test_{Path(module).stem}.py"
    found = [f.name for f in files if f.stem in reach and f.name.startswith("test_")]
    return sorted(found, key=lambda name: name != own)  # its own test file first
