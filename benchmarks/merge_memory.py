"""Time and memory of the archive stage's PDF merge, as the page count grows.

    .venv/bin/python -m benchmarks.merge_memory --chunks 40

Renders one chunk of 250 one-page letters, copies it into N chunk files and
merges them as the archive stage does. Each size runs in a child process so
its peak RSS is its own. The baseline is the merge of 4 chunks (1,000 pages)
in the same run; the ratios show how time and memory grow with the pages.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def merge(folder: Path, chunks: int) -> dict:
    from pipeline.archive import merge_pdfs

    parts = []
    for i in range(chunks):
        part = folder / f"{i:05d}.pdf"
        if not part.exists():
            shutil.copy(folder / "00000.pdf", part)
        parts.append(part)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    pages = merge_pdfs(parts, folder / "merged.pdf")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"pages": pages, "seconds": seconds, "growth_mb": (peak - before) / 1024, "peak_mb": peak / 1024}


def render_chunk(folder: Path) -> None:
    from pipeline.letters import LetterTemplate, render_letters
    from pipeline.sources.sample import SampleSource

    bundle = SampleSource().fetch("7e57ca3e-1a2b-4c3d-9e8f-000000000001", "")
    bundle.draft.body = "<p>Bonjour {{owner.fullName}},</p>" + "<p>Un paragraphe d'une lettre administrative ordinaire, assez long pour tenir sur deux lignes de la page.</p>" * 8
    render_letters(LetterTemplate.build(bundle, {}), (bundle.letter_housings() * 50)[:250], folder / "00000.pdf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=40, help="chunks of 250 pages to merge (40: 10,000 pages)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(merge(Path(args.child[0]), int(args.child[1]))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        render_chunk(Path(tmp))
        results = {}
        for chunks in (4, args.chunks):
            out = subprocess.run([sys.executable, "-m", "benchmarks.merge_memory", "--child", tmp, str(chunks)], capture_output=True, text=True, check=True)
            results[chunks] = json.loads(out.stdout)
            r = results[chunks]
            print(f"{r['pages']:>6} pages: merged in {r['seconds']:.2f} s, RSS grew {r['growth_mb']:.0f} MB (peak {r['peak_mb']:.0f} MB)")
        base, big = results[4], results[args.chunks]
        print(f"ratio for {big['pages'] / base['pages']:.0f}x the pages: time x{big['seconds'] / base['seconds']:.1f}, peak RSS x{big['peak_mb'] / base['peak_mb']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
