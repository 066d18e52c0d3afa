"""The README's first command: the whole chain in one process, no server at all."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.pdf import letters_text
from tests.servers import ROOT, process_env


def test_demo_writes_the_zip_of_the_bundled_sample_and_prints_its_path(tmp_path):
    # Point Redis and S3 at closed ports: the embedded run must not need them.
    env = process_env({"REDIS_URL": "redis://127.0.0.1:9/0", "S3_ENDPOINT": "http://127.0.0.1:9", "DATABASE_URL": "postgresql://127.0.0.1:9/x"})
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "demo", "--output", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip().splitlines()[-1])
    assert path.parent == tmp_path and path.name.endswith("-logements-vacants-metropole-de-lyon-relance-ete-2026.zip")
    assert "5/5 letters" in done.stderr  # progress was shown
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    with zipfile.ZipFile(path) as archive:
        stem = path.name[: -len(".zip")]
        assert archive.namelist() == [f"{stem}.pdf", f"{stem}-destinataires.xlsx"]
        pages = letters_text(archive.read(f"{stem}.pdf"))
    assert len(pages) == 5
    assert "Domaine des Grands Œillets" in pages[4] and "2/2" in pages[4]
