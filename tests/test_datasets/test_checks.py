"""check_dataset_config: clear errors naming the file for bad dataset configs,
where the upstream readers fail unclearly or silently."""
import json
import os.path as osp

import pytest
from mmengine.config import Config

from mmconvnextv2.datasets import (DatasetConfigError,
                                   check_coco_annotation_file,
                                   check_dataset_config, make_synthetic_data)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DET = osp.join(REPO,
               'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py')
SEG = osp.join(REPO,
               'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py')


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp('synthetic')
    make_synthetic_data(str(out), num_train=2, num_val=1, size=64)
    return out


def _det_cfg(data_dir, **options):
    cfg = Config.fromfile(DET)
    root = f'{data_dir}/coco/'
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': root,
        'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root,
        **options
    })
    return cfg


def _seg_cfg(data_dir, **options):
    cfg = Config.fromfile(SEG)
    root = f'{data_dir}/ade'
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': root,
        'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root,
        **options
    })
    return cfg


def test_good_configs_pass(data_dir):
    check_dataset_config(_det_cfg(data_dir))
    check_dataset_config(_seg_cfg(data_dir))


def test_missing_annotation_file_is_named(data_dir):
    cfg = _det_cfg(data_dir, **{
        'val_dataloader.dataset.ann_file': 'annotations/nope.json'})
    with pytest.raises(FileNotFoundError,
                       match=r'val_dataloader\.dataset: annotation file '
                       r'.*coco/annotations/nope\.json does not exist'):
        check_dataset_config(cfg)


def test_malformed_annotation_file_is_named(data_dir, tmp_path):
    bad = tmp_path / 'broken.json'
    bad.write_text('{"images": [')
    cfg = _det_cfg(data_dir, **{'train_dataloader.dataset.ann_file': str(bad)})
    with pytest.raises(DatasetConfigError,
                       match=f'{bad} is not valid JSON'):
        check_dataset_config(cfg)
    bad.write_text(json.dumps({'data_list': []}))
    with pytest.raises(DatasetConfigError, match='not in the COCO format'):
        check_dataset_config(cfg)


def test_classes_not_in_annotations(data_dir):
    cfg = _det_cfg(data_dir, **{
        'train_dataloader.dataset.metainfo.classes':
        ('circle', 'hexagon', 'triangle', 'star')
    })
    with pytest.raises(DatasetConfigError,
                       match=r"\['hexagon'\] are not categories of the "
                       r'annotation file .*instances_train\.json'):
        check_dataset_config(cfg)


def test_default_coco_classes_not_in_annotations(data_dir):
    # no metainfo: CocoDataset falls back on COCO's 80 classes
    cfg = _det_cfg(data_dir)
    cfg.train_dataloader.dataset.pop('metainfo')
    with pytest.raises(DatasetConfigError, match="'person'"):
        check_dataset_config(cfg)


def test_num_classes_mismatch(data_dir):
    cfg = _det_cfg(data_dir, **{'model.roi_head.mask_head.num_classes': 80})
    with pytest.raises(DatasetConfigError,
                       match=r'model\.roi_head\.mask_head\.num_classes is 80 '
                       'but train_dataloader.dataset has 4 classes'):
        check_dataset_config(cfg)
    cfg = _seg_cfg(data_dir, **{'model.auxiliary_head.num_classes': 150})
    with pytest.raises(DatasetConfigError, match='auxiliary_head'):
        check_dataset_config(cfg)


def test_missing_segmentation_folders(data_dir, tmp_path):
    cfg = _seg_cfg(data_dir, **{
        'test_dataloader.dataset.data_root': str(tmp_path / 'synthetic')})
    with pytest.raises(FileNotFoundError,
                       match='test_dataloader.dataset: image folder .* does '
                       'not exist; write the synthetic datasets'):
        check_dataset_config(cfg)
    # test.py checks only what it reads
    check_dataset_config(cfg, dataloaders=('train_dataloader', ))
    (tmp_path / 'synthetic/images/validation').mkdir(parents=True)
    (tmp_path / 'synthetic/annotations/validation').mkdir(parents=True)
    with pytest.raises(DatasetConfigError, match=r'holds no "\*\.jpg"'):
        check_dataset_config(cfg)


def test_wrappers_are_looked_through(data_dir):
    cfg = _det_cfg(data_dir)
    inner = cfg.train_dataloader.dataset
    inner.ann_file = 'annotations/missing.json'
    cfg.train_dataloader.dataset = dict(
        type='ConcatDataset',
        datasets=[dict(type='RepeatDataset', times=2, dataset=inner)])
    with pytest.raises(FileNotFoundError,
                       match=r'datasets\[0\]\.dataset: .*missing\.json'):
        check_dataset_config(cfg)


def test_check_coco_annotation_file_returns_content(data_dir):
    path = str(data_dir / 'coco/annotations/instances_val.json')
    content = check_coco_annotation_file(path, ['star', 'circle'])
    assert len(content['images']) == 1


def test_checks_names_the_pieces_of_both_checks():
    """The pre-flight's names stay importable from ``datasets.checks``
    (tools/train.py, tools/misc/check_dataset.py and the importers import
    them there) and are the modules' own objects."""
    from mmconvnextv2.datasets import checks, coco_checks, preflight, problems
    homes = dict(SPLITS=preflight, find_dataset_problems=preflight,
                 check_coco_annotation_file=coco_checks,
                 DatasetProblem=problems, image_problem=problems,
                 DatasetConfigError=problems,
                 DatasetFileNotFoundError=problems)
    assert set(homes) | {'check_dataset_config'} == set(checks.__all__)
    for name, home in homes.items():
        assert getattr(checks, name) is getattr(home, name), name
