#!/usr/bin/env python3
"""Writes the example specs' data files (NAME.data.json): deterministic, seeded data
ending at a fixed "now" (2025-11-24T16:00:00Z), so renders are reproducible."""
import json
import math
import random
from pathlib import Path

NOW = 1764000000000
HERE = Path(__file__).parent
random.seed(7)


def series(metric, tags, count, step_ms, value):
    points = [[NOW - (count - 1 - i) * step_ms, value(i)] for i in range(count)]
    return {"metric": metric, "tags": tags, "points": points}


def wobble(amplitude):
    return random.uniform(-amplitude, amplitude)


def write(name, *all_series):
    (HERE / f"{name}.data.json").write_text(json.dumps({"series": list(all_series)}, separators=(",", ":")))


write("reference", *[
    series("cpu", {"core": str(c)}, 600, 500,
           lambda i, c=c: round(max(0, min(100, 40 + 25 * math.sin(i / 40 + c) + wobble(6) + c * 5)), 2))
    for c in range(4)])

write("network",
      series("net_rx_bits", {"iface": "eth0"}, 360, 10_000, lambda i: round(4e8 + 3e8 * math.sin(i / 30) + wobble(5e7))),
      series("net_tx_bits", {"iface": "eth0"}, 360, 10_000, lambda i: round(1.5e8 + 1e8 * math.cos(i / 22) + wobble(3e7))))

write("memory", *[
    series("mem_bytes", {"kind": kind}, 240, 15_000, lambda i, base=base: round(base * (1 + 0.15 * math.sin(i / 25 + base / 1e9)) + wobble(base * 0.03)))
    for kind, base in [("used", 6.2e9), ("cached", 3.1e9), ("buffers", 0.9e9)]])


def temperature(i):
    if 120 <= i < 140:
        return None  # sensor offline: a gap
    return round(21 + 3 * math.sin(i / 50) + (i // 60) * 0.4 + wobble(0.2), 2)


write("temperature", series("temperature", {"room": "lab"}, 360, 10_000, temperature))

write("latency", *[
    series("http_latency_seconds", {"quantile": q}, 300, 1000,
           lambda i, base=base: round(base * math.exp(wobble(0.6)) * (8 if i % 97 == 0 else 1), 5))
    for q, base in [("0.5", 0.004), ("0.99", 0.09)]])

write("requests",
      series("requests_per_minute", {}, 60, 60_000, lambda i: round(800 + 400 * math.sin(i / 9) + wobble(120))),
      *[series("queue_depth", {"queue": q}, 30, 10_000, lambda i, b=b: round(b + wobble(b * 0.2)))
        for q, b in [("emails", 42), ("thumbnails", 130), ("reports", 7), ("webhooks", 88)]])

write("dashboard",
      series("cpu_total", {}, 300, 1000, lambda i: round(55 + 20 * math.sin(i / 30) + wobble(5), 1)),
      series("disk_used_ratio", {"mount": "/"}, 300, 1000, lambda i: round(0.83 + i * 0.0001, 4)),
      series("disk_used_ratio", {"mount": "/data"}, 300, 1000, lambda i: round(0.41 + i * 0.0002, 4)),
      *[series("service_rps", {"service": s}, 30, 10_000, lambda i, b=b: round(b + wobble(b * 0.1), 1))
        for s, b in [("api", 340), ("web", 210), ("auth", 95), ("search", 150)]])

write("chinese",
      series("温度", {"城市": "北京"}, 300, 1000, lambda i: round(12 + 4 * math.sin(i / 40) + wobble(0.3), 2)),
      series("温度", {"城市": "上海"}, 300, 1000, lambda i: round(17 + 3 * math.cos(i / 35) + wobble(0.3), 2)))
