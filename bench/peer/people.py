"""The peer of `make bench`'s people section: face_recognition's faces and descriptors on the
shared people set, for the bench to set our distances, grouping and detection beside its own.

face_recognition 1.3 as its README uses it: dlib's HOG detector (the photo upsampled once),
dlib's 5-point alignment and the ResNet descriptor, on photos decoded as faces.py decodes them
(EXIF orientation applied, longest side 1920 px). Prints one JSON object: per photo (by the
file's name without extension) its decoded width and height, each face's box (left, top,
right, bottom, in those pixels) and 128 numbers, and the milliseconds of detection alone
(`ms`, one run, one thread).

usage: people.py PHOTO...
"""

import json
import sys
import time
from pathlib import Path

import face_recognition
from faces import decode


def faces(path):
    pixels = decode(path)
    started = time.perf_counter()
    locations = face_recognition.face_locations(pixels, number_of_times_to_upsample=1, model="hog")
    elapsed = (time.perf_counter() - started) * 1000
    descriptors = face_recognition.face_encodings(pixels, locations)
    height, width = pixels.shape[:2]
    found = [
        {"box": [left, top, right, bottom], "descriptor": [float(v) for v in descriptor]}
        for (top, right, bottom, left), descriptor in zip(locations, descriptors)
    ]
    return {"width": width, "height": height, "faces": found, "ms": elapsed}


def main():
    json.dump({Path(name).stem: faces(Path(name)) for name in sys.argv[1:]}, sys.stdout)


if __name__ == "__main__":
    main()
