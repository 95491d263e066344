"""mmconvnextv2.analysis.loader_benchmark: the FCMAE config's loader on a
folder of frames against its training step (tiny frames, 2 batches; no
timing is asserted), the config pointed at the folder, the pipeline with
the reduced JPEG decode, and the frames it writes."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmconvnextv2.analysis.loader_benchmark import (benchmark_loader,
                                                    draft_pipeline,
                                                    format_report,
                                                    natural_frame, point_at,
                                                    write_frames)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'fcmae', 'fcmae_convnext-v2-atto_1xb16-'
                  'coslr-1000i_synthetic-128px.py')


@pytest.fixture(scope='module')
def report():
    # 960x540 frames: large enough for a 1/2 decode at the config's crops
    return benchmark_loader(CONFIG, frames=4, frame_size=(960, 540),
                            workers=0, batch_size=2, batches=2, rounds=1,
                            warmup=1, steps=1, profile=2)


@pytest.mark.slow  # the fixture trains a few steps
def test_report_gives_the_setup_and_the_machine(report):
    assert report['config'] == CONFIG and report['synthetic']
    assert report['frames'] == 4 and report['frame_sizes'] == ['960x540']
    assert report['batch_size'] == 2 and report['crop_size'] == [128, 128]
    assert report['workers'] == 0 and report['config_workers'] == 2
    machine = report['machine']
    assert machine['cpu_count'] >= machine['usable_cpus'] >= 1
    assert machine['torch_threads'] >= 1 and machine['device'] == 'cpu'


@pytest.mark.slow  # the fixture trains a few steps
def test_loader_rate_over_step_rate_per_pipeline(report):
    step = report['step']
    assert step['steps'] == 1 and step['images_per_s'] > 0
    assert set(report['pipelines']) == {'config', 'draft'}
    for result in report['pipelines'].values():
        loader = result['loader']
        assert loader['batches'] == 2 and loader['images_per_s'] > 0
        assert result['ratio'] == pytest.approx(
            loader['images_per_s'] / step['images_per_s'])
        assert result['fed_step']['images_per_s'] > 0


@pytest.mark.slow  # the fixture trains a few steps
def test_per_transform_times_and_decode_scales(report):
    config, draft = (report['pipelines'][k]['transforms']
                     for k in ('config', 'draft'))
    assert list(config['ms']) == ['LoadImageFromFile', 'RandomResizedCrop',
                                  'RandomFlip', 'PackInputs', 'collate']
    assert list(draft['ms'])[0] == 'DraftLoadImageFromFile'
    assert all(ms >= 0 for ms in config['ms'].values())
    assert config['decode_scales'] == {} and draft['decode_scales'] == {
        '1/2': 2}


@pytest.mark.slow  # the fixture trains a few steps
def test_format_report_has_a_row_per_pipeline(report):
    text = format_report(report)
    assert 'loader workers: 0 (the config has 2)' in text
    assert "| the config's pipeline |" in text
    assert '| with DraftLoadImageFromFile |' in text
    ratio = report['pipelines']['config']['ratio']
    assert f'| {ratio:.2f} |' in text and '(decoded: 2 at 1/2)' in text


def test_point_at_reads_the_folder_with_the_configs_workers(tmp_path):
    raw = Config.fromfile(CONFIG)
    raw.train_dataloader.dataset.ann_file = 'list.txt'
    cfg = point_at(raw, str(tmp_path))
    loader = cfg.train_dataloader
    assert loader.dataset.data_root == str(tmp_path)
    assert loader.dataset.data_prefix == '' and loader.dataset.ann_file == ''
    assert loader.num_workers == 2 and loader.persistent_workers
    assert '_scope_' not in loader.collate_fn
    assert raw.train_dataloader.dataset.data_root == 'data/synthetic/'
    quiet = point_at(raw, str(tmp_path), workers=0, batch_size=3)
    assert quiet.train_dataloader.num_workers == 0
    assert not quiet.train_dataloader.persistent_workers
    assert quiet.train_dataloader.batch_size == 3


def test_draft_pipeline_takes_the_crops_arguments():
    load = dict(type='LoadImageFromFile', imdecode_backend='pillow')
    crop = dict(type='RandomResizedCrop', scale=96, crop_ratio_range=(0.3, 1.),
                backend='pillow')
    flip = dict(type='RandomFlip', prob=0.5)
    drafted = draft_pipeline([load, crop, flip])
    assert drafted == [dict(type='DraftLoadImageFromFile', crop_size=96,
                            imdecode_backend='pillow',
                            crop_ratio_range=(0.3, 1.)), crop, flip]
    assert draft_pipeline([load, flip, crop]) is None  # something between
    assert draft_pipeline([load, flip]) is None


def test_frames_are_jpegs_of_the_size_with_texture(tmp_path):
    paths = write_frames(str(tmp_path), 2, 64, 48)
    assert [osp.basename(p) for p in paths] == ['frame_00000.jpg',
                                                'frame_00001.jpg']
    with Image.open(paths[0]) as img:
        assert img.format == 'JPEG' and img.size == (64, 48)
    frame = natural_frame(np.random.default_rng(1), 64, 48)
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    assert frame.std() > 10 and len(np.unique(frame)) > 100
