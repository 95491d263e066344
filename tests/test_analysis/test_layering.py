"""The studies and the dev tooling sit beside the product, not under it: no
module of the product (every module of mmconvnextv2 outside analysis/ and
devtools/) imports them, at its top or inside a function."""
import ast
import os
import os.path as osp
from typing import Iterator, List, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The layers a product module must not import.
APART = ('mmconvnextv2.analysis', 'mmconvnextv2.devtools')


def module_name(path: str, root: str) -> str:
    """``mmconvnextv2.a.b`` of ``root/mmconvnextv2/a/b.py`` (a package: its
    ``__init__.py``)."""
    parts = osp.splitext(osp.relpath(path, root))[0].split(os.sep)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def product_modules(root: str) -> List[str]:
    """Every ``.py`` file of ``root/mmconvnextv2`` outside :data:`APART`."""
    found = []
    for folder, dirs, names in os.walk(osp.join(root, 'mmconvnextv2')):
        dirs[:] = sorted(
            d for d in dirs if d != '__pycache__' and
            module_name(osp.join(folder, d, '__init__.py'), root) not in APART)
        found += [osp.join(folder, n) for n in sorted(names)
                  if n.endswith('.py')]
    return found


def imports(path: str, root: str) -> Iterator[Tuple[int, List[str]]]:
    """``(line, names)`` of every import statement of the file, relative
    ones made absolute: ``from ..analysis import x`` in ``mmconvnextv2/swap/``
    names ``mmconvnextv2.analysis`` and ``mmconvnextv2.analysis.x`` (``x``
    may be a module)."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    package = module_name(path, root).split('.')
    if osp.basename(path) != '__init__.py':
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, [alias.name]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level \
                else []
            module = '.'.join(base + ([node.module] if node.module else []))
            yield node.lineno, [module] + [f'{module}.{alias.name}'
                                           for alias in node.names]


def _apart(name: str) -> bool:
    return any(name == layer or name.startswith(layer + '.')
               for layer in APART)


def layer_imports(path: str, root: str) -> List[str]:
    """``file:line imports module``, once per import statement that reaches
    a layer of :data:`APART`."""
    found = []
    for line, names in sorted(imports(path, root)):
        hit = next((name for name in names if _apart(name)), None)
        if hit:
            found.append(f'{osp.relpath(path, root)}:{line} imports {hit}')
    return found


def test_no_product_module_imports_the_studies_or_the_dev_tools():
    modules = product_modules(ROOT)
    rel = {osp.relpath(m, ROOT) for m in modules}
    assert {'mmconvnextv2/__init__.py', 'mmconvnextv2/swap/plan.py',
            'mmconvnextv2/engine/hooks/__init__.py'} <= rel
    assert not any(r.startswith(('mmconvnextv2/analysis/',
                                 'mmconvnextv2/devtools/')) for r in rel)
    found = [problem for path in modules
             for problem in layer_imports(path, ROOT)]
    assert not found, 'the product imports a layer kept apart:\n' + \
        '\n'.join(found)


def test_every_import_form_is_seen(tmp_path):
    """Top-level, relative, nested, ``import a.b`` and ``from .. import
    analysis`` imports are found, each once, with its file and line."""
    swap = tmp_path / 'mmconvnextv2' / 'swap'
    swap.mkdir(parents=True)
    (swap / 'bad.py').write_text(
        'import os\nfrom ..analysis.runner import say\n'
        'def f():\n    import mmconvnextv2.devtools.ops_check\n'
        'from .. import analysis, utils\nfrom ..utils import is_remote\n')
    (swap / '__init__.py').write_text('from . import bad\n'
                                      'from ..analysis import runner\n')
    assert layer_imports(str(swap / 'bad.py'), str(tmp_path)) == [
        'mmconvnextv2/swap/bad.py:2 imports mmconvnextv2.analysis.runner',
        'mmconvnextv2/swap/bad.py:4 imports mmconvnextv2.devtools.ops_check',
        'mmconvnextv2/swap/bad.py:5 imports mmconvnextv2.analysis']
    assert layer_imports(str(swap / '__init__.py'), str(tmp_path)) == [
        'mmconvnextv2/swap/__init__.py:2 imports mmconvnextv2.analysis']
