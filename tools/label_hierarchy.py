#!/usr/bin/env python3
"""Generates models/label_hierarchy.json: for every class of the built-in models, its
readable label and the parent labels people search for ("a tabby is also a cat, a pet, a
mammal, an animal"), derived from WordNet 3.0 hypernyms.

ImageNet class ids are WordNet 3.0 noun offsets (models/imagenet1k_wnids.json); COCO class
names are looked up as WordNet nouns. Parents are the ancestors (hypernym closure) whose
lemma is in SEARCHABLE below, under the names given there: that table is the one hand-made
choice, the rest is derived.

Needs Debian's wordnet-base (/usr/share/wordnet). Run from the repository root:
    python3 tools/label_hierarchy.py > models/label_hierarchy.json
"""
import json
import re
import sys

WORDNET = "/usr/share/wordnet"

# WordNet lemma of an ancestor -> the labels it gives (lower-case, as stored and searched).
SEARCHABLE = {
    "animal": ["animal"], "mammal": ["mammal"], "bird": ["bird"], "fish": ["fish"],
    "reptile": ["reptile"], "amphibian": ["amphibian"], "insect": ["insect"],
    "arthropod": ["arthropod"], "invertebrate": ["invertebrate"], "dog": ["dog"],
    "canine": ["canine"], "cat": ["cat"], "feline": ["feline"], "big cat": ["big cat"],
    "domestic animal": ["pet"], "primate": ["primate"], "monkey": ["monkey"], "ape": ["ape"],
    "bear": ["bear"], "rodent": ["rodent"], "snake": ["snake"], "lizard": ["lizard"],
    "turtle": ["turtle"], "frog": ["frog"], "shark": ["shark"], "spider": ["spider"],
    "butterfly": ["butterfly"], "beetle": ["beetle"], "bird of prey": ["bird of prey"],
    "parrot": ["parrot"], "ungulate": ["ungulate"], "horse": ["horse"], "bovid": ["bovid"],
    "aquatic mammal": ["aquatic mammal"], "crustacean": ["crustacean"], "mollusk": ["mollusk"],
    "plant": ["plant"], "flower": ["flower"], "tree": ["tree"], "fungus": ["fungus"],
    "vegetable": ["vegetable"], "edible fruit": ["fruit"], "food": ["food"],
    "beverage": ["beverage", "drink"], "coffee": ["coffee"], "alcohol": ["alcohol"],
    "dish": ["dish"], "dessert": ["dessert"], "baked goods": ["baked goods"], "bread": ["bread"],
    "vehicle": ["vehicle"], "motor vehicle": ["motor vehicle"], "car": ["car"],
    "truck": ["truck"], "motorbike": ["motorcycle"], "motorcycle": ["motorcycle"],
    "bicycle": ["bicycle"], "boat": ["boat"], "ship": ["ship"], "aircraft": ["aircraft"],
    "train": ["train"], "public transport": ["public transport"],
    "furniture": ["furniture"], "seat": ["seat"], "table": ["table"], "bed": ["bed"],
    "container": ["container"], "vessel": ["vessel"], "bottle": ["bottle"], "cup": ["cup"],
    "bag": ["bag"], "box": ["box"], "tool": ["tool"], "hand tool": ["tool"],
    "musical instrument": ["musical instrument"], "electronic equipment": ["electronics"],
    "computer": ["computer"], "telephone": ["phone"], "clothing": ["clothing"],
    "footwear": ["footwear"], "headdress": ["hat"], "jewelry": ["jewelry"],
    "sports equipment": ["sports equipment"], "ball": ["ball"], "toy": ["toy"],
    "building": ["building"], "structure": ["structure"], "home appliance": ["appliance"],
    "kitchen utensil": ["kitchenware"], "cooking utensil": ["kitchenware"],
    "timepiece": ["clock"], "weapon": ["weapon"], "geological formation": ["landscape"],
    "body of water": ["water"], "shore": ["shore"], "natural elevation": ["mountain"],
    "person": ["person"], "device": ["device"], "equipment": ["equipment"],
    "optical instrument": ["optical instrument"], "lamp": ["lamp"], "sign": ["sign"],
}

# A label dropped when another is present: WordNet files wheeled vehicles under "container".
DROPPED_BESIDE = {"container": "vehicle"}

# ImageNet classes whose WordNet synset is not the object photographed (n07930864 is "cup" the
# punch, under alcohol, while the photos show tea cups).
IMAGENET_PARENTS = {"n07930864": ["cup", "container"]}

# COCO names whose first WordNet noun sense is not what COCO means: (lemma, sense number).
COCO_SENSES = {
    "mouse": ("mouse", 4), "remote": ("remote control", 1), "keyboard": ("computer keyboard", 1),
    "tie": ("necktie", 1), "kite": ("kite", 3), "sports ball": ("ball", 1),
    "potted plant": ("pot plant", 1), "tv": ("television receiver", 1),
    "cell phone": ("cellular telephone", 1), "hair drier": ("hand blower", 1),
    "couch": ("sofa", 1), "dining table": ("dining table", 1), "hot dog": ("hotdog", 2),
    "donut": ("doughnut", 1), "wine glass": ("wineglass", 1), "baseball glove": ("baseball glove", 1),
    "orange": ("orange", 1), "cake": ("cake", 3), "stop sign": ("street sign", 1), "skis": ("ski", 1),
    "microwave": ("microwave", 2), "sink": ("sink", 1), "book": ("book", 2), "toaster": ("toaster", 2),
}


def lemma_text(word):
    return word.replace("_", " ").lower()


def load_nouns():
    synsets = {}
    with open(f"{WORDNET}/data.noun", encoding="latin-1") as data:
        for line in data:
            if line.startswith("  "):
                continue
            fields = line.split(" | ")[0].split()
            offset, word_count = fields[0], int(fields[3], 16)
            words = [lemma_text(re.sub(r"\(.*\)$", "", fields[4 + 2 * i])) for i in range(word_count)]
            rest = fields[4 + 2 * word_count:]
            pointer_count = int(rest[0])
            hypernyms = []
            for i in range(pointer_count):
                symbol, target, pos = rest[1 + 4 * i], rest[2 + 4 * i], rest[3 + 4 * i]
                if symbol in ("@", "@i") and pos == "n":
                    hypernyms.append(target)
            synsets[offset] = (words, hypernyms)
    index = {}
    with open(f"{WORDNET}/index.noun", encoding="latin-1") as lines:
        for line in lines:
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma, synset_count = lemma_text(fields[0]), int(fields[2])
            index[lemma] = fields[-synset_count:]
    return synsets, index


def ancestors(synsets, offset):
    seen, order, frontier = set(), [], [offset]
    while frontier:
        current = frontier.pop(0)
        for parent in synsets[current][1]:
            if parent not in seen:
                seen.add(parent)
                order.append(parent)
                frontier.append(parent)
    return order


def parents_of(synsets, offset, own_name):
    labels = []
    for ancestor in [offset] + ancestors(synsets, offset):
        for word in synsets[ancestor][0]:
            for label in SEARCHABLE.get(word, []):
                if label != own_name and label not in labels:
                    labels.append(label)
    return [label for label in labels if DROPPED_BESIDE.get(label) not in labels]


def clean(name):
    name = re.sub(r"\s*\(.*?\)", "", name).lower()
    return " ".join(re.sub(r"[^a-z0-9' -]", " ", name).split())


def main():
    synsets, index = load_nouns()
    with open("models/imagenet1k_wnids.json") as f:
        wnids = json.load(f)
    with open("models/imagenet1k_names.json") as f:
        names = json.load(f)
    imagenet = []
    for i, name in enumerate(names):
        wnid = wnids[str(i)]
        offset = wnid[1:]
        # A few names of the list are descriptions ("a cat having a striped coat"): use WordNet's.
        descriptive = re.match(r"an? ", name) or " or " in name or len(clean(name).split()) > 4
        label = clean(synsets[offset][0][0] if descriptive else name)
        parents = IMAGENET_PARENTS.get(wnid) or parents_of(synsets, offset, label)
        imagenet.append({"label": label, "wordnet": wnid, "parents": parents})
    coco = []
    with open("models/coco_labels.txt") as f:
        for name in (line.strip() for line in f if line.strip()):
            lemma, sense = COCO_SENSES.get(name, (name, 1))
            offsets = index.get(lemma)
            if not offsets:
                sys.exit(f"COCO class {name!r}: no WordNet noun {lemma!r}; add it to COCO_SENSES")
            offset = offsets[sense - 1]
            label = clean(name)
            coco.append({"label": label, "wordnet": "n" + offset, "parents": parents_of(synsets, offset, label)})
    json.dump({
        "generated_by": "tools/label_hierarchy.py from WordNet 3.0 (Debian wordnet-base)",
        "imagenet": imagenet,
        "coco": coco,
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
