"""Rename holiday photos after the moment they were taken.

Cameras and phones name pictures IMG_4821.JPG or PXL_20240814_131502.jpg, which sort badly once
photos from two devices land in the same folder. This script renames every image in a folder to

    2024-08-14_15-30-12_alps.jpg

using the date the shutter was pressed (the EXIF DateTimeOriginal tag), so that a slideshow of a
trip plays in the order things happened, whoever held the camera.

Usage:
    python rename_photos.py ~/Pictures/alps-2024 --label alps                 # show the plan only
    python rename_photos.py ~/Pictures/alps-2024 --label alps --apply         # rename for real
    python rename_photos.py ~/Pictures/alps-2024 --shift-hours -1 --apply     # camera clock was wrong

Nothing is renamed without --apply. Two photos taken in the same second get -2, -3 suffixes instead
of overwriting each other. Pillow reads the EXIF data when it is installed; without it, or for an
image with no EXIF date (screenshots, pictures sent through messengers), the file's modification
time is used instead and the plan says so.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path

try:
    from PIL import Image
except ImportError:  # Pillow is optional: fall back to file times
    Image = None  # type: ignore[assignment]

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic"}
EXIF_IFD_POINTER = 34665  # where the camera-specific tags live
EXIF_DATETIME_ORIGINAL = 36867  # "2024:08:14 15:30:12", when the shutter was pressed

Plan = list[tuple[Path, Path, str]]  # (current path, new path, where the date came from)


def taken_at(path: Path) -> tuple[datetime, str]:
    """Return when a photo was taken, and whether that came from "exif" or the "file time"."""
    if Image is not None:
        try:
            with Image.open(path) as img:
                raw = img.getexif().get_ifd(EXIF_IFD_POINTER).get(EXIF_DATETIME_ORIGINAL)
            if raw:
                # EXIF separates the date with colons too, and pads with NULs or spaces.
                return datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S"), "exif"
        except (OSError, ValueError):
            pass  # unreadable image or odd date format: use the file time below
    return datetime.fromtimestamp(path.stat().st_mtime), "file time"


def stamp(when: datetime, label: str) -> str:
    """The new file stem: date and time first, so names sort chronologically."""
    stem = when.strftime("%Y-%m-%d_%H-%M-%S")
    return f"{stem}_{label}" if label else stem


def plan_renames(folder: Path, label: str, shift: timedelta) -> Plan:
    """Work out every new name before touching anything, so clashes are resolved in advance."""
    photos = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES]
    dated = sorted(((taken_at(p), p) for p in photos), key=lambda item: (item[0][0], item[1].name))
    plan: Plan = []
    used: set[str] = set()
    for (when, source), path in dated:
        stem, suffix = stamp(when + shift, label), path.suffix.lower()
        name, n = stem + suffix, 2
        while name in used:  # burst shots: several photos in the same second
            name, n = f"{stem}-{n}{suffix}", n + 1
        used.add(name)
        plan.append((path, folder / name, source))
    return plan


def apply_plan(plan: Plan) -> None:
    """Rename in two passes through temporary names, so no photo can overwrite another midway.

    Without this, renaming A to B while B is still waiting to be renamed to C would destroy B.
    """
    staged = []
    for i, (old, new, _source) in enumerate(plan):
        if old != new:
            temporary = old.with_name(f".renaming-{i}{old.suffix}")
            old.rename(temporary)
            staged.append((temporary, new))
    for temporary, new in staged:
        temporary.rename(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rename photos after the date they were taken.")
    parser.add_argument("folder", type=Path, help="folder of photos (not searched recursively)")
    parser.add_argument("--label", default="", help="word added to every name, e.g. 'alps'")
    parser.add_argument("--shift-hours", type=float, default=0.0, help="fix a camera clock in the wrong zone")
    parser.add_argument("--apply", action="store_true", help="rename for real instead of printing the plan")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"{args.folder} is not a folder")

    plan = plan_renames(args.folder, args.label, timedelta(hours=args.shift_hours))
    for old, new, source in plan:
        note = "" if source == "exif" else "   (no EXIF date: used the file time)"
        print(f"{old.name:36} -> {new.name}{note}")
    if not plan:
        print("No photos found.")
    elif args.apply:
        apply_plan(plan)
        print(f"Renamed {len(plan)} photos.")
    else:
        print(f"\n{len(plan)} photos would be renamed. Run again with --apply to do it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
