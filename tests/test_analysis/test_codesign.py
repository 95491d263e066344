"""The V1 vs V2 downstream study: its table from summaries and its arms'
tasks (the reduced run end to end shares the quickstart's smoke run:
tests/test_analysis/test_quickstart.py)."""
import json

from mmconvnextv2.analysis.codesign import arm_tasks
from mmconvnextv2.analysis.codesign_report import (COLUMNS, codesign_table,
                                                   write_codesign)


def cell(mean):
    return dict(mean=mean, std=0.01, n=2, values=[mean, mean])


def study(random, fcmae):
    return dict(summary={'seg': {'mIoU': {'0': cell(random),
                                          '4': cell(fcmae)}}})


def test_table_has_every_column_and_marks_the_best():
    table = codesign_table({'v1': study(10., 20.), 'v2': study(11., 30.)}, 4)
    header, rule, row = table.splitlines()
    assert [c[0] for c in COLUMNS] == header.strip('| ').split(' | ')[2:]
    cells = row.strip('| ').split(' | ')
    assert cells[:2] == ['seg', 'mIoU']
    assert cells[2].startswith('10.0000 ± 0.0100 (n=2)')
    assert cells[5] == '**30.0000 ± 0.0100 (n=2)**'
    assert row.count('**') == 2


def test_the_report_files(tmp_path):
    studies = {'v1': study(10., 20.), 'v2': study(11., 30.)}
    write_codesign(str(tmp_path), studies, 4)
    assert json.loads((tmp_path / 'codesign.json').read_text()) == studies
    assert (tmp_path / 'codesign.md').read_text() == (
        '# ConvNeXt V1 vs V2 under FCMAE, downstream\n\n'
        + codesign_table(studies, 4) + '\n')
    assert (tmp_path / 'codesign.png').stat().st_size > 1000


def test_v1_arm_fine_tunes_v1_backbones(tmp_path):
    v1 = arm_tasks('v1', str(tmp_path), smoke=True)
    v2 = arm_tasks('v2', str(tmp_path), smoke=True)
    assert all('model.backbone.block_type=v1' in t.options for t in v1)
    assert not any('block_type' in o for t in v2 for o in t.options)
