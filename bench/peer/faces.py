"""The peer of `make bench`'s faces section: what a Python service would run for people.

face_recognition (dlib's HOG face detector, then dlib's 68-point landmarks and the same
ResNet descriptor the built-in engine runs), on photos decoded with Pillow at the same
working size as the analyzer's face engine (EXIF orientation applied, longest side 1920 px,
JPEGs decoded at a reduced DCT scale). Prints one JSON object: per photo, the median
milliseconds of decode + detection + descriptors on one thread, and the faces found.

usage: faces.py RUNS PHOTO...
"""

import json
import sys
from pathlib import Path

import dlib
import face_recognition
import numpy as np
from PIL import Image, ImageOps
from timing import timed

WORKING_SIDE = 1920


def decode(path):
    image = Image.open(path)
    image.draft("RGB", (WORKING_SIDE, WORKING_SIDE))
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.BILINEAR)
    return np.asarray(image)


def faces(path):
    pixels = decode(path)
    # The library's defaults: HOG, the photo upsampled once (faces down to about 40 px).
    locations = face_recognition.face_locations(pixels, number_of_times_to_upsample=1, model="hog")
    descriptors = face_recognition.face_encodings(pixels, locations)
    return len(descriptors)


def main():
    runs = int(sys.argv[1])
    photos = {}
    for name in sys.argv[2:]:
        path = Path(name)
        ms, found = timed(runs, lambda: faces(path))
        photos[path.stem] = {"ms_per_photo": ms, "faces": found}
    json.dump({"dlib": dlib.__version__, "photos": photos}, sys.stdout)


if __name__ == "__main__":
    main()
