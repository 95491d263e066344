# ./fcmae_in1k.py for 1600 epochs (the budget of the paper's released
# weights): its 40 warm-up epochs, then the cosine over the other 1560.
_base_ = ['./fcmae_in1k.py']

max_epochs = 1600
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], T_max=max_epochs - 40, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
