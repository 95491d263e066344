"""tools/ scripts imported as modules (tools/ is not a package)."""
import importlib.util
import os.path as osp
from types import ModuleType

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_script(path: str) -> ModuleType:
    """The script at ``path`` (absolute, or relative to the repository root)
    as a fresh module named after its file."""
    path = osp.join(ROOT, str(path))
    name = 'tool_' + osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
