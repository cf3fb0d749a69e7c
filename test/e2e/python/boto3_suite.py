"""boto3 against the Coffre agent, as Python backup tools use it; prints one JSON document of what it saw.

Usage: python boto3_suite.py ENDPOINT ACCESS_KEY SECRET_KEY BUCKET WORK_DIRECTORY
The test (test/e2e/boto3.test.ts) asserts on the printed results.
"""

import hashlib
import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MIB = 1024 * 1024


def sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def error_code(call):
    try:
        call()
    except ClientError as error:
        return {"code": error.response["Error"]["Code"], "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
    return None


def main():
    endpoint, access_key, secret_key, bucket, work = sys.argv[1:6]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="fr-par",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    results = {}
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "fr-par"})

    body = os.urandom(200_000)
    put = s3.put_object(
        Bucket=bucket, Key="hello/ünï côde.bin", Body=body, Metadata={"origin": "boto3"}, ContentType="application/x-test"
    )
    results["put"] = {"etag": put["ETag"], "md5": hashlib.md5(body).hexdigest(), "crc32": put.get("ChecksumCRC32")}
    head = s3.head_object(Bucket=bucket, Key="hello/ünï côde.bin", ChecksumMode="ENABLED")
    results["head"] = {
        "length": head["ContentLength"],
        "contentType": head["ContentType"],
        "metadata": head["Metadata"],
        "crc32": head.get("ChecksumCRC32"),
        "etag": head["ETag"],
    }
    got = s3.get_object(Bucket=bucket, Key="hello/ünï côde.bin")["Body"].read()
    results["getEqual"] = got == body

    source = os.path.join(work, "upload.bin")
    with open(source, "wb") as handle:
        for _ in range(13):
            handle.write(os.urandom(MIB))
    transfer = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)
    s3.upload_file(source, bucket, "big/upload.bin", Config=transfer)
    big = s3.head_object(Bucket=bucket, Key="big/upload.bin", ChecksumMode="ENABLED")
    target = os.path.join(work, "download.bin")
    s3.download_file(bucket, "big/upload.bin", target, Config=transfer)
    results["multipart"] = {
        "etag": big["ETag"],
        "length": big["ContentLength"],
        "sourceSha256": sha256_of_file(source),
        "downloadSha256": sha256_of_file(target),
        "checksumType": big.get("ChecksumType"),
    }

    listed_keys = [f"list/{index:03d}" for index in range(23)]
    for key in listed_keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="list/", PaginationConfig={"PageSize": 5})
    seen = []
    page_count = 0
    for page in pages:
        page_count += 1
        seen.extend(item["Key"] for item in page.get("Contents", []))
    results["listing"] = {"keys": seen, "pages": page_count, "expected": listed_keys}

    s3.copy_object(Bucket=bucket, Key="copies/same.bin", CopySource={"Bucket": bucket, "Key": "hello/ünï côde.bin"})
    copied_head = s3.head_object(Bucket=bucket, Key="copies/same.bin")
    s3.copy_object(
        Bucket=bucket,
        Key="copies/replaced.bin",
        CopySource={"Bucket": bucket, "Key": "hello/ünï côde.bin"},
        MetadataDirective="REPLACE",
        Metadata={"replaced": "yes"},
        ContentType="text/plain",
    )
    replaced_head = s3.head_object(Bucket=bucket, Key="copies/replaced.bin")
    results["copy"] = {
        "bodyEqual": s3.get_object(Bucket=bucket, Key="copies/same.bin")["Body"].read() == body,
        "copiedMetadata": copied_head["Metadata"],
        "replacedMetadata": replaced_head["Metadata"],
        "replacedContentType": replaced_head["ContentType"],
        "selfCopy": error_code(
            lambda: s3.copy_object(Bucket=bucket, Key="copies/same.bin", CopySource={"Bucket": bucket, "Key": "copies/same.bin"})
        ),
    }

    deleted = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": key} for key in listed_keys] + [{"Key": "list/never"}]}
    )
    remaining = s3.list_objects_v2(Bucket=bucket, Prefix="list/")
    results["deleteObjects"] = {
        "deleted": sorted(item["Key"] for item in deleted.get("Deleted", [])),
        "errors": deleted.get("Errors", []),
        "remaining": remaining.get("KeyCount"),
    }
    results["missing"] = error_code(lambda: s3.get_object(Bucket=bucket, Key="does/not/exist"))
    results["missingHead"] = error_code(lambda: s3.head_object(Bucket=bucket, Key="does/not/exist"))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
