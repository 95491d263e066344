"""mmconvnextv2.analysis.collapse_backbones: checkpoint arguments, the
block type of a file, the network built and its middle block."""
import pytest
import torch

from mmconvnextv2.analysis.collapse_backbones import (CheckpointSpec,
                                                      build_backbone,
                                                      checkpoint_block_type,
                                                      middle_block,
                                                      parse_checkpoint_spec)


def test_checkpoint_specs():
    assert parse_checkpoint_spec('a=random') == CheckpointSpec('a', 'random')
    assert parse_checkpoint_spec('b=random:v1') == \
        CheckpointSpec('b', 'random', 'v1')
    assert parse_checkpoint_spec('c=s3://x/y.pth:v2') == \
        CheckpointSpec('c', 's3://x/y.pth', 'v2')
    with pytest.raises(ValueError, match='is not LABEL=PATH'):
        parse_checkpoint_spec('random')


def test_block_type_read_from_the_backbone_keys(tmp_path):
    """A V1 FCMAE checkpoint has GRN only in its (V2) decoder block."""
    zero = torch.zeros(4)
    v1 = {'backbone.stages.0.0.gamma': zero, 'neck.decoder.0.grn.gamma': zero}
    torch.save({'state_dict': v1}, tmp_path / 'v1.pth')
    assert checkpoint_block_type(str(tmp_path / 'v1.pth')) == 'v1'
    for key in ('backbone.stages.0.0.grn.gamma', 'stages.1.blocks.0.mlp.grn.weight',
                'convnextv2.encoder.stages.0.layers.1.grn.weight'):
        torch.save({'state_dict': {key: zero}}, tmp_path / 'v2.pth')
        assert checkpoint_block_type(str(tmp_path / 'v2.pth')) == 'v2', key


def test_backbones_are_seeded_and_their_middle_block(tiny_arch, tmp_path):
    a = build_backbone(tiny_arch, CheckpointSpec('a', 'random'), seed=3)
    b = build_backbone(tiny_arch, CheckpointSpec('b', 'random'), seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values()))
    assert not a.training and a.block_type == 'v2'
    assert middle_block(a) == (2, 0)  # the third of the five blocks
    with pytest.raises(FileNotFoundError, match="'gone.pth' of 'x' does not"):
        build_backbone(tiny_arch, CheckpointSpec('x', 'gone.pth'))
