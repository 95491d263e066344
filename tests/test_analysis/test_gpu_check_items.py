"""mmconvnextv2.analysis.gpu_check's report handling (the dry run of every
item runs in tests/test_tools/test_gpu_check.py)."""
import json

from mmconvnextv2.analysis.gpu_check import merge_previous, run_item


def test_run_item_records_a_failure_and_goes_on(capsys):
    report = dict(backbone=[], failed=[])
    run_item(report, 'backbone', lambda: dict(img_per_s=1.), 'tiny:4')

    def fails():
        raise ValueError('no')

    run_item(report, 'backbone', fails, 'base:32')
    ok, bad = report['backbone']
    assert ok['img_per_s'] == 1. and 'wall_s' in ok
    assert bad['item'] == 'base:32' and bad['error'] == 'ValueError: no'
    assert report['failed'] == ['backbone base:32']
    assert capsys.readouterr().out.count('{"backbone"') == 2


def test_merge_previous_keeps_the_sections_not_run(tmp_path):
    path = tmp_path / 'check.json'
    merge_previous(dict(failed=[]), str(path), ['fcmae'])  # no file: no-op
    path.write_text(json.dumps(dict(
        env={'device': 'old'}, backbone=[1], fcmae=[2], train_steps=[3],
        failed=['backbone tiny:4', 'fcmae atto:64'])))
    report = dict(env={}, backbone=[], fcmae=[9], train_steps=[],
                  failed=['fcmae base:64'])
    merge_previous(report, str(path), ['fcmae'])
    assert report['backbone'] == [1] and report['train_steps'] == [3]
    assert report['fcmae'] == [9] and report['env_before'] == {'device': 'old'}
    assert report['failed'] == ['fcmae base:64', 'backbone tiny:4']
