"""The first-run checklist: Generate a clip → drag it to the timeline → export.

An app of its own because its steps read all three apps (generation, editor,
media_library): it sits above them in the dependency graph, and none of them knows it."""
