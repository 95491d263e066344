"""tools/infer.py: our det, seg and cls configs on test-made images and
folders (drawings written, the JSON's schema, the progress bar), a classifier
config on official / timm / mmpretrain / Hugging Face files of the same
weights, and one clear error per bad input."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from helpers.classifier import run

from mmconvnextv2.checkpoint import backbone_part
from mmconvnextv2.apis import build_predictor, run_inference

from helpers.checkpoints import (ATTO, export_hf, export_official,
                                 export_timm, random_backbone_state)


def image_folder(src_images, dst):
    """A folder of the given images under new names, and a text file that
    must be skipped."""
    os.makedirs(dst)
    for i, src in enumerate(src_images):
        shutil.copy(src, osp.join(dst, f'picture_{i}{osp.splitext(src)[1]}'))
    with open(osp.join(dst, 'notes.txt'), 'w') as f:
        f.write('not an image')
    return str(dst)


def load_json(out):
    with open(osp.join(out, 'predictions.json')) as f:
        return json.load(f)


def test_detection_folder(trained, tmp_path):
    config, ckpt = trained.det.config, trained.det.checkpoint
    folder = image_folder(sorted((trained.data / 'coco' / 'val').glob('*')),
                          tmp_path / 'pictures')
    out = tmp_path / 'out'
    output = run(['tools/infer.py', config, ckpt, folder, '--out', str(out),
                  '--score-thr', '0.05'])
    assert '2/2' in output  # the progress bar reached the end
    assert 'det: 2 image(s)' in output
    summary = load_json(out)
    assert summary['task'] == 'det' and summary['score_thr'] == 0.05
    assert summary['classes'] == ['circle', 'square', 'triangle', 'star']
    assert [osp.basename(r['image']) for r in summary['images']] == [
        'picture_0.jpg', 'picture_1.jpg']
    from pycocotools import mask as mask_utils
    found = 0
    for record in summary['images']:
        assert osp.isfile(record['visualization'])
        assert record['seconds'] > 0
        for det in record['detections']:
            found += 1
            assert det['score'] >= 0.05
            assert det['class'] == summary['classes'][det['label']]
            x1, y1, x2, y2 = det['bbox']
            assert 0 <= x1 <= x2 <= 128 and 0 <= y1 <= y2 <= 128
            rle = dict(det['mask'], counts=det['mask']['counts'].encode())
            assert mask_utils.decode(rle).shape == (128, 128)
    assert found, 'a model of a few iterations still scores boxes above 0.05'


def test_segmentation_image(trained, tmp_path):
    config, ckpt = trained.seg.config, trained.seg.checkpoint
    image = trained.data / 'ade' / 'images' / 'validation' / \
        'synthetic_000000.jpg'
    out = tmp_path / 'out'
    output = run(['tools/infer.py', config, ckpt, str(image), '--out',
                  str(out)])
    assert 'seg: 1 image(s)' in output and '1/1' not in output  # no bar
    record, = load_json(out)['images']
    assert record['visualization'] == str(out / 'vis' / image.name)
    assert osp.isfile(record['visualization'])
    labels = np.asarray(Image.open(record['label_map']))
    assert labels.shape == (128, 128) == tuple(record['shape'])
    assert labels.max() < 5
    assert sorted(os.listdir(out)) == ['labels', 'predictions.json', 'vis']
    present = {c['label']: c for c in record['classes_present']}
    assert set(present) == set(np.unique(labels).tolist())
    for label, c in present.items():  # fractions rounded to 6 decimals
        assert c['fraction'] == round(float((labels == label).sum()) /
                                      labels.size, 6)
    # the rounded fractions sum to 1 up to their rounding
    assert sum(c['fraction'] for c in present.values()) == pytest.approx(
        1, abs=len(present) * 5e-7)


def foreign_files(state, root):
    """The classifier's weights in the official, timm, mmpretrain and
    Hugging Face layouts (the last as a save_pretrained folder)."""
    backbone = backbone_part(state)
    head = {'weight': state['head.fc.weight'], 'bias': state['head.fc.bias']}
    files = {}
    for name, weights in (('official', export_official(backbone, head)),
                          ('timm', export_timm(backbone, head))):
        files[name] = str(root / f'{name}.pth')
        torch.save({'model': weights}, files[name])
    files['mmpretrain'] = str(root / 'mmpretrain.pth')
    torch.save({'state_dict': dict(state)}, files['mmpretrain'])
    from safetensors.torch import save_file
    os.makedirs(root / 'hf')
    save_file({k: v.contiguous() for k, v in export_hf(backbone, head).items()},
              str(root / 'hf' / 'model.safetensors'))
    files['huggingface'] = str(root / 'hf')
    return files


def test_classification_any_layout(trained, tmp_path):
    config, ckpt = trained.cls.config, trained.cls.checkpoint
    val = trained.imagenet / 'val'
    folder = image_folder([val / 'n01440764' / 'n01440764_0.png',
                           val / 'n01443537' / 'n01443537_0.png'],
                          tmp_path / 'pictures')
    ours = run_inference(config, ckpt, [folder], str(tmp_path / 'ours'),
                         progress=False)
    assert ours['task'] == 'cls'
    for record in ours['images']:
        assert osp.isfile(record['visualization'])
        scores = [c['score'] for c in record['topk']]
        assert len(scores) == 2 and scores == sorted(scores, reverse=True)
        assert sum(scores) == pytest.approx(1, abs=1e-5)
        assert {c['class'] for c in record['topk']} == {'n01440764',
                                                        'n01443537'}
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    for layout, path in foreign_files(state, tmp_path).items():
        theirs = run_inference(config, path, [folder],
                               str(tmp_path / layout), progress=False)
        for a, b in zip(ours['images'], theirs['images']):
            assert [c['label'] for c in a['topk']] == \
                [c['label'] for c in b['topk']], layout
            np.testing.assert_allclose([c['score'] for c in a['topk']],
                                       [c['score'] for c in b['topk']],
                                       atol=1e-6, err_msg=layout)


def test_bad_inputs(trained, tmp_path):
    config, ckpt = trained.cls.config, trained.cls.checkpoint
    image = str(trained.imagenet / 'val' / 'n01440764' / 'n01440764_0.png')
    missing = str(tmp_path / 'nowhere.jpg')
    with pytest.raises(FileNotFoundError, match='input not found: .*nowhere'):
        run_inference(config, ckpt, [image, missing], str(tmp_path / 'o'))
    text = tmp_path / 'notes.txt'
    text.write_text('hello')
    with pytest.raises(ValueError, match=r"notes\.txt' is not an image"):
        run_inference(config, ckpt, [str(text)], str(tmp_path / 'o'))
    fake = tmp_path / 'fake.png'
    fake.write_bytes(b'not a png')
    with pytest.raises(ValueError, match=r"fake\.png' is not a readable"):
        run_inference(config, ckpt, [str(fake)], str(tmp_path / 'o'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='empty.* holds no images'):
        run_inference(config, ckpt, [str(tmp_path / 'empty')],
                      str(tmp_path / 'o'))
    assert not (tmp_path / 'o').exists()  # failed before writing anything

    # a detection checkpoint in a classification config, and back
    with pytest.raises(ValueError, match=r'iter_\d+\.pth holds a detection '
                       r'\(mmdet\) model, but .* is an image classification'):
        build_predictor(config, trained.det.checkpoint)
    with pytest.raises(ValueError, match='epoch_1.pth holds an image '
                       'classification .* is a semantic segmentation'):
        build_predictor(trained.seg.config, ckpt)
    # a backbone of another size (atto) for the config's tiny custom arch
    atto = tmp_path / 'atto.pth'
    torch.save(export_official(random_backbone_state(ATTO),
                               {'weight': torch.zeros(2, 320),
                                'bias': torch.zeros(2)}), atto)
    with pytest.raises(ValueError, match=r"atto.pth holds a ConvNeXt V2 with "
                       r"depths \[2, 2, 6, 2\] .*arch 'atto'.* but the model"):
        build_predictor(config, str(atto))
    # an FCMAE / backbone-only file is no classifier
    backbone = tmp_path / 'backbone.pth'
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    torch.save({k: v for k, v in state.items() if k.startswith('backbone.')},
               backbone)
    with pytest.raises(ValueError, match='backbone.pth holds a backbone-only'
                       ' model .*fine-tune'):
        build_predictor(config, str(backbone))
    # another number of classes
    three = tmp_path / 'three.pth'
    torch.save({'state_dict': dict(state, **{
        'head.fc.weight': torch.zeros(3, 64), 'head.fc.bias': torch.zeros(3)
    })}, three)
    with pytest.raises(ValueError, match=r'head.fc.weight: checkpoint '
                       r'\(3, 64\) vs model \(2, 64\)'):
        build_predictor(config, str(three))
