"""A classifier evaluated on a set of labelled images: what the ConvNet lab plots.

Runs the network in evaluation mode (no dropout, batchnorm's running statistics) in chunks of
at most CHUNK images and keeps the probabilities (N, K), the predicted classes, the mean
softmax cross-entropy, the accuracy and the confusion matrix (K, K): confusion[t, p] counts
images of true class t predicted as p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.nn import Sequential, softmax_cross_entropy

Array = np.ndarray
CHUNK = 512  # images per forward pass: bounds the memory of im2col on large sets


@dataclass
class SetEvaluation:
    step: int
    probs: Array  # (N, K)
    predictions: Array  # (N,) argmax of probs
    loss: float  # mean cross-entropy (NaN for an empty set)
    accuracy: float  # NaN for an empty set
    confusion: Array  # (K, K) int64


def evaluate(model: Sequential, X: Array, y: Array, num_classes: int, step: int = 0) -> SetEvaluation:
    probs, total = [], 0.0
    for s in range(0, len(X), CHUNK):
        logits = model.forward(X[s : s + CHUNK], train=False)
        loss, _, p = softmax_cross_entropy(logits, y[s : s + CHUNK])
        total += loss * len(p)
        probs.append(p)
    P = np.concatenate(probs) if probs else np.zeros((0, num_classes))
    pred = P.argmax(axis=1)
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    n = len(X)
    return SetEvaluation(step, P, pred, total / n if n else float("nan"),
                         float((pred == y).mean()) if n else float("nan"), confusion)
