"""Where artefacts live: S3-compatible object storage, or a local folder.

Stages hand each other keys, never bytes through Redis. Both backends share
one interface so that the embedded run and the tests of stage functions use
the same code paths as production.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .settings import Settings

ZIP_CONTENT_TYPE = "application/zip"


class ObjectMissing(KeyError):
    pass


class Storage(Protocol):
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None: ...
    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def download(self, key: str, path: Path) -> None: ...
    def exists(self, key: str) -> bool: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def publish(self, src_key: str, dst_key: str) -> None:
        """Copy a finished archive to its public key: zip type, French, authenticated-read."""
    def describe(self, key: str) -> str:
        """Where a key is, for a person (a path or an s3:// URL)."""


class LocalStorage:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"storage key escapes the storage folder: {key!r}")
        return path

    def put_bytes(self, key, data, content_type=None):
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)

    def put_file(self, key, path, content_type=None):
        dst = self.path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(dst)

    def get_bytes(self, key):
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def download(self, key, path):
        try:
            shutil.copyfile(self.path(key), path)
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    def exists(self, key):
        return self.path(key).is_file()

    def delete_prefix(self, prefix):
        target = self.path(prefix.rstrip("/"))
        if target.is_dir():
            shutil.rmtree(target)
        elif target.is_file():
            target.unlink()
        # Leave no empty folders behind, as an object store would not.
        parent = target.parent
        while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    def publish(self, src_key, dst_key):
        self.put_file(dst_key, self.path(src_key))

    def describe(self, key):
        return str(self.path(key))


class S3Storage:
    def __init__(self, settings: Settings, client=None):
        self.bucket = settings.s3_bucket
        self.client = client or make_s3_client(settings)

    def put_bytes(self, key, data, content_type=None):
        extra = {"ContentType": content_type} if content_type else {}
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def put_file(self, key, path, content_type=None):
        # upload_file streams from disk and switches to multipart for large files.
        extra = {"ContentType": content_type} if content_type else None
        self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra)

    def get_bytes(self, key):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if _is_missing(error):
                raise ObjectMissing(key) from None
            raise

    def download(self, key, path):
        try:
            self.client.download_file(self.bucket, key, str(path))
        except ClientError as error:
            if _is_missing(error):
                raise ObjectMissing(key) from None
            raise

    def exists(self, key):
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as error:
            if _is_missing(error):
                return False
            raise

    def delete_prefix(self, prefix):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})

    def publish(self, src_key, dst_key):
        # A server-side copy: the archive never travels through the worker again.
        self.client.copy(
            {"Bucket": self.bucket, "Key": src_key},
            self.bucket,
            dst_key,
            ExtraArgs={
                "ACL": "authenticated-read",
                "ContentType": ZIP_CONTENT_TYPE,
                "ContentLanguage": "fr",
                "MetadataDirective": "REPLACE",
            },
        )

    def describe(self, key):
        return f"s3://{self.bucket}/{key}"

    def presigned_url(self, key: str, expires_in: int = 3600) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def make_s3_client(settings: Settings, timeout: float = 30.0, attempts: int = 3):
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint or None,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id.get_secret_value() or None,
        aws_secret_access_key=settings.s3_secret_access_key.get_secret_value() or None,
        config=Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": attempts, "mode": "standard"},
            # Cellar and MinIO want path-style addressing; AWS accepts it too.
            s3={"addressing_style": "path"},
        ),
    )


def make_storage(settings: Settings) -> Storage:
    if settings.storage == "local":
        return LocalStorage(settings.local_storage_dir)
    return S3Storage(settings)
