"""Fixtures for the platform tests: the board and the PA on the real parts a Pi uses.

They need Debian packages that ./dev set-up installs (cage, xwayland, xvfb,
xdotool, grim, pulseaudio, pulseaudio-utils, libasound2-plugins...); where one
is missing the test skips and says which. Run them alone with
``./dev test -m platform``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from giliran.mqtt import MqttNode
from giliran.protocol import TechCommand, TechReply


class BoardProcess:
    """``giliran display`` in its own process, as systemd runs it, with its output in a log file."""

    def __init__(self, site_file: Path, display_id: str, voices: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log_file = log.open("w")
        self.node_id = f"display-{display_id}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "giliran", "display", "--site", str(site_file), "--id", display_id,
             "--voices", str(voices)],
            env={**os.environ, **env}, stdout=self._log_file, stderr=subprocess.STDOUT, cwd=log.parent)

    def snapshot(self, tech: MqttNode, path: Path) -> Path:
        """The board's own picture of what it drew (the technician's snapshot command)."""
        reply = tech.request(tech.topics.node_cmd(self.node_id), TechCommand(action="snapshot", path=str(path)),
                             TechReply, response_topic=tech.topics.node_reply(self.node_id))
        assert reply.ok, reply.message
        return path

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()


@pytest.fixture
def start_board(site_file: Path, voices_dir: Path, tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """``start_board(display_id, env)`` → a running BoardProcess, stopped after the test."""
    boards: list[BoardProcess] = []

    def start(display_id: str, env: dict[str, str]) -> BoardProcess:
        board = BoardProcess(site_file, display_id, voices_dir, env, tmp_path / f"{display_id}.log")
        boards.append(board)
        return board

    try:
        yield start
    finally:
        for board in boards:
            board.stop()
