"""The main job on your own data (tools/quickstart.py --data) on images other
than 8-bit RGB: 4-band float32 TIFF frames with VIA polygons, imported
here; FCMAE pre-trains, Mask R-CNN fine-tunes and tests on 4 channels with
the bands' statistics from dataset.json."""
import math
import re

import pytest

from helpers.modalities import bands_tiff, grey16_tiff
from mmconvnextv2.analysis.quickstart_picture_checks import drawing_problem
from mmconvnextv2.datasets.dataset_info import read_dataset_info
from test_quickstart import load_quickstart  # the tool, as a module
from test_quickstart_data import polygon, via_set


def _band_frame(path, seed: int):
    """A 96 px 4-band float32 TIFF; the polygon of its object."""
    bands_tiff(str(path.parent), path.name, size=96, seed=seed)
    return polygon(seed)


def _grey_frame(path, seed: int):
    """A 96 px 16-bit grey TIFF; the polygon of its object."""
    grey16_tiff(str(path.parent), path.name, size=96, seed=seed)
    return polygon(seed)


@pytest.fixture(scope='module')
def band_set(tmp_path_factory):
    return via_set(tmp_path_factory.mktemp('via_bands'),
                   tmp_path_factory.mktemp('bands') / 'bands_tiny',
                   '.tif', _band_frame)


def _lists(log: str, key: str):
    """Every ``<key>=[...]`` list of numbers in a tool's logged config."""
    return [[float(v) for v in m.replace(',', ' ').split()]
            for m in re.findall(rf'\b{key}=\[([^\]]*)\]', log)]


def test_float_bands_cannot_be_drawn_by_the_stock_hooks(band_set,
                                                        tmp_path):
    info = read_dataset_info(str(band_set))
    assert (info.channels, info.dtype) == (4, 'float32')
    assert drawing_problem(info) == (
        "mmdet's test drawing decodes the images with OpenCV as 8-bit "
        'colour, which cannot read seqv_001.tif (4-band float32)')
    # 16-bit grey frames OpenCV decodes: the tests draw them
    (tmp_path / 'src').mkdir()
    grey = read_dataset_info(via_set(tmp_path / 'src', tmp_path / 'grey',
                                     '.tif', _grey_frame))
    assert (grey.channels, grey.dtype) == (1, 'uint16')
    assert drawing_problem(grey) is None


@pytest.mark.slow
def test_main_job_on_4_band_tiffs_end_to_end(band_set, tmp_path, capsys):
    """Smoke mode, both rates given (no sweep): pre-training, the FCMAE and
    random starts, their tests and the table, on 4 channels; the
    reconstruction drawn from the bands asked for."""
    info = read_dataset_info(str(band_set))
    work = tmp_path / 'qs'
    results = load_quickstart().main([
        '--data', str(band_set), '--smoke', '--quiet', '--work-dir',
        str(work), '--lr-fcmae', '8e-4', '--lr-random', '8e-4',
        '--bands', '3,2,1'])
    out = capsys.readouterr().out
    assert sorted(results['runs']) == ['fcmae_s0', 'random_s0']
    for run in results['runs'].values():
        assert run['metrics'] and all(
            math.isfinite(v) for v in run['metrics'].values())
    assert 'no det_results.jpg: ' in out  # the stock drawing cannot
    assert not (work / 'det_results.jpg').exists()
    assert (work / 'loss_curves.png').is_file()
    assert 'no fcmae_reconstruction.png' not in out
    assert (work / 'fcmae_reconstruction.png').is_file()
    assert '--bands 3,2,1' in (work / 'pretrain' / 'tool.log').read_text()
    assert (work / 'results.md').read_text().count('| Mask R-CNN |') == 4
    logs = {'pretrain': work / 'pretrain' / 'tool.log'}
    logs.update({name: work / f'{name}_lr0.0008' / f'b{b}_s0' / 'tool.log'
                 for name, b in (('fcmae', results['budget']), ('random', 0))})
    for name, path in logs.items():
        log = path.read_text()
        assert 'in_channels=4,' in log, name
        assert list(info.mean) in _lists(log, 'mean'), name
        assert list(info.std) in _lists(log, 'std'), name
    fcmae_log = logs['fcmae'].read_text()
    assert results['fcmae_checkpoint'] in fcmae_log
