"""The web process: the HTTP API of the queue, its health check and the ops dashboard.

`gunicorn 'pipeline.web.app:create_app()'` serves it.
"""
