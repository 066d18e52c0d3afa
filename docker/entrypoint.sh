#!/bin/sh
# One image for every process. `web`, `worker` and `release` run the Procfile's
# lines, word for word (tests/test_docker_files.py compares them), so that the
# image and a Procfile platform (Clever Cloud, Heroku) behave the same.
# Anything else is run as given, e.g. `campaign-mail db seed --housings 1000`.
set -eu

case "${1:-web}" in
    web) exec gunicorn --bind 0.0.0.0:${PORT:-8080} --workers ${WEB_CONCURRENCY:-2} --threads ${WEB_THREADS:-4} --access-logfile - 'pipeline.web.app:create_app()' ;;
    worker) exec dramatiq actors --processes ${WORKER_PROCESSES:-2} --threads ${WORKER_THREADS:-2} ;;
    release) exec campaign-mail db migrate ;;
    *) exec "$@" ;;
esac
