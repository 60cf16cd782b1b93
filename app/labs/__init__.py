"""The labs in lecture order: what the gallery lists and every page's navigation uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lab:
    slug: str  # URL and API name: /labs/<slug>, /api/v1/<slug>/...
    title: str
    blurb: str  # one line for the gallery
    lecture: str  # the part of the lecture it belongs to


LABS: list[Lab] = [
    Lab("perceptron", "Perceptron",
        "Rosenblatt's learning rule, one example at a time — and why no line separates XOR.",
        "The perceptron"),
    Lab("mlp", "MLP playground",
        "Features, hidden layers, activations and losses: watch decision boundaries form.",
        "Multi-layer perceptrons"),
    Lab("backprop", "Backpropagation by hand",
        "A 2-2-1 network worked step by step: every product of the chain rule, with numbers.",
        "Gradient descent and backpropagation"),
    Lab("optimizers", "Optimizers race",
        "GD, momentum, AdaGrad, RMSProp and Adam on loss surfaces; step size and stopping.",
        "SGD, momentum and adaptive methods"),
    Lab("convolution", "Convolution",
        "A kernel sliding step by step, classic kernels on real photos, a conv layer's volume and weights.",
        "The convolution"),
    Lab("selfsupervised", "Self-supervised learning",
        "Contrastive learning without labels: two views of a digit pulled together, the batch pushed apart.",
        "Scaling vision: self-supervised learning"),
    Lab("scale", "The era of scale",
        "Scaling curves and double descent, measured by the class itself: every student trains one cell.",
        "2020+: the era of scale"),
]

BY_SLUG = {lab.slug: lab for lab in LABS}
