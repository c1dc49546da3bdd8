"""Latent-variable layers: the reparameterised Gaussian sample of a variational
autoencoder, and the restricted Boltzmann machine."""

from __future__ import annotations

from typing import Literal

from specc.layers.base import Op, Param, Positive, Shape, ShapeError, fmt, register


@register
class GaussianSample(Op):
    """z = mean + exp(log_var / 2) * eps, eps ~ N(0, I): the reparameterised sample of the
    Gaussian q(z | x) whose mean and log-variance are its two inputs. The training harness
    feeds eps (the same draws on every backend); without it, a model in training mode draws
    its own and one in inference mode gives the mean. Each call also keeps the KL divergence
    of q(z | x) from N(0, I), per sample: 0.5 * sum(exp(log_var) + mean^2 - 1 - log_var)."""

    op: Literal["gaussian_sample"] = "gaussian_sample"
    arity = "two"
    family = "latent"
    shape_rule = "mean [D] and log-variance [D] → a sample [D]"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        mean, log_var = inputs
        if len(mean) != 1 or mean != log_var:
            raise ShapeError(
                "`gaussian_sample` needs a mean and a log-variance of one shape [D], got "
                + " and ".join(fmt(s) for s in inputs),
                "give both heads the latent size, e.g. `mean = h -> dense(2)` and "
                "`log_var = h -> dense(2)`; flatten image features first",
            )
        return mean


@register
class Rbm(Op):
    """A restricted Boltzmann machine with Bernoulli visible units (its input [V]) and
    `hidden` Bernoulli hidden units: energy E(v, h) = -v·visible_bias - h·bias - h·(weight v).
    As a layer it gives p(h = 1 | v) = sigmoid(weight v + bias), the hidden units'
    probabilities; a model ending in it trains by contrastive divergence (`cd_k`,
    `persistent`). Weights N(0, 0.01²), biases 0 (Hinton's guide); `weight` and `bias` have a
    dense layer's names and layout."""

    op: Literal["rbm"] = "rbm"
    hidden: Positive
    family = "latent"
    shape_rule = "visible units [V] → the hidden units' probabilities [hidden]"

    def output_shape(self, inputs: list[Shape]) -> Shape:
        (shape,) = inputs
        if len(shape) != 1:
            raise ShapeError(
                f"`rbm` needs visible units [V], got {fmt(shape)}",
                "add `flatten` before `rbm`",
            )
        return (self.hidden,)

    def parameters(self, inputs: list[Shape]) -> tuple[int, int]:
        visible = inputs[0][0]
        return visible * self.hidden + self.hidden + visible, 0

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        return inputs[0][0] * self.hidden

    def canonical_params(self, inputs: list[Shape]) -> list[Param]:
        visible = inputs[0][0]
        return [
            Param("weight", (self.hidden, visible), "normal", RBM_WEIGHT_STD),
            Param("bias", (self.hidden,), "zeros"),
            Param("visible_bias", (visible,), "zeros"),
        ]


#: the standard deviation of an RBM's initial weights
RBM_WEIGHT_STD = 0.01
