"""Layers and models: every layer is a forward/backward pair (see :mod:`gdcourse.nn.module`);
parameters and their flat buffers are in :mod:`gdcourse.nn.parameter`."""

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
from gdcourse.nn.checkpoint import Checkpoint, cached_bytes
from gdcourse.nn.dropconnect import DropConnectLinear
from gdcourse.nn.dropout import Dropout, DropPath
from gdcourse.nn.linear import Linear, WeightNormLinear
from gdcourse.nn.module import IncompatibleKeys, Module, Sequential
from gdcourse.nn.noise import GaussianNoise
from gdcourse.nn.normalization import BatchNorm1d, GroupNorm, LayerNorm, RMSNorm
from gdcourse.nn.parameter import FlatPack, Parameter, grad_vector, pack_parameters
from gdcourse.nn.recurrent import RNN
from gdcourse.nn.residual import Residual

__all__ = [
    "Module", "Parameter", "Sequential", "IncompatibleKeys", "FlatPack", "pack_parameters", "grad_vector",
    "Linear", "WeightNormLinear",
    "Identity", "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU", "SiLU",
    "Softplus", "Softmax",
    "Dropout", "DropPath", "DropConnectLinear",
    "GaussianNoise", "BatchNorm1d", "LayerNorm", "RMSNorm", "GroupNorm", "Residual", "RNN",
    "Checkpoint", "cached_bytes",
]
