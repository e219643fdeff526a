"""Reading a submitted notebook with :mod:`ast`: its cells, its check cells, where each
name is defined, and the definitions an exercise needs, as one program.

Nothing here runs the notebook's code.  Cells are parsed as IPython would see them
(``%magic`` and ``!shell`` lines turned into Python first); a cell that does not parse
defines nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

__all__ = ["Cell", "Notebook", "cell_label", "check_call", "program_for", "read_notebook"]


def cell_label(index: int, source: str) -> str:
    """``cell 4 ("while True:")``: the 1-based position among all cells, and its first line."""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    if len(first) > 40:
        first = first[:39] + "…"
    return f'cell {index + 1} ("{first}")' if first else f"cell {index + 1}"


def _python_source(source: str) -> str:
    """The cell as the kernel runs it: IPython's magics and shell lines made into Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def _outline(source: str) -> ast.Module:
    """What a cell that does not parse was going to define: each top-level statement
    that parses alone, and each ``def``/``class`` header with its body left out."""
    chunks: list[list[str]] = []
    for line in source.splitlines():
        starts = line[:1] not in ("", " ", "\t", "#", ")", "]", "}")
        if starts or not chunks:
            chunks.append([])
        chunks[-1].append(line)
    body: list[ast.stmt] = []
    for chunk in chunks:
        for attempt in ("\n".join(chunk), chunk[0] + " pass"):
            try:
                body += ast.parse(attempt).body
                break
            except (SyntaxError, ValueError):
                continue
    return ast.Module(body=body, type_ignores=[])


@dataclass
class Cell:
    """A code cell: its index among all cells, its source, tags and parsed tree (or None)."""

    index: int
    source: str
    tags: list[str]
    tree: ast.Module | None = field(default=None, repr=False)
    #: For a cell that does not parse, the headers of what it would define (never run).
    outline: ast.Module | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return cell_label(self.index, self.source)


def check_call(source: str) -> tuple[str, str] | None:
    """``("recv_all", "recv_all")`` for a cell that only calls ``check("recv_all", recv_all)``
    (or ``tcplessons.check(...)``); None for any other cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not isinstance(call, ast.Call) or call.keywords or len(call.args) != 2:
        return None
    func = call.func
    named = isinstance(func, ast.Name) and func.id == "check"
    dotted = (
        isinstance(func, ast.Attribute)
        and func.attr == "check"
        and isinstance(func.value, ast.Name)
        and func.value.id == "tcplessons"
    )
    first, second = call.args
    if (named or dotted) and isinstance(first, ast.Constant) and isinstance(first.value, str):
        if isinstance(second, ast.Name):
            return first.value, second.id
    return None


def bound_names(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the module (not inside functions or classes)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"}
    names: set[str] = set()
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue  # its body is a scope of its own
        if isinstance(
            node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
        ):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= bound_names(node)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        todo.extend(ast.iter_child_nodes(node))
    return names


def used_names(stmt: ast.stmt) -> set[str]:
    """Every name a statement reads, anywhere inside it (a generous guess, never too few)."""
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _star_import(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names)


@dataclass
class Notebook:
    """A notebook's code cells, parsed; see :func:`read_notebook`."""

    cells: list[Cell]

    def definitions(self, name: str) -> list[int]:
        """Cells that bind ``name`` at their top level (def, class, import or assignment)."""
        found = []
        for cell in self.cells:
            tree = cell.tree or cell.outline
            if tree is not None and any(name in bound_names(s) for s in tree.body):
                found.append(cell.index)
        return found

    def check_cells(self) -> dict[int, tuple[str, str]]:
        """Cells that only call ``check("id", name)``: index -> (id, name)."""
        found = {}
        for cell in self.cells:
            call = check_call(cell.source)
            if call:
                found[cell.index] = call
        return found

    def tagged(self, tag: str) -> list[Cell]:
        return [c for c in self.cells if tag in c.tags]


def read_notebook(path: str) -> tuple[Notebook, object]:
    """Read ``path`` with nbformat: (the parsed :class:`Notebook`, the nbformat object).

    Raises whatever nbformat raises for a file that is not a notebook.
    """
    import nbformat

    with open(path, encoding="utf-8") as f:
        nb = nbformat.read(f, as_version=4)
    cells = []
    for index, cell in enumerate(nb.cells):
        source = str(cell.get("source", ""))
        if cell.get("cell_type") != "code" or not source.strip():
            continue
        tags = list(cell.get("metadata", {}).get("tags") or [])
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):  # perhaps IPython's own syntax: %magic, !shell
            try:
                tree = ast.parse(_python_source(source))
            except (SyntaxError, ValueError):
                tree = None
        cells.append(Cell(index, source, tags, tree, None if tree else _outline(source)))
    return Notebook(cells), nb


def program_for(notebook: Notebook, names: list[str], usable: set[int]) -> tuple[str, list[int]]:
    """The source that rebuilds ``names`` as the notebook left them, and the cells it uses.

    For each name the last top-level statement binding it (in cells ``usable``, in
    order) is taken, then, in turn, the last binding of every name those statements
    read (imports, constants, helpers), and ``from ... import *`` lines.  Statements
    keep their notebook order, so the last definition wins, as in the kernel.  Nothing
    else the notebook did at its top level (prints, servers, patches) is in it.
    """
    statements: list[tuple[int, int, ast.stmt]] = []
    for cell in notebook.cells:
        if cell.index in usable and cell.tree is not None:
            statements += [(cell.index, i, s) for i, s in enumerate(cell.tree.body)]
    last_binding: dict[str, tuple[int, int, ast.stmt]] = {}
    for item in statements:
        for name in bound_names(item[2]):
            last_binding[name] = item
    chosen = {(c, i): s for c, i, s in statements if _star_import(s)}
    wanted = list(names)
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        item = last_binding.get(name)
        if item is None or (item[0], item[1]) in chosen:
            continue
        chosen[(item[0], item[1])] = item[2]
        wanted += [n for n in used_names(item[2]) if n not in seen]
    order = sorted(chosen)
    source = "\n".join(ast.unparse(chosen[key]) for key in order)
    return source, sorted({c for c, _ in order})
