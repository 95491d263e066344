"""Pages of the docs site that are generated from the repository at build
time, so that they cannot fall behind it.

* ``_generated/model_zoo.md``: one table per ``configs/*/metafile.yml`` that
  ``model-index.yml`` imports (config, schedule, parameters, FLOPs, the
  reported metrics and where they come from, weights), included by
  ``model_zoo.md``.
* ``_generated/collapse.md``: what the feature-collapse study
  (``make collapse``) left in ``docs/collapse/`` (its write-up
  ``README.md``, else ``study.md``, and its pictures), or a line saying it is not there yet; included by
  ``user_guides/feature_collapse.md``. The folder is written by the study,
  so its files are not pages of their own.
* ``_generated/api_<package>.md``: an ``automodule`` block for every module
  of a public package of ``mmconvnextv2``, included by ``api/<package>.md``;
  a module added to a package appears in its page without editing the docs.

Files are rewritten only when their text changes, so an incremental build
stays incremental.
"""
import os
import os.path as osp
import pkgutil
import re
import types
import warnings
from typing import Any, Dict, List, Optional

import yaml

DOCS = osp.dirname(osp.dirname(osp.abspath(__file__)))
ROOT = osp.dirname(DOCS)
GENERATED = osp.join(DOCS, '_generated')

# The public packages (and single modules) of the API reference, in order.
API_PACKAGES = ('models', 'checkpoint', 'datasets', 'engine', 'apis', 'swap',
                'analysis', 'utils', 'devtools', 'visualization', 'runtime',
                'config_prefix')


def write_if_changed(path: str, text: str) -> None:
    """Write ``text`` to ``path`` unless it already holds exactly that."""
    if osp.isfile(path):
        with open(path, encoding='utf-8') as f:
            if f.read() == text:
                return
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


# ----------------------------------------------------------------- model zoo
def metafiles(root: str = ROOT) -> List[str]:
    """The metafiles ``model-index.yml`` imports, else every
    ``configs/*/metafile.yml``, as paths relative to ``root``."""
    index = osp.join(root, 'model-index.yml')
    if osp.isfile(index):
        with open(index, encoding='utf-8') as f:
            imports = (yaml.safe_load(f) or {}).get('Import') or []
        if imports:
            return list(imports)
    configs = osp.join(root, 'configs')
    return sorted(f'configs/{d}/metafile.yml' for d in os.listdir(configs)
                  if osp.isfile(osp.join(configs, d, 'metafile.yml')))


def _millions(value: Any, unit: str) -> str:
    if isinstance(value, (int, float)):
        return f'{value / 1e6:.1f}{unit}' if unit == 'M' else \
            f'{value / 1e9:.2f}{unit}'
    return '-'


def _cell(text: Any) -> str:
    return str(text).replace('|', '\\|').replace('\n', ' ')


def _link(url: Optional[str], label: str) -> str:
    return f'[{label}]({url})' if url else '-'


def _results(model: Dict) -> str:
    parts = []
    for result in model.get('Results') or []:
        metrics = ', '.join(f'{k} {v}' for k, v in
                            (result.get('Metrics') or {}).items())
        source = result.get('Source')
        text = f"{result.get('Dataset', '')}: {metrics}"
        parts.append(f'{text} ({source})' if source else text)
    return '; '.join(parts) or '-'


def model_zoo_markdown(root: str = ROOT) -> str:
    """The model zoo tables, one section per metafile, as MyST Markdown."""
    lines = []
    for rel in metafiles(root):
        with open(osp.join(root, rel), encoding='utf-8') as f:
            meta = yaml.safe_load(f) or {}
        collections = meta.get('Collections') or []
        title = collections[0]['Name'] if collections else osp.dirname(rel)
        lines += [f'## {title}', '']
        if collections:
            cmeta = collections[0].get('Metadata') or {}
            facts = []
            if cmeta.get('Training Data'):
                facts.append(f"trained on {cmeta['Training Data']}")
            if cmeta.get('Training Resources'):
                facts.append(f"recipe for {cmeta['Training Resources']}")
            paper = collections[0].get('Paper') or {}
            if paper.get('URL'):
                facts.append(f"paper: [{paper.get('Title', 'link')}]"
                             f"({paper['URL']})")
            if facts:
                lines += ['; '.join(facts) + '.', '']
        lines += [f'From `{rel}`.', '',
                  '| config | epochs / iters | batch | params | '
                  'FLOPs | results | weights |',
                  '|---|---|---|---|---|---|---|']
        for model in meta.get('Models') or []:
            m = model.get('Metadata') or {}
            schedule = (f"{m['Epochs']} ep" if 'Epochs' in m else
                        f"{m['Iterations']} it" if 'Iterations' in m else '-')
            weights = model.get('Weights')
            pre = m.get('Pre-trained Weights')
            links = []
            if weights:
                links.append(_link(weights, 'weights'))
            if pre:
                links.append(_link(pre, 'pre-trained'))
            # the model's name is its config's file name
            lines.append('| ' + ' | '.join(_cell(c) for c in (
                f"`{model.get('Config', model.get('Name', '-'))}`",
                schedule, m.get('Batch Size', '-'),
                _millions(m.get('Parameters'), 'M'),
                _millions(m.get('FLOPs'), 'G'), _results(model),
                ', '.join(links) or '-')) + ' |')
        lines.append('')
    return '\n'.join(lines)


# ------------------------------------------------------------ collapse study
_MD_LINK = re.compile(r'(!?)\[([^\]]*)\]\(([^)\s]+)\)')


def collapse_markdown(folder: str = osp.join(DOCS, 'collapse')) -> str:
    """The study's ``README.md`` (else ``study.md``) with its links made to
    work from ``user_guides/`` (pictures of the folder shown, other files
    named), then every picture of the folder it does not show; a note when
    the folder holds nothing yet."""
    if not osp.isdir(folder):
        return ('The study has not been copied into `docs/collapse/` yet: '
                'run `make collapse` (see above).\n')
    lines, shown = [], set()
    # the write-up (README.md) when there is one, else the study's summary
    study = osp.join(folder, 'README.md')
    if not osp.isfile(study):
        study = osp.join(folder, 'study.md')

    def relink(match: 're.Match') -> str:
        bang, text, target = match.groups()
        if re.match(r'^[a-z][a-z0-9+.-]*:', target) or target.startswith('#'):
            return match[0]
        local = osp.normpath(osp.join(folder, target))
        if bang and osp.isfile(local):
            shown.add(osp.relpath(local, folder))
            return f'![{text}](../collapse/{osp.relpath(local, folder)})'
        return f'{text} (`docs/collapse/{target}`)' if text else \
            f'`docs/collapse/{target}`'

    if osp.isfile(study):
        with open(study, encoding='utf-8') as f:
            text = f.read()
        # its headings sit below the guide's section
        text = re.sub(r'^(#{1,5}) ', lambda m: '#' + m[1] + ' ', text,
                      flags=re.M)
        lines.append(_MD_LINK.sub(relink, text))
    pictures = []
    for base, _, names in os.walk(folder):
        pictures += sorted(osp.relpath(osp.join(base, n), folder)
                           for n in names if n.endswith('.png'))
    for picture in sorted(p for p in pictures if p not in shown):
        lines += ['', f'![{picture}](../collapse/{picture})', '',
                  f'`docs/collapse/{picture}`', '']
    if not lines:
        return 'The study has not been copied into `docs/collapse/` yet.\n'
    return '\n'.join(lines) + '\n'


# ----------------------------------------------------------------- API pages
def public_modules(package: str) -> List[str]:
    """``mmconvnextv2.<package>`` and every module below it, sorted, the
    package first (a single module: just itself)."""
    import importlib
    name = f'mmconvnextv2.{package}'
    module = importlib.import_module(name)
    names = [name]
    if hasattr(module, '__path__'):
        for info in pkgutil.walk_packages(module.__path__, prefix=name + '.'):
            if not info.name.rsplit('.', 1)[-1].startswith('_'):
                names.append(info.name)
    return [names[0]] + sorted(names[1:])


def is_package(name: str) -> bool:
    """Whether the module ``name`` is a package (has submodules)."""
    import importlib
    return hasattr(importlib.import_module(name), '__path__')


def api_markdown(package: str) -> str:
    """``automodule`` blocks for :func:`public_modules` of ``package``: the
    package's own docstring, then each module with its members (the objects
    a package re-exports are documented once, where they are defined)."""
    lines = []
    names = public_modules(package)
    for i, name in enumerate(names):
        if i:
            lines += [f'## `{name}`', '']
        # every public member, also those a module's ``__all__`` leaves out
        # (constants its docstrings refer to); imported objects stay out
        options = [':members:', ':undoc-members:', ':show-inheritance:',
                   ':ignore-module-all:']
        if is_package(name):
            # a package's docstring only: what it re-exports is documented
            # in the module that defines it (documented once, one target)
            options = []
        # autodoc writes reStructuredText: it must be parsed as such
        lines += ['```{eval-rst}', f'.. automodule:: {name}'] + \
            [f'   {option}' for option in options] + ['```', '']
    return '\n'.join(lines)


def generate(app: Any = None) -> None:
    """``builder-inited``: write every generated page."""
    write_if_changed(osp.join(GENERATED, 'model_zoo.md'),
                     model_zoo_markdown())
    write_if_changed(osp.join(GENERATED, 'collapse.md'), collapse_markdown())
    for package in API_PACKAGES:
        write_if_changed(osp.join(GENERATED, f'api_{package}.md'),
                         api_markdown(package))


def resolve_own_short_name(app: Any, env: Any, node: Any,
                           contnode: Any) -> Any:
    """``missing-reference``: resolve a Python reference by a short name
    (``SwapError``, ``.plan``) to the one object of *this* package whose
    dotted name ends with it, as Sphinx does for ``.name`` references.

    Docstrings name their neighbours briefly; the API pages document each
    object where it is defined, so ``:class:`SwapError``` written in
    ``mmconvnextv2.swap`` means ``mmconvnextv2.swap.tree.SwapError``. Only
    a unique match inside ``mmconvnextv2`` is taken: anything else stays
    unresolved and fails the strict build.
    """
    if node.get('refdomain') != 'py':
        return None
    target = node['reftarget'].lstrip('.~')
    if target.startswith('mmconvnextv2.'):
        # a package-level name (``mmconvnextv2.utils.write_atomically``):
        # the object's own module is where it is documented
        target = _defined_name(target) or target
    domain = env.get_domain('py')
    matches = [(name, obj) for name, obj in domain.objects.items()
               if name.startswith('mmconvnextv2.') and
               (name == target or name.endswith('.' + target)) and
               not obj.aliased]
    if node.get('reftype') in ('class', 'exc', 'func', 'meth', 'data',
                               'attr', 'mod', 'obj', 'const'):
        roles = domain.objtypes_for_role(node['reftype']) or []
        typed = [m for m in matches if m[1].objtype in roles]
        matches = typed or matches
    if len(matches) > 1:
        # prefer the one nearest the referring module
        here = node.get('py:module') or ''
        best = max(len(_common_prefix(here, name)) for name, _ in matches)
        matches = [m for m in matches
                   if len(_common_prefix(here, m[0])) == best]
    if len(matches) != 1:
        return _external_or_undocumented(node, contnode, target)
    name, obj = matches[0]
    from sphinx.util.nodes import make_refnode
    return make_refnode(app.builder, node['refdoc'], obj.docname,
                        obj.node_id, contnode, name)


def _external_or_undocumented(node: Any, contnode: Any,
                              target: str) -> Any:
    """The unlinked name, where a reference cannot have a page of ours:

    * a bare name that the referring module imports from another project
      (``Module``, ``Runner`` in an annotation): an external type, like
      those ``nitpick_ignore_regex`` lets through by their dotted name;
    * a private name of ours (``_Stage``) or an undocumented module
      constant (``SWEEP_DATA_SEED``: autodoc cannot document a plain value
      without a ``#:`` comment), provided the referring module defines it.

    None (the reference stays unresolved, the build fails) otherwise.
    """
    import importlib
    here = node.get('py:module')
    if not here or not here.startswith('mmconvnextv2'):
        return None
    try:
        module = importlib.import_module(here)
    except ImportError:
        return None
    name = target
    if name.startswith(here + '.'):
        name = name[len(here) + 1:]
    head, _, rest = name.partition('.')
    if not hasattr(module, head):
        # ``nn.Module`` in an annotation prints as ``Module``: a name of a
        # module the referring module imports (``nn``), from another project
        with warnings.catch_warnings():  # numpy's deprecated aliases
            warnings.simplefilter('ignore')
            for value in list(vars(module).values()):
                if isinstance(value, types.ModuleType) and not rest and \
                        not value.__name__.startswith('mmconvnextv2') and \
                        isinstance(getattr(value, head, None), type):
                    return contnode
        return None
    obj = getattr(module, head)
    owner = getattr(obj, '__module__', None) or getattr(obj, '__name__', '')
    if isinstance(owner, str) and owner and \
            not owner.startswith('mmconvnextv2') and not rest:
        return contnode  # imported from another project
    if head.startswith('_') or (head.isupper() and
                                node.get('reftype') in ('data', 'const',
                                                        'attr', 'obj')):
        return contnode  # defined here, with no page of its own
    return None


def _prose_attribute_docs(app: Any) -> None:
    """Napoleon reads the first line of an attribute's or property's doc
    as ``type: description``; ours are prose ("Stride of the last stage:
    FCMAE's patch size"), so napoleon is kept to functions, classes and
    modules (their ``Args:`` / ``Returns:`` sections)."""
    from sphinx.ext import napoleon

    def process(app: Any, what: str, name: str, obj: Any, options: Any,
                lines: List[str]) -> None:
        if what in ('attribute', 'data', 'property'):
            return
        napoleon._process_docstring(app, what, name, obj, options, lines)

    listeners = app.events.listeners.get('autodoc-process-docstring', [])
    for listener in list(listeners):
        if listener.handler is napoleon._process_docstring:
            app.disconnect(listener.id)
    app.connect('autodoc-process-docstring', process)


def _defined_name(dotted: str) -> Optional[str]:
    """``module.qualname`` of the object ``dotted`` names (importing its
    package), or None when it is not an importable class or function."""
    import importlib
    module_name, _, attr = dotted.rpartition('.')
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError):
        return None
    module = getattr(obj, '__module__', None)
    qualname = getattr(obj, '__qualname__', None)
    if not (module and qualname) or not module.startswith('mmconvnextv2'):
        return None
    return f'{module}.{qualname}'


def _common_prefix(a: str, b: str) -> str:
    parts = []
    for x, y in zip(a.split('.'), b.split('.')):
        if x != y:
            break
        parts.append(x)
    return '.'.join(parts)


def setup(app: Any) -> Dict[str, Any]:
    app.connect('builder-inited', generate)
    app.connect('missing-reference', resolve_own_short_name)
    app.setup_extension('sphinx.ext.napoleon')
    _prose_attribute_docs(app)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
