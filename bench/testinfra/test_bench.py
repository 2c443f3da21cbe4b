"""The benchmark suite for pytest-testinfra (ci/bench.sh): the same 10 checks per bench
host as bench/shakedown/bench.feature and bench/loop.sh. Hosts come from --hosts."""

import urllib.request


def test_service_running(host):
    # The lab has no systemd as PID 1: testinfra's service module would ask
    # `systemctl is-active`, which cannot answer there; ask the init script, as shakedown does.
    assert host.run("/etc/init.d/nginx status").rc == 0


def test_service_enabled(host):
    assert host.service("nginx").is_enabled


def test_package_installed(host):
    assert host.package("nginx").is_installed


def test_file_exists(host):
    assert host.file("/etc/app.conf").exists


def test_file_contains(host):
    assert host.file("/etc/app.conf").contains("max_conn = 100")


def test_mount(host):
    assert host.mount_point("/mnt/data").exists


def test_port_listening(host):
    assert host.socket("tcp://0.0.0.0:80").is_listening


def test_process_running(host):
    assert len(host.process.filter(comm="cron")) >= 1


def test_command_output(host):
    assert "Linux" in host.check_output("uname -s")


def test_http_status(host):
    address = host.backend.hostname
    with urllib.request.urlopen(f"http://{address}/", timeout=10) as r:
        assert r.status == 200
