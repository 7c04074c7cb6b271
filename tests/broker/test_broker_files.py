"""`giliran broker init` run again changes nothing, so an install or upgrade can always re-run it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from giliran.broker import head_office_acl, write_broker_files
from giliran.config import SiteConfig


def _tree(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode & 0o777)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_second_run_leaves_every_file_as_it_was(site: SiteConfig, tmp_path: Path) -> None:
    write_broker_files(site, tmp_path, log_dest="stderr", data_dir=tmp_path / "state")
    first = _tree(tmp_path)
    write_broker_files(site, tmp_path, log_dest="stderr", data_dir=tmp_path / "state")
    assert _tree(tmp_path) == first
    assert first["passwd"][1] == 0o600 and first["credentials/kiosk.toml"][1] == 0o600
    text = (tmp_path / "mosquitto.conf").read_text()
    assert f"persistence_location {(tmp_path / 'state').resolve()}/" in text and "log_dest stderr" in text
    assert "cafile" not in text and "connection " not in text


def test_a_changed_password_is_hashed_again_and_only_that_one(site: SiteConfig, tmp_path: Path) -> None:
    files = write_broker_files(site, tmp_path)
    before = dict(line.split(":", 1) for line in files.passwd.read_text().splitlines())
    cred = files.credentials_dir / "counter-3.toml"
    cred.write_text('username = "counter-3"\npassword = "a-new-password"\n')
    write_broker_files(site, tmp_path)
    after = dict(line.split(":", 1) for line in files.passwd.read_text().splitlines())
    assert [u for u in before if before[u] != after[u]] == ["counter-3"]
    assert after["counter-3"].startswith("$7$")


def test_a_hash_it_cannot_check_is_made_anew(site: SiteConfig, tmp_path: Path) -> None:
    files = write_broker_files(site, tmp_path)
    lines = files.passwd.read_text().splitlines()
    files.passwd.write_text("\n".join(["kiosk:$6$c2FsdA==$bm90LWEtaGFzaA==", *lines[1:]]) + "\n")
    write_broker_files(site, tmp_path)
    assert files.passwd.read_text().splitlines()[0].startswith("kiosk:$7$101$")
    assert files.passwd.read_text().splitlines()[1:] == lines[1:]


def test_head_office_acl_lets_the_bridge_write_its_own_site_only() -> None:
    assert head_office_acl("jpn-putrajaya", "site-jpn-putrajaya") == (
        "user site-jpn-putrajaya\n"
        "topic write giliran/jpn-putrajaya/event/#\n"
        "topic write giliran/jpn-putrajaya/status/#\n"
        "topic write giliran/jpn-putrajaya/board\n"
    )


def test_an_account_of_an_unknown_role_gets_no_topic(site: SiteConfig, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A role the ACL writer does not know (a typo, a role added elsewhere) must not fall into technician rights."""
    import giliran.broker as broker

    known = broker.accounts(site)
    monkeypatch.setattr(broker, "accounts", lambda _site: [*known, broker.Account("stranger", "board")])  # type: ignore[arg-type]
    blocks = {block.splitlines()[0]: block.splitlines()[1:] for block in broker.acl_text(site).split("\n\n")}
    assert blocks["user stranger"] == []
    assert any(line.startswith("topic write") for line in blocks["user technician"])
