"""The package's import graph: no circles (counting imports inside functions), netsim reaches the codecs
only through their protocol, and no module imports the package root."""
import ast
from pathlib import Path

import gsvc

ROOT = Path(gsvc.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        name = ".".join(p.relative_to(ROOT.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


def _edges(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules it imports anywhere in its code (not under ``if TYPE_CHECKING``, and not its
    own ancestor packages, which are always imported before it)."""
    edges = {m: set() for m in mods}
    for m, path in mods.items():
        tree = ast.parse(path.read_text())
        typing_only = {id(x) for n in ast.walk(tree) if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
                       for x in ast.walk(n)}
        package = m.split(".") if path.name == "__init__.py" else m.split(".")[:-1]
        for n in ast.walk(tree):
            if id(n) in typing_only:
                continue
            if isinstance(n, ast.ImportFrom):
                base = ".".join(package[:len(package) - n.level + 1] + [n.module] if n.level else [n.module]) \
                    if n.module else ".".join(package[:len(package) - n.level + 1])
                targets = [base] + [f"{base}.{a.name}" for a in n.names]
            elif isinstance(n, ast.Import):
                targets = [a.name for a in n.names]
            else:
                continue
            edges[m].update(t for t in targets if t in mods and t != m and not m.startswith(t + "."))
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_even_through_function_level_imports():
    mods = _modules()
    edges = _edges(mods)
    assert "gsvc.netsim.channel.linklevel" in edges["gsvc.netsim.channel"]  # the walk sees lazy imports
    assert _cycles(edges) == []


def test_netsim_reaches_codecs_only_through_the_protocol_and_nothing_imports_the_root():
    edges = _edges(_modules())
    into_codecs = {t for m, ts in edges.items() if m.startswith("gsvc.netsim") for t in ts if t.startswith("gsvc.codecs")}
    assert into_codecs == {"gsvc.codecs.base"}
    assert [m for m, ts in edges.items() if "gsvc" in ts] == []
