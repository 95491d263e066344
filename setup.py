"""Installation of mmconvnextv2: ConvNeXt V2 and FCMAE for OpenMMLab."""
from setuptools import find_packages, setup

setup(
    name='mmconvnextv2',
    version='0.1.0',
    description='ConvNeXt V2 and FCMAE pre-training for mmpretrain, mmdet and mmseg',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmconvnextv2', 'mmconvnextv2.*']),
    python_requires='>=3.8',
    # Ranges, not pins: a user with their own CUDA build installs into their env.
    # mmcv < 2.2 because mmdet 3.3 and mmseg 1.2 refuse 2.2.
    install_requires=[
        'torch>=2.0',
        'mmengine>=0.10,<1.0',
        'mmcv>=2.0,<2.2',
        'mmdet>=3.3,<3.4',
        'mmsegmentation>=1.2,<1.3',
        'mmpretrain>=1.2,<1.3',
        'pycocotools',
        'matplotlib',
        'safetensors',
        'ftfy',  # `import mmseg.datasets` needs it and mmseg does not declare it
        'regex',  # likewise
    ],
    extras_require={
        # timm and transformers are the independent oracles of the checkpoint
        # tests. transformers 5 removed helpers that mmpretrain 1.2.0's BLIP
        # module imports at `import mmpretrain.models` (it then fails with
        # "NoneType takes no arguments"): keep 4.x.
        'tests': ['pytest', 'timm', 'transformers==4.46.3'],
        # tools/deployment/export_onnx.py: writing (onnx) and the parity
        # check (onnxruntime). torch's TorchScript-based exporter is used,
        # so onnxscript (the dynamo exporter's dependency) is not needed.
        'export': ['onnx>=1.14', 'onnxruntime>=1.16'],
    },
    license='MIT',
)
