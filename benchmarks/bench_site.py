"""What the site benchmarks share: running under the bench's Python and connecting to a site."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def ensure_bench_python(bench: Path, *modules: str) -> None:
	"""Frappe (and `modules`) live in the bench's env: re-run the calling script there when started elsewhere."""
	try:
		for module in ("frappe", *modules):
			__import__(module)
	except ImportError:
		python = bench / "env" / "bin" / "python"
		if not python.exists():
			sys.exit(f"no bench env at {python}")
		os.execv(str(python), [str(python), sys.argv[0], *sys.argv[1:]])


def connect(bench: Path, site: str):
	"""Connect to `site`, working from the bench's sites folder as bench does (frappe logs to ../logs)."""
	import frappe

	os.chdir(bench / "sites")
	frappe.init(site=site, sites_path=".")
	frappe.connect()
	return frappe
