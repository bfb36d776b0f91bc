"""Media panel with 5,000 items: server time per page and SQL queries per page.

    python bench/media_panel.py [--items 5000] [--runs 30]

Uses a throw-away SQLite database in a temp dir (or BENCH_DATABASE_URL, e.g. a scratch
PostgreSQL database, which it migrates and fills). Times the Django test client's full
request (middleware, session, auth, selector, template) for: the first panel page, a
deep page (page 60 via the keyset cursor), a kind filter, a source filter, and a
search over title + prompt. Prints median and p95 ms and the query count per request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="cutroom-bench-")
    os.environ["DATABASE_URL"] = (
        os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ["MEDIA_ROOT"] = tmp
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from media_library import selectors
    from media_library.models import MediaItem

    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    user_model.objects.filter(username="bench-media").delete()
    user = user_model.objects.create_user("bench-media", password="x" * 20)  # noqa: S106
    other = user_model.objects.get_or_create(username="bench-other")[0]

    now = timezone.now()
    kinds, sources = ["video", "image", "audio"], ["upload", "generated", "export"]
    rows = []
    for i in range(args.items):
        source = sources[i % 3]
        rows.append(
            MediaItem(
                owner=user if i % 10 else other,  # other users' items must not cost anything
                kind=kinds[i % 3],
                title=f"take {i} {'sunset' if i % 7 == 0 else 'city'}.mp4",
                file=f"u{user.id}/f{i}.mp4",
                poster=f"u{user.id}/derived/p{i}.jpg",
                filmstrip=f"u{user.id}/derived/s{i}.jpg",
                filmstrip_frames=10,
                status="ready",
                source=source,
                duration_s=5 + i % 60,
                width=1920,
                height=1080,
                metadata={
                    "prompt": f"a neon street at night, shot {i}",
                    "model": "kling-2.1",
                    "cost_usd": 0.35,
                }
                if source == "generated"
                else {},
            )
        )
    t0 = time.perf_counter()
    made = MediaItem.objects.bulk_create(rows, batch_size=500)
    for i, item in enumerate(made):
        item.created_at = now - timedelta(seconds=args.items - i)
    MediaItem.objects.bulk_update(made, ["created_at"], batch_size=500)
    owned = MediaItem.objects.filter(owner=user).count()
    print(
        f"library: {owned} items for the user ({args.items} rows in all), made in {time.perf_counter() - t0:.1f} s; "
        f"database: {connection.vendor}"
    )

    # No setup_test_environment(): its template instrumentation would inflate the timings.
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    panel, grid = reverse("media_library:panel"), reverse("media_library:grid")
    cursor = None
    for _ in range(59):  # the cursor of page 60
        cursor = selectors.media_list(owner=user, cursor=cursor).next_cursor
    cases = [
        ("panel, first page", panel, {}),
        ("grid, page 60 (keyset cursor)", grid, {"cursor": cursor}),
        ("grid, kind=video", grid, {"kind": "video"}),
        ("grid, source=generated", grid, {"source": "generated"}),
        ("grid, search 'neon' (title+prompt)", grid, {"q": "neon"}),
        ("grid, search 'sunset' + kind=image", grid, {"q": "sunset", "kind": "image"}),
    ]
    print(f"{'request':40} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'cards':>6}")
    for label, url, params in cases:
        client.get(url, params)  # warm-up
        samples, queries, cards = [], set(), 0
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as captured:
                t = time.perf_counter()
                response = client.get(url, params)
                samples.append((time.perf_counter() - t) * 1000)
            queries.add(len(captured))
            cards = response.content.count(b'<article id="media-')
            assert response.status_code == 200
        samples.sort()
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        print(
            f"{label:40} {statistics.median(samples):10.1f} {p95:8.1f} {'/'.join(map(str, sorted(queries))):>8} {cards:6}"
        )
    print(
        "queries per request = session + user + 1 page query (constant: no COUNT, no OFFSET, no per-card query)"
    )
    if not os.environ.get("BENCH_DATABASE_URL"):
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
