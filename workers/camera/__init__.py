"""Camera analytics worker: classical OpenCV analysis of the Phu Quoc camera sub-streams (no downloaded models).

Modules: config (typed camera config), source/capture (frame sources, child-process capture), motion/track
(foreground and tracking), rules/events (rule logic and event life cycle), static/tamper/signal (special
detectors), evidence (files + SHA-256), pipeline (one camera), worker/shard (run loop, process split),
synthetic/scenes/groundtruth (scripted scenes), scoring/harness (accuracy), replay (CLI).
"""
