"""The 8.19 launcher's checks that need no node: Java, ports, Maven, unpacking, the run directory."""
import fnmatch
import os
import pwd
import socket
import zipfile

import pytest

from lrr_es.devcluster import es8
from lrr_es.errors import ClusterError


def test_a_java_older_than_21_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("LRR_ES8_JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64")
    monkeypatch.setattr(es8, "_java_major", lambda home: 17)
    with pytest.raises(ClusterError, match=r"needs Java 21\+ .*java-17-openjdk-amd64 \(Java 17\).*LRR_ES8_JAVA_HOME"):
        es8.find_java_home()


def test_the_newest_java_21_plus_is_chosen(monkeypatch):
    monkeypatch.delenv("LRR_ES8_JAVA_HOME", raising=False)
    homes = {"/usr/lib/jvm/temurin-25-jdk-amd64": 25, "/usr/lib/jvm/java-17-openjdk-amd64": 17}
    monkeypatch.setattr(es8.glob, "glob", lambda pattern: [h for h in homes if fnmatch.fnmatch(h, pattern)])
    monkeypatch.setattr(es8, "_java_major", lambda home: homes[str(home)])
    assert str(es8.find_java_home()) == "/usr/lib/jvm/temurin-25-jdk-amd64"


def test_a_port_in_use_is_named_before_anything_starts():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(ClusterError, match=f"port {port} on 127.0.0.1 is already in use"):
            es8.start(port=port)


def test_a_maven_failure_shows_its_tail(monkeypatch, tmp_path):
    monkeypatch.setenv("LRR_CACHE", str(tmp_path))
    fake = tmp_path / "mvn"
    fake.write_text("#!/bin/sh\necho '[ERROR] Could not resolve dependencies: network is unreachable'\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with pytest.raises(ClusterError, match=r"(?s)Maven could not fetch .*8.19.21 \(exit 1\):.*network is unreachable"):
        es8.resolve_home(echo=lambda _: None)


def test_unzip_keeps_the_executable_bit(tmp_path):
    archive = tmp_path / "d.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        info = zipfile.ZipInfo("home/bin/elasticsearch")
        info.external_attr = 0o100755 << 16
        zipped.writestr(info, "#!/bin/sh\n")
        zipped.writestr("home/config/jvm.options", "-Xss1m\n")
    es8._unzip(archive, tmp_path / "out")
    assert os.access(tmp_path / "out/home/bin/elasticsearch", os.X_OK)
    assert (tmp_path / "out/home/config/jvm.options").read_text() == "-Xss1m\n"


def test_the_run_dir_links_the_home_and_writes_the_node_config(tmp_path, monkeypatch):
    home = tmp_path / "es-home"
    (home / "bin").mkdir(parents=True)
    (home / "config").mkdir()
    (home / "bin" / "elasticsearch").write_text("#!/bin/sh\n")
    (home / "config" / "jvm.options").write_text("-Xss1m\n")
    monkeypatch.setenv("LRR_ES8_RUN_ROOT", str(tmp_path))
    me = pwd.getpwuid(os.geteuid())
    run = es8.prepare_run_dir(home, 9420, 9421, me)
    assert (run / "home/bin/elasticsearch").stat().st_ino == (home / "bin/elasticsearch").stat().st_ino  # linked
    config = (run / "config/elasticsearch.yml").read_text().splitlines()
    for line in ('discovery.type: "single-node"', 'network.host: "127.0.0.1"', "http.port: 9420", "transport.port: 9421",
                 "xpack.security.enabled: false", f'path.data: "{run / "data"}"'):
        assert line in config
    assert (run / "config/jvm.options").exists() and all((run / d).is_dir() for d in ("data", "logs", "tmp"))
