"""`campaign-mail`: the embedded run, enqueueing and following jobs, the database commands."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

from .errors import JobNotFound


def _demo(args) -> int:
    from .embedded import run_embedded

    try:
        path = run_embedded(Path(args.output), args.sample)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    print(path)
    return 0


def _enqueue(args) -> int:
    import actors
    from .progress import ProgressBar, wait_for_job
    from .services import get_services

    job, created = actors.enqueue(args.campaign_id, args.establishment_id, regenerate=args.regenerate)
    if created:
        print(f"job {job.id} queued for campaign {args.campaign_id}", file=sys.stderr)
    else:
        print(f"campaign {args.campaign_id} already has job {job.id} ({job.state}); following it", file=sys.stderr)
    if not args.wait:
        print(job.id)
        return 0
    services = get_services()
    job = wait_for_job(services.jobs, job.id, timeout=args.timeout, on_change=ProgressBar())
    if job.state != "succeeded":
        print(f"job {job.id} failed: {job.error}", file=sys.stderr)
        return 1
    print(services.storage.describe(job.archive_key))
    return 0


def _jobs(args) -> int:
    """The job manager for ops: list, show, retry, cancel."""
    from .services import get_services

    jobs = get_services().jobs
    try:
        if args.jobs_command == "list":
            for job in jobs.jobs_of_campaign(args.campaign_id):
                progress = f"{job.letters_done}/{job.letters_total or '?'}"
                detail = job.archive_key or job.error or job.stage or ""
                print(f"{job.id}  {job.created_at:%Y-%m-%d %H:%M:%S}  {job.state:<9}  {progress:>11}  {detail}")
        elif args.jobs_command == "show":
            print(jobs.get(args.job_id).model_dump_json(indent=2))
        elif args.jobs_command == "retry":
            import actors

            job, created = actors.retry(args.job_id)
            verb = "queued as" if created else "is already under way as"
            print(f"campaign {job.campaign_id} {verb} job {job.id}", file=sys.stderr)
            print(job.id)
        elif args.jobs_command == "cancel":
            if not jobs.cancel(args.job_id, args.reason):
                print(f"job {args.job_id} has already ended ({jobs.get(args.job_id).state})", file=sys.stderr)
                return 1
            print(f"job {args.job_id} cancelled", file=sys.stderr)
    except (JobNotFound, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def _migrate(args) -> int:
    from .db.migrate import migrate
    from .settings import get_settings

    applied = migrate(get_settings().database_url)
    print("applied: " + (", ".join(applied) if applied else "nothing, the schema is up to date"))
    return 0


def _seed(args) -> int:
    from .db.seed import seed
    from .settings import get_settings

    seeded = seed(get_settings().database_url, args.housings, seed=args.seed, establishment_id=args.establishment_id)
    print(json.dumps(dataclasses.asdict(seeded), default=str))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="campaign-mail", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the whole chain in-process on the bundled sample; prints the ZIP's path")
    demo.add_argument("--output", default="output", help="folder that receives the ZIP (default: ./output)")
    demo.add_argument("--sample", type=Path, help="a campaign bundle JSON to use instead of the bundled sample")
    demo.set_defaults(run=_demo)

    enqueue = commands.add_parser("enqueue", help="queue a generation on Redis")
    enqueue.add_argument("campaign_id")
    enqueue.add_argument("establishment_id")
    enqueue.add_argument("--wait", action="store_true", help="follow the job with a progress bar and print where the ZIP is")
    enqueue.add_argument("--regenerate", action="store_true", help="generate again a campaign that already succeeded")
    enqueue.add_argument("--timeout", type=float, default=None, help="give up waiting after this many seconds")
    enqueue.set_defaults(run=_enqueue)

    jobs = commands.add_parser("jobs", help="list, show, retry or cancel jobs").add_subparsers(dest="jobs_command", required=True)
    listing = jobs.add_parser("list", help="a campaign's jobs, newest first")
    listing.add_argument("campaign_id")
    show = jobs.add_parser("show", help="a job's state as JSON")
    show.add_argument("job_id")
    retry = jobs.add_parser("retry", help="generate again the campaign of a failed or cancelled job")
    retry.add_argument("job_id")
    cancel = jobs.add_parser("cancel", help="stop a queued or running job at its next stage")
    cancel.add_argument("job_id")
    cancel.add_argument("--reason", default="cancelled by an operator")
    for sub in (listing, show, retry, cancel):
        sub.set_defaults(run=_jobs)

    db = commands.add_parser("db", help="our PostgreSQL schema (DATABASE_URL)").add_subparsers(dest="db_command", required=True)
    db.add_parser("migrate", help="create or update the schema").set_defaults(run=_migrate)
    seed = db.add_parser("seed", help="fill the schema with a realistic sample campaign; prints its ids as JSON")
    seed.add_argument("--housings", type=int, default=1000)
    seed.add_argument("--seed", type=int, default=1, help="random seed of the generated data")
    seed.add_argument("--establishment-id", default=None)
    seed.set_defaults(run=_seed)
    return root


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
