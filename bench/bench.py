#!/usr/bin/env python3
"""The gateway and OpenSSH's sshd (internal-sftp in a chroot), side by side on loopback.

Both servers run from files under one work directory (their own config, port and host keys);
the same clients (OpenSSH sftp, lftp) run the same workloads against each, alternating the
servers in every round. Every transfer is checked by sha256. Results: medians per workload and
server, and the ratio gateway/OpenSSH, in results.json and results.md.

  bench/run               the full benchmark (about 15 minutes here)
  bench/run --smoke       seconds: every workload tiny, one round (CI runs this)

Only the gateway's jar must exist (./mvnw -B package -DskipTests). Password logins to sshd need a
system account: as root the script creates a temporary one (sftpbench, removed at the end);
--no-account skips password logins to both servers instead.
"""
import argparse
import atexit
import hashlib
import json
import os
import platform
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JAR = Path(os.environ.get("BENCH_JAR") or ROOT / "gateway/target/quarkus-app/quarkus-run.jar")
USER = "sftpbench"
# Both servers run under bench/reaper.py, so that the CPU of every process they start is counted.
REAPER = [sys.executable, str(Path(__file__).resolve().parent / "reaper.py")]
PASSWORD = "bench-password-8c1f0e"
CIPHERS = {
    "default": [],
    "aes128-gcm": ["-c", "aes128-gcm@openssh.com"],
    "aes128-ctr+etm": ["-c", "aes128-ctr", "-o", "MACs=hmac-sha2-256-etm@openssh.com"],
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def sha256_tree(d):
    h = hashlib.sha256()
    for p in sorted(Path(d).rglob("*")):
        if p.is_file():
            h.update(p.relative_to(d).as_posix().encode())
            h.update(sha256_file(p).encode())
    return h.hexdigest()


def wait_port(port, proc, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}")


def proc_cpu_seconds(pid, children=False):
    """utime+stime (and reaped children's) of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def descendants(pid):
    out = []
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for k in kids:
        out.append(int(k))
        out.extend(descendants(int(k)))
    return out


class Server:
    name = ""
    user = USER

    def pids(self):
        """The server's processes (not the reaper)."""
        return descendants(self.proc.pid)

    def cpu(self):
        """CPU seconds of the server: itself, its reaped children (sshd's per-session processes)
        and its live descendants."""
        total = proc_cpu_seconds(self.proc.pid, children=True)  # the reaper: all exited descendants
        for pid in descendants(self.proc.pid):
            try:
                total += proc_cpu_seconds(pid)
            except OSError:
                pass
        return total

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class OpenSsh(Server):
    name = "openssh"

    def __init__(self, work, user, pubkey):
        d = work / "openssh"
        (d / "keys").mkdir(parents=True)
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "keys/ssh_host_ed25519_key")])
        # The chroot must be owned by root and not writable by others; the user writes below it.
        self.chroot = d / "chroot"
        self.chroot.mkdir(mode=0o755)
        os.chmod(d, 0o755)
        os.chmod(work, 0o755)
        self.data = self.chroot / "data"
        self.data.mkdir()
        pw = pwd.getpwnam(user)
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        (d / "authorized_keys").write_text(pubkey)
        os.chmod(d / "authorized_keys", 0o644)
        self.port = free_port()
        cfg = d / "sshd_config"
        cfg.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {d}/keys/ssh_host_ed25519_key",
            f"PidFile {d}/sshd.pid", f"AuthorizedKeysFile {d}/authorized_keys", "StrictModes no",
            "UsePAM no", "PasswordAuthentication yes", "KbdInteractiveAuthentication no", "PermitRootLogin yes",
            "MaxStartups 256", "MaxSessions 256", "MaxAuthTries 6", "LogLevel ERROR", "UseDNS no",
            "Subsystem sftp internal-sftp", f"Match User {user}", f"  ChrootDirectory {self.chroot}",
            "  ForceCommand internal-sftp -d /data", "  AllowTcpForwarding no", "  X11Forwarding no", ""]))
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory sshd insists on
        self.proc = subprocess.Popen(REAPER + [sshd, "-D", "-e", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=open(d / "sshd.log", "w"))
        wait_port(self.port, self.proc)
        self.user = user

    def server_path(self, remote):
        return self.data / remote


class Gateway(Server):
    name = "gateway"

    def __init__(self, work, java, pubkey, password_hash, jvm_opts, quota=False):
        d = work / "gateway"
        (d / "config").mkdir(parents=True)
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "config/ssh_host_ed25519_key")])
        self.port = free_port()
        self.data = d / "data"
        user = {"name": USER, "authorizedKeys": [pubkey.strip()], "home": USER}
        if password_hash:
            user["passwordHash"] = password_hash
        if quota:
            # a quota that never binds: every write is counted (fs/QuotaChannel), as for a tenant with one
            user["limits"] = {"quotaBytes": 1 << 40, "quotaFiles": 10_000_000}
        (d / "config/gateway.json").write_text(json.dumps({
            "apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "GatewayConfig",
            "server": {"listenAddress": "127.0.0.1", "port": self.port, "hostKeys": ["ssh_host_ed25519_key"],
                       "dataRoot": str(self.data), "maxSessions": 2000, "maxSessionsPerUser": 2000,
                       # the idle workload holds up to 1,000 sessions from 127.0.0.1
                       "maxSessionsPerAddress": 2000,
                       # as sshd's MaxStartups 256 above: the bench opens 64 sessions at once from 127.0.0.1
                       "maxStartups": "256", "maxStartupsPerAddress": 256,
                       # the flood workload guesses from 127.0.0.1: every guess must be checked,
                       # as by sshd (which has no defender), not refused by a ban
                       "defender": {"allowCidrs": ["127.0.0.0/8"]}},
            "users": [user]}, indent=1))
        self.log = open(d / "gateway.log", "w")
        # As the image's entrypoint (gateway/pom.xml, profile images): the JDK's Poly1305 opened.
        cmd = [java, "--add-opens", "java.base/com.sun.crypto.provider=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.fs=ALL-UNNAMED"] + jvm_opts + [
            f"-Dgateway.config-dir={d / 'config'}", "-Dquarkus.management.port=0", "-jar", str(JAR)]
        self.proc = subprocess.Popen(REAPER + cmd, stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)
        # The home is made at the first login; make it now so both servers start equal.
        (self.data / USER).mkdir(parents=True, exist_ok=True)

    def server_path(self, remote):
        return self.data / USER / remote


class Clients:
    def __init__(self, work, key):
        self.work = work
        self.key = key
        self.askpass = work / "askpass"
        self.askpass.write_text(f"#!/bin/sh\necho '{PASSWORD}'\n")
        self.askpass.chmod(0o700)

    def ssh_opts(self, server, cipher=(), password=False):
        opts = ["-F", "/dev/null", "-P", str(server.port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "GlobalKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "IdentityAgent=none"]
        if password:
            opts += ["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password", "-o", "NumberOfPasswordPrompts=1"]
        else:
            opts += ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", str(self.key), "-o", "PasswordAuthentication=no"]
        return opts + list(cipher)

    def sftp(self, server, batch, cipher=(), password=False, check=True):
        # -b implies BatchMode (no password prompt): password sessions read commands from stdin.
        cmd = ["sftp"] + self.ssh_opts(server, cipher, password) + ([] if password else ["-b", "-"]) + [f"{server.user}@127.0.0.1"]
        env = dict(os.environ)
        if password:
            env.update(SSH_ASKPASS=str(self.askpass), SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
        p = subprocess.run(cmd, input=batch.encode(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=password)
        if check and p.returncode != 0:
            raise RuntimeError(f"sftp to {server.name} failed ({p.returncode}): {p.stderr.decode()[-500:]}")
        return p.returncode

    def lftp(self, server, script):
        connect = " ".join(["ssh", "-a", "-x"] + [o for o in self.ssh_opts(server) if o != "-P" and o != str(server.port)] + ["-p", str(server.port)])
        cmd = ["lftp", "-c", f"set sftp:connect-program \"{connect}\"; set net:max-retries 1; "
               f"open -u {server.user}, sftp://127.0.0.1:{server.port}; {script}"]
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError(f"lftp to {server.name} failed: {p.stderr.decode()[-500:]}")


def guess_flood(server, stop, counter):
    """Password guesses, one connection after another, until stopped."""
    import logging
    import paramiko
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    while not stop.is_set():
        t = None
        try:
            t = paramiko.Transport(("127.0.0.1", server.port))
            t.start_client(timeout=20)
            for i in range(10):
                if stop.is_set():
                    break
                try:
                    t.auth_password(server.user, f"wrong-{i}")
                except paramiko.AuthenticationException:
                    counter[0] += 1
        except Exception:
            time.sleep(0.05)
        finally:
            if t is not None:
                t.close()


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def clean(server, remote):
    p = server.server_path(remote)
    if p.is_dir():
        shutil.rmtree(p)
    elif p.exists():
        p.unlink()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one round (seconds)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--small-files", type=int, default=2000)
    ap.add_argument("--concurrent-mib", type=int, default=64)
    ap.add_argument("--sessions", default="16,64")
    ap.add_argument("--logins", type=int, default=200)
    ap.add_argument("--ciphers", default=",".join(CIPHERS))
    ap.add_argument("--java", default=os.environ.get("BENCH_JAVA") or next((str(p) for p in sorted(Path("/usr/lib/jvm").glob("*25*/bin/java"))), "java"))
    # What a pod gets: the image's JAVA_TOOL_OPTIONS (gateway/pom.xml, profile images) and the
    # heap floor the operator renders when the gateway has no memory limit (GatewayRender.jvmMemoryOptions).
    ap.add_argument("--jvm-opts", default=os.environ.get("BENCH_JVM_OPTS", "-XX:MaxRAMPercentage=75 -Xms512m"))
    ap.add_argument("--quota", action="store_true", help="the gateway's user has a (never binding) quota: every write is counted")
    ap.add_argument("--no-account", action="store_true", help="no temporary system account: no password logins")
    ap.add_argument("--out", default=str(ROOT / "bench/out"))
    ap.add_argument("--workloads", default="bulk,lftp,small,concurrent,logins,flood,idle", help="comma-separated subset")
    ap.add_argument("--idle-sessions", type=int, default=1000, help="SFTP sessions the idle workload holds open")
    ap.add_argument("--flood-threads", type=int, default=4, help="connections guessing passwords at once in the flood workload")
    ap.add_argument("--warm-passes", type=int, default=4, help="unmeasured many-small-files passes per server before the rounds")
    ap.add_argument("--storage", choices=("tmpfs", "disk"), default="tmpfs",
                    help="where both servers (and the clients' files) live: a tmpfs mounted for the run (default; "
                         "falls back to disk when mounting is not allowed) or the disk under --out")
    a = ap.parse_args()
    if a.smoke:
        a.rounds, a.big_mib, a.small_files, a.concurrent_mib, a.sessions, a.logins = 1, 8, 20, 2, "2", 5
        a.idle_sessions = 10
        a.ciphers = "default"
        a.warm_passes = 1
    if not JAR.exists():
        raise SystemExit(f"{JAR} is missing: run ./mvnw -B package -DskipTests first")

    # sshd's ChrootDirectory wants every component of its path owned by root and writable by
    # nobody else, which /tmp (mode 1777) is not: the work directory lives under --out.
    # When --out is not such a place (a clone under /tmp), the servers work under /var/lib.
    def chroot_safe(p):
        return all(q.stat().st_uid == 0 and not q.stat().st_mode & 0o022 for q in [p] + list(p.parents))
    out_dir = Path(a.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir if chroot_safe(out_dir) else Path("/var/lib")
    work = Path(tempfile.mkdtemp(prefix="sftp-bench-", dir=base)).resolve()
    # On a tmpfs the figures are the servers' and the clients' own: on this kind of VM the disk
    # is shared and throttled, and writeback stalls hit whichever server runs at that moment.
    storage = "disk"
    if a.storage == "tmpfs":
        size = max(2 * a.big_mib + 2 * max(int(x) for x in a.sessions.split(",")) * a.concurrent_mib, 512) + 1024
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}m,mode=0755", "sftp-bench", str(work)],
                          stderr=subprocess.DEVNULL).returncode == 0:
            storage = "tmpfs"
        else:
            print("could not mount a tmpfs: the servers work on the disk", flush=True)
    os.chmod(work, 0o755)
    if not chroot_safe(work):
        raise SystemExit(f"{work}: every component must be owned by root and not group/other-writable for sshd's chroot")
    servers = []
    created_account = False

    def cleanup():
        for s in servers:
            s.stop()
        if created_account:
            subprocess.run(["userdel", USER], stderr=subprocess.DEVNULL)
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {work}")
        else:
            if storage == "tmpfs":
                # sshd's last session processes may still be leaving: detach now, freed when they are gone.
                subprocess.run(["umount", "-l", str(work)])
            shutil.rmtree(work, ignore_errors=True)
    atexit.register(cleanup)
    # A SIGTERM (kill, a CI timeout) ends the run through the same clean-up: servers stopped,
    # the account removed, the tmpfs unmounted (Python runs atexit handlers only on exit).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    # The login account sshd needs (the gateway has its own users).
    login_user = USER
    password_logins = not a.no_account
    if a.no_account or os.geteuid() != 0:
        login_user = pwd.getpwuid(os.geteuid()).pw_name
        password_logins = False
    else:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            sh(["useradd", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", USER])
            created_account = True
        sh(["chpasswd"], input=f"{USER}:{PASSWORD}\n".encode())
        # sshd refuses a locked account even for keys; chpasswd unlocked it.

    key = work / "id_ed25519"
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    pub = (work / "id_ed25519.pub").read_text()
    phash = None
    if password_logins:
        from argon2 import PasswordHasher  # python3-argon2; the gateway's default parameters
        phash = PasswordHasher(time_cost=5, memory_cost=7168, parallelism=1).hash(PASSWORD)

    gw = Gateway(work, a.java, pub, phash, a.jvm_opts.split(), quota=a.quota)
    servers.append(gw)  # stopped at exit even when sshd fails to start
    gw.user = USER
    ossh = OpenSsh(work, login_user, pub)
    servers.append(ossh)
    for s in servers:
        if s.name == "openssh":
            s.user = login_user
    c = Clients(work, key)
    c.sftp(gw, "pwd\n")
    c.sftp(ossh, "pwd\n")
    time.sleep(1)
    idle_rss = {"gateway": rss_kib(gw.pids()), "openssh": rss_kib(ossh.pids())}

    src = work / "src"
    src.mkdir()
    big = src / "big.bin"
    with open(big, "wb") as f:
        for _ in range(a.big_mib):
            f.write(os.urandom(1 << 20))
    big_sha = sha256_file(big)
    small = src / "small"
    small.mkdir()
    for i in range(a.small_files):
        (small / f"f{i:05d}.dat").write_bytes(os.urandom(4096))
    small_sha = sha256_tree(small)
    chunk = src / "chunk.bin"
    with open(chunk, "wb") as f:
        for _ in range(a.concurrent_mib):
            f.write(os.urandom(1 << 20))
    chunk_sha = sha256_file(chunk)
    dl = work / "dl"

    results = {}  # workload -> server -> list of samples
    extra = {}    # workload -> server -> list of cpu seconds

    def record(workload, server, value, cpu=None):
        results.setdefault(workload, {}).setdefault(server.name, []).append(value)
        if cpu is not None:
            extra.setdefault(workload, {}).setdefault(server.name, []).append(cpu)
        print(f"  {workload}: {server.name} {value:.1f}" + (f" (CPU {cpu:.2f} s/GiB)" if cpu is not None else ""), flush=True)

    def with_cpu(server, fn):
        base = len(descendants(server.proc.pid))
        c0 = server.cpu()
        t = timed(fn)
        # Let sshd reap its session processes, so that their CPU is counted.
        deadline = time.time() + 10
        while len(descendants(server.proc.pid)) > base and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        return t, server.cpu() - c0

    def check(ok, what):
        if not ok:
            raise SystemExit(f"sha256 mismatch: {what}")

    # Warm-up, not measured: a server runs for days, so its JIT-compiled steady state is what
    # counts; every kind of request the rounds make is made here first, on both servers
    # (OpenSSH gets the same transfers, which warm its page cache alike). On a fresh JVM the
    # gateway's many-small-files rates are about half of these (docs/benchmarks.md).
    wl = set(a.workloads.split(","))
    for s in (gw, ossh):
        for cipher in (a.ciphers.split(",") if wl & {"bulk", "concurrent"} else []):
            c.sftp(s, f"put {big} warm.bin\nget warm.bin {work}/warm.bin\nrm warm.bin\n", CIPHERS[cipher])
        if "lftp" in wl:
            c.lftp(s, f"put {big} -o warm.bin; get warm.bin -o {work}/warm.bin; rm warm.bin")
        for _ in range(a.warm_passes if "small" in wl else 0):
            shutil.rmtree(work / "warm", ignore_errors=True)
            c.sftp(s, f"put -r {small} warm\nget -r warm {work}/warm\n")
            clean(s, "warm")
        for _ in range(min(20, a.logins) if "logins" in wl else 0):
            c.sftp(s, "bye\n")
            if password_logins:
                c.sftp(s, "bye\n", password=True)
    (work / "warm.bin").unlink(missing_ok=True)
    shutil.rmtree(work / "warm", ignore_errors=True)

    peak_rss = {}
    for rnd in range(a.rounds):
        order = [gw, ossh] if rnd % 2 == 0 else [ossh, gw]
        print(f"round {rnd + 1}/{a.rounds}: " + " then ".join(s.name for s in order), flush=True)
        for cipher in (a.ciphers.split(",") if "bulk" in wl else []):
            copt = CIPHERS[cipher]
            for s in order:
                clean(s, "big.bin")
                t, cpu = with_cpu(s, lambda: c.sftp(s, f"put {big} big.bin\n", copt))
                check(sha256_file(s.server_path("big.bin")) == big_sha, f"upload to {s.name}")
                record(f"1 file {a.big_mib} MiB up, sftp, {cipher}", s, a.big_mib / t, cpu / (a.big_mib / 1024))
                if dl.exists():
                    shutil.rmtree(dl)
                dl.mkdir()
                t, cpu = with_cpu(s, lambda: c.sftp(s, f"get big.bin {dl}/big.bin\n", copt))
                check(sha256_file(dl / "big.bin") == big_sha, f"download from {s.name}")
                record(f"1 file {a.big_mib} MiB down, sftp, {cipher}", s, a.big_mib / t, cpu / (a.big_mib / 1024))
                clean(s, "big.bin")  # keep the files' footprint small (they may be in RAM)
                shutil.rmtree(dl)
        for s in (order if "lftp" in wl else []):
            # lftp: its own SFTP implementation (deep pipelining) over the ssh transport.
            clean(s, "big-lftp.bin")
            t = timed(lambda: c.lftp(s, f"put {big} -o big-lftp.bin"))
            check(sha256_file(s.server_path("big-lftp.bin")) == big_sha, f"lftp upload to {s.name}")
            record(f"1 file {a.big_mib} MiB up, lftp, default", s, a.big_mib / t)
            shutil.rmtree(dl, ignore_errors=True)
            dl.mkdir()
            t = timed(lambda: c.lftp(s, f"get big-lftp.bin -o {dl}/big.bin"))
            check(sha256_file(dl / "big.bin") == big_sha, f"lftp download from {s.name}")
            record(f"1 file {a.big_mib} MiB down, lftp, default", s, a.big_mib / t)
            clean(s, "big-lftp.bin")
        for s in (order if "small" in wl else []):
            clean(s, "small")
            t = timed(lambda: c.sftp(s, f"put -r {small} small\n"))
            check(sha256_tree(s.server_path("small")) == small_sha, f"small files to {s.name}")
            record(f"{a.small_files} files of 4 KiB up, sftp", s, a.small_files / t)
            shutil.rmtree(dl, ignore_errors=True)
            dl.mkdir()
            t = timed(lambda: c.sftp(s, f"get -r small {dl}/small\n"))
            check(sha256_tree(dl / "small") == small_sha, f"small files from {s.name}")
            record(f"{a.small_files} files of 4 KiB down, sftp", s, a.small_files / t)
        for n in ([int(x) for x in a.sessions.split(",")] if "concurrent" in wl else []):
            for s in order:
                for i in range(n):
                    clean(s, f"c{i}.bin")
                peak = [0]
                stop = threading.Event()

                def sample():
                    while not stop.is_set():
                        peak[0] = max(peak[0], rss_kib(s.pids()))
                        time.sleep(0.2)
                th = threading.Thread(target=sample, daemon=True)
                th.start()

                def run_all(batch_of):
                    procs = [subprocess.Popen(["sftp"] + c.ssh_opts(s) + ["-b", "-", f"{s.user}@127.0.0.1"], stdin=subprocess.PIPE,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i in range(n)]
                    for i, p in enumerate(procs):
                        p.stdin.write(batch_of(i).encode())
                        p.stdin.close()
                    for p in procs:
                        if p.wait() != 0:
                            raise RuntimeError(f"concurrent sftp to {s.name} failed: {p.stderr.read().decode()[-300:]}")
                t, cpu = with_cpu(s, lambda: run_all(lambda i: f"put {chunk} c{i}.bin\n"))
                record(f"{n} sessions x {a.concurrent_mib} MiB up, sftp", s, n * a.concurrent_mib / t, cpu / (n * a.concurrent_mib / 1024))
                for i in range(n):
                    check(sha256_file(s.server_path(f"c{i}.bin")) == chunk_sha, f"concurrent upload {i} to {s.name}")
                shutil.rmtree(dl, ignore_errors=True)
                dl.mkdir()
                t, cpu = with_cpu(s, lambda: run_all(lambda i: f"get c{i}.bin {dl}/c{i}.bin\n"))
                record(f"{n} sessions x {a.concurrent_mib} MiB down, sftp", s, n * a.concurrent_mib / t, cpu / (n * a.concurrent_mib / 1024))
                for i in range(n):
                    check(sha256_file(dl / f"c{i}.bin") == chunk_sha, f"concurrent download {i} from {s.name}")
                stop.set()
                th.join()
                peak_rss.setdefault(f"{n} sessions", {}).setdefault(s.name, []).append(peak[0])
                for i in range(n):
                    clean(s, f"c{i}.bin")
                shutil.rmtree(dl)
        if "flood" in wl and password_logins:
            # A download, then the same download while connections guess passwords as fast as
            # they can (each guess a full password check on the server: argon2id on the gateway,
            # crypt on sshd). The ratio flood/quiet is each server's own; established transfers
            # should not slow down (issue 17: the gateway checks passwords on a small pool of its
            # own, not on the threads that carry the sessions' traffic).
            for s in order:
                clean(s, "flood.bin")
                c.sftp(s, f"put {big} flood.bin\n")
                for label, flood in (("quiet", False), ("flood", True)):
                    shutil.rmtree(dl, ignore_errors=True)
                    dl.mkdir()
                    stop = threading.Event()
                    guesses = [0]
                    threads = [threading.Thread(target=guess_flood, args=(s, stop, guesses), daemon=True)
                               for _ in range(a.flood_threads if flood else 0)]
                    for th in threads:
                        th.start()
                    if flood:
                        time.sleep(1)  # the flood under way before the download starts
                    g0 = guesses[0]
                    t = timed(lambda: c.sftp(s, f"get flood.bin {dl}/flood.bin\n"))
                    made = guesses[0] - g0
                    stop.set()
                    for th in threads:
                        th.join(30)
                    check(sha256_file(dl / "flood.bin") == big_sha, f"download from {s.name} ({label})")
                    record(f"1 file {a.big_mib} MiB down, sftp, {label}", s, a.big_mib / t)
                    if flood:
                        results.setdefault("guesses/s during the flood", {}).setdefault(s.name, []).append(made / t)
                clean(s, "flood.bin")
                shutil.rmtree(dl, ignore_errors=True)
        kinds = ([("key", False)] + ([("password", True)] if password_logins else [])) if "logins" in wl else []
        per_round = max(1, a.logins // a.rounds)
        for kind, password in kinds:
            for s in order:
                for _ in range(per_round):
                    t = timed(lambda: c.sftp(s, "bye\n", password=password))
                    results.setdefault(f"login ({kind}), ms", {}).setdefault(s.name, []).append(t * 1000)

    if "idle" in wl:
        # Many sessions that log in, open their SFTP channel and do nothing (what a fleet of
        # polling clients looks like between polls): each server's RSS with all of them open.
        for s in order:
            holder = subprocess.Popen(["/usr/bin/python3", "-c", IDLE_HOLDER, str(s.port), s_user(s), str(key), str(a.idle_sessions)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = holder.stdout.readline().strip()
            if line != f"open {a.idle_sessions}":
                holder.kill()
                raise RuntimeError(f"idle sessions to {s.name}: {line} {holder.stderr.read()[-500:]}")
            time.sleep(2)
            peak_rss.setdefault(f"{a.idle_sessions} idle SFTP sessions", {}).setdefault(s.name, []).append(rss_kib(s.pids()))
            holder.stdin.close()
            holder.wait(120)

    # Summary.
    rows = []
    for w, by in results.items():
        if w.startswith("login"):
            for q, label in ((50, "p50"), (99, "p99")):
                vals = {k: percentile(v, q) for k, v in by.items()}
                rows.append(row(f"{w.replace(', ms', '')} {label}, ms", vals, lower_is_better=True, n=len(by.get("gateway", []))))
            continue
        if w.startswith("guesses/s"):
            rows.append(row(w, {k: statistics.median(v) for k, v in by.items()}, lower_is_better=False, n=len(by.get("gateway", []))))
            continue
        unit = "files/s" if "4 KiB" in w else "MiB/s"
        vals = {k: statistics.median(v) for k, v in by.items()}
        r = row(f"{w}, {unit}", vals, lower_is_better=False, n=len(by.get("gateway", [])))
        r["all"] = {k: [round(x, 1) for x in v] for k, v in by.items()}
        if w in extra:
            r["cpu_s_per_gib"] = {k: round(statistics.median(v), 2) for k, v in extra[w].items()}
            g, o = r["cpu_s_per_gib"].get("gateway"), r["cpu_s_per_gib"].get("openssh")
            r["cpu_ratio"] = round(g / o, 2) if g and o else None
        rows.append(r)
    rows.append(row("server RSS idle, MiB", {k: v / 1024 for k, v in idle_rss.items()}, lower_is_better=True, n=1))
    for k, by in peak_rss.items():
        rows.append(row(f"server RSS peak, {k}, MiB", {s: max(v) / 1024 for s, v in by.items()}, lower_is_better=True, n=len(by.get("gateway", []))))

    machine = describe(a.java)
    machine["storage"] = storage
    out = out_dir
    doc = {"machine": machine, "settings": {k: v for k, v in vars(a).items() if k != "out"}, "sha256_checked": True, "rows": rows}
    (out / "results.json").write_text(json.dumps(doc, indent=1))
    md = markdown(doc)
    (out / "results.md").write_text(md)
    print(md)


# Opens N SSH connections with an SFTP channel each (paramiko, key login), prints "open N", and
# holds them until its stdin closes.
IDLE_HOLDER = """
import sys, paramiko
port, user, keyfile, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
try:
    key = paramiko.Ed25519Key.from_private_key_file(keyfile)
except Exception:
    key = paramiko.RSAKey.from_private_key_file(keyfile)
held = []
for i in range(n):
    t = paramiko.Transport(('127.0.0.1', port))
    t.start_client(timeout=30)
    t.auth_publickey(user, key)
    ch = t.open_session(timeout=30)
    ch.invoke_subsystem('sftp')
    held.append((t, paramiko.SFTPClient(ch)))
print('open', len(held), flush=True)
sys.stdin.read()
for t, c in held:
    t.close()
"""


def s_user(server):
    return getattr(server, "user", None) or USER


def percentile(vals, q):
    v = sorted(vals)
    k = (len(v) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def row(name, vals, lower_is_better, n):
    g, o = vals.get("gateway"), vals.get("openssh")
    ratio = None
    if g and o:
        ratio = round(g / o, 2)
    return {"workload": name, "gateway": round(g, 1) if g is not None else None, "openssh": round(o, 1) if o is not None else None,
            "ratio": ratio, "lower_is_better": lower_is_better, "samples": n}


def describe(java):
    cpu = ""
    flags = []
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and not cpu:
            cpu = line.split(":", 1)[1].strip()
        if line.startswith("flags") and not flags:
            flags = line.split(":", 1)[1].split()
    jv = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()
    ssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "crypto_flags": [f for f in flags if f in ("aes", "pclmulqdq", "avx", "avx2", "avx512f", "sha_ni", "vaes", "vpclmulqdq")],
            "kernel": platform.release(), "java": jv[0] if jv else java, "openssh": ssh}


def markdown(doc):
    m = doc["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, crypto flags {' '.join(m['crypto_flags'])}; {m['java']}; {m['openssh']}; kernel {m['kernel']}; files on {m.get('storage', 'disk')}.", "",
             "| workload | gateway | OpenSSH | gateway/OpenSSH | CPU s/GiB gateway | CPU s/GiB OpenSSH | runs |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in doc["rows"]:
        cpu = r.get("cpu_s_per_gib") or {}
        better = " (lower is better)" if r["lower_is_better"] else ""
        lines.append(f"| {r['workload']}{better} | {r['gateway']} | {r['openssh']} | {r['ratio']} | {cpu.get('gateway', '')} | {cpu.get('openssh', '')} | {r['samples']} |")
    lines.append("")
    lines.append("Every transfer was checked by sha256 (uploads in the server's files, downloads in the client's).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
