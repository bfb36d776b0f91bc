"""Owner-only file responses with HTTP Range support (video seeking).

Production: set MEDIA_ACCEL_REDIRECT_PREFIX (e.g. "/protected-media/") and nginx serves
the bytes (Range, sendfile, keep-alive) after Django has checked ownership:

    location /protected-media/ { internal; alias /srv/cutroom/var/media/; }

With object storage (django-storages S3, MEDIA_STORAGE_IS_REMOTE), the same view instead
redirects to a short-lived presigned URL that carries ResponseContentType and
ResponseContentDisposition.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import http_date

from .sniffing import INLINE_MIME_TYPES

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(start, end inclusive) for one satisfiable range; None to ignore the header (absent,
    malformed or several ranges: RFC 9110 allows answering with the whole file); False
    when unsatisfiable (416)."""
    match = _RANGE.match(header.strip()) if header else None
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)


def _iter_file(fieldfile, start: int, length: int):
    with fieldfile.open("rb") as fh:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            chunk = fh.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def _disposition(kind: str, filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "") or "download"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def file_response(
    request, fieldfile, *, content_type: str, filename: str, download: bool = False, modified=None
) -> HttpResponse:
    """Serve a FieldFile to its (already checked) owner."""
    inline = content_type in INLINE_MIME_TYPES and not download
    if not inline and content_type not in INLINE_MIME_TYPES:
        content_type = "application/octet-stream"
    disposition = _disposition("inline" if inline else "attachment", filename)
    prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX
    if settings.MEDIA_STORAGE_IS_REMOTE:
        return _presigned_redirect(fieldfile, content_type=content_type, disposition=disposition)
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(fieldfile.name)
    else:
        size = fieldfile.size
        wanted = parse_range(request.headers.get("Range", ""), size)
        if wanted is False:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return _common(response, disposition, modified)
        start, end = wanted if wanted else (0, size - 1)
        length = max(0, end - start + 1)
        body = _iter_file(fieldfile, start, length) if request.method != "HEAD" else iter(())
        response = StreamingHttpResponse(
            body, content_type=content_type, status=206 if wanted else 200
        )
        response["Content-Length"] = str(length)
        if wanted:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return _common(response, disposition, modified)


def _presigned_redirect(fieldfile, *, content_type: str, disposition: str) -> HttpResponse:
    """Object storage: send the (already checked) owner to a short-lived signed URL. The
    bucket answers with our Content-Type and Content-Disposition (an uploaded .html is
    still a download, never rendered on the bucket's origin), and serves Range itself."""
    url = fieldfile.storage.url(
        fieldfile.name,
        parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
        },
    )
    response = HttpResponseRedirect(url)
    # The URL expires (AWS_QUERYSTRING_EXPIRE): nobody may keep the redirect.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _common(response, disposition: str, modified) -> HttpResponse:
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    # Private: only the owner may see it, so no shared cache may keep it.
    response["Cache-Control"] = "private, max-age=3600"
    if modified is not None:
        response["Last-Modified"] = http_date(modified.timestamp())
    return response
