"""A variational autoencoder's latent: its `gaussian_sample` node and the decoder path from
it to the output. The backends emit that path as the model's decoder (`decode(z)`), which
draws samples from the prior."""

from __future__ import annotations

from specc.diagnostics import Diagnostics
from specc.ir.net import Net, Node


def sample_node(net: Net) -> Node | None:
    """The model's `gaussian_sample` node, if it has one (check_latent allows one)."""
    return next((n for n in net.layers if n.kind == "gaussian_sample"), None)


def decoder_nodes(net: Net, sample: Node) -> list[Node] | None:
    """The nodes after `sample` that read nothing else (the decoder), in order, when the
    output is one of them and no other node reads the sample or the decoder; None
    otherwise (a connection skips the latent, or a branch mixes the decoder with the
    encoder)."""
    inside = {sample.name}
    path: list[Node] = []
    for node in net.layers:
        if node.name == sample.name or not node.inputs:
            continue
        if set(node.inputs) <= inside:
            inside.add(node.name)
            path.append(node)
        elif inside & set(node.inputs):
            return None
    if net.output not in inside or net.output == sample.name:
        return None
    return path


def forward_order(net: Net) -> Net:
    """`net` with its decoder last (a variational autoencoder's), as the PyTorch backend
    emits it: `forward` computes the other nodes, then `return self.decode(z)`."""
    sample = sample_node(net)
    decoder = decoder_nodes(net, sample) if sample is not None else None
    if not decoder:
        return net
    last = {n.name for n in decoder}
    nodes = [n for n in net.nodes if n.name not in last] + list(decoder)
    return net.model_copy(update={"nodes": tuple(nodes)})


def check_latent(net: Net, diags: Diagnostics) -> bool:
    """One `gaussian_sample` per model (E0507), and a decoder: the output reads the input
    only through the sample (E0508)."""
    samples = [n for n in net.layers if n.kind == "gaussian_sample"]
    if not samples:
        return True
    if len(samples) > 1:
        diags.error(
            "E0507",
            f"`{net.name}` has {len(samples)} `gaussian_sample` layers; a model has one",
            samples[1].span,
            label="a second latent",
            help="sample one latent (hierarchical latents are not in the language): give its "
            "heads the total size",
        )
        return False
    if net.output == samples[0].name:
        diags.error(
            "E0508",
            f"`{net.name}` ends in its `gaussian_sample`: a variational autoencoder decodes "
            "the latent sample",
            samples[0].span,
            label="no decoder after it",
            help="add the decoder after the sample, e.g. `z -> dense(256) -> relu -> "
            "dense(784) -> reshape([1, 28, 28])`",
        )
        return False
    if decoder_nodes(net, samples[0]) is None:
        diags.error(
            "E0508",
            f"`{net.name}`'s output must depend on its input only through the "
            "`gaussian_sample`: the decoder reads the latent sample alone",
            samples[0].span,
            label="the latent",
            help="remove connections that skip the latent from the encoder to the decoder, "
            "and branches that mix the decoder with the encoder; end the model with the "
            "decoder",
        )
        return False
    return True


#: layers that may stand between an RBM model's input and its `rbm`: they only lay the
#: visible units out
RBM_LAYOUT_KINDS = ("flatten", "reshape")


def rbm_node(net: Net) -> Node | None:
    """The model's `rbm` node, if it has one (check_rbm allows it only last)."""
    return next((n for n in net.layers if n.kind == "rbm"), None)


def check_rbm(net: Net, diags: Diagnostics) -> bool:
    """An `rbm` is the model's last layer, and only `flatten` or `reshape` stand between it
    and the input (E0509): the model is the machine, its input the visible units."""
    rbm = rbm_node(net)
    if rbm is None:
        return True
    others = [n for n in net.layers if n.name != rbm.name]
    if net.output != rbm.name or any(n.kind not in RBM_LAYOUT_KINDS for n in others):
        diags.error(
            "E0509",
            f"`rbm` must be `{net.name}`'s last layer, with only `flatten` or `reshape` "
            "before it: the model is the machine, and its input the visible units",
            rbm.span,
            help="write the RBM as its own model: `input x: [...]`, `flatten`, `rbm(hidden)`",
        )
        return False
    return True
