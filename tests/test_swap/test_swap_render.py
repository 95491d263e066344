"""mmconvnextv2.swap.render: the written config is short, inherits the
original, is valid config Python and is the same every time."""
from mmconvnextv2.swap import Change, SwapResult, format_value, render
from helpers.swap import DEEPLABV3PLUS, swap


def test_written_config_inherits_and_is_stable(tmp_path):
    first, _ = swap(DEEPLABV3PLUS, str(tmp_path / 'a'), arch='atto')
    second, _ = swap(DEEPLABV3PLUS, str(tmp_path / 'b'), arch='atto')
    text = open(first).read()
    assert text == open(second).read()
    assert f"_base_ = ['{DEEPLABV3PLUS}']" in text
    # only what changes is written: no copy of the base model
    assert 'DepthwiseSeparableASPPHead' not in text and 'dilations' not in text
    assert len(text.splitlines()) < 60


def test_format_value_is_python():
    value = dict(_delete_=True, type='X', widths=[1, 2], pair=(0.9, 0.999),
                 one=(3, ), nested=dict(a=None, b='s' * 80),
                 heads=[dict(in_channels=40, in_index=0)])
    text = format_value(value)
    assert eval(text, {'dict': dict}) == value
    assert all(len(line) <= 79 for line in text.splitlines()
               if 's' * 80 not in line)
    assert format_value(dict(a=1)) == 'dict(a=1)'
    assert format_value({'a-b': 1}) == "{'a-b': 1}"


def test_render_header_overrides_and_notes():
    result = SwapResult(
        base='mmdet::x/y.py', scope='mmdet', arch=dict(depths=[1], channels=[8]),
        overrides=dict(model=dict(neck=dict(in_channels=[8]))),
        changes=[Change(('model', 'neck', 'in_channels'), [64], [8]),
                 Change(('model', 'neck', 'in_channels'), [8], [8])],
        notes=['a note ' * 20])
    text = render(result)
    lines = text.splitlines()
    assert lines[0] == '# ConvNeXt V2-custom swapped into mmdet::x/y.py'
    assert lines[2] == '# Changed: model.neck.in_channels'  # named once
    assert "_base_ = ['mmdet::x/y.py']" in lines
    assert 'model = dict(neck=dict(in_channels=[8]))' in lines
    notes = [line for line in lines if line.startswith('#   ')
             or line.startswith('# Note:')]
    assert len(notes) > 1 and all(len(line) <= 79 for line in notes)
    assert text.endswith('\n')
