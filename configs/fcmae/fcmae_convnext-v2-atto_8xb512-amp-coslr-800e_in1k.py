_base_ = ['./_base_/fcmae_in1k.py']

model = dict(backbone=dict(arch='atto'))
