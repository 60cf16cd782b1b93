"""A classifier evaluated on its training and test images: what the ConvNet lab plots.

Runs the network in evaluation mode (no dropout, batchnorm's running statistics) over both
sets in chunks of at most CHUNK images, and keeps the probabilities (N, K), the predicted
classes, the mean softmax cross-entropy, the accuracy and the test confusion matrix
(K, K): confusion[t, p] counts test images of true class t predicted as p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.nn import Sequential, softmax_cross_entropy

Array = np.ndarray
CHUNK = 512  # images per forward pass: bounds the memory of im2col on large sets


@dataclass
class Evaluation:
    step: int
    train_probs: Array
    test_probs: Array
    train_loss: float
    test_loss: float
    train_accuracy: float
    test_accuracy: float
    test_predictions: Array
    confusion: Array


def _pass(model: Sequential, X: Array, y: Array) -> tuple[Array, float, float]:
    """(probabilities, mean loss, accuracy) of one set; NaN loss and accuracy when it is empty."""
    if len(X) == 0:
        return np.zeros((0, model.layers[-1].params["b"].size)), float("nan"), float("nan")
    probs, total = [], 0.0
    for s in range(0, len(X), CHUNK):
        logits = model.forward(X[s : s + CHUNK], train=False)
        loss, _, p = softmax_cross_entropy(logits, y[s : s + CHUNK])
        total += loss * len(p)
        probs.append(p)
    P = np.concatenate(probs)
    return P, total / len(X), float((P.argmax(axis=1) == y).mean())


def evaluate(model: Sequential, X_train: Array, y_train: Array, X_test: Array, y_test: Array,
             num_classes: int, step: int = 0) -> Evaluation:
    P_tr, l_tr, a_tr = _pass(model, X_train, y_train)
    P_te, l_te, a_te = _pass(model, X_test, y_test)
    pred = P_te.argmax(axis=1) if len(P_te) else np.zeros(0, dtype=np.int64)
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (y_test, pred), 1)
    return Evaluation(step, P_tr, P_te, l_tr, l_te, a_tr, a_te, pred, confusion)
