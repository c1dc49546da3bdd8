"""How the language lays out one sample's axes, by rank — the one place that says so.

    [F]           flat features
    [T, F]        a sequence: time steps, then features (channels last)
    [C, H, W]     an image: channels first, then 2 spatial axes
    [C, D, H, W]  a volume: channels first, then 3 spatial axes

Shape rules, backends and the harness ask a `Layout` instead of testing a rank: which axis
holds the features, how many spatial axes follow the channels, and the permutations between
the language's channels-first order and a channels-last framework (Keras)."""

from __future__ import annotations

from dataclasses import dataclass

#: the largest sample rank the language lays out ([C, D, H, W])
MAX_RANK = 4
#: spatial rank -> the axis letters after C
_SPATIAL_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}
_SPATIAL_NAMES = {2: "an image", 3: "a volume"}


@dataclass(frozen=True)
class Layout:
    rank: int

    @property
    def channels_first(self) -> bool:
        """[C, *spatial]: images and volumes (sequences keep their features last)."""
        return self.rank >= 3

    @property
    def spatial(self) -> int:
        """The number of spatial axes after the channels (0 for flat inputs and sequences)."""
        return self.rank - 1 if self.channels_first else 0

    @property
    def feature_axis(self) -> int:
        """The language's feature axis: the channels of [C, *spatial], else the last axis."""
        return 0 if self.channels_first else self.rank - 1

    def keras_axis(self, axis: int) -> int:
        """A sample axis -> the axis of a channels-last tensor with its batch axis."""
        if self.channels_first:
            return self.rank if axis == 0 else axis
        return axis + 1

    @property
    def to_channels_last(self) -> tuple[int, ...] | None:
        """Keras `Permute` dims from [C, *spatial] to [*spatial, C] (None: nothing to do)."""
        if not self.channels_first:
            return None
        return (*range(2, self.rank + 1), 1)

    @property
    def to_channels_first(self) -> tuple[int, ...] | None:
        """Keras `Permute` dims from [*spatial, C] back to [C, *spatial]."""
        if not self.channels_first:
            return None
        return (self.rank, *range(1, self.rank))

    def describe(self) -> str:
        """How a diagnostic names a sample of this layout."""
        if self.channels_first:
            name = _SPATIAL_NAMES.get(self.spatial, f"a {self.spatial}-D grid")
            axes = _SPATIAL_AXES.get(self.spatial, "...")
            return f"{name} [C, {axes}]"
        return {1: "a flat input [F]", 2: "a sequence [T, F]"}.get(self.rank, "a scalar")


def layout_of(shape: tuple[int, ...] | list[int]) -> Layout:
    return Layout(len(shape))


def spatial_shape(spatial: int) -> str:
    """`[C, H, W]` for 2 spatial axes, `[C, D, H, W]` for 3: for shape rules and messages."""
    return f"[C, {_SPATIAL_AXES[spatial]}]"
