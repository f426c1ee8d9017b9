"""PyTorch reference modules for the parity tests (shared by the fixture generators).

`TorchvisionStyleResNeXt` is torchvision's ResNet built from torchvision's own `Bottleneck`
with the stem width and base planes opened up, so a tiny network keeps torchvision's key layout.
`DeepfakeDetector` is the reference module of issue #2, verbatim apart from the backbone argument.
`seed_train_transforms` is the seed's torchvision training pipeline (the benchmarks' peer of
our loader).
"""

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import Bottleneck, conv1x1


class TorchvisionStyleResNeXt(nn.Module):
    def __init__(self, layers, groups, width_per_group, stem_channels, base_planes, num_classes=None):
        super().__init__()
        self.groups, self.base_width = groups, width_per_group
        self.inplanes = stem_channels
        self.conv1 = nn.Conv2d(3, stem_channels, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(base_planes, layers[0], 1)
        self.layer2 = self._make_layer(base_planes * 2, layers[1], 2)
        self.layer3 = self._make_layer(base_planes * 4, layers[2], 2)
        self.layer4 = self._make_layer(base_planes * 8, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(base_planes * 8 * 4, num_classes) if num_classes else nn.Identity()

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * 4, stride), nn.BatchNorm2d(planes * 4))
        out = [Bottleneck(self.inplanes, planes, stride, downsample, self.groups, self.base_width)]
        self.inplanes = planes * 4
        for _ in range(1, blocks):
            out.append(Bottleneck(self.inplanes, planes, groups=self.groups, base_width=self.base_width))
        return nn.Sequential(*out)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def tiny_resnext(num_classes=None):
    """Matches `ResNeXtConfig::tiny()` in Rust."""
    return TorchvisionStyleResNeXt([1, 1, 1, 1], groups=4, width_per_group=16, stem_channels=8,
                                   base_planes=8, num_classes=num_classes)


class DeepfakeDetector(nn.Module):
    def __init__(self, backbone=None, feature_dim=2048, hidden=512, layers=2, head_hidden=256, dropout=0.3):
        super().__init__()
        if backbone is None:
            backbone = torchvision.models.resnext50_32x4d()
            backbone.fc = nn.Identity()
        self.backbone = backbone
        self.lstm = nn.LSTM(feature_dim, hidden, num_layers=layers, batch_first=True, bidirectional=True)
        self.classifier = nn.Sequential(nn.Linear(2 * hidden, head_hidden), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(head_hidden, 2))

    def forward(self, x):  # [B,3,H,W] or [B,T,3,H,W]
        if x.dim() == 4:
            x = x.unsqueeze(1)
        b, t = x.shape[:2]
        f = self.backbone(x.flatten(0, 1)).view(b, t, -1)
        out, _ = self.lstm(f)
        return self.classifier(out.mean(dim=1))


def tiny_detector():
    """Matches `DetectorConfig::tiny()` in Rust."""
    return DeepfakeDetector(tiny_resnext(), feature_dim=256, hidden=16, layers=2, head_hidden=16)


def randomize_batchnorm(module, generator):
    """Non-trivial BatchNorm affine parameters and running statistics, so eval mode is tested."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            with torch.no_grad():
                m.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                m.num_batches_tracked.fill_(7)


def seed_train_transforms(size):
    """The seed's training pipeline on a PIL image: resize to size x size, flip, rotate up to 10
    degrees, brightness and contrast jitter 0.2, ImageNet normalisation -> [3, size, size]."""
    from torchvision import transforms

    return transforms.Compose([
        transforms.Resize((size, size)),
        transforms.RandomHorizontalFlip(),
        transforms.RandomRotation(10),
        transforms.ColorJitter(brightness=0.2, contrast=0.2),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
