"""mmconvnextv2.analysis.collapse_frames: the collapse study's folder and
crop options, and the crops a folder gets by default."""
import pytest
from PIL import Image

from mmconvnextv2.analysis.collapse_frames import (Crops, config_crops,
                                                   folder_crops, frame_options,
                                                   given_crops, image_folder,
                                                   median_size, parse_ratio)
from mmconvnextv2.analysis.quickstart import FCMAE_CFG
from mmconvnextv2.datasets.dataset_info import fcmae_crops


def write_frames(folder, sizes):
    folder.mkdir(parents=True, exist_ok=True)
    for i, size in enumerate(sizes):
        Image.new('RGB', size, (i * 40, 90, 160)).save(folder / f'f{i}.png')
    return folder


def test_the_config_keeps_its_crops_by_default():
    own = config_crops(FCMAE_CFG)
    assert (own.size, own.ratio) == (128, (0.2, 1.0))
    assert frame_options(FCMAE_CFG) == ([], own)


def test_large_frames_take_the_config_writers_rule(tmp_path):
    frames = write_frames(tmp_path / 'big' / 'frames',
                          [(1280, 400), (1920, 1080), (1024, 400)])
    assert median_size(str(frames)) == (1280, 400)
    crop, ratio, _ = fcmae_crops((1280, 400))
    crops = folder_crops(str(frames), FCMAE_CFG)
    assert (crops.size, crops.ratio) == (crop, ratio) == (160, (0.156, 0.625))
    options, same = frame_options(FCMAE_CFG, str(frames))
    assert same == crops
    assert options == [
        f'train_dataloader.dataset.data_root={tmp_path / "big"}/',
        'train_dataloader.dataset.data_prefix=frames',
        'train_dataloader.dataset.pipeline.1.scale=160',
        'train_dataloader.dataset.pipeline.1.crop_ratio_range=(0.156,0.625)']
    # small frames keep the config's crops; given ones win
    small = write_frames(tmp_path / 'small', [(96, 128), (128, 64)])
    assert folder_crops(str(small), FCMAE_CFG) == config_crops(FCMAE_CFG)
    options, given = frame_options(FCMAE_CFG, None, 192, (0.1, 0.5))
    assert (given.size, given.ratio) == (192, (0.1, 0.5))
    assert options[-1].endswith('.crop_ratio_range=(0.1,0.5)')


def test_bad_crops_and_folders_are_one_line_errors(tmp_path):
    own = Crops(128, (0.2, 1.0), 'the config\'s')
    assert given_crops(own) is own
    assert given_crops(own, ratio=(0.3, 0.9)).note.startswith('--crop-ratio')
    with pytest.raises(ValueError, match='multiple of 32'):
        given_crops(own, 100)
    assert parse_ratio('0.1,0.5') == (0.1, 0.5)
    for text in ('0.5', '0.6,0.2', '0,1', 'a,b'):
        with pytest.raises(ValueError, match='--crop-ratio'):
            parse_ratio(text)
    nested = write_frames(tmp_path / 'top' / 'sub', [(64, 64)]).parent
    assert image_folder(str(nested)) == str(nested)
    with pytest.raises(FileNotFoundError, match='no images .* under'):
        image_folder(str(nested), recursive=False)
    with pytest.raises(FileNotFoundError, match='not found'):
        median_size(str(tmp_path / 'missing'))
