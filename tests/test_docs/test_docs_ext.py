"""The build-time generators of docs/_ext/mmcnx_docs.py: model zoo tables
from metafiles, the collapse study's include, the API module lists."""
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'docs', '_ext'))
mmcnx_docs = pytest.importorskip('mmcnx_docs')


def test_model_zoo_from_metafiles(tmp_path):
    (tmp_path / 'configs' / 'a').mkdir(parents=True)
    (tmp_path / 'model-index.yml').write_text(
        'Import:\n  - configs/a/metafile.yml\n')
    (tmp_path / 'configs' / 'a' / 'metafile.yml').write_text(
        'Collections:\n  - Name: Thing\n    Metadata:\n'
        '      Training Data: COCO\n'
        'Models:\n  - Name: x\n    Config: configs/a/x.py\n'
        '    Metadata:\n      Epochs: 3\n      Batch Size: 16\n'
        '      Parameters: 3708400\n      FLOPs: 552038080\n'
        '    Results:\n      - Task: T\n        Dataset: D\n'
        '        Metrics:\n          AP: 52.9\n        Source: paper\n'
        '    Weights: https://example.org/w.pth\n'
        '  - Name: y\n    Config: configs/a/y.py\n'
        '    Metadata:\n      Iterations: 100\n    Results: null\n'
        '    Weights: null\n')
    text = mmcnx_docs.model_zoo_markdown(str(tmp_path))
    assert '## Thing' in text and 'trained on COCO' in text
    assert ('| `configs/a/x.py` | 3 ep | 16 | 3.7M | 0.55G | D: AP 52.9 '
            '(paper) | [weights](https://example.org/w.pth) |') in text
    assert '| `configs/a/y.py` | 100 it | - | - | - | - | - |' in text


def test_real_model_zoo_lists_every_metafile_model():
    text = mmcnx_docs.model_zoo_markdown(ROOT)
    import yaml
    for rel in mmcnx_docs.metafiles(ROOT):
        with open(osp.join(ROOT, rel)) as f:
            for model in yaml.safe_load(f)['Models']:
                assert f"`{model['Config']}`" in text


def test_collapse_include(tmp_path):
    folder = tmp_path / 'collapse'
    assert 'not been copied' in mmcnx_docs.collapse_markdown(str(folder))
    (folder / 'mlp').mkdir(parents=True)
    (folder / 'trend.png').write_bytes(b'png')
    (folder / 'mlp' / 'collapse.png').write_bytes(b'png')
    (folder / 'study.md').write_text(
        '# Study\n\n![t](trend.png) [mlp](mlp/collapse.md) '
        '[paper](https://arxiv.org/abs/2301.00808)\n')
    text = mmcnx_docs.collapse_markdown(str(folder))
    assert '## Study' in text  # below the guide's own heading
    assert '![t](../collapse/trend.png)' in text
    assert 'mlp (`docs/collapse/mlp/collapse.md`)' in text
    assert '[paper](https://arxiv.org/abs/2301.00808)' in text
    # pictures the study does not show are shown after it, once
    assert text.count('../collapse/mlp/collapse.png') == 1
    assert text.count('../collapse/trend.png') == 1


def test_api_pages_list_every_module():
    text = mmcnx_docs.api_markdown('engine')
    assert '.. automodule:: mmconvnextv2.engine\n```' in text  # docstring only
    assert '.. automodule:: mmconvnextv2.engine.resume\n   :members:' in text
    assert 'mmconvnextv2.engine.hooks.checkpoint_hook' in text
    single = mmcnx_docs.api_markdown('runtime')
    assert single.count('automodule') == 1 and ':members:' in single
