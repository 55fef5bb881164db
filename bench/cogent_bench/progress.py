"""A progress bar on a terminal; one line per step elsewhere (CI logs)."""

import sys
import time


class Progress:
    def __init__(self, total, title):
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.width = 30
        print(f"{title}: {total} runs", file=sys.stderr, flush=True)

    def _eta(self):
        if self.done == 0:
            return "--:--"
        left = (time.monotonic() - self.started) / self.done * (self.total - self.done)
        return f"{int(left) // 60:02d}:{int(left) % 60:02d}"

    def step(self, what):
        """Shows `what` as the run now starting."""
        if self.tty:
            filled = self.width * self.done // max(1, self.total)
            bar = "█" * filled + "░" * (self.width - filled)
            line = f"\r[{bar}] {self.done}/{self.total} ETA {self._eta()}  {what}"
            sys.stderr.write(line[:160].ljust(160))
            sys.stderr.flush()

    def finish_step(self, outcome):
        self.done += 1
        if not self.tty:
            print(f"[{self.done}/{self.total}] {outcome}", file=sys.stderr, flush=True)

    def say(self, message):
        """A message that must stay on screen (a failure), above the bar."""
        if self.tty:
            sys.stderr.write("\r" + " " * 160 + "\r")
        print(message, file=sys.stderr, flush=True)

    def close(self):
        if self.tty:
            sys.stderr.write("\r" + " " * 160 + "\r")
        elapsed = time.monotonic() - self.started
        print(f"  done: {self.done} runs in {int(elapsed) // 60} min {int(elapsed) % 60} s",
              file=sys.stderr, flush=True)
