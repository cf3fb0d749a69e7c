# Makes real boto3 requests (default checksums, both addressing styles, a presigned URL) and prints them
# as JSON instead of sending them: the test/s3/boto3-client.test.ts suite verifies them.
import base64, io, json, sys, datetime
import boto3
from botocore.config import Config

captured = []

class Captured(Exception):
    pass

def body_bytes(body):
    if body is None:
        return b''
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    if hasattr(body, 'read'):
        return body.read()
    return b''.join(piece if isinstance(piece, bytes) else piece.encode() for piece in body)

def on_send(request, **kwargs):
    captured.append({
        'method': request.method,
        'url': request.url,
        'headers': {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()},
        'body': base64.b64encode(body_bytes(request.body)).decode(),
    })
    raise Captured()

def client(style):
    s3 = boto3.client('s3', endpoint_url='https://s3.eu-west-par.coffre.example', region_name='eu-west-par',
                      aws_access_key_id='AKIDCOFFRETEST', aws_secret_access_key='c2VjcmV0IGtleSBmb3IgdGVzdHMgb25seQ',
                      config=Config(s3={'addressing_style': style}, retries={'max_attempts': 1}))
    s3.meta.events.register('before-send.s3', on_send)
    return s3

key = "backups/2026-11-29 été/日本語 + 'quotes' (1) ~!*.vbk"
cases = []
for style in ['path', 'virtual']:
    s3 = client(style)
    calls = [
        ('PutObject', 'of 13 kB of bytes under an awkward key', lambda: s3.put_object(Bucket='veeam-repo', Key=key, Body=b'backup block ' * 1000)),
        ('PutObject', 'of a 200 kB file object', lambda: s3.put_object(Bucket='veeam-repo', Key='stream.bin', Body=io.BytesIO(b'\x07' * 200000))),
        ('ListObjectsV2', '', lambda: s3.list_objects_v2(Bucket='veeam-repo', Prefix='a b/été+', Delimiter='/')),
        ('DeleteObjects', '', lambda: s3.delete_objects(Bucket='veeam-repo', Delete={'Objects': [{'Key': key}, {'Key': 'k', 'VersionId': 'v'}], 'Quiet': True})),
        ('UploadPart', '', lambda: s3.upload_part(Bucket='veeam-repo', Key='big', UploadId='upload/1+2', PartNumber=7, Body=b'\x01' * 10000)),
        ('CopyObject', '', lambda: s3.copy_object(Bucket='veeam-repo', Key='copy', CopySource={'Bucket': 'src-bucket', 'Key': key})),
        ('PutObjectRetention', '', lambda: s3.put_object_retention(Bucket='veeam-repo', Key='k', Retention={'Mode': 'COMPLIANCE', 'RetainUntilDate': datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)})),
        ('PutObjectLockConfiguration', '', lambda: s3.put_object_lock_configuration(Bucket='veeam-repo', ObjectLockConfiguration={'ObjectLockEnabled': 'Enabled', 'Rule': {'DefaultRetention': {'Mode': 'GOVERNANCE', 'Years': 1}}})),
        ('HeadObject', '', lambda: s3.head_object(Bucket='veeam-repo', Key=key, VersionId='v+1/2')),
    ]
    for operation, description, call in calls:
        captured.clear()
        try:
            call()
        except Captured:
            pass
        cases.append({'style': style, 'operation': operation, 'description': description, 'request': captured[0]})
    url = s3.generate_presigned_url('get_object', Params={'Bucket': 'veeam-repo', 'Key': key}, ExpiresIn=600)
    cases.append({'style': style, 'operation': 'GetObject', 'presigned': url})
json.dump(cases, sys.stdout)
