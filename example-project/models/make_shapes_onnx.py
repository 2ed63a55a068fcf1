#!/usr/bin/python3
"""Trains a small torchvision MobileNetV2 on the engine's synthetic shapes dataset and exports it to ONNX.

This is the hand-over a data scientist would make: a plain PyTorch export (no metadata), BatchNorm kept, opset 17,
dynamic batch axis, input "image" [batch, 3, 32, 32] float32 normalised with ImageNet's mean/std, output "scores"
[batch, 10] (raw logits, classes in the order of batches.meta.txt).

Usage (from the repository root; torch 1.13 / torchvision 0.14 / onnx 1.12, e.g. Debian's python3-torch):

    dotnet src/Compress.Cli/bin/Debug/net8.0/compress.dll data synthetic -o /tmp/shapes
    /usr/bin/python3 example-project/models/make_shapes_onnx.py /tmp/shapes

writes example-project/models/shapes.onnx and shapes.onnx.json (accuracy, settings, versions, sha256).
The data folder holds CIFAR-10 binary files: data_batch_*.bin (train), test_batch.bin (test), each record one label
byte then 3072 bytes (R, G, B planes, 32x32, row-major), and batches.meta.txt (class names, one a line).
Seeded throughout, fixed thread count, deterministic algorithms: the same inputs and thread count give the same file.
"""
import argparse
import glob
import hashlib
import json
import math
import os
import platform
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

IMAGE = 32
RECORD = 1 + 3 * IMAGE * IMAGE
MEAN = (0.485, 0.456, 0.406)  # ImageNet: what the engine assumes by default for an imported RGB model
STD = (0.229, 0.224, 0.225)

# torchvision's MobileNetV2 table (t expansion, c channels, n repeats, s stride of the first block), its first five
# rows unchanged. Adapted to 32x32 only by the stem conv's stride (1 instead of 2, set in build_model), so the network
# runs 32 -> 32 -> 16 -> 8 -> 4 (torchvision at 224: 112 -> ... -> 7). The last two stages (160 and 320 channels,
# which would run at 2x2) are left out, which keeps the file at about 0.6 MB; the rest is torchvision's construction.
INVERTED_RESIDUAL_SETTING = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", help="folder with data_batch_*.bin, test_batch.bin, batches.meta.txt")
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("-o", "--output", default=os.path.join(here, "shapes.onnx"))
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--width", type=float, default=0.35, help="MobileNetV2 width_mult")
    p.add_argument("--lr", type=float, default=0.05, help="peak learning rate (cosine decay to 0)")
    p.add_argument("--warmup", type=int, default=1, help="epochs of linear warm-up before the cosine decay")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args()


def read_split(paths):
    raw = b"".join(open(p, "rb").read() for p in paths)
    if len(raw) % RECORD:
        sys.exit(f"{paths}: {len(raw)} bytes is not a whole number of {RECORD}-byte records")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD)
    labels = torch.from_numpy(records[:, 0].astype(np.int64))
    images = torch.from_numpy(records[:, 1:].reshape(-1, 3, IMAGE, IMAGE).copy())
    return images, labels


def load(folder):
    train_files = sorted(glob.glob(os.path.join(folder, "data_batch_*.bin")))
    test_file = os.path.join(folder, "test_batch.bin")
    if not train_files or not os.path.exists(test_file):
        sys.exit(f"{folder}: expected data_batch_*.bin and test_batch.bin")
    with open(os.path.join(folder, "batches.meta.txt")) as f:
        classes = [line.strip() for line in f if line.strip()]
    return read_split(train_files), read_split([test_file]), classes, [os.path.basename(p) for p in train_files]


def normalise(images_u8):
    x = images_u8.float().div_(255)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(batch_u8, generator):
    """Standard CIFAR augmentation: random 32x32 crop of the image zero-padded by 4, then a random horizontal flip."""
    n = batch_u8.shape[0]
    padded = F.pad(batch_u8, (4, 4, 4, 4))  # pads with 0 (black), like torchvision's RandomCrop(32, padding=4)
    dx = torch.randint(0, 9, (n,), generator=generator)
    dy = torch.randint(0, 9, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    out = torch.empty_like(batch_u8)
    for i in range(n):
        crop = padded[i, :, dy[i]:dy[i] + IMAGE, dx[i]:dx[i] + IMAGE]
        out[i] = crop.flip(-1) if flip[i] else crop
    return out


def build_model(width, classes):
    model = torchvision.models.mobilenet_v2(num_classes=classes, width_mult=width,
                                            inverted_residual_setting=INVERTED_RESIDUAL_SETTING)
    model.features[0][0].stride = (1, 1)  # stem conv: stride 1 for 32x32 inputs (torchvision: 2)
    return model


@torch.no_grad()
def accuracy(model, images, labels, batch=500):
    model.eval()
    correct = 0
    for s in range(0, len(labels), batch):
        scores = model(normalise(images[s:s + batch]))
        correct += (scores.argmax(1) == labels[s:s + batch]).sum().item()
    return 100.0 * correct / len(labels)


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    (train_x, train_y), (test_x, test_y), classes, train_files = load(args.data)
    print(f"train {len(train_y)} images ({', '.join(train_files)}), test {len(test_y)}, classes {len(classes)}: "
          f"{' '.join(classes)}")
    print(f"train labels per class {torch.bincount(train_y, minlength=len(classes)).tolist()}")

    model = build_model(args.width, len(classes))
    parameters = sum(p.numel() for p in model.parameters())
    print(f"MobileNetV2 width_mult={args.width}: {parameters} parameters")

    steps_per_epoch = math.ceil(len(train_y) / args.batch)
    total_steps = args.epochs * steps_per_epoch
    optimiser = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                                weight_decay=args.weight_decay)
    warmup_steps = args.warmup * steps_per_epoch

    def lr_factor(step):  # linear warm-up (lr 0.1 without it diverges in the first epoch), then cosine to 0, per step
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return 0.5 * (1 + math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lr_factor)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)

    history = []
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(train_y), generator=generator)
        total_loss, seen, correct = 0.0, 0, 0
        for s in range(0, len(order), args.batch):
            index = order[s:s + args.batch]
            x = normalise(augment(train_x[index], generator))
            y = train_y[index]
            scores = model(x)
            loss = loss_fn(scores, y)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total_loss += loss.item() * len(y)
            seen += len(y)
            correct += (scores.argmax(1) == y).sum().item()
        test_accuracy = accuracy(model, test_x, test_y)
        elapsed = time.time() - start
        history.append({"epoch": epoch, "loss": round(total_loss / seen, 4),
                        "train_accuracy": round(100.0 * correct / seen, 2), "test_accuracy": round(test_accuracy, 2)})
        print(f"epoch {epoch:2d}/{args.epochs}: loss {total_loss / seen:.4f}, train {100.0 * correct / seen:.2f}%, "
              f"test {test_accuracy:.2f}%  ({elapsed:.0f} s)", flush=True)
    training_seconds = time.time() - start

    model.eval()
    final_accuracy = accuracy(model, test_x, test_y)

    # Export as handed over: eval mode, BatchNorm kept as BatchNormalization (PRESERVE: no conv+BN folding).
    dummy = normalise(test_x[:1])
    torch.onnx.export(model, dummy, args.output, input_names=["image"], output_names=["scores"],
                      dynamic_axes={"image": {0: "batch"}, "scores": {0: "batch"}}, opset_version=17,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)

    exported = onnx.load(args.output)
    onnx.checker.check_model(exported, full_check=True)
    ops = {}
    for node in exported.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    batchnorms = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    if ops.get("BatchNormalization", 0) != batchnorms:
        sys.exit(f"export has {ops.get('BatchNormalization', 0)} BatchNormalization nodes, model {batchnorms}")
    with open(args.output, "rb") as f:
        content = f.read()
    sha256 = hashlib.sha256(content).hexdigest()

    record = {
        "file": os.path.basename(args.output),
        "size_bytes": len(content),
        "sha256": sha256,
        "pytorch_test_accuracy": round(final_accuracy, 2),
        "test_images": len(test_y),
        "train_images": len(train_y),
        "classes": classes,
        "model": {
            "torchvision": f"mobilenet_v2(num_classes={len(classes)}, width_mult={args.width}, "
                           "inverted_residual_setting=INVERTED_RESIDUAL_SETTING); features[0][0].stride = (1, 1)",
            "inverted_residual_setting": INVERTED_RESIDUAL_SETTING,
            "parameters": parameters,
            "batchnorm_modules": batchnorms,
        },
        "export": {
            "opset": 17, "training": "TrainingMode.PRESERVE (model in eval)", "do_constant_folding": True,
            "input": {"name": "image", "shape": ["batch", 3, IMAGE, IMAGE], "type": "float32"},
            "output": {"name": "scores", "shape": ["batch", len(classes)], "type": "float32 logits"},
            "ops": dict(sorted(ops.items())),
        },
        "preprocessing": {"scale": "pixels / 255", "mean": MEAN, "std": STD, "channel_order": "RGB"},
        "training": {
            "epochs": args.epochs, "batch": args.batch, "optimizer": "SGD momentum 0.9 nesterov",
            "lr": args.lr, "schedule": f"linear warm-up {args.warmup} epoch(s), then cosine to 0, per step", "weight_decay": args.weight_decay,
            "loss": "cross entropy",
            "augmentation": "random crop 32 with zero padding 4, horizontal flip p=0.5",
            "seed": args.seed, "threads": args.threads, "deterministic_algorithms": True,
            "seconds": round(training_seconds, 1),
            "history": history,
        },
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "torchvision": torchvision.__version__, "onnx": onnx.__version__, "numpy": np.__version__},
        "data": {"folder": os.path.abspath(args.data), "train_files": train_files, "test_file": "test_batch.bin"},
    }
    with open(args.output + ".json", "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    print(f"wrote {args.output} ({len(content)} bytes, sha256 {sha256}); PyTorch test accuracy {final_accuracy:.2f}%; "
          f"training {training_seconds:.0f} s")


if __name__ == "__main__":
    main()
