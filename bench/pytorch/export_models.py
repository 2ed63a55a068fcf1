"""Full-size torchvision models for `bench imported-training`, exported by PyTorch (Debian's python3-torch 1.13 and
python3-torchvision 0.14), randomly initialised from a seed (no download): MobileNetV2 at 3x32x32 with 10 classes
and ResNet-50 at 3x224x224 with 1000 classes, BatchNorm kept (TrainingMode.PRESERVE, as a training-ready export).
Too large to commit (ResNet-50 is about 100 MB); written where asked:

    /usr/bin/python3 bench/pytorch/export_models.py /tmp/compress-bench-models
"""
import os, sys
import torch
import torchvision

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/compress-bench-models"
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
for name, model, size in [
    ("mobilenet_v2-32", torchvision.models.mobilenet_v2(num_classes=10), 32),
    ("resnet50-224", torchvision.models.resnet50(num_classes=1000), 224),
]:
    model.eval()
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, torch.randn(1, 3, size, size), path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    print(path, os.path.getsize(path))
