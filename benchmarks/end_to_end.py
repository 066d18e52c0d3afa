"""How long a seeded campaign takes from enqueue to ZIP in the bucket, on real servers.

    .venv/bin/python -m benchmarks.end_to_end --housings 1000 --processes 2

Starts an S3 endpoint (moto's standalone server), a fresh PostgreSQL
database, and `dramatiq actors` with N worker processes on Redis; enqueues the
campaign through the CLI and times it to the published ZIP. The baseline is
the same campaign run through the same stage functions one after the other in
this process, against the same servers: the ratio shows what the fan-out over
workers gains.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from tests.pg import fresh_database
from tests.servers import ROOT, flush_namespace, free_port, process_env, redis_namespace, s3_endpoint, worker_processes


def baseline(env: dict[str, str], campaign_id: str, establishment_id: str) -> float:
    """All stages in sequence, in this process, without a broker."""
    os.environ.update(env)
    from pipeline import stages
    from pipeline.services import build_services
    from pipeline.settings import Settings

    services = build_services(Settings(dramatiq_broker="redis"))
    started = time.perf_counter()
    job = services.jobs.create(campaign_id, establishment_id)
    for chunk, (start, stop) in enumerate(stages.fetch(services, job.id)):
        stages.render_letters(services, job.id, chunk, start, stop)
    stages.build_spreadsheet(services, job.id)
    stages.archive(services, job.id)
    stages.upload(services, job.id)
    stages.notify(services, job.id)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--housings", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=100, help="letters per render message")
    args = parser.parse_args()

    from pipeline.db.seed import seed

    with fresh_database() as database_url, s3_endpoint() as s3_env:
        env = process_env({
            **s3_env, **redis_namespace(), "DATABASE_URL": database_url, "CAMPAIGN_SOURCE": "postgres",
            "STORAGE": "s3", "RENDER_CHUNK_SIZE": str(args.chunk), "dramatiq_prom_port": str(free_port()),
        })
        try:
            seeded = seed(database_url, args.housings, seed=11)
            print(f"campaign: {seeded.housing_count} housings, {seeded.letter_count} letters, {seeded.owner_count} owners")
            with worker_processes(env, processes=args.processes, threads=args.threads):
                time.sleep(3)  # let the workers boot: their start-up is not the job's time
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "pipeline.cli", "enqueue", seeded.campaign_id, seeded.establishment_id, "--wait", "--timeout", "900"],
                    cwd=ROOT, env=env, capture_output=True, text=True,
                )
                chain = time.perf_counter() - started
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                return 1
            print(f"chain, {args.processes} worker processes x {args.threads} threads, chunks of {args.chunk}: "
                  f"{chain:.1f} s enqueue -> ZIP in the bucket ({seeded.letter_count / chain:.0f} letters/s)")
            print(f"  {done.stdout.strip()}")
            alone = baseline(env, seeded.campaign_id, seeded.establishment_id)
            print(f"baseline, every stage in sequence in one process: {alone:.1f} s ({seeded.letter_count / alone:.0f} letters/s)")
            print(f"ratio baseline / chain: {alone / chain:.2f}")
        finally:
            flush_namespace(env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
