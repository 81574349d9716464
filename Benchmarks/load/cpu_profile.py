"""Where a login's CPU goes: each configuration of the success-path comparison (plain, floor, memory without and
with the audit log, Redis) served under wrk while `perf record` samples the server every PERIOD µs of CPU, then the
samples sorted into categories (the kernel's network, scheduling and file work, the Swift runtime, allocation,
SwiftNIO, the framework, Defender's own modules, SQLite...) and divided by the logins served: µs of sampled CPU per
login, per category. Called by ./profile (which builds the demos and installs perf); named so as not to shadow
Python's own `profile` module. Loopback only; every process it starts is stopped by PID."""
import argparse
import collections
import os
import re
import signal
import subprocess
import time

import run  # the load test's servers, wrk and CPU accounting

STORES = ["plain", "floor", "memory, no log", "memory", "redis"]


def module_of(symbol):
    """The Swift module a mangled symbol belongs to (`$s12DefenderCore...` -> DefenderCore), `Swift` for the standard
    library's own and its specialisations, else None."""
    if not symbol.startswith("$s"):
        return None
    rest = symbol[2:]
    if rest[:2] == "So":
        return "imported C types"
    if rest[:1] in ("s", "S"):
        return "Swift"
    digits = re.match(r"\d+", rest)
    if not digits:
        return "thunks"  # reabstraction and protocol-witness thunks of standard types ($sIeg..., $syt..., $sx...)
    length = int(digits.group(0))
    return rest[len(digits.group(0)):len(digits.group(0)) + length]


KERNEL = [
    ("kernel: network (TCP, loopback, sockets)", r"tcp|^ip_|inet|sock|skb|net_|netif|napi|loopback|__dev_|sendmsg|recvmsg|sendto|recvfrom|__sys_send|__sys_recv|nf_|dst_|neigh"),
    ("kernel: scheduling, futex, wake-ups", r"futex|sched|finish_task_switch|wake|enqueue|dequeue|switch|pick_next|update_curr|select_task|idle|hrtimer|__schedule|cpuacct|psi_"),
    ("kernel: epoll and eventfd", r"epoll|^ep_|eventfd"),
    ("kernel: files, fsync, page cache", r"ext4|jbd2|fsync|iomap|filemap|folio|page_cache|copy_page|pwrite|pread|blk_|iowrite|generic_perform_write|xfs|submit_bio"),
    # Shared by sockets and files: read(2)/write(2) and the copies between the process and the kernel.
    ("kernel: read/write system calls, copies", r"vfs_|ksys_|copy_to_iter|copy_from_iter|copy_user|_copy_to_user|_copy_from_user|rep_movs|memcpy"),
]
BINARY_MODULES = [
    ("the demo app", ("DefenderDemoApp", "DefenderHummingbirdDemoApp", "DefenderDemoSupport")),
    ("Defender (its modules)", ("DefenderCore", "DefenderHTTP", "DefenderVapor", "DefenderHummingbird", "DefenderRedis", "DefenderFluent")),
    ("SwiftNIO", ("NIOCore", "NIOPosix", "NIOHTTP1", "NIOHTTP2", "NIOSSL", "NIOConcurrencyHelpers", "_NIODataStructures", "NIOEmbedded", "NIOExtras", "NIOHTTPCompression", "_NIOBase64", "NIOFoundationCompat")),
    ("Vapor", ("Vapor", "RoutingKit", "ConsoleKit", "ConsoleKitTerminal", "ConsoleKitCommands", "MultipartKit", "AsyncKit", "WebSocketKit")),
    ("Hummingbird", ("Hummingbird", "HummingbirdCore", "HummingbirdHTTP1", "HummingbirdRouter", "HummingbirdAuth", "HummingbirdBcrypt", "HTTPTypes", "Mustache")),
    ("Fluent, SQLKit (Swift)", ("FluentKit", "Fluent", "SQLKit", "SQLiteKit", "SQLiteNIO", "FluentSQLiteDriver", "FluentSQL")),
    ("metrics, logging, tracing", ("Logging", "CoreMetrics", "Metrics", "Tracing", "Instrumentation", "Prometheus", "ServiceLifecycle", "ServiceContextModule")),
    ("Swift standard library (specialised in the binary)", ("Swift", "_Concurrency", "Synchronization", "_StringProcessing")),
    ("Foundation", ("Foundation", "FoundationEssentials", "FoundationInternationalization")),
    ("crypto (password hash, digests)", ("Crypto", "_CryptoExtras", "CryptoBoringWrapper")),
]


def category(symbol, dso):
    base = os.path.basename(dso)
    if dso.startswith("[kernel") or base.startswith("[kernel"):
        for name, pattern in KERNEL:
            if re.search(pattern, symbol):
                return name
        return "kernel: system-call entry and other"
    if base.startswith("libswift_Concurrency"):
        return "Swift concurrency runtime (tasks, executors)"
    if base.startswith("libswiftCore"):
        if re.search(r"swift_allocObject|swift_deallocObject|swift_slowAlloc|swift_slowDealloc|swift_allocBox|swift_deallocClassInstance|release_dealloc|swift_deallocUninitialized", symbol):
            return "Swift runtime: object allocation"
        if re.search(r"retain|release|RefCount|bridgeObject|unknownObject", symbol):
            return "Swift runtime: reference counting"
        if re.search(r"[Mm]etadata|conformsToProtocol|dynamicCast|WitnessTable|instantiate|getTypeBy|Conformance|ConcurrentReadableHashMap|getCache|swift_getAssociated|Demangl|TypeRef", symbol):
            return "Swift runtime: generic metadata, conformances, casts"
        if re.search(r"swift_beginAccess|swift_endAccess", symbol):
            return "Swift runtime: exclusivity checks"
        return "Swift runtime and standard library (other)"
    if base.startswith(("libc.so", "libc-", "libm.", "ld-linux", "libstdc++", "libgcc", "libpthread")):
        if re.search(r"malloc|free|calloc|realloc|tcache|_int_|arena|sysmalloc|posix_memalign|aligned_alloc", symbol):
            return "libc: allocation"
        return "libc: other (memcpy, locks, ...)"
    if base.startswith(("libFoundation", "lib_Foundation", "libicu")):
        return "Foundation"
    if base.startswith("libdispatch"):
        return "libdispatch"
    if symbol.startswith("sqlite3"):
        return "SQLite (C)"
    if "CCryptoBoringSSL" in symbol:
        return "crypto (password hash, digests)"
    module = module_of(symbol)
    if module:
        for name, modules in BINARY_MODULES:
            if module in modules:
                return name
        if module == "thunks":
            return "Swift thunks (reabstraction, witnesses)"
        return f"other Swift ({module})"
    return "other (unsymbolised, C)"


def profile_one(demo, store, scenario, duration, period_us, redis_port):
    db = run.swift_database(demo, "cheap", 0)
    run.flush_redis(redis_port)
    port = run.free_port()
    env = {**run.hash_env(0), "DATABASE_URL": "sqlite://" + db, "DEFENDER_BEHIND_REVERSE_PROXY": "true", "LOG_LEVEL": "error",
           "DEMO_PROTECTION": {"plain": "off", "floor": "floor"}.get(store, "on"), "DEFENDER_STORE": "redis" if store == "redis" else "memory",
           "DEFENDER_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "DEFENDER_STORE_ACCESS_ATTEMPTS": "false" if store.endswith("no log") else "true"}
    proc = run.start(run.serve_command(demo, port), env, os.path.join(run.WORK, f"{demo[0]}.log"))
    data = os.path.join(run.WORK, f"perf-{demo[0]}-{store.replace(', ', '-').replace(' ', '-')}.data")
    try:
        url = f"http://127.0.0.1:{port}"
        run.wait_http(url + "/healthz")
        run.wrk(url, scenario, 2)  # warm-up: connections, caches, the concurrency pool's threads
        perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-c", str(period_us * 1000), "-p", str(proc.pid), "-o", data],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        run.started.append(perf)  # stopped by PID with the rest if anything fails
        time.sleep(0.3)  # perf attached; the server idles meanwhile
        before = run.cpu_seconds([proc.pid])
        result = run.wrk(url, scenario, duration)
        cpu = run.cpu_seconds([proc.pid]) - before
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=60)
        run.started.remove(perf)
    finally:
        run.stop(proc)
    requests = max(1, result["requests"])
    row = {"requests": requests, "cpu_us_per_request": round(cpu * 1e6 / requests, 1), "non_2xx_3xx": result["non2xx3xx"]}
    try:
        # `ip` must be asked for: perf prints the symbol and its DSO only with it.
        script = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym,dso"], capture_output=True, text=True, check=True).stdout
    finally:
        os.remove(data)
    counts = collections.Counter()
    symbols = collections.Counter()
    for line in script.splitlines():
        # "    7f12ab34cd56 swift_retain (/usr/lib/swift/linux/libswiftCore.so)": the DSO after the last " (".
        line = line.strip()
        address, _, rest = line.partition(" ")
        cut = rest.rfind(" (")
        if not address or cut < 0 or not rest.endswith(")"):
            continue
        match = (rest[:cut], rest[cut + 2:-1])
        symbol, dso = match
        counts[category(symbol, dso)] += 1
        symbols[(symbol, os.path.basename(dso))] += 1
    per_login = {name: count * period_us / requests for name, count in counts.items()}
    top = {key: count * period_us / requests for key, count in symbols.items()}
    return row, per_login, top


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", required=True)
    parser.add_argument("--hummingbird-demo")
    parser.add_argument("--scenario", default="api", choices=["success", "api"])
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--period-us", type=int, default=200, help="one sample per this many µs of CPU (fewer samples disturb less)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each category's median is reported")
    args = parser.parse_args()
    os.makedirs(run.WORK, exist_ok=True)
    redis_port = run.free_port()
    run.start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {},
                      os.path.join(run.WORK, "redis.log"))
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(redis_port), "ping"], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    demos = [("vapor", os.path.abspath(args.demo))]
    if args.hummingbird_demo:
        demos.append(("hummingbird", os.path.abspath(args.hummingbird_demo)))
    samples = collections.defaultdict(list)  # (system, store) -> [(row, per_login, top)] over the rounds
    try:
        # Interleaved rounds, as in the load test's comparisons: drift hits every configuration alike, and each
        # category's median over the rounds is reported.
        for _ in range(args.rounds):
            for demo in demos:
                for store in STORES:
                    samples[(demo[0], store)].append(profile_one(demo, store, args.scenario, args.duration, args.period_us, redis_port))
    finally:
        for proc in list(run.started):
            run.stop(proc)
    results = {}
    for key, rounds in samples.items():
        names = {name for _, per, _ in rounds for name in per}
        symbols = {symbol for _, _, top in rounds for symbol in top}
        results[key] = (
            {"cpu_us_per_request": run.median([row["cpu_us_per_request"] for row, _, _ in rounds])},
            {name: run.median([per.get(name, 0.0) for _, per, _ in rounds]) for name in names},
            {symbol: run.median([top.get(symbol, 0.0) for _, _, top in rounds]) for symbol in symbols},
        )
    lines = [f"Scenario `{args.scenario}`, cheap hash, {args.rounds} interleaved rounds of {args.duration} s per configuration, "
             f"`perf record -e cpu-clock` every {args.period_us} µs of CPU; the median over the rounds of µs of sampled CPU per "
             "login, by category (the `/proc` CPU per login of the same runs below, raised by the sampling itself).", ""]
    for demo in demos:
        system = demo[0]
        names = sorted({name for (s, _), (_, per, _) in results.items() if s == system for name in per},
                       key=lambda n: -max(results[(system, store)][1].get(n, 0) for store in STORES))
        lines += [f"**{system}**", "", "| category | " + " | ".join(STORES) + " |", "|---|" + "---:|" * len(STORES)]
        for name in names:
            values = [results[(system, store)][1].get(name, 0.0) for store in STORES]
            if max(values) < 0.5:
                continue
            lines.append(f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + " |")
        lines.append("| **sampled, all** | " + " | ".join(f"**{sum(results[(system, store)][1].values()):.1f}**" for store in STORES) + " |")
        lines.append("| `/proc` CPU per login (median) | " + " | ".join(f"{results[(system, store)][0]['cpu_us_per_request']}" for store in STORES) + " |")
        lines.append("")
        for store in STORES[1:]:
            base = results[(system, "plain")][2]
            top = results[(system, store)][2]
            gained = sorted(((top.get(k, 0) - base.get(k, 0), k) for k in set(top) | set(base)), reverse=True)[:12]
            lines.append(f"{system}, {store}: the symbols that gained most over plain (µs per login): " +
                         "; ".join(f"`{k[0][:70]}` ({k[1]}) {d:+.1f}" for d, k in gained if d > 0.3))
            lines.append("")
    os.makedirs(run.RESULTS, exist_ok=True)
    with open(os.path.join(run.RESULTS, f"profile-{args.scenario}.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
