"""Latent-variable layers: the reparameterised Gaussian sample of a variational
autoencoder."""

from __future__ import annotations

from typing import Literal

from specc.layers.base import Op, Shape, ShapeError, fmt, register


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
