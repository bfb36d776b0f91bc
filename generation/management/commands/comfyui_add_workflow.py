"""Install an operator's ComfyUI workflow after checking it against the servers.

    python manage.py comfyui_add_workflow wan22_t2v my_wan.json my_wan.map.json

The graph must be API format (ComfyUI's "Export (API)") and the mapping must say where
the prompt (and the other values) go; every server in COMFYUI_URLS (or --server) is asked
for its /object_info, and the workflow is refused, naming what is missing, unless at least
one server has every node and model file. Installed into COMFYUI_WORKFLOWS_DIR, where a
workflow replaces the shipped one of the same name. A new name whose mapping has a
`catalog` block (display name, kind t2v/i2v, durations, resolutions: see
generation/catalog/comfyui_entries.py) becomes a model the composer offers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from generation.catalog.comfyui_entries import (
    SHIPPED_WORKFLOWS,
    catalog_block_problems,
    operator_entry_id,
)
from generation.providers import comfyui_workflow as workflows
from generation.providers.base import ProviderError
from generation.providers.comfyui import ComfyUIProvider, server_urls


class Command(BaseCommand):
    help = "Validate a ComfyUI API-format workflow against /object_info and install it."

    def add_arguments(self, parser):
        parser.add_argument("name", help="workflow name (a catalog entry's endpoint)")
        parser.add_argument("graph", type=Path, help="API-format workflow JSON")
        parser.add_argument("mapping", type=Path, help="mapping JSON (see comfyui_workflow.py)")
        parser.add_argument("--server", action="append", help="check these servers only")

    def handle(self, *args, name, graph, mapping, server=None, **options):
        if not settings.COMFYUI_WORKFLOWS_DIR:
            raise CommandError("Set COMFYUI_WORKFLOWS_DIR to the folder for your workflows.")
        try:
            mapping_data = json.loads(mapping.read_text())
            workflow = workflows.from_data(name, json.loads(graph.read_text()), mapping_data)
        except (OSError, ValueError) as exc:  # WorkflowError is a ValueError
            raise CommandError(str(exc)) from None
        problems = catalog_block_problems(name, mapping_data)
        if problems:
            raise CommandError(f"workflow {name!r}: " + "; ".join(problems))
        servers = server or server_urls()
        if not servers:
            raise CommandError("No ComfyUI server to check against: set COMFYUI_URLS.")
        provider = ComfyUIProvider()
        skip = frozenset(workflow.places.get("start_image", ()))
        fit = []
        for url in servers:
            try:
                info = provider.object_info(url.rstrip("/"), fresh=True)
            except ProviderError as exc:
                self.stdout.write(f"{url}: not answering ({exc.detail[:200]})")
                continue
            problems = workflows.problems_against(workflow.graph, info, skip=skip)
            if problems:
                self.stdout.write(f"{url}: " + "; ".join(problems))
            else:
                self.stdout.write(f"{url}: has every node and model file")
                fit.append(url)
        if not fit:
            raise CommandError(f"No server can run {name}; nothing was installed.")
        folder = Path(settings.COMFYUI_WORKFLOWS_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(graph, folder / f"{name}.json")
        stored = {**mapping_data, "workflow": f"{name}.json"}
        (folder / f"{name}.map.json").write_text(json.dumps(stored, indent=2) + "\n")
        self.stdout.write(f"Installed {name} in {folder} (runs on {len(fit)} server(s)).")
        if "catalog" in mapping_data:
            entry = operator_entry_id(name)
            self.stdout.write(f"Offered as {mapping_data['catalog']['name']!r} ({entry}).")
        elif name not in SHIPPED_WORKFLOWS:
            self.stdout.write(
                "Not offered in the composer: add a 'catalog' block to the mapping to offer it."
            )
