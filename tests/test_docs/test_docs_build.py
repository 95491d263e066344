"""The docs site builds strictly: every Sphinx warning (a broken link, a page
outside the toctree, an API reference that resolves to nothing, a docstring
that does not parse) fails the build, as `make docs` does."""
import os.path as osp
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_strict_docs_build(repo_root, tmp_path):
    out = tmp_path / 'html'
    proc = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-b', 'html', '-W', '--keep-going',
         '-n', '-E', '-q', '-d', str(tmp_path / 'doctrees'), 'docs',
         str(out)], cwd=repo_root, capture_output=True, text=True,
        timeout=900)
    assert proc.returncode == 0, proc.stderr[-6000:] or proc.stdout[-3000:]
    assert 'WARNING' not in proc.stderr, proc.stderr[-6000:]
    # the generated pages are there and hold what they are generated from
    zoo = (out / 'model_zoo.html').read_text(encoding='utf-8')
    assert 'fcmae_convnext-v2-atto_1xb32-coslr-5000i_custom-folder' in zoo \
        or 'convnext-v2-atto_fcmae-pre_32xb32-amp-600e_in1k' in zoo
    models = (out / 'api' / 'models.html').read_text(encoding='utf-8')
    assert 'mmconvnextv2.models.backbones.convnext_v2.ConvNeXtV2' in models
    for page in ('index', 'get_started', 'faq', 'benchmarks', 'changelog'):
        assert osp.isfile(out / f'{page}.html'), page
