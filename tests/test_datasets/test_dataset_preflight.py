"""Dataset pre-flight (tools/misc/check_dataset.py, train.py --check-data)
on synthetic COCO and ADE20K data seeded with one problem of each kind, and
the training-time error for a corrupt image."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmconvnextv2.analysis.runner import capture_tool, data_options
from mmconvnextv2.datasets import make_synthetic_ade, make_synthetic_coco
from mmconvnextv2.datasets.checks import find_dataset_problems
from mmconvnextv2.datasets.transforms import (CheckedLoadImageFromFile,
                                               CorruptImageError)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MASK_RCNN = 'configs/mask_rcnn/mask-rcnn_convnext-v2-atto_fpn_synthetic.py'
UPERNET = 'configs/upernet/upernet_convnext-v2-atto_synthetic-128x128.py'


def corrupt(path: str) -> None:
    with open(path, 'wb') as f:
        f.write(b'\xff\xd8\xff\xe0 not really a jpeg')


def seed_coco_problems(root: str) -> dict:
    """One problem of each kind in the train split; return what to expect
    per kind (a text each problem line must contain)."""
    ann_path = osp.join(root, 'annotations', 'instances_train.json')
    with open(ann_path) as f:
        coco = json.load(f)
    images = coco['images']
    damaged = {img['id'] for img in images[:3]}
    anns = [a for a in coco['annotations'] if a['image_id'] not in damaged]
    del images[0]['width']  # schema
    os.remove(osp.join(root, 'train', images[1]['file_name']))  # missing
    corrupt(osp.join(root, 'train', images[2]['file_name']))  # undecodable
    coco['categories'][0]['name'] = 'blob'  # config class 'circle' is gone
    anns[0]['segmentation'] = [[1.0, 2.0, 3.0, 4.0, 5.0]]  # bad polygon
    anns[1]['segmentation'] = {'size': [5, 5], 'counts': [1, 2]}  # bad RLE
    anns[2]['bbox'] = [3.0, 4.0, 0.0, 7.0]  # degenerate box
    anns[3]['iscrowd'] = 2  # crowd flag
    with open(ann_path, 'w') as f:
        json.dump(coco, f)
    return {
        'schema': "image entry without ['width']",
        'missing image': 'image file missing',
        'corrupt image': 'image does not decode',
        'categories': "class 'circle' of the config is not a category",
        'polygon': 'polygon with 5 coordinates',
        'RLE': 'RLE size [5, 5] differs from the image',
        'degenerate box': 'degenerate bbox [3.0, 4.0, 0.0, 7.0]',
        'crowd': 'iscrowd is 2, not 0 or 1',
    }


def seed_ade_problems(root: str) -> dict:
    img_dir = osp.join(root, 'images', 'training')
    ann_dir = osp.join(root, 'annotations', 'training')
    stems = sorted(n[:-4] for n in os.listdir(img_dir))
    os.remove(osp.join(ann_dir, stems[0] + '.png'))  # label missing
    label = np.asarray(Image.open(osp.join(ann_dir, stems[1] + '.png')))
    Image.fromarray(label[:-4]).save(osp.join(ann_dir, stems[1] + '.png'))
    label = label.copy()
    label[0, 0] = 200  # neither a class nor the ignore value
    Image.fromarray(label).save(osp.join(ann_dir, stems[2] + '.png'))
    corrupt(osp.join(img_dir, stems[3] + '.jpg'))
    return {
        'label missing': f'{stems[0]}.png: label map missing',
        'label size': f'{stems[1]}.png: label map is 128x124, its image 128x128',
        'label values': f'{stems[2]}.png: label values [200] are neither',
        'corrupt image': f'{stems[3]}.jpg: image does not decode',
    }


def config(path: str, data_root: str) -> Config:
    cfg = Config.fromfile(osp.join(ROOT, path))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    return cfg


def check_listed(lines: list, expected: dict) -> None:
    for kind, text in expected.items():
        assert sum(text in line for line in lines) == 1, (kind, lines)


def test_coco_problems_each_listed(tmp_path):
    root = make_synthetic_coco(str(tmp_path / 'coco'), num_train=6,
                               num_val=2, size=64)
    cfg = config(MASK_RCNN, root)
    assert find_dataset_problems(cfg) == []  # clean data: nothing reported
    expected = seed_coco_problems(root)
    lines = [str(p) for p in find_dataset_problems(cfg, ['train_dataloader'])]
    check_listed(lines, expected)
    assert len(lines) == len(expected), lines
    assert all('[train_dataloader.dataset, ' in line for line in lines)


def test_ade_problems_each_listed_by_the_tool(tmp_path):
    root = make_synthetic_ade(str(tmp_path / 'ade'), num_train=6, num_val=2,
                              size=128)
    expected = seed_ade_problems(root)
    options = data_options('root', root)
    done = capture_tool('tools/misc/check_dataset.py',
                        [UPERNET, '--split', 'train', '--cfg-options',
                         *options], timeout=120)
    assert done.returncode == 1, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    check_listed(lines, expected)
    assert len(lines) == len(expected), lines
    assert '4 problem(s) in the train data' in done.stderr

    # train.py --check-data stops before training, with the same list
    done = capture_tool('tools/train.py',
                        [UPERNET, '--check-data', '--work-dir',
                         str(tmp_path / 'work'), '--cfg-options', *options],
                        timeout=120)
    assert done.returncode == 1
    check_listed(done.stderr.splitlines(), expected)
    assert done.stderr.strip().splitlines()[-1].startswith('error: 4 problem')
    assert not osp.exists(tmp_path / 'work' / 'last_checkpoint')


def test_corrupt_image_error_names_file_and_index(tmp_path):
    path = str(tmp_path / 'broken.jpg')
    corrupt(path)
    loader = CheckedLoadImageFromFile()
    with pytest.raises(CorruptImageError) as err:
        loader(dict(img_path=path, sample_idx=17))
    message = str(err.value)
    assert message.startswith(f'cannot load image {path} (dataset index 17)')
    assert '\n' not in message
