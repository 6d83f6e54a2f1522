#!/usr/bin/python3
"""Turns Debian's package list into a text-classification task for samples/Text.

usage: scripts/debian-packages-export.py [OUT.tsv]   (default: build/debian-packages.tsv; needs apt-get update first)

One row per distinct package: Section (the part after the last '/': 58 classes), Package, Description (the one-line
synopsis), tab-separated, with a header. Label = Section; text = Package and Description.
"""
import subprocess
import sys


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/debian-packages.tsv"
    text = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
    seen = {}
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if line[:1] in (" ", "\t") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields.setdefault(key, value.strip())
        name = fields.get("Package")
        if not name or name in seen or "Section" not in fields or "Description" not in fields:
            continue
        section = fields["Section"].rsplit("/", 1)[-1]
        clean = lambda s: s.replace("\t", " ").replace("\r", " ")
        seen[name] = (section, name, clean(fields["Description"]))
    with open(out, "w", encoding="utf-8") as f:
        f.write("Section\tPackage\tDescription\n")
        for section, name, description in seen.values():
            f.write(f"{section}\t{name}\t{description}\n")
    sections = len({s for s, _, _ in seen.values()})
    print(f"{len(seen)} packages, {sections} sections -> {out}")


if __name__ == "__main__":
    main()
