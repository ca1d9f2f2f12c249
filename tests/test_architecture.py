"""The layout keeps its shape: no import circle, no private name across modules, every package declared.

Each check reads the source with :mod:`ast` (nothing is imported), so it sees the imports inside
functions too (``if TYPE_CHECKING:`` blocks aside): a circle closed by a late import is still a circle.
"""

import ast
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOMES = {"modemean": "modemean", "models": "modemean.models", "comparisons": "modemean.comparisons",
         "reports": "modemean.reports"}  # fmt: skip
# import name -> distribution name, where the two differ
DISTRIBUTIONS = {"yaml": "pyyaml", "sklearn": "scikit-learn", "dask": "dask", "distributed": "dask"}
# import name -> the declared distribution that installs it
BROUGHT_BY = {"arviz_base": "arviz", "arviz_stats": "arviz", "arviz_plots": "arviz"}  # arviz 1.x is these three

# Circles that exist today, each to be removed by a move of the layout (never added to): the test fails
# on a circle not listed here and on a listed circle that no longer exists, so the list only shrinks.
KNOWN_CIRCLES: list[set[str]] = [
    # fmt: skip
]
# (importing module, private name) pairs that exist today; the same only-shrinks rule
KNOWN_PRIVATE: set[tuple[str, str]] = set()


@cache
def modules() -> dict[str, Path]:
    """Every first-party module's dotted name and its file."""
    out = {}
    for folder, name in HOMES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if "site" in parts[:-1]:  # a generated report folder never holds code (reports/site.py is code)
                continue
            tail = parts[:-1] + ([] if parts[-1] == "__init__" else parts[-1:])
            out[".".join([name, *tail])] = path
    return out


def _statements(path: Path) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of a file, at any depth, without those under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) and id(n) not in typing_only]


def _source(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` statement reads from."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    if not node.level:
        return node.module or ""
    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
    return ".".join(p for p in (base, node.module) if p)


def _owner(target: str, known: dict[str, Path]) -> str:
    """The first-party module that defines ``target`` (a module or a name in one), or ''."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target


def imports(name: str) -> set[str]:
    """The first-party modules that module ``name`` imports."""
    known, path = modules(), modules()[name]
    found = set()
    for node in _statements(path):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            source = _source(name, path, node)
            targets = [f"{source}.{a.name}" for a in node.names]
        found |= {_owner(t, known) for t in targets} - {"", name}
    return found


def circles() -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    graph = {m: sorted(imports(m)) for m in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        for n in graph[m]:
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            component = set()
            while True:
                n = stack.pop()
                component.add(n)
                if n == m:
                    break
            if len(component) > 1:
                found.append(component)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for m in sorted(graph):
        if m not in index:
            visit(m)
    return found


def test_no_import_circle_beyond_the_known_ones_and_each_known_one_still_exists():
    found = circles()
    new = [sorted(c) for c in found if c not in KNOWN_CIRCLES]
    gone = [sorted(c) for c in KNOWN_CIRCLES if c not in found]
    assert not new, "import circles (break them by moving the shared code down): " + "; ".join(map(str, new))
    assert not gone, "these circles are gone: remove them from KNOWN_CIRCLES: " + "; ".join(map(str, gone))


def private_imports() -> set[tuple[str, str]]:
    """(importing module, name) for each ``_name`` taken from another first-party module."""
    known = modules()
    found = set()
    for name, path in known.items():
        for node in _statements(path):
            if not isinstance(node, ast.ImportFrom):
                continue
            source = _source(name, path, node)
            if not _owner(source, known) or source == name:
                continue
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and f"{source}.{alias.name}" not in known:  # a module named _x is fine
                    found.add((name, alias.name))
    return found


def test_no_private_name_imported_across_modules_beyond_the_known_ones():
    found = private_imports()
    assert not found - KNOWN_PRIVATE, f"private names imported across modules: {sorted(found - KNOWN_PRIVATE)}"
    assert not KNOWN_PRIVATE - found, f"no longer imported: remove from KNOWN_PRIVATE: {sorted(KNOWN_PRIVATE - found)}"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    folders = {name for name, path in modules().items() if path.name == "__init__.py"}
    assert folders == listed, f"not listed: {sorted(folders - listed)}; listed but absent: {sorted(listed - folders)}"


def _requirement_names() -> set[str]:
    project = _pyproject()["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_every_third_party_import_of_the_package_is_a_declared_dependency():
    declared = _requirement_names()
    stdlib = set(sys.stdlib_module_names)
    missing = {}
    for name, path in modules().items():
        for node in _statements(path):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue
            roots = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for root in (r.split(".")[0] for r in roots):
                if not root or root in stdlib or root == "modemean":
                    continue
                dist = BROUGHT_BY.get(root, DISTRIBUTIONS.get(root, root)).lower().replace("_", "-")
                if dist not in declared:
                    missing.setdefault(root, name)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_no_bare_import_of_a_package_folder():
    """``import models`` works from the repo root and nowhere else: the installed names are ``modemean.*``."""
    bare = {folder for folder in HOMES if folder != "modemean"}
    found = []
    for folder in ("comparisons", "reports", "models", "modemean", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in _statements(path):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if not getattr(node, "level", 0) and any(n.split(".")[0] in bare for n in names):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, f"bare imports of the package folders (write modemean.<folder>): {found}"
