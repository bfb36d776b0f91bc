"""Timeline export: a plain-data spec of the timeline (spec.py), a pure function that turns
it into one ffmpeg command line with one filter graph (graph.py), and a runner that
executes ffmpeg with progress, cancel and a stall watchdog (runner.py)."""
