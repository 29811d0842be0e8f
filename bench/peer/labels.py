"""The peer of `make bench`'s analyzer section: what a Python service would run.

The same two ONNX files as the built-in labeler, at the same input sizes, with onnxruntime on
one intra-op thread; photos decoded with Pillow (EXIF orientation applied, JPEGs decoded at a
reduced DCT scale as the analyzer does), pre-processed with numpy. Prints one JSON object:
per photo, the median milliseconds of decode + resize + both models, of decode alone, and the
top classes, so the two implementations can be compared on the same photos in the same run.

usage: labels.py MODELS_DIR RUNS PHOTO...
"""

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

WORKING_SIDE = 640
CLASSIFIER_SIDE, CLASSIFIER_RESIZE = 224, 256
DETECTOR_SIDE = 416
DETECTOR_MEAN = np.array([103.53, 116.28, 123.675], dtype=np.float32)
DETECTOR_STD = np.array([57.375, 57.12, 58.395], dtype=np.float32)


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def decode(path):
    image = Image.open(path)
    # JPEG: decode at the smallest DCT scale that still covers the working size.
    image.draft("RGB", (WORKING_SIDE, WORKING_SIDE))
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.BILINEAR)
    return image


def classify(model, image):
    width, height = image.size
    scale = CLASSIFIER_RESIZE / max(1, min(width, height))
    resized = image.resize(
        (max(CLASSIFIER_SIDE, round(width * scale)), max(CLASSIFIER_SIDE, round(height * scale))),
        Image.BILINEAR,
    )
    left = (resized.width - CLASSIFIER_SIDE) // 2
    top = (resized.height - CLASSIFIER_SIDE) // 2
    crop = resized.crop((left, top, left + CLASSIFIER_SIDE, top + CLASSIFIER_SIDE))
    pixels = (np.asarray(crop, dtype=np.float32) - 127.0) / 128.0
    tensor = pixels.transpose(2, 0, 1)[np.newaxis]
    logits = model.run(None, {model.get_inputs()[0].name: tensor})[0][0]
    exps = np.exp(logits - logits.max())
    return exps / exps.sum()


def detect(model, image):
    stretched = image.resize((DETECTOR_SIDE, DETECTOR_SIDE), Image.BILINEAR)
    bgr = np.asarray(stretched, dtype=np.float32)[:, :, ::-1]
    tensor = ((bgr - DETECTOR_MEAN) / DETECTOR_STD).transpose(2, 0, 1)[np.newaxis]
    return model.run(None, {model.get_inputs()[0].name: np.ascontiguousarray(tensor)})


def main():
    models, runs, photos = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    classifier = session(models / "imagenet_efficientnet_lite0.onnx")
    detector = session(models / "coco_nanodet.onnx")
    names = json.loads((models / "imagenet1k_names.json").read_text())
    results = {}
    for photo in photos:
        totals, decodes = [], []
        # The first run warms caches and is not counted, as in the bench.
        for run in range(runs + 1):
            started = time.perf_counter()
            image = decode(photo)
            decoded = time.perf_counter()
            probabilities = classify(classifier, image)
            detect(detector, image)
            if run > 0:
                totals.append((time.perf_counter() - started) * 1000)
                decodes.append((decoded - started) * 1000)
        top = np.argsort(probabilities)[::-1][:3]
        results[Path(photo).stem] = {
            "ms_per_photo": statistics.median(totals),
            "decode_ms": statistics.median(decodes),
            "top_classes": [[names[int(i)], round(float(probabilities[i]) * 100, 1)] for i in top],
        }
    json.dump({"onnxruntime": ort.__version__, "photos": results}, sys.stdout)


if __name__ == "__main__":
    main()
