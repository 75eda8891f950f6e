"""Layers and models: every layer is a forward/backward pair (see :mod:`gdcourse.nn.module`)."""

from gdcourse.nn.activations import (
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    PReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Step,
    Tanh,
)
from gdcourse.nn.dropout import Dropout
from gdcourse.nn.linear import Linear, WeightNormLinear
from gdcourse.nn.module import Module, Parameter, Sequential, grad_vector, pack_parameters
from gdcourse.nn.noise import GaussianNoise
from gdcourse.nn.normalization import BatchNorm1d, LayerNorm
from gdcourse.nn.recurrent import RNN
from gdcourse.nn.residual import Residual

__all__ = [
    "Module", "Parameter", "Sequential", "pack_parameters", "grad_vector",
    "Linear", "WeightNormLinear",
    "Identity", "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU", "SiLU",
    "Softplus", "Softmax",
    "Dropout", "GaussianNoise", "BatchNorm1d", "LayerNorm", "Residual", "RNN",
]
