_base_ = ['./_base_/fcmae_in1k-1600e.py']

model = dict(backbone=dict(arch='nano'))
