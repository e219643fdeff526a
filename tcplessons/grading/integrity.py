"""Static look for tampering: what a notebook's code does to the grader, read with :mod:`ast`.

The worker runs this on every cell before any of the notebook's code runs, outside its
kernels, so nothing the notebook does can change it.  Each finding is a short text
naming what was touched (``replaces socket.socket.recv``); any finding marks the
notebook TAMPERED.  An exercise whose own definitions (see
:func:`tcplessons.grading.notebook.program_for`) contain a finding is not checked at all.
The runtime side of the defence is in :mod:`tcplessons.grading.inkernel`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from .notebook import Notebook, check_call

__all__ = ["edited_check_cells", "findings", "helper_aliases"]

#: Modules whose objects the checks rely on: none of their attributes may be replaced
#: (others, such as ``socketserver.TCPServer.allow_reuse_address``, are the learner's).
WATCHED = {
    "asyncio", "builtins", "codecs", "io", "json", "os", "queue", "select", "selectors",
    "socket", "_socket", "ssl", "struct", "sys", "threading", "_thread", "time", "tcplessons",
    "IPython", "ipykernel", "traceback", "types", "functools",
}  # fmt: skip
#: Modules that read or rewrite other code: no exercise needs them.
READS_CODE = {
    "ctypes": "ctypes (reaches into the interpreter)",
    "dis": "dis (reads compiled code)",
    "gc": "gc (reaches the checks' objects)",
    "importlib": "importlib (loads or reloads modules by name)",
    "inspect": "inspect (reads the checks' code and frames)",
    "marshal": "marshal (reads compiled code)",
    "tcplessons.exercises": "tcplessons.exercises (the checks)",
    "tcplessons.grading": "tcplessons.grading (the grader)",
}
#: Attributes that reach frames, code or hidden state of other code.
INTROSPECTION = {
    "f_back", "f_locals", "f_globals", "f_code", "tb_frame", "tb_next", "gi_frame",
    "cr_frame", "ag_frame", "__code__", "__globals__", "__closure__", "__subclasses__",
    "__builtins__", "__defaults__", "__kwdefaults__", "co_consts", "co_code", "_getframe",
    "modules", "exercises", "grading", "__file__", "__loader__", "__spec__",
}  # fmt: skip
#: IPython and interpreter hooks that rewrite what later cells run, or watch all code.
HOOKS = {
    "input_transformers_cleanup", "input_transformers_post", "input_transformer_manager",
    "ast_transformers", "register_magic_function", "set_hook", "set_custom_exc",
    "settrace", "setprofile", "addaudithook", "displayhook", "excepthook", "run_cell",
    "register_magics", "prefilter_manager",
}  # fmt: skip
#: Built-in types a lying object would subclass.
VALUE_TYPES = {
    "bytes", "bytearray", "str", "int", "float", "complex", "bool", "list", "tuple",
    "dict", "set", "frozenset", "memoryview",
}  # fmt: skip
DYNAMIC = {
    "exec": "runs code from text (exec)",
    "eval": "runs code from text (eval)",
    "compile": "compiles code from text (compile)",
    "__import__": "imports modules by name (__import__)",
    "globals": "rewrites names through globals()",
}


def _root(node: ast.AST) -> ast.AST:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
        else:
            key = node.slice
            parts.append(f"[{key.value!r}]" if isinstance(key, ast.Constant) else "[...]")
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(f"{ast.unparse(node)}")
    return ".".join(reversed(parts)).replace(".[", "[")


class _Scanner(ast.NodeVisitor):
    def __init__(self, imported: set[str]):
        self.imported = imported | WATCHED  # names of watched modules or their objects
        self.found: list[str] = []

    def add(self, text: str) -> None:
        if text not in self.found:
            self.found.append(text)

    # -- imports --------------------------------------------------------------------
    def _module(self, name: str) -> None:
        for module, why in READS_CODE.items():
            if name == module or name.startswith(module + "."):
                self.add(f"imports {why}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module == "tcplessons.exercises" and all(a.name == "check" for a in node.names):
            return
        if module == "tcplessons.exercises.tools":  # the lessons' demo sockets: no answers there
            return
        self._module(module)
        if module == "tcplessons":
            for alias in node.names:
                self._module(f"tcplessons.{alias.name}")
        if module == "sys" and any(a.name in INTROSPECTION | HOOKS for a in node.names):
            self.add("imports sys internals (" + ", ".join(a.name for a in node.names) + ")")

    # -- replacing things -------------------------------------------------------------
    def _target(self, target: ast.AST, verb: str) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self._target(item, verb)
            return
        if isinstance(target, ast.Name):
            if target.id == "check":
                self.add(f"{verb} check (the function check cells call)")
            return
        if not isinstance(target, (ast.Attribute, ast.Subscript)):
            return
        root = _root(target)
        dunder, node = False, target
        while isinstance(node, (ast.Attribute, ast.Subscript)):  # the chain, not the keys
            dunder = dunder or isinstance(node, ast.Attribute) and node.attr.startswith("__")
            node = node.value
        if (isinstance(root, ast.Name) and root.id in self.imported) or isinstance(root, ast.Call):
            self.add(f"{verb} {_dotted(target)}")
        elif dunder:
            self.add(f"{verb} {_dotted(target)} (a class's or module's insides)")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._target(target, "replaces")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._target(node.target, "changes")
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._target(node.target, "replaces")
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._target(target, "deletes")
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name == "check":
            self.add("replaces check (the function check cells call)")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    # -- reading and rewriting code -----------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> None:
        root = _root(node)
        from_module = isinstance(root, ast.Name) and root.id in self.imported
        if node.attr in HOOKS:
            self.add(f"installs a hook ({_dotted(node)})")
        elif node.attr == "register" and isinstance(node.value, ast.Attribute):
            if node.value.attr == "events":
                self.add(f"installs a hook ({_dotted(node)})")
        elif node.attr in INTROSPECTION:
            module_level = node.attr in ("modules", "exercises", "grading", "__file__")
            if from_module or not module_level and node.attr not in ("__loader__", "__spec__"):
                self.add(f"reaches into {_dotted(node)}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else ""
        if name in DYNAMIC:
            self.add(DYNAMIC[name])
        elif name in ("setattr", "delattr") and node.args:
            first = node.args[0]
            root = _root(first)
            watched = isinstance(root, ast.Name) and root.id in self.imported
            if watched or isinstance(root, ast.Call) or "__" in ast.unparse(first):
                self.add(f"changes attributes with {name}({ast.unparse(first)}, ...)")
        elif name == "getattr" and len(node.args) >= 2:
            root = _root(node.args[0])
            if isinstance(root, ast.Name) and root.id in self.imported:
                if not isinstance(node.args[1], ast.Constant):
                    self.add(f"looks up {ast.unparse(node.args[0])} attributes by computed name")
        elif name == "vars" and node.args:
            self.add(f"reaches into vars({ast.unparse(node.args[0])})")
        elif name == "type" and len(node.args) == 3:
            self.add("makes a class with type(name, bases, namespace)")
        elif isinstance(func, ast.Attribute) and func.attr in ("update", "pop", "setdefault"):
            if (
                _dotted(func.value).endswith("modules")
                or func.value is not None
                and "__dict__" in _dotted(func.value)
            ):
                self.add(f"changes {_dotted(func.value)}")
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {ast.unparse(b) for b in node.bases}
        methods = [
            s.name
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
            else ast.unparse(s)[:30]
            for s in node.body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))  # docstring
            and not isinstance(s, ast.Pass)
        ]
        lying = sorted(bases & VALUE_TYPES)
        if lying and methods:
            self.add(f"defines a {lying[0]} subclass that overrides {', '.join(methods[:3])}")
        for stmt in node.body:
            named = getattr(stmt, "name", "") or (
                stmt.targets[0].id
                if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)
                else ""
            )
            if named in ("__instancecheck__", "__subclasscheck__", "__class__", "__getattribute__"):
                self.add(f"defines a class that lies about its type ({node.name}.{named})")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        text = node.value if isinstance(node.value, str) else ""
        if "tcplessons-grad" in text or (
            "tcplessons" in text and ("exercises" in text or "grading" in text)
        ):
            self.add(f"names the grader's or the checks' files ({text[:40]!r})")


def imported_names(trees: Iterable[ast.AST]) -> set[str]:
    """Names bound by importing the modules the checks rely on (or their objects)."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {
                    (a.asname or a.name).split(".")[0]
                    for a in node.names
                    if a.name.split(".")[0] in WATCHED
                }
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in WATCHED:
                names |= {a.asname or a.name for a in node.names if a.name != "*"}
    return names


def findings(tree: ast.AST, imported: set[str] | None = None) -> list[str]:
    """What ``tree`` (a cell, or an exercise's program) does to tamper; [] if nothing."""
    scanner = _Scanner(imported if imported is not None else imported_names([tree]))
    scanner.visit(tree)
    return scanner.found


def edited_check_cells(notebook: Notebook) -> list[str]:
    """Cells tagged ``check`` that no longer only call ``check("id", name)``."""
    return [
        f"the check {cell.label} was edited"
        for cell in notebook.tagged("check")
        if check_call(cell.source) is None
    ]


def helper_aliases(tree: ast.AST, exercise_ids: set[str], course_names: set[str]) -> list[str]:
    """Exercises bound to the course's own ready-made objects (``LineReader = LineSplitter``)."""
    found = []

    def course(node: ast.AST) -> str:
        text = ast.unparse(node)
        if isinstance(node, ast.Name) and node.id in course_names:
            return text
        if isinstance(_root(node), ast.Name) and _root(node).id == "tcplessons":
            return text
        return ""

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            helper = course(node.value)
            for target in node.targets:
                if helper and isinstance(target, ast.Name) and target.id in exercise_ids:
                    found.append(f"defines {target.id} as the course's own {helper}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tcplessons"):
            for alias in node.names:
                if (alias.asname or alias.name) in exercise_ids:
                    found.append(
                        f"defines {alias.asname or alias.name} as the course's own {alias.name}"
                    )
        elif isinstance(node, ast.ClassDef) and node.name in exercise_ids:
            for base in node.bases:
                if course(base):
                    found.append(
                        f"defines {node.name} as a subclass of the course's own {ast.unparse(base)}"
                    )
    return found
