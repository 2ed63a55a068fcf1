"""Reference for `dotnet run -c Release --project bench/Compress.Bench -- training-speed`: the same training step in
PyTorch (Debian's python3-torch), resnet18-cifar (3x3 stem, no max-pool; the engine's architecture), random batches,
NCHW and channels-last, alternated round by round. Run with /usr/bin/python3; prints one Markdown row per variant.

    /usr/bin/python3 bench/pytorch/train_step.py [--width 1] [--rounds 4] [--steps 5] [--threads 2]
"""
import argparse, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18Cifar(nn.Module):
    def __init__(self, width=1.0, classes=10):
        super().__init__()
        w = [max(1, round(c * width)) for c in (64, 128, 256, 512)]
        self.conv1 = nn.Conv2d(3, w[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        layers, cin = [], w[0]
        for i, cout in enumerate(w):
            stride = 1 if i == 0 else 2
            layers.append(nn.Sequential(Block(cin, cout, stride), Block(cout, cout, 1)))
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    batch = 64
    variants = {}
    for name, fmt in (("pytorch-nchw-fp32", torch.contiguous_format), ("pytorch-channels-last-fp32", torch.channels_last)):
        torch.manual_seed(0)
        model = ResNet18Cifar(a.width).to(memory_format=fmt).train()
        images = torch.randn(batch, 3, 32, 32).to(memory_format=fmt)
        labels = torch.randint(0, 10, (batch,))
        variants[name] = (model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), images, labels, [])
    names = list(variants)
    for r in range(a.rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            model, opt, images, labels, times = variants[name]
            for i in range(a.steps + 1):
                t = time.perf_counter()
                opt.zero_grad()
                F.cross_entropy(model(images), labels).backward()
                opt.step()
                if i > 0:
                    times.append(time.perf_counter() - t)
    print(f"PyTorch {torch.__version__}, width {a.width}, batch {batch}, {a.threads} threads")
    for name in names:
        times = variants[name][4]
        m = statistics.median(times)
        print(f"| {name} | {m:.3f} | {min(times):.3f} | {batch / m:.1f} |")


if __name__ == "__main__":
    main()
