"""model-index.yml and the metafiles: what ``mim search mmconvnextv2`` lists
and mmengine's ``mmconvnextv2::`` lookups read.

Every metafile is imported, every entry names a config that exists, and
every checkpoint the official ConvNeXt V2 release published (FCMAE
pre-trained, IN-1K fine-tuned at 224, IN-22K fine-tuned at 224 / 384 / 512)
is listed with a config that uses it.
"""
import re
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from mmengine.config import Config

from mmconvnextv2.config_prefix import resolve_config

REPO = Path(__file__).resolve().parents[2]
URL = 'https://dl.fbaipublicfiles.com/convnext/convnextv2/'
ARCHS = ('atto', 'femto', 'pico', 'nano', 'tiny', 'base', 'large', 'huge')
# the official README's tables
RELEASED = (
    [f'{URL}pt_only/convnextv2_{a}_1k_224_fcmae.pt' for a in ARCHS]
    + [f'{URL}im1k/convnextv2_{a}_1k_224_ema.pt' for a in ARCHS]
    + [f'{URL}im22k/convnextv2_{a}_22k_{r}_ema.pt'
       for a in ('nano', 'tiny', 'base', 'large') for r in (224, 384)]
    + [f'{URL}im22k/convnextv2_huge_22k_{r}_ema.pt' for r in (384, 512)])


def load_models() -> List[Dict]:
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    models = []
    for meta in index['Import']:
        data = yaml.safe_load((REPO / meta).read_text())
        collections = {c['Name'] for c in data.get('Collections', [])}
        for model in data['Models']:
            assert model.get('In Collection') in collections, model['Name']
            models.append(dict(model, metafile=meta))
    return models


MODELS = load_models()


def test_index_imports_every_metafile():
    index = yaml.safe_load((REPO / 'model-index.yml').read_text())
    found = sorted(str(p.relative_to(REPO))
                   for p in (REPO / 'configs').glob('*/metafile.yml'))
    assert sorted(index['Import']) == found


@pytest.mark.parametrize('model', MODELS, ids=lambda m: m['Name'])
def test_entry_names_an_existing_config(model):
    config = model['Config']
    assert (REPO / config).is_file(), config
    assert Path(config).stem == model['Name']
    assert config.startswith(f"configs/{Path(model['metafile']).parent.name}/")
    # as a user's `_base_ = ['mmconvnextv2::<folder>/<config>.py']` finds it
    assert Path(resolve_config('mmconvnextv2::' + config[len('configs/'):])) \
        .resolve() == (REPO / config).resolve()
    weights = model.get('Weights')
    assert weights is None or weights.startswith('https://'), weights
    for result in model.get('Results') or []:
        assert result['Task'] and result['Dataset'] and result['Metrics']


def test_names_are_unique():
    names = [m['Name'] for m in MODELS]
    assert len(names) == len(set(names))


def backbone_init(config: str) -> str:
    cfg = Config.fromfile(str(REPO / config))
    return ((cfg.model.get('backbone') or {}).get('init_cfg') or {}).get(
        'checkpoint', '')


@pytest.mark.parametrize('url', RELEASED, ids=lambda u: u.rsplit('/', 1)[-1])
def test_every_released_checkpoint_is_indexed(url):
    """Fine-tuned weights: the entry whose config produces them (at their
    resolution); FCMAE weights: their pre-training entry, and configs that
    start from them."""
    entries = [m for m in MODELS if m.get('Weights') == url]
    assert entries, f'{url} is in no metafile'
    name = url.rsplit('/', 1)[-1]
    if name.endswith('_fcmae.pt'):
        assert all(m['Config'].startswith('configs/fcmae/') for m in entries)
        users = [m['Config'] for m in MODELS
                 if m['Config'].startswith('configs/convnext_v2/')
                 and m.get('Metadata', {}).get('Pre-trained Weights') == url]
        assert users, f'no fine-tuning config starts from {name}'
        assert backbone_init(users[0]) == url
        return
    arch, res = re.match(r'convnextv2_(\w+?)_\d+k_(\d+)_ema\.pt$', name).groups()
    for entry in entries:
        config = entry['Config']
        assert f'convnext-v2-{arch}_' in config, config
        assert (f'-{res}px' in config) == (res != '224'), config
        assert ('in22k-pre' in config) == ('_22k_' in name), config
