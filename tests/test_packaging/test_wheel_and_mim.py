"""The package as a user gets it: ``python -m build`` makes a wheel and an
sdist carrying ``mmconvnextv2/.mim/{configs,tools,model-index.yml}``; the
wheel, installed into a scratch folder (``pip install --target``) and run
from a temporary folder with neither the clone nor its editable install on
the path, serves ``mim search / run / train / test mmconvnextv2``, a user
config inheriting ``mmconvnextv2::upernet/...``, the stock mmseg
``tools/train.py`` after ``import mmconvnextv2``, and the checkpoint export.

Everything runs offline (``--no-isolation``: the build uses this
environment's setuptools). About three minutes on two CPU cores.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
USER_CONFIG = """\
_base_ = ['mmconvnextv2::upernet/upernet_convnext-v2-atto_synthetic-128x128.py']
# two iterations, validated and saved at the second
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
"""
# the stock route: mmseg's own tools/train.py, our package imported first
STOCK_TRAIN = ('import runpy, sys; import mmconvnextv2; '
               'sys.argv = sys.argv[1:]; '
               "runpy.run_path(sys.argv[0], run_name='__main__')")
#: The tools a user runs by name (``mim run mmconvnextv2 TOOL``).
MIM_TOOLS = ['swap_backbone', 'infer', 'export_onnx', 'check_dataset',
             'fcmae_payoff']
# each script of argv with --help, as `python SCRIPT --help` runs it
HELP_EACH = """\
import os.path as osp, runpy, sys
import mmconvnextv2
print('package:', mmconvnextv2.__file__)
for script in sys.argv[1:]:
    sys.argv = [script, '--help']
    try:
        runpy.run_path(script, run_name='__main__')
        code = 'no exit'
    except SystemExit as done:
        code = f'exit {done.code or 0}'
    print(f'help of {osp.basename(script)}: {code}', flush=True)
"""


def metafile_models() -> Dict[str, str]:
    """Every model name of the metafiles -> its config path."""
    import yaml
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    models = {}
    for meta in index['Import']:
        for model in yaml.safe_load((REPO / meta).read_text())['Models']:
            models[model['Name']] = model['Config']
    return models


@pytest.fixture(scope='module')
def dist(tmp_path_factory) -> Dict[str, Path]:
    pytest.importorskip('build', reason='tools/install.sh installs build')
    out = tmp_path_factory.mktemp('dist')
    run = subprocess.run(
        [sys.executable, '-m', 'build', '--no-isolation', '--outdir',
         str(out), str(REPO)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    wheels = list(out.glob('mmconvnextv2-*.whl'))
    sdists = list(out.glob('mmconvnextv2-*.tar.gz'))
    assert len(wheels) == 1 and len(sdists) == 1, list(out.iterdir())
    return dict(wheel=wheels[0], sdist=sdists[0])


@pytest.fixture(scope='module')
def user(dist, tmp_path_factory):
    """A scratch install of the wheel and a working folder outside the clone;
    ``run(args)`` runs a command there with only that install on the path."""
    assert (BIN / 'mim').exists(), 'tools/install.sh installs openmim (mim)'
    site = tmp_path_factory.mktemp('site')
    install = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--no-deps', '--quiet',
         '--disable-pip-version-check', '--target', str(site),
         str(dist['wheel'])], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    work = tmp_path_factory.mktemp('work')
    env = dict(os.environ, PYTHONPATH=str(site), OMP_NUM_THREADS='1',
               PATH=f'{BIN}{os.pathsep}{os.environ.get("PATH", "")}')

    def run(args: List[str], timeout: int = 600) -> subprocess.CompletedProcess:
        done = subprocess.run(args, cwd=work, env=env, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, (
            f'{args} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}')
        return done

    return dict(site=site, work=work, run=run)


def test_wheel_and_sdist_carry_mim_folder(dist):
    names = set(zipfile.ZipFile(dist['wheel']).namelist())
    mim = 'mmconvnextv2/.mim/'
    for name in ['model-index.yml', 'tools/train.py', 'tools/test.py',
                 'tools/infer.py', 'tools/misc/swap_backbone.py',
                 'tools/misc/check_dataset.py',
                 'tools/deployment/export_onnx.py',
                 'tools/analysis_tools/fcmae_payoff.py',
                 'tools/model_converters/mmconvnextv2_to_external.py',
                 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py']:
        assert mim + name in names, name
    configs = {n for n in names if n.startswith(mim + 'configs/')}
    shipped = {mim + 'configs/' + str(p.relative_to(REPO / 'configs'))
               for p in (REPO / 'configs').rglob('*')
               if p.is_file() and p.suffix in ('.py', '.yml', '.md')}
    assert configs == shipped
    assert not [n for n in names if '__pycache__' in n or n.endswith('.pyc')]
    assert 'mmconvnextv2/version.py' in names
    metadata = zipfile.ZipFile(dist['wheel']).read(
        next(n for n in names if n.endswith('.dist-info/METADATA'))).decode()
    assert 'Version: 0.1.0' in metadata
    for requirement in ('mmengine', 'mmcv', 'mmdet', 'mmsegmentation',
                        'mmpretrain', 'safetensors'):
        assert f'Requires-Dist: {requirement}' in metadata, requirement
    sdist = set(tarfile.open(dist['sdist']).getnames())
    top = dist['sdist'].name[:-len('.tar.gz')]
    for name in ['model-index.yml', 'tools/train.py',
                 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py']:
        assert f'{top}/{mim}{name}' in sdist, name
        assert f'{top}/{name}' in sdist, name  # what the wheel is built from


def test_installed_outside_the_clone(user):
    out = user['run']([
        sys.executable, '-c',
        'import sys, mmconvnextv2; print(mmconvnextv2.__file__); '
        'print(mmconvnextv2.__version__); print(repr(sys.path))']).stdout
    file, version, path = out.strip().splitlines()[-3:]
    assert Path(file).parent == user['site'] / 'mmconvnextv2'
    assert version == '0.1.0'
    assert not [p for p in eval(path) if p.startswith(str(REPO))
                and not p.startswith(str(REPO / '.venv'))]


def test_mim_search_lists_the_metafiles(user):
    user['run'](['mim', 'search', 'mmconvnextv2', '--field', 'config',
                 'weight', '--json', 'models.json'])
    found = json.loads((user['work'] / 'models.json').read_text())
    models = metafile_models()
    assert set(found['config']) == set(models)
    for name, config in models.items():
        assert found['config'][name] == config
    assert found['weight']['convnext-v2-base_fcmae-in22k-pre_32xb16-amp-30e_'
                           'in1k-384px'].endswith('convnextv2_base_22k_384_ema.pt')


def test_mim_train_test_run_on_a_user_config(user):
    """``mmconvnextv2::`` base -> mim train (2 iterations) -> mim test ->
    mim run of the exporter on the trained checkpoint."""
    run, work = user['run'], user['work']
    run(['mim', 'run', 'mmconvnextv2', 'make_synthetic_data', '--out',
         'data/synthetic', '--only', 'ade', '--num-train', '4', '--num-val',
         '2'])
    (work / 'my_upernet.py').write_text(USER_CONFIG)
    out = run(['mim', 'train', 'mmconvnextv2', 'my_upernet.py', '--gpus', '0',
               '--work-dir', 'work_dirs/mine'])
    assert 'Training finished successfully' in out.stdout
    checkpoint = work / 'work_dirs' / 'mine' / 'iter_2.pth'
    assert checkpoint.is_file()
    # the shipped config, copied from the wheel: the user's base resolved there
    dumped = (work / 'work_dirs' / 'mine' / 'my_upernet.py').read_text()
    assert "type='EncoderDecoder'" in dumped and 'mmconvnextv2::' not in dumped
    out = run(['mim', 'test', 'mmconvnextv2', 'my_upernet.py', '--checkpoint',
               str(checkpoint), '--gpus', '0', '--work-dir', 'work_dirs/test'])
    assert 'mIoU' in out.stdout + out.stderr
    out = run(['mim', 'run', 'mmconvnextv2', 'mmconvnextv2_to_external',
               str(checkpoint), 'hf', '--layout', 'huggingface',
               '--backbone-only'])
    assert sorted(os.listdir(work / 'hf')) == ['config.json',
                                               'model.safetensors']


def test_mim_run_finds_the_tools(dist, user):
    """``mim run mmconvnextv2 TOOL`` finds each script in the wheel's
    ``.mim/tools`` (one script per name, in any subfolder) and the script
    imports from the installed package. mim itself runs one here (and two
    more, from misc/ and model_converters/, in the train test above); every
    script's --help then runs in one process, from the installed wheel."""
    mim = 'mmconvnextv2/.mim/tools/'
    names = zipfile.ZipFile(dist['wheel']).namelist()
    scripts = []
    for tool in MIM_TOOLS:
        found = [n for n in names if n.startswith(mim)
                 and n.endswith(f'/{tool}.py')]
        assert len(found) == 1, (tool, found)  # mim would pick the shortest
        scripts.append(str(user['site'] / found[0]))
    # `--`: the rest goes to the tool (mim would answer --help itself)
    out = user['run'](['mim', 'run', 'mmconvnextv2', 'export_onnx', '--',
                       '--help'])
    assert '.mim/tools/deployment/export_onnx.py' in out.stdout
    assert 'usage:' in out.stdout
    out = user['run']([sys.executable, '-c', HELP_EACH, *scripts]).stdout
    site = user['site'] / 'mmconvnextv2' / '__init__.py'
    assert f'package: {site}' in out.splitlines(), out[-3000:]
    for tool in MIM_TOOLS:
        assert f'usage: {tool}.py' in out, (tool, out[-3000:])
        assert f'help of {tool}.py: exit 0' in out, (tool, out[-3000:])


def test_stock_mmseg_train_after_import(user):
    """mmseg's own tools/train.py reads the ``mmconvnextv2::`` base once
    ``mmconvnextv2`` is imported first (``custom_imports`` comes too late:
    mmengine resolves the bases before it)."""
    import mmseg
    stock = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'train.py')
    assert osp.isfile(stock), 'the pinned mmseg wheel ships .mim/tools/train.py'
    run, work = user['run'], user['work']
    if not (work / 'data' / 'synthetic' / 'ade').is_dir():
        run([sys.executable, str(user['site'] / 'mmconvnextv2' / '.mim' /
             'tools' / 'misc' / 'make_synthetic_data.py'), '--out',
             'data/synthetic', '--only', 'ade', '--num-train', '4',
             '--num-val', '2'])
    (work / 'stock.py').write_text(USER_CONFIG)
    run([sys.executable, '-c', STOCK_TRAIN, stock, 'stock.py', '--work-dir',
         'work_dirs/stock'])
    assert (work / 'work_dirs' / 'stock' / 'iter_2.pth').is_file()
    # without the import, mmengine refuses the prefix
    plain = subprocess.run(
        [sys.executable, stock, 'stock.py', '--work-dir', 'work_dirs/plain'],
        cwd=work, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONPATH=str(user['site'])))
    assert plain.returncode != 0
    assert 'does not support to load mmconvnextv2 config' in plain.stderr
