"""Runs the load-test matrix and writes CSV, Markdown and charts. Called by ./run (which installs what it needs)."""
import argparse
import csv
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
WORK = os.path.join(HERE, "work")
RESULTS = os.path.join(HERE, "results")
IMAGES = os.path.join(ROOT, "docs", "images")
VENV_BIN = os.path.join(HERE, ".venv", "bin")
SCENARIOS = ["success", "api", "mixed", "failures"]
USERS = 20
started = []  # every process we start, stopped by PID at the end


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def start(cmd, env, log):
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    started.append(proc)
    return proc


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group: the server and its workers, by PID
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc in started:
        started.remove(proc)


def cpu_seconds(pids):
    """User + system CPU of these processes and all their descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = {}
    stats = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        stats[pid] = (int(fields[11]) + int(fields[12])) / ticks
    total, todo = 0.0, list(pids)
    while todo:
        pid = todo.pop()
        total += stats.get(pid, 0.0)
        todo += children.get(pid, [])
    return total


def wrk(url, scenario, duration, connections=16):
    env = {**os.environ, "LUA_DIR": os.path.join(HERE, "lua")}
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "20s", "-s", os.path.join(HERE, "lua", scenario + ".lua"), url],
        env=env, capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def measure(system, store, hash_kind, scenario, url, pids, duration, redis):
    # A short warm-up (connections, caches, JIT-less but lazy paths), not counted.
    wrk(url, "success", 1, connections=4)
    redis_pid = [redis.pid] if redis else []
    before, before_redis = cpu_seconds(pids), cpu_seconds(redis_pid)
    result = wrk(url, scenario, duration)
    cpu, cpu_redis = cpu_seconds(pids) - before, cpu_seconds(redis_pid) - before_redis
    seconds = result["duration_us"] / 1e6
    row = {
        "system": system, "store": store, "hash": hash_kind, "scenario": scenario,
        "requests": result["requests"], "rps": round(result["requests"] / seconds, 1),
        "p50_ms": round(result["p50_us"] / 1000, 2), "p99_ms": round(result["p99_us"] / 1000, 2),
        "errors": result["errors"], "non_2xx_3xx": result["non2xx3xx"],
        "cpu_us_per_request": round(cpu * 1e6 / max(1, result["requests"]), 1),
        "redis_cpu_us_per_request": round(cpu_redis * 1e6 / max(1, result["requests"]), 1) if redis else "",
    }
    print(f"  {system:>10} {store:>14} {hash_kind:>9} {scenario:>8}: {row['rps']:>9} req/s  p99 {row['p99_ms']:>8} ms  "
          f"cpu {row['cpu_us_per_request']:>8} µs/req", flush=True)
    return row


def flush_redis(port):
    subprocess.run(["redis-cli", "-p", str(port), "FLUSHALL"], check=True, capture_output=True)


def serve_command(demo, port):
    """How each demo serves: Vapor's `serve` takes `--env`; the Hummingbird demo has no environments."""
    system, path = demo
    extra = ["--env", "production"] if system == "vapor" else []
    return [path, "serve", *extra, "--hostname", "127.0.0.1", "--port", str(port)]


def hash_env(cost):
    return {"DEMO_PASSWORD_HASH": "sha256"} if cost == 0 else {"DEMO_PASSWORD_HASH": "bcrypt", "DEMO_BCRYPT_COST": str(cost)}


def swift_database(demo, hash_kind, cost):
    """The demo's SQLite file for a hash, with the load test's users (created once)."""
    system, path = demo
    db = os.path.join(WORK, f"{system}-{hash_kind}.sqlite")
    if not os.path.exists(db):
        for index in range(USERS):
            subprocess.run([path, "create-user", f"user{index}", "secret1"], check=True, capture_output=True,
                           env={**os.environ, **hash_env(cost), "DATABASE_URL": "sqlite://" + db, "LOG_LEVEL": "error"})
    return db


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def swift_runs(demos, duration, redis, redis_port, hashes):
    rows = []
    for demo in demos:
        rows += swift_runs_of(demo, duration, redis, redis_port, hashes)
    return rows


def swift_runs_of(demo, duration, redis, redis_port, hashes):
    rows = []
    for hash_kind, cost in hashes:
        db = swift_database(demo, hash_kind, cost)
        for store in ["plain", "bare 403", "memory", "memory, no log", "redis"]:
            if store in ("memory, no log", "bare 403") and hash_kind != "cheap":
                continue
            for scenario in SCENARIOS:
                if store == "bare 403" and scenario != "failures":
                    continue  # the floor of the lockout path only
                flush_redis(redis_port)
                port = free_port()
                env = {
                    **hash_env(cost), "DATABASE_URL": "sqlite://" + db, "DEFENDER_BEHIND_REVERSE_PROXY": "true",
                    "DEMO_PROTECTION": {"plain": "off", "bare 403": "bare403"}.get(store, "on"),
                    "DEFENDER_STORE": "redis" if store == "redis" else "memory",
                    "DEFENDER_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "LOG_LEVEL": "error",
                    "DEFENDER_STORE_ACCESS_ATTEMPTS": "false" if store.endswith("no log") else "true",
                }
                proc = start(serve_command(demo, port), env, os.path.join(WORK, f"{demo[0]}.log"))
                wait_http(f"http://127.0.0.1:{port}/healthz")
                rows.append(measure(demo[0], store, hash_kind, scenario, f"http://127.0.0.1:{port}", [proc.pid], duration, redis if store == "redis" else None))
                stop(proc)
    return rows


def overhead_runs(demos, duration, redis, redis_port, repeats, scenario):
    """A success path with the cheap hash, plain, the framework's floor (a middleware that resolves the client and
    decodes the credentials again) and protected, interleaved `repeats` times: CPU per request."""
    samples = {}
    # Interleaved: every round runs each framework's servers in turn, so that drift hits all alike.
    for demo in (demo for _ in range(repeats) for demo in demos):
        db = swift_database(demo, "cheap", 0)
        for store in ["plain", "floor", "memory, no log", "memory", "redis"]:
            flush_redis(redis_port)
            port = free_port()
            env = {**hash_env(0), "DATABASE_URL": "sqlite://" + db, "DEFENDER_BEHIND_REVERSE_PROXY": "true", "LOG_LEVEL": "error",
                   "DEMO_PROTECTION": {"plain": "off", "floor": "floor"}.get(store, "on"), "DEFENDER_STORE": "redis" if store == "redis" else "memory",
                   "DEFENDER_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                   "DEFENDER_STORE_ACCESS_ATTEMPTS": "false" if store.endswith("no log") else "true"}
            proc = start(serve_command(demo, port), env, os.path.join(WORK, f"{demo[0]}.log"))
            wait_http(f"http://127.0.0.1:{port}/healthz")
            row = measure(demo[0], store, "cheap", scenario, f"http://127.0.0.1:{port}", [proc.pid], duration, redis if store == "redis" else None)
            samples.setdefault((demo[0], store), []).append(row)
            stop(proc)
    lines = [f"Scenario `{scenario}`, cheap hash, {repeats} interleaved rounds of {duration} s.", "",
             "| framework | store | CPU µs per login (runs) | median | vs plain | µs vs plain | Redis CPU µs |", "|---|---|---|---:|---:|---:|---:|"]
    for (system, store), rows in samples.items():
        base = median([r["cpu_us_per_request"] for r in samples[(system, "plain")]])
        cpu = [r["cpu_us_per_request"] for r in rows]
        redis_cpu = median([r["redis_cpu_us_per_request"] for r in rows]) if store == "redis" else ""
        lines.append(f"| {system} | {store} | {', '.join(str(c) for c in cpu)} | {median(cpu)} | {100 * (median(cpu) / base - 1):+.1f} % | "
                     f"{median(cpu) - base:+.1f} | {redis_cpu} |")
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"overhead-{scenario}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def lockout_runs(demos, duration, repeats, redis, redis_port):
    """The lockout path: the attack scenario against the bare-403 floor and the protected demo (memory store with
    and without the audit log, and the Redis store), interleaved."""
    samples = {}
    # Interleaved: every round runs each framework's servers in turn, so that drift hits all alike.
    for demo in (demo for _ in range(repeats) for demo in demos):
        db = swift_database(demo, "cheap", 0)
        for store in ["bare 403", "memory, no log", "memory", "redis"]:
            flush_redis(redis_port)
            port = free_port()
            env = {**hash_env(0), "DATABASE_URL": "sqlite://" + db, "DEFENDER_BEHIND_REVERSE_PROXY": "true", "LOG_LEVEL": "error",
                   "DEMO_PROTECTION": "bare403" if store == "bare 403" else "on",
                   "DEFENDER_STORE": "redis" if store == "redis" else "memory", "DEFENDER_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                   "DEFENDER_STORE_ACCESS_ATTEMPTS": "false" if store.endswith("no log") else "true"}
            proc = start(serve_command(demo, port), env, os.path.join(WORK, f"{demo[0]}.log"))
            wait_http(f"http://127.0.0.1:{port}/healthz")
            samples.setdefault((demo[0], store), []).append(measure(
                demo[0], store, "cheap", "failures", f"http://127.0.0.1:{port}", [proc.pid], duration, redis if store == "redis" else None))
            stop(proc)
    lines = [f"Scenario `failures` (the attack), cheap hash, {repeats} interleaved rounds of {duration} s.", "",
             "| framework | server | req/s (runs) | median | vs bare 403 | vs memory | CPU µs/req (median) | Redis CPU µs/req |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for (system, store), rows in samples.items():
        base = median([r["rps"] for r in samples[(system, "bare 403")]])
        memory = median([r["rps"] for r in samples[(system, "memory")]])
        rps = [r["rps"] for r in rows]
        versus_memory = f"{100 * median(rps) / memory:.1f} %" if store == "redis" else ""
        redis_cpu = median([r["redis_cpu_us_per_request"] for r in rows]) if store == "redis" else ""
        lines.append(f"| {system} | {store} | {', '.join(str(v) for v in rps)} | {median(rps)} | {100 * median(rps) / base:.1f} % | "
                     f"{versus_memory} | {median([r['cpu_us_per_request'] for r in rows])} | {redis_cpu} |")
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "lockout.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def django_runs(duration, redis, redis_port, hashes, modes):
    rows = []
    site = os.path.join(HERE, "django_site")
    python = os.path.join(VENV_BIN, "python")
    for hash_kind, _ in hashes:
        for mode in modes:
            if mode == "defender-nolog" and hash_kind != "cheap":
                continue
            db = os.path.join(WORK, f"django-{mode}-{hash_kind}.sqlite3")
            env = {"SITE_MODE": mode, "SITE_HASH": hash_kind, "SITE_DB": db, "DEFENDER_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                   "PYTHONPATH": site}
            if not os.path.exists(db):
                subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=site, env={**os.environ, **env}, check=True)
                script = ("from django.contrib.auth.models import User\n"
                          f"for i in range({USERS}): User.objects.create_user(f'user{{i}}', password='secret1')\n")
                subprocess.run([python, "manage.py", "shell", "-c", script], cwd=site, env={**os.environ, **env}, check=True)
            for scenario in SCENARIOS:
                flush_redis(redis_port)
                if mode == "axes":
                    subprocess.run([python, "manage.py", "axes_reset"], cwd=site, env={**os.environ, **env}, check=True, capture_output=True)
                port = free_port()
                proc = start([os.path.join(VENV_BIN, "gunicorn"), "--workers", "4", "--bind", f"127.0.0.1:{port}", "--log-level", "error",
                              "--chdir", site, "site_app.wsgi:application"], env, os.path.join(WORK, "django.log"))
                wait_http(f"http://127.0.0.1:{port}/login")
                store = {"plain": "plain", "defender": "redis", "defender-nolog": "redis, no log", "axes": "database"}[mode]
                system = {"plain": "django", "defender": "defender", "defender-nolog": "defender", "axes": "axes"}[mode]
                rows.append(measure(system, store, hash_kind, scenario, f"http://127.0.0.1:{port}", [proc.pid], duration,
                                    redis if mode.startswith("defender") else None))
                stop(proc)
    return rows


def write(rows, machine):
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    def label(r):
        return r["system"] if r["system"] in ("django", "axes") or r["store"] == "plain" else f"{r['system']} ({r['store']})"
    lines = [f"Machine: {machine}", "", "| system | hash | scenario | req/s | p50 ms | p99 ms | CPU µs/req | Redis CPU µs/req | non-2xx/3xx | errors |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {label(r)} | {r['hash']} | {r['scenario']} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | {r['cpu_us_per_request']} | "
                     f"{r['redis_cpu_us_per_request']} | {r['non_2xx_3xx']} | {r['errors']} |")
    with open(os.path.join(RESULTS, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no charts")
        return
    os.makedirs(IMAGES, exist_ok=True)
    for hash_kind in sorted({r["hash"] for r in rows}):
        subset = [r for r in rows if r["hash"] == hash_kind]
        systems = []
        for r in subset:
            if label(r) not in systems:
                systems.append(label(r))
        for metric, title, file in [("rps", "requests/s (higher is better)", "rps"), ("p99_ms", "p99 latency, ms (lower is better)", "p99")]:
            fig, ax = plt.subplots(figsize=(10, 4.2))
            width = 0.8 / len(systems)
            for i, system in enumerate(systems):
                values = [next((r[metric] for r in subset if label(r) == system and r["scenario"] == s), 0) for s in SCENARIOS]
                bars = ax.bar([x + i * width for x in range(len(SCENARIOS))], values, width, label=system)
                ax.bar_label(bars, fmt="%g", fontsize=7, rotation=90, padding=2)
            ax.set_xticks([x + width * (len(systems) - 1) / 2 for x in range(len(SCENARIOS))], SCENARIOS)
            ax.set_yscale("log")
            top = max(r[metric] for r in subset)
            ax.set_ylim(top=top * 4)
            ax.set_title(f"Login load test, {hash_kind} hash: {title}")
            ax.legend(fontsize=8, ncols=2)
            fig.tight_layout()
            fig.savefig(os.path.join(IMAGES, f"load-{hash_kind}-{file}.png"), dpi=110)
            plt.close(fig)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", required=True, help="the Vapor demo's executable")
    parser.add_argument("--hummingbird-demo", help="the Hummingbird demo's executable (its rows beside the Vapor ones)")
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="cheap hash only")
    parser.add_argument("--charts-only", action="store_true", help="redraw from results/results.csv")
    parser.add_argument("--overhead", type=int, default=0, help="only the success-path CPU comparison, N interleaved rounds")
    parser.add_argument("--lockout", type=int, default=0, help="only the lockout path against the bare-403 floor, N interleaved rounds")
    parser.add_argument("--overhead-scenario", default="success", choices=["success", "api"], help="the success path to compare")
    parser.add_argument("--record", type=int, default=0,
                        help="the run for the record: every row, then the lockout and both success-path comparisons, N interleaved rounds each")
    args = parser.parse_args()
    if args.charts_only:
        with open(os.path.join(RESULTS, "results.csv")) as f:
            rows = [{k: (float(v) if k in ("rps", "p50_ms", "p99_ms") else v) for k, v in r.items()} for r in csv.DictReader(f)]
        machine = open(os.path.join(RESULTS, "results.md")).readline().strip().removeprefix("Machine: ")
        write(rows, machine)
        return
    os.makedirs(WORK, exist_ok=True)
    for name in os.listdir(WORK):
        if name.endswith((".sqlite", ".sqlite3")):
            os.remove(os.path.join(WORK, name))
    # cheap: one salted SHA-256 (the Swift demo's DEMO_PASSWORD_HASH=sha256; Django's MD5PasswordHasher);
    # realistic: each side's default (bcrypt cost 12; Django 4.2's PBKDF2, 600,000 iterations).
    hashes = [("cheap", 0)] if args.quick else [("cheap", 0), ("realistic", 12)]
    redis_port = free_port()
    redis = start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {}, os.path.join(WORK, "redis.log"))
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    began = time.time()
    demos = [("vapor", os.path.abspath(args.demo))]
    if args.hummingbird_demo:
        demos.append(("hummingbird", os.path.abspath(args.hummingbird_demo)))
    if args.lockout:
        try:
            lockout_runs(demos, args.duration, args.lockout, redis, redis_port)
        finally:
            for proc in list(started):
                stop(proc)
        return
    if args.overhead:
        try:
            overhead_runs(demos, args.duration, redis, redis_port, args.overhead, args.overhead_scenario)
        finally:
            for proc in list(started):
                stop(proc)
        return
    load_before = os.getloadavg()
    try:
        rows = swift_runs(demos, args.duration, redis, redis_port, hashes)
        rows += django_runs(args.duration, redis, redis_port, hashes, ["plain", "defender", "defender-nolog", "axes"])
        if args.record:
            # The same run, the same servers and machine state: the comparisons the targets are read from.
            lockout_runs(demos, args.duration, args.record, redis, redis_port)
            overhead_runs(demos, args.duration, redis, redis_port, args.record, "success")
            overhead_runs(demos, args.duration, redis, redis_port, args.record, "api")
    finally:
        for proc in list(started):
            stop(proc)
    cpus = os.cpu_count()
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    load_after = os.getloadavg()
    machine = (f"{cpus} cores ({model}), {platform.system()} {platform.release()}; wrk -t2 -c16 -d{args.duration}s; one run, "
               f"{time.strftime('%Y-%m-%d')}; load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end; "
               f"{time.time() - began:.0f} s")
    write(rows, machine)
    print(f"done in {time.time() - began:.0f} s; results in {RESULTS}")


if __name__ == "__main__":
    main()
