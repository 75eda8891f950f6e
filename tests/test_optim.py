"""Optimizers against the published update rules, worked by hand step by step.

Every expected value below is written out from the pseudo-code in PyTorch's
``torch.optim`` documentation (the contract of ``gdcourse.optim``), never
produced by the code under test. Parameters are float64, so tolerances are tight.
"""

import re

import numpy as np
import pytest

from gdcourse import optim
from gdcourse.nn import Linear, Parameter, ReLU, Sequential
from gdcourse.optim import SGD, Adadelta, Adagrad, Adam, AdamW, NAdam, Newton, RMSprop

W0 = np.array([1.0, -2.0])
G1, G2, G3 = np.array([0.5, 1.0]), np.array([-1.0, 2.0]), np.array([2.0, 0.0])


def trajectory(opt_cls, grads=(G1, G2, G3), w0=W0, **hyper):
    """Values of one parameter after each step, with the given gradient at each step."""
    p = Parameter(w0, "w")
    opt = opt_cls([p], **hyper)
    values = []
    for g in grads:
        p.grad = g
        opt.step()
        values.append(p.value.copy())
    return values


def assert_steps(actual, expected, rtol=1e-12, atol=1e-14):
    assert len(actual) == len(expected)
    for t, (a, e) in enumerate(zip(actual, expected, strict=True), start=1):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"after step {t}")


# ------------------------------------------------------------------ SGD

def test_sgd_plain_is_w_minus_lr_g():
    # 0.1 * g: [0.05, 0.1], [-0.1, 0.2], [0.2, 0.0]
    assert_steps(trajectory(SGD, lr=0.1), [[0.95, -2.1], [1.05, -2.3], [0.85, -2.3]])


def test_sgd_momentum_first_buffer_is_the_gradient():
    lr, mu = 0.1, 0.9
    b1 = G1                      # first step: b = g (no dampening, no μ·0)
    b2 = mu * b1 + G2            # [-0.55, 2.9]
    b3 = mu * b2 + G3            # [1.505, 2.61]
    w1 = W0 - lr * b1
    w2 = w1 - lr * b2
    w3 = w2 - lr * b3
    assert_steps(trajectory(SGD, lr=lr, momentum=mu), [w1, w2, w3])
    np.testing.assert_allclose(w3, [0.8545, -2.651], rtol=1e-12)  # the same, worked on paper


def test_sgd_dampening_skips_the_first_step():
    lr, mu, tau = 0.1, 0.9, 0.5
    b1 = G1                            # not (1 - τ) g
    b2 = mu * b1 + (1 - tau) * G2      # [-0.05, 1.9]
    b3 = mu * b2 + (1 - tau) * G3      # [0.955, 1.71]
    w1 = W0 - lr * b1
    w2 = w1 - lr * b2
    w3 = w2 - lr * b3
    assert_steps(trajectory(SGD, lr=lr, momentum=mu, dampening=tau), [w1, w2, w3])
    np.testing.assert_allclose(w3, [0.8595, -2.461], rtol=1e-12)


def test_sgd_nesterov_steps_along_g_plus_mu_b():
    lr, mu = 0.1, 0.9
    b1 = G1
    b2 = mu * b1 + G2
    b3 = mu * b2 + G3
    w1 = W0 - lr * (G1 + mu * b1)
    w2 = w1 - lr * (G2 + mu * b2)
    w3 = w2 - lr * (G3 + mu * b3)
    assert_steps(trajectory(SGD, lr=lr, momentum=mu, nesterov=True), [w1, w2, w3])
    np.testing.assert_allclose(w3, [0.71905, -2.8859], rtol=1e-12)


def test_sgd_weight_decay_adds_lambda_w_to_the_gradient():
    lr, lam = 0.1, 0.1
    w1 = W0 - lr * (G1 + lam * W0)   # d = [0.6, 0.8]
    w2 = w1 - lr * (G2 + lam * w1)
    w3 = w2 - lr * (G3 + lam * w2)
    assert_steps(trajectory(SGD, lr=lr, weight_decay=lam), [w1, w2, w3])
    np.testing.assert_allclose(w3, [0.820294, -2.236608], rtol=1e-12)


# ------------------------------------------------------------------ Adagrad, Adadelta, RMSprop

def test_adagrad_with_lr_decay_and_initial_accumulator():
    lr, eta, s0, eps = 0.1, 0.5, 0.25, 1e-10
    s1 = s0 + G1**2
    w1 = W0 - lr / (1 + 0 * eta) * G1 / (np.sqrt(s1) + eps)
    s2 = s1 + G2**2
    w2 = w1 - lr / (1 + 1 * eta) * G2 / (np.sqrt(s2) + eps)
    s3 = s2 + G3**2
    w3 = w2 - lr / (1 + 2 * eta) * G3 / (np.sqrt(s3) + eps)
    actual = trajectory(Adagrad, lr=lr, lr_decay=eta, initial_accumulator_value=s0, eps=eps)
    assert_steps(actual, [w1, w2, w3])


def test_adagrad_first_step_is_lr_times_sign_of_g():
    # s = g², so g / √s = sign(g) (up to ε): the first step is ±lr in every coordinate.
    (w1,) = trajectory(Adagrad, grads=(np.array([3.0, -0.01]),), lr=0.1)
    np.testing.assert_allclose(w1, W0 - 0.1 * np.array([1.0, -1.0]), rtol=1e-8)


def test_adadelta():
    lr, rho, eps = 1.0, 0.9, 1e-6
    v1 = (1 - rho) * G1**2
    dx1 = np.sqrt(0.0 + eps) / np.sqrt(v1 + eps) * G1
    u1 = (1 - rho) * dx1**2
    w1 = W0 - lr * dx1
    v2 = rho * v1 + (1 - rho) * G2**2
    dx2 = np.sqrt(u1 + eps) / np.sqrt(v2 + eps) * G2
    u2 = rho * u1 + (1 - rho) * dx2**2
    w2 = w1 - lr * dx2
    v3 = rho * v2 + (1 - rho) * G3**2
    dx3 = np.sqrt(u2 + eps) / np.sqrt(v3 + eps) * G3
    w3 = w2 - lr * dx3
    assert_steps(trajectory(Adadelta), [w1, w2, w3])  # defaults lr=1.0, rho=0.9, eps=1e-6


def test_rmsprop_plain():
    lr, a, eps = 0.01, 0.99, 1e-8
    v1 = (1 - a) * G1**2
    w1 = W0 - lr * G1 / (np.sqrt(v1) + eps)
    v2 = a * v1 + (1 - a) * G2**2
    w2 = w1 - lr * G2 / (np.sqrt(v2) + eps)
    v3 = a * v2 + (1 - a) * G3**2
    w3 = w2 - lr * G3 / (np.sqrt(v3) + eps)
    assert_steps(trajectory(RMSprop), [w1, w2, w3])  # defaults lr=1e-2, alpha=0.99, eps=1e-8


def test_rmsprop_momentum_buffer_starts_at_zero():
    lr, a, mu, eps = 0.01, 0.9, 0.5, 1e-8
    v1 = (1 - a) * G1**2
    b1 = G1 / (np.sqrt(v1) + eps)                 # μ·0 + ...
    w1 = W0 - lr * b1
    v2 = a * v1 + (1 - a) * G2**2
    b2 = mu * b1 + G2 / (np.sqrt(v2) + eps)
    w2 = w1 - lr * b2
    v3 = a * v2 + (1 - a) * G3**2
    b3 = mu * b2 + G3 / (np.sqrt(v3) + eps)
    w3 = w2 - lr * b3
    assert_steps(trajectory(RMSprop, lr=lr, alpha=a, momentum=mu), [w1, w2, w3])


def test_rmsprop_centered_subtracts_the_squared_mean_gradient():
    lr, a, eps = 0.01, 0.9, 1e-8
    v1, m1 = (1 - a) * G1**2, (1 - a) * G1
    w1 = W0 - lr * G1 / (np.sqrt(v1 - m1**2) + eps)
    v2, m2 = a * v1 + (1 - a) * G2**2, a * m1 + (1 - a) * G2
    w2 = w1 - lr * G2 / (np.sqrt(v2 - m2**2) + eps)
    v3, m3 = a * v2 + (1 - a) * G3**2, a * m2 + (1 - a) * G3
    w3 = w2 - lr * G3 / (np.sqrt(v3 - m3**2) + eps)
    assert_steps(trajectory(RMSprop, lr=lr, alpha=a, centered=True), [w1, w2, w3])


# ------------------------------------------------------------------ Adam family

LR, B1, B2, EPS = 0.1, 0.9, 0.99, 1e-8


def adam_by_hand(grads, w0=W0, lam=0.0, decoupled=False, amsgrad=False):
    """Three Adam steps written out line by line (no loop, so each line reads as the rule)."""
    g1, g2, g3 = grads
    w = w0
    d1 = g1 if decoupled else g1 + lam * w
    w = w * (1 - LR * lam) if decoupled else w
    m1, v1 = (1 - B1) * d1, (1 - B2) * d1**2
    vmax1 = v1
    w1 = w - LR * (m1 / (1 - B1)) / (np.sqrt((vmax1 if amsgrad else v1) / (1 - B2)) + EPS)

    d2 = g2 if decoupled else g2 + lam * w1
    w = w1 * (1 - LR * lam) if decoupled else w1
    m2, v2 = B1 * m1 + (1 - B1) * d2, B2 * v1 + (1 - B2) * d2**2
    vmax2 = np.maximum(vmax1, v2)
    w2 = w - LR * (m2 / (1 - B1**2)) / (np.sqrt((vmax2 if amsgrad else v2) / (1 - B2**2)) + EPS)

    d3 = g3 if decoupled else g3 + lam * w2
    w = w2 * (1 - LR * lam) if decoupled else w2
    m3, v3 = B1 * m2 + (1 - B1) * d3, B2 * v2 + (1 - B2) * d3**2
    vmax3 = np.maximum(vmax2, v3)
    w3 = w - LR * (m3 / (1 - B1**3)) / (np.sqrt((vmax3 if amsgrad else v3) / (1 - B2**3)) + EPS)
    return [w1, w2, w3]


def test_adam():
    actual = trajectory(Adam, lr=LR, betas=(B1, B2), eps=EPS)
    assert_steps(actual, adam_by_hand((G1, G2, G3)))
    # Bias correction makes the first step ±lr per coordinate: m̂ = g, v̂ = g².
    np.testing.assert_allclose(actual[0], W0 - LR * np.sign(G1), rtol=1e-7)


# The second coordinate's gradient drops from 3 to 0.1, so v shrinks: AMSGrad keeps its maximum.
AMS_GRADS = (np.array([0.5, 3.0]), np.array([1.0, 0.1]), np.array([-1.0, 0.1]))


def test_adam_amsgrad_keeps_the_max_of_v_then_bias_corrects_it():
    actual = trajectory(Adam, grads=AMS_GRADS, lr=LR, betas=(B1, B2), eps=EPS, amsgrad=True)
    assert_steps(actual, adam_by_hand(AMS_GRADS, amsgrad=True))
    plain = trajectory(Adam, grads=AMS_GRADS, lr=LR, betas=(B1, B2), eps=EPS)
    assert abs(actual[2][1] - plain[2][1]) > 1e-4  # the max really was used


def test_adam_weight_decay_is_coupled_l2():
    actual = trajectory(Adam, lr=LR, betas=(B1, B2), eps=EPS, weight_decay=0.1)
    assert_steps(actual, adam_by_hand((G1, G2, G3), lam=0.1))


def test_adamw_decays_the_weights_directly():
    actual = trajectory(AdamW, lr=LR, betas=(B1, B2), eps=EPS, weight_decay=0.1)
    assert_steps(actual, adam_by_hand((G1, G2, G3), lam=0.1, decoupled=True))
    amsgrad = trajectory(AdamW, grads=AMS_GRADS, lr=LR, betas=(B1, B2), eps=EPS, weight_decay=0.1,
                         amsgrad=True)
    assert_steps(amsgrad, adam_by_hand(AMS_GRADS, lam=0.1, decoupled=True, amsgrad=True))


def test_adam_l2_and_adamw_decay_differ_on_the_same_gradients():
    zero = (np.zeros(2),)
    # AdamW: θ·(1 − γλ) = θ·0.99, a 1 % shrink.
    np.testing.assert_allclose(trajectory(AdamW, grads=zero, lr=0.1, weight_decay=0.1)[0], [0.99, -1.98])
    # Adam + L2: the decay term λθ is the whole gradient, and Adam normalizes it to a full step of γ.
    np.testing.assert_allclose(trajectory(Adam, grads=zero, lr=0.1, weight_decay=0.1)[0], [0.9, -1.9],
                               rtol=1e-6)
    assert not np.allclose(trajectory(Adam, lr=LR, weight_decay=0.1)[-1],
                           trajectory(AdamW, lr=LR, weight_decay=0.1)[-1])


def test_adamw_default_weight_decay_is_1e_2():
    (w1,) = trajectory(AdamW, grads=(np.zeros(2),), lr=0.5)
    np.testing.assert_allclose(w1, W0 * (1 - 0.5 * 1e-2))


def test_nadam_with_momentum_schedule_and_weight_decay():
    lr, b1, b2, eps, psi, lam = 0.1, 0.9, 0.99, 1e-8, 4e-3, 0.05
    mu1 = b1 * (1 - 0.5 * 0.96 ** (1 * psi))
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    mu3 = b1 * (1 - 0.5 * 0.96 ** (3 * psi))
    mu4 = b1 * (1 - 0.5 * 0.96 ** (4 * psi))

    d1 = G1 + lam * W0
    m1, v1 = (1 - b1) * d1, (1 - b2) * d1**2
    den1 = np.sqrt(v1 / (1 - b2)) + eps
    w1 = W0 - lr * (mu2 * m1 / (1 - mu1 * mu2) + (1 - mu1) * d1 / (1 - mu1)) / den1

    d2 = G2 + lam * w1
    m2, v2 = b1 * m1 + (1 - b1) * d2, b2 * v1 + (1 - b2) * d2**2
    den2 = np.sqrt(v2 / (1 - b2**2)) + eps
    w2 = w1 - lr * (mu3 * m2 / (1 - mu1 * mu2 * mu3) + (1 - mu2) * d2 / (1 - mu1 * mu2)) / den2

    d3 = G3 + lam * w2
    m3, v3 = b1 * m2 + (1 - b1) * d3, b2 * v2 + (1 - b2) * d3**2
    den3 = np.sqrt(v3 / (1 - b2**3)) + eps
    w3 = w2 - lr * (mu4 * m3 / (1 - mu1 * mu2 * mu3 * mu4)
                    + (1 - mu3) * d3 / (1 - mu1 * mu2 * mu3)) / den3

    actual = trajectory(NAdam, lr=lr, betas=(b1, b2), eps=eps, weight_decay=lam)  # momentum_decay default
    assert_steps(actual, [w1, w2, w3])


# ------------------------------------------------------------------ shared behaviour

COUPLED = [
    (SGD, {"lr": 0.1, "momentum": 0.9}), (Adagrad, {"lr": 0.1}), (Adadelta, {}),
    (RMSprop, {"momentum": 0.5, "centered": True}), (Adam, {"lr": 0.1, "amsgrad": True}),
    (NAdam, {"lr": 0.1}),
]


@pytest.mark.parametrize("opt_cls, hyper", COUPLED, ids=[c.__name__ for c, _ in COUPLED])
def test_weight_decay_equals_adding_lambda_w_to_the_gradient(opt_cls, hyper):
    lam = 0.3
    with_decay, by_hand = Parameter(W0), Parameter(W0)
    opt_decay = opt_cls([with_decay], weight_decay=lam, **hyper)
    opt_plain = opt_cls([by_hand], **hyper)
    for g in (G1, G2, G3):
        with_decay.grad = g
        by_hand.grad = g + lam * by_hand.value
        opt_decay.step()
        opt_plain.step()
        np.testing.assert_array_equal(with_decay.grad, g)  # the gradient itself is never modified
        np.testing.assert_allclose(with_decay.value, by_hand.value, rtol=1e-13, atol=1e-15)


def make_layers():
    return [Linear(3, 4, rng=1), Linear(4, 2, rng=2)]


ALL = [
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.2}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.01}), (Adadelta, {"weight_decay": 0.01}),
    (RMSprop, {"momentum": 0.5, "centered": True, "weight_decay": 0.01}),
    (Adam, {"lr": 0.1, "amsgrad": True, "weight_decay": 0.01}), (AdamW, {"lr": 0.1}),
    (NAdam, {"lr": 0.1, "weight_decay": 0.01}),
]


@pytest.mark.parametrize("opt_cls, hyper", ALL, ids=[c.__name__ for c, _ in ALL])
def test_packed_and_per_parameter_paths_agree(opt_cls, hyper):
    packed_layers, loose_layers = make_layers(), make_layers()
    model = Sequential(packed_layers[0], ReLU(), packed_layers[1])
    packed = model.parameters()
    loose = [p for layer in loose_layers for p in layer.parameters()]
    opt_packed, opt_loose = opt_cls(packed, **hyper), opt_cls(loose, **hyper)
    assert len(opt_packed.groups) == 1 and len(opt_loose.groups) == 4  # two different code paths
    rng = np.random.default_rng(0)
    for _ in range(3):
        for p, q in zip(packed, loose, strict=True):
            g = rng.normal(size=p.shape)
            p.grad, q.grad = g, g
        opt_packed.step()
        opt_loose.step()
    initial = [p for layer in make_layers() for p in layer.parameters()]
    for p, q, p0 in zip(packed, loose, initial, strict=True):
        np.testing.assert_allclose(p.value, q.value, rtol=1e-14, atol=1e-15)
        assert not np.allclose(p.value, p0.value)  # the parameters did move


def test_subset_of_a_packed_model_is_updated_in_place():
    model = Sequential(Linear(3, 4, rng=1), ReLU(), Linear(4, 2, rng=2))
    first = model[0].parameters()
    before_w, before_last = model[0].weight.value.copy(), model[2].weight.value.copy()
    opt = SGD(first, lr=0.5)
    assert len(opt.groups) == 2  # not the whole pack: one group per parameter
    model[0].weight.grad = np.ones((3, 4))
    opt.step()
    np.testing.assert_allclose(model[0].weight.value, before_w - 0.5)
    np.testing.assert_array_equal(model[2].weight.value, before_last)


def test_lr_can_change_between_steps():
    p = Parameter(W0)
    opt = SGD([p], lr=0.1)
    p.grad = G1
    opt.step()
    opt.lr = 0.5
    p.grad = G2
    opt.step()
    np.testing.assert_allclose(p.value, W0 - 0.1 * G1 - 0.5 * G2)  # [1.45, -3.1]
    assert opt.lr == 0.5 and opt.t == 2
    with pytest.raises(ValueError, match=re.escape("lr: expected a number >= 0, got -1")):
        opt.lr = -1


def test_zero_grad_clears_packed_and_loose_parameters():
    model = Sequential(*make_layers())
    loose = make_layers()
    loose_params = [p for layer in loose for p in layer.parameters()]
    for params in (model.parameters(), loose_params):
        for p in params:
            p.grad = np.ones(p.shape)
        SGD(params, lr=0.1).zero_grad()
        assert all(not p.grad.any() for p in params)


def test_backward_after_zero_grad_gives_the_fresh_gradient():
    rng = np.random.default_rng(3)
    x, dy = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    for packed in (True, False):
        layer = Linear(3, 2, rng=0)
        if packed:
            Sequential(layer)
        opt = SGD(layer.parameters(), lr=0.1)
        for _ in range(2):  # the second pass must not add to the first
            opt.zero_grad()
            layer.forward(x)
            layer.backward(dy)
            np.testing.assert_allclose(layer.weight.grad, x.T @ dy, rtol=1e-13)
            np.testing.assert_allclose(layer.bias.grad, dy.sum(axis=0), rtol=1e-13)
            opt.step()


@pytest.mark.parametrize("opt_cls, hyper", [(SGD, {"lr": 0.5}), (Adam, {"lr": 0.5}), (Adagrad, {"lr": 0.5})])
def test_a_gradient_no_backward_wrote_after_zero_grad_counts_as_zero(opt_cls, hyper):
    """``zero_grad`` of a packed model marks the gradients zero without clearing the buffer;
    the next backward writes over them. A parameter that backward skips must still read,
    and be updated, as zero, not with its previous gradient."""
    model = Sequential(Linear(3, 2, rng=0), Linear(2, 2, rng=1))
    opt = opt_cls(model.parameters(), **hyper)
    for p in model.parameters():
        p.grad = np.full(p.shape, 5.0)  # the previous step's gradients
    opt.zero_grad()
    first_layer = model[0].weight.value.copy()
    x, dy = np.ones((4, 2)), np.ones((4, 2))
    model[1].forward(x)
    model[1].backward(dy)  # only the second layer gets a new gradient
    opt.step()
    np.testing.assert_array_equal(model[0].weight.value, first_layer)  # zero gradient: no move
    assert not model[0].weight.grad.any() and not model[0].bias.grad.any()
    np.testing.assert_array_equal(model[1].weight.grad, x.T @ dy)
    assert not np.array_equal(model[1].weight.value, Linear(2, 2, rng=1).weight.value)


def test_repacked_parameters_make_step_raise():
    layer = Linear(3, 2, rng=0)
    opt = SGD(layer.parameters(), lr=0.1)
    Sequential(layer)  # packs the layer's parameters into a new buffer
    with pytest.raises(RuntimeError, match="create the optimizer again"):
        opt.step()

    model = Sequential(Linear(3, 2, rng=0))
    opt = Adam(model.parameters())
    Sequential(model[0], Linear(2, 1, rng=1))  # re-packed together with another layer
    with pytest.raises(RuntimeError, match="re-packed"):
        opt.step()


def test_loose_parameters_packed_later_make_step_raise():
    layer = Linear(3, 2, rng=0)
    opt = SGD(layer.parameters(), lr=0.1)  # not packed yet: one group per parameter
    Sequential(layer)  # moves the weight and bias into a new flat buffer
    with pytest.raises(RuntimeError, match="parameter 'weight' was re-packed"):
        opt.step()


def test_float32_parameters_stay_float32():
    p = Parameter(np.array([1.0, -2.0], dtype=np.float32))
    opt = Adam([p], lr=0.1)
    p.grad = np.array([0.5, 1.0], dtype=np.float32)
    opt.step()
    assert p.value.dtype == np.float32
    assert all(buf.dtype == np.float32 for buf in opt.state[0].values() if isinstance(buf, np.ndarray))
    np.testing.assert_allclose(p.value, [0.9, -2.1], rtol=1e-6)


@pytest.mark.parametrize("opt_cls, hyper", ALL, ids=[c.__name__ for c, _ in ALL])
def test_every_rule_keeps_float32_values_and_state(opt_cls, hyper):
    """One float64 scalar in an update (``np.sqrt(0.0 + eps)`` is one) would turn the moment
    buffers into float64 arrays: twice the memory and a float64 update cast back at every step."""
    p = Parameter(W0.astype(np.float32))
    opt = opt_cls([p], **hyper)
    for g in (G1, G2):
        p.grad = g.astype(np.float32)
        opt.step()
    assert p.value.dtype == np.float32
    state = {name: buf.dtype for name, buf in opt.state[0].items() if isinstance(buf, np.ndarray)}
    assert state and set(state.values()) == {np.dtype(np.float32)}, state


def test_optimizers_registry_names_the_classes():
    assert optim.OPTIMIZERS == {"sgd": SGD, "adagrad": Adagrad, "adadelta": Adadelta, "rmsprop": RMSprop,
                                "adam": Adam, "adamw": AdamW, "nadam": NAdam, "newton": Newton,
                                "signsgd": optim.SignSGD, "lion": optim.Lion, "lars": optim.LARS,
                                "lamb": optim.LAMB}


# ------------------------------------------------------------------ Newton

A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.0], [0.5, 0.0, 2.0]])
B = np.array([1.0, -2.0, 0.5])


def quadratic_params():
    """x = (x0, x1, x2) split over two Parameters; the loss is ½ xᵀAx − bᵀx."""
    head, tail = Parameter(np.array([[3.0, -1.0]])), Parameter(np.array([2.0]))

    def set_grad():
        x = np.concatenate([head.value.ravel(), tail.value])
        g = A @ x - B
        head.grad, tail.grad = g[:2].reshape(1, 2), g[2:]
    return head, tail, set_grad


def test_newton_solves_a_quadratic_in_one_step():
    head, tail, set_grad = quadratic_params()
    set_grad()
    Newton([head, tail], hessian=lambda: A).step()
    x = np.concatenate([head.value.ravel(), tail.value])
    np.testing.assert_allclose(x, np.linalg.solve(A, B), rtol=1e-12)


def test_newton_with_damping_and_lr():
    head, tail, set_grad = quadratic_params()
    x0 = np.array([3.0, -1.0, 2.0])
    set_grad()
    Newton([head, tail], hessian=lambda: A, lr=0.5, damping=2.0).step()
    expected = x0 - 0.5 * np.linalg.solve(A + 2.0 * np.eye(3), A @ x0 - B)
    np.testing.assert_allclose(np.concatenate([head.value.ravel(), tail.value]), expected, rtol=1e-12)


def test_newton_on_a_packed_model_matches_the_loose_path():
    model = Sequential(Linear(2, 1, rng=0))
    params = model.parameters()  # weight (2, 1) and bias (1,): P = 3
    x0 = np.concatenate([p.value.ravel() for p in params])
    g = A @ x0 - B
    params[0].grad, params[1].grad = g[:2].reshape(2, 1), g[2:]
    opt = Newton(params, hessian=lambda: A)
    assert len(opt.groups) == 1
    opt.step()
    np.testing.assert_allclose(np.concatenate([p.value.ravel() for p in params]), np.linalg.solve(A, B))


def test_newton_singular_hessian_suggests_damping():
    p = Parameter(np.array([1.0, 1.0]))
    p.grad = np.array([1.0, 1.0])
    with pytest.raises(np.linalg.LinAlgError, match="singular.*damping"):
        Newton([p], hessian=lambda: np.ones((2, 2))).step()
    Newton([p], hessian=lambda: np.ones((2, 2)), damping=1.0).step()  # damped: defined
    # (J + I) d = [1, 1] with J = ones: d = [1/3, 1/3]
    np.testing.assert_allclose(p.value, [2 / 3, 2 / 3])


def test_newton_rejects_a_hessian_of_the_wrong_shape():
    p = Parameter(np.zeros(3))
    message = "expected a (3, 3) array for 3 parameter entries, got shape (2, 2)"
    with pytest.raises(ValueError, match=re.escape(message)):
        Newton([p], hessian=lambda: np.eye(2)).step()
    with pytest.raises(TypeError, match="hessian: expected a callable.*ndarray"):
        Newton([p], hessian=np.eye(3))


# ------------------------------------------------------------------ bad input

def param():
    return Parameter(np.zeros(2), "w")


@pytest.mark.parametrize("make, message", [
    (lambda: SGD([param()], lr=-0.1), "lr: expected a number >= 0, got -0.1"),
    (lambda: Adam([param()], lr=float("nan")), "lr: expected a finite real number, got nan"),
    (lambda: SGD([param()], lr=0.1, momentum=1.0), "momentum: expected a number in [0, 1), got 1.0"),
    (lambda: SGD([param()], lr=0.1, momentum=-0.5), "momentum: expected a number in [0, 1), got -0.5"),
    (lambda: RMSprop([param()], momentum=1.2), "momentum: expected a number in [0, 1), got 1.2"),
    (lambda: Adam([param()], betas=(0.9, 1.0)), "betas[1]: expected a number in [0, 1), got 1.0"),
    (lambda: NAdam([param()], betas=(-0.1, 0.9)), "betas[0]: expected a number in [0, 1), got -0.1"),
    (lambda: AdamW([param()], betas=0.9), "betas: expected a pair (beta1, beta2), got 0.9"),
    (lambda: RMSprop([param()], alpha=1.5), "alpha: expected a number in [0, 1), got 1.5"),
    (lambda: Adadelta([param()], rho=1.0), "rho: expected a number in [0, 1), got 1.0"),
    (lambda: Adam([param()], eps=0.0), "eps: expected a number > 0, got 0.0"),
    (lambda: Adagrad([param()], eps=-1e-10), "eps: expected a number > 0, got -1e-10"),
    (lambda: SGD([param()], weight_decay=-0.01), "weight_decay: expected a number >= 0, got -0.01"),
    (lambda: Adagrad([param()], lr_decay=-1), "lr_decay: expected a number >= 0, got -1"),
    (lambda: SGD([param()], momentum=0.9, dampening=1.5), "dampening: expected a number in [0, 1], got 1.5"),
    (lambda: SGD([param()], nesterov=True), "nesterov=True: expected momentum > 0 and dampening == 0, "
                                            "got momentum=0.0, dampening=0.0"),
    (lambda: SGD([param()], momentum=0.9, dampening=0.1, nesterov=True), "got momentum=0.9, dampening=0.1"),
    (lambda: SGD([], lr=0.1), "SGD: params: expected at least one Parameter, got an empty list"),
    (lambda: Adam(iter([])), "Adam: params: expected at least one Parameter, got an empty list"),
])
def test_bad_hyper_parameters_raise_value_error_naming_them(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_duplicate_parameters_are_rejected():
    p = param()
    message = r"params: expected each Parameter once, got .*'w'.* positions 0 and 1"
    with pytest.raises(ValueError, match=message):
        SGD([p, p], lr=0.1)


@pytest.mark.parametrize("params, message", [
    ([np.zeros(3)], "SGD: params[0]: expected a gdcourse.nn.Parameter, got ndarray"),
    ([param(), 1.0], "SGD: params[1]: expected a gdcourse.nn.Parameter, got float"),
    (param(), "params: expected an iterable of Parameter, got a single Parameter"),
    (Linear(2, 2, rng=0), "params: expected an iterable of Parameter, got a Linear; pass model.parameters()"),
    (3, "params: expected an iterable of Parameter, got int"),
])
def test_non_parameters_raise_type_error(params, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        SGD(params, lr=0.1)
