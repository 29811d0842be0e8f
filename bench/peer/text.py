"""The peer of `make bench`'s text section: what a Python service would run to read text.

rapidocr 3.10.0 (the same PP-OCRv6 detection and recognition files as the built-in engine,
plus its 180-degree classifier) on onnxruntime with one thread, on the same files. Prints one
JSON object: per photo, the median milliseconds of a whole reading (decode included) and the
lines it read.

usage: text.py RUNS PHOTO...
"""

import json
import sys
from pathlib import Path

from rapidocr import RapidOCR
from timing import timed

ENGINE = RapidOCR(
    params={
        "Global.log_level": "error",
        "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
)


def read(path):
    result = ENGINE(str(path))
    return list(result.txts or ())


def main():
    runs = int(sys.argv[1])
    photos = {}
    for name in sys.argv[2:]:
        path = Path(name)
        ms, lines = timed(runs, lambda: read(path))
        photos[path.stem] = {"ms_per_photo": ms, "lines": lines}
    json.dump({"rapidocr": "3.10.0", "photos": photos}, sys.stdout)


if __name__ == "__main__":
    main()
