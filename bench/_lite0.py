"""EfficientNet-Lite0 with the ImageNet weights that install with lesson1, for both sides of a benchmark.

lesson1 builds it with `cnn_learner(data, models.efficientnet_lite0)`. fastai's `vision_learner(dls,
'tf_efficientnet_lite0', pretrained=False)` gets the same weights from `lite0_body().state_dict()` (timm's key
layout, which is what `lesson1.models.efficientnet_lite0` loads them into), so both sides start from the same network.
"""
from lesson1.models import body_stats, efficientnet_lite0, models

STATS = body_stats(models.efficientnet_lite0)   # the weights expect inputs scaled to [-1, 1]


def lite0_body(weights: bool = True):
    "timm's `tf_efficientnet_lite0` without its classifier and pooling (what fastai's `TimmBody` holds)."
    m = efficientnet_lite0(pretrained=weights)
    m.reset_classifier(0, '')
    return m
