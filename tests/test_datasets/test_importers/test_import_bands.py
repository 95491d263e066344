"""Importing other images than 8-bit colour: COCO boxes on 4-band float32
TIFFs and label maps beside 1-band 16-bit TIFFs. The images pass the
import's decode check (tifffile, as LoadAnyImageFromFile reads them) and
dataset.json gives their channels, dtype and per-band mean / std; the data
pre-flight of a config for them finds no problem."""
import os
import os.path as osp

import numpy as np
from helpers.modalities import bands_tiff, grey16_tiff
from importer_files import read_json, write_json, write_label_map

from mmconvnextv2.datasets.importers import import_dataset
from mmconvnextv2.datasets.problems import image_problem, image_size

SIZE = 32


def test_coco_on_band_tiffs(tmp_path):
    images = str(tmp_path / 'images')
    os.makedirs(images)
    pixels, entries, anns = [], [], []
    for i in range(5):
        pixels.append(bands_tiff(images, f'{i}.tif', size=SIZE, seed=i)[1])
        entries.append(dict(id=i + 1, file_name=f'{i}.tif', width=SIZE,
                            height=SIZE))
        anns.append(dict(id=i + 1, image_id=i + 1, category_id=1 + i % 2,
                         bbox=[4, 4, 12, 10], area=120, iscrowd=0))
    src = write_json(str(tmp_path / 'coco.json'), dict(
        images=entries, annotations=anns,
        categories=[dict(id=1, name='a'), dict(id=2, name='b')]))
    assert image_problem(osp.join(images, '0.tif')) is None
    assert image_size(osp.join(images, '0.tif')) == (SIZE, SIZE)
    result = import_dataset('coco', src, str(tmp_path / 'out'), images,
                            val_fraction=0.4)
    assert len(result.bad) == 0
    info = read_json(str(tmp_path / 'out' / 'dataset.json'))
    assert (info['channels'], info['dtype']) == (4, 'float32')
    train = [int(osp.splitext(e['file_name'])[0]) for e in read_json(
        str(tmp_path / 'out' / info['paths']['train']['ann_file']))['images']]
    stack = np.stack([pixels[i] for i in train]).reshape(-1, 4)
    assert np.allclose(info['mean'], stack.mean(0), atol=1e-5)
    assert np.allclose(info['std'], stack.std(0), atol=1e-5)


def test_masks_on_grey16_tiffs(tmp_path):
    images, labels = str(tmp_path / 'images'), str(tmp_path / 'labels')
    os.makedirs(images)
    for i in range(4):
        grey16_tiff(images, f'm{i}.tif', size=SIZE, seed=i)
        values = np.zeros((SIZE, SIZE))
        values[4:20] = 1
        write_label_map(osp.join(labels, f'm{i}.png'), values)
    result = import_dataset('masks', labels, str(tmp_path / 'out'), images,
                            classes=['ground', 'cell'], val_fraction=0.5)
    assert len(result.bad) == 0
    info = read_json(str(tmp_path / 'out' / 'dataset.json'))
    assert (info['channels'], info['dtype']) == (1, 'uint16')
    assert info['mean'][0] > 255 and info['img_suffix'] == '.tif'
