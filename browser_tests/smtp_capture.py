"""A loopback SMTP server for the browser tests: every mail it receives is written to DIR as an .eml file.

	python smtp_capture.py PORT DIR      (run with the bench's Python, which has aiosmtpd)
"""

import pathlib
import signal
import sys
import time

from aiosmtpd.controller import Controller


class SaveToDirectory:
	def __init__(self, directory: pathlib.Path):
		self.directory = directory
		self.count = 0

	async def handle_DATA(self, server, session, envelope):
		self.count += 1
		(self.directory / f"{time.time_ns()}-{self.count}.eml").write_bytes(envelope.original_content or envelope.content)
		return "250 Message accepted"


def main():
	port, directory = int(sys.argv[1]), pathlib.Path(sys.argv[2])
	directory.mkdir(parents=True, exist_ok=True)
	controller = Controller(SaveToDirectory(directory), hostname="127.0.0.1", port=port)
	controller.start()
	print(f"SMTP capture on 127.0.0.1:{port} -> {directory}", flush=True)
	signal.sigwait({signal.SIGINT, signal.SIGTERM})
	controller.stop()


if __name__ == "__main__":
	main()
