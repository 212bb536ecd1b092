"""Reference models for the sweep: small enough to train many times on two CPU cores, big enough that
augmentation changes what they learn. Both take uint8-range float images (N, C, H, W) scaled to [0, 1]
and normalise them inside, so every run feeds them the same way."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MODELS", "SmallCNN", "SmallResNet", "build_model"]


def _conv_bn(cin: int, cout: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class _Normalise(nn.Module):
    """Per-channel standardisation with statistics fixed at construction (from the training set)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.view(1, -1, 1, 1).float())
        self.register_buffer("std", std.view(1, -1, 1, 1).float().clamp(min=1e-3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class SmallCNN(nn.Module):
    """Four 3x3 conv layers (widths 16-32-64-64, strides 1-2-2-2), global average pooling, a linear head:
    about 60k parameters; the default for the digits."""

    def __init__(self, channels: int, classes: int, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        widths = (16, 32, 64, 64)
        layers: list[nn.Module] = [_Normalise(mean, std)]
        previous = channels
        for i, width in enumerate(widths):
            layers += _conv_bn(previous, width, 1 if i == 0 else 2)
            previous = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(previous, classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_conv_bn(cin, cout, stride),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class SmallResNet(nn.Module):
    """A ResNet-8 for 32x32 RGB images: a 16-wide stem, three stages of one basic block (16, 32, 64 wide,
    strides 1, 2, 2), global average pooling and a linear head: about 78k parameters."""

    def __init__(self, channels: int, classes: int, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.net = nn.Sequential(
            _Normalise(mean, std),
            *_conv_bn(channels, 16),
            _BasicBlock(16, 16, 1),
            _BasicBlock(16, 32, 2),
            _BasicBlock(32, 64, 2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(64, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


MODELS = {"cnn": SmallCNN, "resnet": SmallResNet}


def build_model(name: str, channels: int, classes: int, mean: torch.Tensor, std: torch.Tensor) -> nn.Module:
    """A reference model by name ('cnn' or 'resnet'), normalising with the given per-channel statistics."""
    if name not in MODELS:
        raise ValueError(f"model: unknown model {name!r}; expected one of {', '.join(MODELS)}")
    return MODELS[name](channels, classes, mean, std)
