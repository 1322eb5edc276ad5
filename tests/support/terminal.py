"""A terminal of our own for driving the review app as a person would: tmux runs the command, keys go in
with send-keys, and the screen is read with capture-pane."""

from __future__ import annotations

import os
import re
import subprocess
import time


class Terminal:
    """One tmux server of our own (-L), so a user's sessions are never touched."""

    def __init__(self, name: str, width: int, height: int) -> None:
        self.socket = f"layerdiff-test-{os.getpid()}-{name}"
        self.width, self.height = width, height

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        # Some library in a test process exports COLUMNS and LINES (80x24) with putenv; the app would
        # take them over the terminal's real size, so they are set to that size here.
        sized = {"COLUMNS": str(self.width), "LINES": str(self.height), **env}
        settings = [f"{key}={value}" for key, value in sized.items()]
        self.tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            str(self.width),
            "-y",
            str(self.height),
            *(part for setting in settings for part in ("-e", setting)),
            "sleep 600",
        )
        # Detached windows follow tmux's default size; fix ours, then start the app in it.
        self.tmux("set-option", "-g", "window-size", "manual")
        self.tmux("resize-window", "-x", str(self.width), "-y", str(self.height))
        self.launch(command)

    def launch(self, command: list[str]) -> None:
        """Replace what runs in the terminal with ``command``."""
        self.tmux("respawn-pane", "-k", " ".join(_quote(part) for part in command))

    def screen(self, escapes: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []))

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", key)
            time.sleep(0.15)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-l", text)

    def wait_for(self, text: str, timeout: float = 20) -> str:
        """The screen once ``text`` is on it and drawing has settled (two captures 0.3 s apart agree)."""
        deadline = time.monotonic() + timeout
        previous = ""
        while True:
            screen = self.screen()
            if text in screen and screen == previous:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen}")
            previous = screen
            time.sleep(0.3)

    def first_seen(self, pattern: str, timeout: float = 60) -> float:
        """Poll the screen every 20 ms until ``pattern`` (a regular expression) is on it; the time it
        first was, from time.perf_counter()."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never appeared; the screen shows:\n{self.screen()}")
            time.sleep(0.02)
        return time.perf_counter()

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


def _quote(part: str) -> str:
    return part if re.fullmatch(r"[\w./=:-]+", part) else "'" + part.replace("'", "'\\''") + "'"
