"""Training configuration: optimizers, schedules, losses, data sets, supervised and GAN runs.

Every argument has one default, defined here and documented in docs/language.md."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
Beta = Annotated[float, Field(ge=0.0, lt=1.0)]
PositiveInt = Annotated[int, Field(strict=True, gt=0)]


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def arguments(self) -> tuple:
        """The values after `kind`, in order: the emitted function's arguments."""
        return tuple(getattr(self, name) for name in type(self).model_fields if name != "kind")


# ----- optimizers (PyTorch's formulas; the Keras backend matches them) -----------------------
class Sgd(_Config):
    kind: Literal["sgd"] = "sgd"
    lr: PositiveFloat = 0.01
    momentum: Beta = 0.0
    nesterov: bool = False
    weight_decay: NonNegFloat = 0.0


class Adam(_Config):
    kind: Literal["adam"] = "adam"
    lr: PositiveFloat = 1e-3
    beta1: Beta = 0.9
    beta2: Beta = 0.999
    eps: PositiveFloat = 1e-8
    weight_decay: NonNegFloat = 0.0


class AdamW(_Config):
    kind: Literal["adamw"] = "adamw"
    lr: PositiveFloat = 1e-3
    beta1: Beta = 0.9
    beta2: Beta = 0.999
    eps: PositiveFloat = 1e-8
    weight_decay: NonNegFloat = 0.01


class RmsProp(_Config):
    kind: Literal["rmsprop"] = "rmsprop"
    lr: PositiveFloat = 1e-2
    alpha: Beta = 0.99
    eps: PositiveFloat = 1e-8
    momentum: Beta = 0.0
    weight_decay: NonNegFloat = 0.0


class Adagrad(_Config):
    kind: Literal["adagrad"] = "adagrad"
    lr: PositiveFloat = 1e-2
    eps: PositiveFloat = 1e-10
    weight_decay: NonNegFloat = 0.0


Optimizer = Annotated[Sgd | Adam | AdamW | RmsProp | Adagrad, Field(discriminator="kind")]
OPTIMIZERS = {c.model_fields["kind"].default: c for c in (Sgd, Adam, AdamW, RmsProp, Adagrad)}


# ----- learning-rate schedules, stepped once per epoch ---------------------------------------
class StepSchedule(_Config):
    """lr * gamma ** (epoch // every)"""

    kind: Literal["step"] = "step"
    every: PositiveInt = 10
    gamma: PositiveFloat = 0.1


class CosineSchedule(_Config):
    """Cosine from lr to min_lr over all epochs."""

    kind: Literal["cosine"] = "cosine"
    min_lr: NonNegFloat = 0.0


class ExponentialSchedule(_Config):
    """lr * gamma ** epoch"""

    kind: Literal["exponential"] = "exponential"
    gamma: PositiveFloat = 0.95


class WarmupSchedule(_Config):
    """Linear warm-up from lr / (epochs + 1) to lr over the first `epochs` epochs."""

    kind: Literal["warmup"] = "warmup"
    epochs: PositiveInt = 1


Schedule = Annotated[
    StepSchedule | CosineSchedule | ExponentialSchedule | WarmupSchedule,
    Field(discriminator="kind"),
]
SCHEDULES = {
    c.model_fields["kind"].default: c
    for c in (StepSchedule, CosineSchedule, ExponentialSchedule, WarmupSchedule)
}


# ----- data sets -------------------------------------------------------------------------------
def _class_subset(value: tuple[int, ...] | None) -> tuple[int, ...] | None:
    if value is None:
        return value
    if len(value) < 2 or len(set(value)) != len(value) or min(value) < 0 or max(value) > 9:
        raise ValueError("expected two or more different classes from 0 to 9")
    return value


#: a class subset of a ten-class set: those classes' samples, labelled 0, 1, ... in the
#: order given
ClassSubset = Annotated[tuple[int, ...] | None, AfterValidator(_class_subset)]
#: a few-shot training split: the first `per_class` training samples of each class (in a
#: fixed shuffled order); the test split stays whole
PerClass = Annotated[int, Field(strict=True, gt=0)] | None


class Digits(_Config):
    """The 8x8 digits that ship with scikit-learn, resized to size x size."""

    kind: Literal["digits"] = "digits"
    size: Annotated[int, Field(strict=True, ge=8, le=256)] = 8
    #: each image's rows as time steps: samples [size, size] instead of [1, size, size]
    rows: bool = False
    #: "standard": pixels standardised (the train split's mean 0, std 1); "unit": in [0, 1]
    #: (ink 1), for a `bce` reconstruction; "binary": each 0 or 1 (ink over half), for an RBM
    scale: Literal["standard", "unit", "binary"] = "standard"
    classes: ClassSubset = None
    per_class: PerClass = None


class Mnist(_Config):
    """The four standard IDX files in the folder `path`, [1, 28, 28]."""

    kind: Literal["mnist"] = "mnist"
    path: str
    #: each image's rows as time steps: samples [28, 28] instead of [1, 28, 28]
    rows: bool = False
    #: "standard": pixels standardised (MNIST's mean and std); "unit": in [0, 1];
    #: "binary": each 0 or 1 (ink over half)
    scale: Literal["standard", "unit", "binary"] = "standard"
    classes: ClassSubset = None
    per_class: PerClass = None


class Cifar10(_Config):
    kind: Literal["cifar10"] = "cifar10"
    path: str
    classes: ClassSubset = None
    per_class: PerClass = None


class Npz(_Config):
    """Arrays x_train, y_train, x_test, y_test in one .npz file; float inputs multiplied by
    `rescale` (`1/255` for pixels stored as 0..255)."""

    kind: Literal["npz"] = "npz"
    path: str
    rescale: PositiveFloat = 1.0


class Synthetic(_Config):
    """Random inputs of the model's input shape and random class labels: one per sample, or
    one per step [T] for a model giving per-step scores [T, classes]."""

    kind: Literal["synthetic"] = "synthetic"
    n: PositiveInt = 512
    classes: PositiveInt = 10


class Adding(_Config):
    """The adding problem: [length, 2] (value, marker) -> the sum of the two marked values."""

    kind: Literal["adding"] = "adding"
    length: Annotated[int, Field(strict=True, ge=2)] = 50
    n: Annotated[int, Field(strict=True, ge=2)] = 10000


class Series(_Config):
    """Windows [window, 1] of a noisy periodic series -> the next value."""

    kind: Literal["series"] = "series"
    n: Annotated[int, Field(strict=True, ge=10)] = 2000
    window: PositiveInt = 32
    period: PositiveFloat = 25.0
    noise: NonNegFloat = 0.1


class Text(_Config):
    """A plain-text file: character-id windows [length] -> the next characters [length]."""

    kind: Literal["text"] = "text"
    path: str
    length: PositiveInt = 64


class CopyTask(_Config):
    """The copy (recall) task: `length` symbols, a delay, a delimiter; then the symbols again.
    Token ids [2 * length + delay] -> per-step classes [2 * length + delay]."""

    kind: Literal["copy_task"] = "copy_task"
    symbols: Annotated[int, Field(strict=True, ge=2, le=1000)] = 8
    length: Annotated[int, Field(strict=True, ge=1)] = 10
    delay: Annotated[int, Field(strict=True, ge=1)] = 20
    n: Annotated[int, Field(strict=True, ge=2)] = 10000


class Imdb(_Config):
    """Keras's imdb.npz (movie reviews as word ids, sentiment labels), read from `path`:
    Keras's conventions (start 1, out-of-vocabulary 2, word ids from 3), padded or cut to
    `length` with 0 (the padding id `mask_zero` expects) at the end (`post`) or front (`pre`)."""

    kind: Literal["imdb"] = "imdb"
    path: str
    length: PositiveInt = 200
    vocab: Annotated[int, Field(strict=True, ge=4)] = 10000
    padding: Literal["post", "pre"] = "post"


_SETS = (Digits, Mnist, Cifar10, Npz, Synthetic, Adding, Series, Text, CopyTask, Imdb)
DataSet = Annotated[
    Digits | Mnist | Cifar10 | Npz | Synthetic | Adding | Series | Text | CopyTask | Imdb,
    Field(discriminator="kind"),
]
DATASETS = {c.model_fields["kind"].default: c for c in _SETS}
#: data sets with real-valued targets (the others give class labels, where known)
REGRESSION_DATASETS = ("adding", "series")
# Sample shape and class count, where known before loading.
DATASET_SHAPES: dict[str, tuple[int, ...]] = {"mnist": (1, 28, 28), "cifar10": (3, 32, 32)}
DATASET_CLASSES: dict[str, int] = {"digits": 10, "mnist": 10, "cifar10": 10, "imdb": 2}
#: data sets whose labels are one class per time step [T]
PER_STEP_DATASETS = ("text", "copy_task")
#: data sets whose samples are token ids (an `int` input), and those whose samples are numbers
TOKEN_DATASETS = ("text", "copy_task", "imdb")
FLOAT_DATASETS = ("digits", "mnist", "cifar10", "adding", "series")


# ----- augmentation --------------------------------------------------------------------------
#: how a transform fills pixels from outside the image: the nearest edge pixel, the mirror
#: image (the edge not repeated), or 0
Fill = Literal["edge", "reflect", "zeros"]
Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]


class RandomFlip(_Config):
    """Mirror each image with probability 1/2: left-right (`horizontal`), top-bottom
    (`vertical`), or each of the two independently (`both`)."""

    kind: Literal["random_flip"] = "random_flip"
    mode: Literal["horizontal", "vertical", "both"] = "horizontal"


class RandomCrop(_Config):
    """Shift each image by up to `pad` pixels: pad (`fill`), crop at a random offset."""

    kind: Literal["random_crop"] = "random_crop"
    pad: Annotated[int, Field(strict=True, ge=1)] = 4
    fill: Fill = "zeros"


class RandomRotation(_Config):
    """Turn each image about its centre by an angle drawn from [-degrees, degrees]
    (counter-clockwise as shown); bilinear interpolation."""

    kind: Literal["random_rotation"] = "random_rotation"
    degrees: Annotated[float, Field(gt=0.0, le=180.0)]
    fill: Fill = "edge"


class RandomTranslation(_Config):
    """Shift each image by up to `fraction` of its width and of its height (each drawn
    from [-fraction, fraction]); bilinear interpolation."""

    kind: Literal["random_translation"] = "random_translation"
    fraction: Fraction
    fill: Fill = "edge"


class RandomZoom(_Config):
    """Scale each image about its centre by a factor drawn from [1 - fraction,
    1 + fraction] (over 1: closer); bilinear interpolation."""

    kind: Literal["random_zoom"] = "random_zoom"
    fraction: Fraction
    fill: Fill = "edge"


class RandomShear(_Config):
    """Shear each image horizontally by an angle drawn from [-degrees, degrees] (x moves
    by tan(angle) times y from the centre); bilinear interpolation."""

    kind: Literal["random_shear"] = "random_shear"
    degrees: Annotated[float, Field(gt=0.0, lt=90.0)]
    fill: Fill = "edge"


class RandomBrightness(_Config):
    """Add to every value of each image an offset drawn from [-delta, delta]."""

    kind: Literal["random_brightness"] = "random_brightness"
    delta: Annotated[float, Field(gt=0.0)]


class RandomContrast(_Config):
    """Scale each channel of each image about its mean by a factor drawn from
    [1 - fraction, 1 + fraction]."""

    kind: Literal["random_contrast"] = "random_contrast"
    fraction: Fraction


class RandomErasing(_Config):
    """With probability `p`, set a rectangle of each image to 0 (Zhong et al., 2020;
    cutout): its area a fraction of the image's drawn from [area_min, area_max], its aspect
    ratio (height / width) log-uniform in [1 / ratio, ratio], its place uniform among those
    that fit."""

    kind: Literal["random_erasing"] = "random_erasing"
    p: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5
    area_min: Fraction = 0.02
    area_max: Annotated[float, Field(gt=0.0, le=1.0)] = 0.33
    ratio: Annotated[float, Field(ge=1.0)] = 3.3

    @field_validator("area_max")
    @classmethod
    def _area_order(cls, value: float, info: ValidationInfo) -> float:
        if value < info.data.get("area_min", 0.0):
            raise ValueError("must be at least `area_min`")
        return value

    def arguments(self) -> tuple:
        return (self.p, (self.area_min, self.area_max), self.ratio)


class Mixup(_Config):
    """Mix each training batch with a shuffled copy of itself (Zhang et al., 2018): images
    λ·x + (1 − λ)·x′ and their one-hot labels alike, λ ~ Beta(alpha, alpha), one per batch."""

    kind: Literal["mixup"] = "mixup"
    alpha: PositiveFloat = 0.2


class Cutmix(_Config):
    """Paste into each training image a rectangle of another image of the batch (Yun et al.,
    2019): its area a share 1 − λ of the image's, λ ~ Beta(alpha, alpha), one per batch,
    its centre uniform (clipped at the edges); the labels mixed by the pasted area's share."""

    kind: Literal["cutmix"] = "cutmix"
    alpha: PositiveFloat = 1.0


#: transforms that mix the labels too: the last of an `augment` list
MIXING = ("mixup", "cutmix")

_AUGMENTS = (
    RandomFlip,
    RandomCrop,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    RandomShear,
    RandomBrightness,
    RandomContrast,
    RandomErasing,
    Mixup,
    Cutmix,
)
Augment = Annotated[
    RandomFlip
    | RandomCrop
    | RandomRotation
    | RandomTranslation
    | RandomZoom
    | RandomShear
    | RandomBrightness
    | RandomContrast
    | RandomErasing
    | Mixup
    | Cutmix,
    Field(discriminator="kind"),
]
AUGMENTS = {c.model_fields["kind"].default: c for c in _AUGMENTS}


# ----- normalisation -----------------------------------------------------------------------------
class PerChannel(_Config):
    """x' = (x - mean_c) / std_c for each channel c of images [C, H, W], on every split:
    `mean` and `std` as given (one value per channel), else the training split's."""

    kind: Literal["per_channel"] = "per_channel"
    mean: tuple[float, ...] | None = None
    std: tuple[PositiveFloat, ...] | None = None


NORMALIZATIONS = {"per_channel": PerChannel}


# ----- transfer learning ------------------------------------------------------------------------
class InitWeights(_Config):
    """Start from trained weights: those of the layers named in both the model and `path` (a
    run folder, whose weights.safetensors is read, or canonical .safetensors; a glob picks the
    newest match), matched by layer name. `layers`: only these (names or glob patterns; a
    block instance's name takes its layers); `skip`: not these (a new head)."""

    kind: Literal["weights"] = "weights"
    path: str
    layers: tuple[str, ...] | None = None
    skip: tuple[str, ...] = ()


class LrGroup(_Config):
    """The layers matching `layers` (names or glob patterns) train at `scale` times the
    optimizer's learning rate (its schedule included)."""

    kind: Literal["group"] = "group"
    layers: tuple[str, ...]
    scale: PositiveFloat

    @field_validator("layers", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


INITS = {"weights": InitWeights}
LR_GROUPS = {"group": LrGroup}


# ----- input noise (denoising) ------------------------------------------------------------------
class GaussianNoise(_Config):
    """Adds N(0, std²) to every input value of a training batch."""

    kind: Literal["gaussian_noise"] = "gaussian_noise"
    std: PositiveFloat


class MaskingNoise(_Config):
    """Sets each input value of a training batch to 0 with probability `rate` (the masking
    noise of denoising autoencoders)."""

    kind: Literal["masking_noise"] = "masking_noise"
    rate: Annotated[float, Field(gt=0.0, lt=1.0)]


Noise = Annotated[GaussianNoise | MaskingNoise, Field(discriminator="kind")]
NOISES = {c.model_fields["kind"].default: c for c in (GaussianNoise, MaskingNoise)}


# ----- losses ----------------------------------------------------------------------------------
Loss = Literal["cross_entropy", "nll", "mse", "mae", "bce", "bce_with_logits", "kl_div", "huber"]
CLASSIFICATION_LOSSES = ("cross_entropy", "nll")
BINARY_LOSSES = ("bce", "bce_with_logits")
#: the losses that compare a reconstruction with the input, value by value (`target = input`)
RECONSTRUCTION_LOSSES = ("mse", "mae", "huber", "bce", "bce_with_logits")
#: a variational autoencoder's reconstruction likelihoods: Bernoulli (`bce` on
#: probabilities, `bce_with_logits` on scores) or Gaussian with unit variance (`mse`)
LIKELIHOOD_LOSSES = ("bce", "bce_with_logits", "mse")
GanLoss = Literal["bce_with_logits", "hinge", "wgan_gp"]
Metric = Literal["accuracy"]
Precision = Literal["fp32", "bf16", "fp16"]


class EarlyStopping(_Config):
    """Stop when the test loss has not improved for `patience` epochs."""

    patience: PositiveInt = 3
    min_delta: NonNegFloat = 0.0


class Supervised(_Config):
    kind: Literal["supervised"] = "supervised"
    model: str
    data: DataSet = Digits()
    loss: Loss = "cross_entropy"
    optimizer: Optimizer = Sgd()
    schedule: Schedule | None = None
    epochs: PositiveInt = 10
    batch: PositiveInt = 32
    metrics: tuple[Metric, ...] = ("accuracy",)
    seed: Annotated[int, Field(strict=True, ge=0)] = 0
    augment: tuple[Augment, ...] = ()
    #: "labels": the data set's labels; "input": the input itself (an autoencoder)
    target: Literal["labels", "input"] = "labels"
    #: corrupts the training inputs (after `augment`); with `target = input`, the clean
    #: input is the target (a denoising autoencoder)
    noise: Noise | None = None
    #: inputs normalised on every split before training (images: per channel)
    normalize: PerChannel | None = None
    #: test-time augmentation: evaluation averages the model's scores over each image and
    #: its left-right mirror
    tta: bool = False
    #: a model with a `gaussian_sample` latent trains as a variational autoencoder: the
    #: reconstruction's negative log-likelihood plus `kl_weight` (beta) times the KL term,
    #: the weight rising linearly from 0 over the first `kl_warmup` epochs
    kl_weight: NonNegFloat = 1.0
    kl_warmup: Annotated[int, Field(strict=True, ge=0)] = 0
    #: a model ending in an `rbm` trains by contrastive divergence: `cd_k` Gibbs steps per
    #: update, from the data (CD-k) or, `persistent`, from chains kept across updates (PCD)
    cd_k: PositiveInt = 1
    persistent: bool = False
    #: a fraction of the training split held out (the same samples every epoch, from the
    #: seed) to report `val_loss` each epoch and to stop early on
    validation: Annotated[float, Field(gt=0.0, le=0.5)] | None = None
    #: transfer learning: the starting weights (by layer name), the layers kept fixed (their
    #: batch norms in inference mode) until epoch `unfreeze` (never if None), and learning
    #: rates per group of layers
    init: InitWeights | None = None
    freeze: tuple[str, ...] = ()
    unfreeze: PositiveInt | None = None
    lr_groups: tuple[LrGroup, ...] = ()
    early_stopping: EarlyStopping | None = None
    clip_grad: PositiveFloat | None = None
    l1: NonNegFloat = 0.0
    l2: NonNegFloat = 0.0
    precision: Precision = "fp32"
    compile: bool = False
    channels_last: bool = False

    @property
    def transforms_input(self) -> bool:
        """Training batches are changed on the host (augmentation, noise)."""
        return bool(self.augment) or self.noise is not None

    @property
    def image_augment(self) -> tuple[Augment, ...]:
        """The transforms of the images alone (`augment` without a label-mixing one)."""
        return tuple(step for step in self.augment if step.kind not in MIXING)

    @property
    def mixing(self) -> Mixup | Cutmix | None:
        """The transform that mixes the labels too (the last of `augment`), if any."""
        last = self.augment[-1] if self.augment else None
        return last if isinstance(last, (Mixup, Cutmix)) else None

    @property
    def has_accuracy(self) -> bool:
        """Accuracy means something: class labels (or 0/1 labels) are the target."""
        return (
            "accuracy" in self.metrics
            and self.target == "labels"
            and self.loss in CLASSIFICATION_LOSSES + BINARY_LOSSES
        )


class Normal(_Config):
    kind: Literal["normal"] = "normal"
    dim: PositiveInt


class Uniform(_Config):
    """Uniform on [-1, 1]."""

    kind: Literal["uniform"] = "uniform"
    dim: PositiveInt


Latent = Annotated[Normal | Uniform, Field(discriminator="kind")]
LATENTS = {c.model_fields["kind"].default: c for c in (Normal, Uniform)}


class Gan(_Config):
    kind: Literal["gan"] = "gan"
    name: str
    generator: str
    discriminator: str
    latent: Latent
    data: DataSet = Digits(size=28)
    loss: GanLoss = "bce_with_logits"
    g_optimizer: Optimizer = Adam(lr=2e-4, beta1=0.5)
    d_optimizer: Optimizer = Adam(lr=2e-4, beta1=0.5)
    d_steps: PositiveInt = 1
    gp_weight: NonNegFloat = 10.0
    epochs: PositiveInt = 20
    batch: PositiveInt = 64
    seed: Annotated[int, Field(strict=True, ge=0)] = 0
    precision: Precision = "fp32"
    compile: bool = False


Training = Annotated[Supervised | Gan, Field(discriminator="kind")]
