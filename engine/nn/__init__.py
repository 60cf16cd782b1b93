"""The layer library: layers with explicit forward/backward, a Sequential that traces every
pass, softmax cross-entropy from logits, a builder from plain layer specs and statistics of a
trace for the deep-model labs."""

from engine.nn.activation import Activation
from engine.nn.batchnorm import BatchNorm
from engine.nn.conv2d import Conv2D
from engine.nn.dense import Dense
from engine.nn.dropout import Dropout
from engine.nn.flatten import Flatten
from engine.nn.layer import Layer
from engine.nn.loss import softmax_cross_entropy
from engine.nn.normalize import Normalize
from engine.nn.pool import AvgPool2D, MaxPool2D
from engine.nn.residual import Residual
from engine.nn.sequential import Sequential
from engine.nn.trace import LayerTrace, Trace

__all__ = [
    "Activation", "AvgPool2D", "BatchNorm", "Conv2D", "Dense", "Dropout", "Flatten", "Layer",
    "LayerTrace", "MaxPool2D", "Normalize", "Residual", "Sequential", "Trace", "softmax_cross_entropy",
]
