"""National-crypto throughput on one core: SM2 sign/verify, SM4-GCM, HMAC-SM3.

    PYTHONPATH=src .venv/bin/python bench/crypto.py [--seconds 2] [--alt-site PATH]

Measures Tongban's own functions (tongban.core.crypto: gmalglib for SM2, cryptography for SM3 and
SM4), then every alternative library that can be imported (``--alt-site`` adds a site-packages
directory holding gmalg, gmssl, snowland-smx), and ``openssl speed sm2`` when the command exists.
Figures are per second on one core (the process is single-threaded); the machine is shared, so
repeat a run before trusting a difference under ~15 %.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable

MESSAGE = b"x" * 200  # the size of a licence's signed metadata
NOTES: list[str] = []


def rate(fn: Callable[[], object], seconds: float) -> float:
    fn()
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        fn()
        count += 1
        if count % 8 == 0 and time.perf_counter() >= deadline:
            break
    return count / (time.perf_counter() - started)


def row(name: str, sign: float | None, verify: float | None, note: str = "") -> None:
    s = f"{sign:>9,.0f}" if sign else f"{'—':>9}"
    v = f"{verify:>9,.0f}" if verify else f"{'—':>9}"
    print(f"| {name:<34} | {s} | {v} | {note} |")


def bench_tongban(seconds: float) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()
    from tongban.core import crypto

    private, public = crypto.generate_keypair()
    signature = crypto.sign(private, MESSAGE)
    assert crypto.verify(public, MESSAGE, signature)
    row(
        "tongban.core.crypto (gmalglib)",
        rate(lambda: crypto.sign(private, MESSAGE), seconds),
        rate(lambda: crypto.verify(public, MESSAGE, signature), seconds),
        "cached signer/verifier objects",
    )
    der = crypto.sign(private, MESSAGE, der=True)
    row(
        "  … DER signatures",
        rate(lambda: crypto.sign(private, MESSAGE, der=True), seconds),
        rate(lambda: crypto.verify(public, MESSAGE, der, der=True), seconds),
    )
    other_keys = [crypto.generate_keypair() for _ in range(5000)]
    other_sigs = [(pub, crypto.sign(priv, MESSAGE)) for priv, pub in other_keys]
    cycle = iter(other_sigs * 1000)

    def verify_new_key() -> None:
        pub, sig = next(cycle)
        crypto.verify(pub, MESSAGE, sig)

    # 5,000 keys cycled through a 4,096-entry cache: every verification builds its verifier.
    row("  … verify, 5,000 keys round-robin", None, rate(verify_new_key, seconds), "cache misses")

    ring = crypto.KeyRing(data_keys={"v1": os.urandom(16)}, lookup_key=os.urandom(32))
    key, nonce = ring.key("v1"), os.urandom(12)
    mib = os.urandom(1 << 20)
    sealed = crypto.sm4_gcm_encrypt(key, nonce, mib)
    enc = rate(lambda: crypto.sm4_gcm_encrypt(key, nonce, mib), seconds)
    dec = rate(lambda: crypto.sm4_gcm_decrypt(key, nonce, sealed), seconds)
    NOTES.append(f"SM4-GCM 1 MiB: encrypt {enc:,.0f} MB/s, decrypt {dec:,.0f} MB/s")
    token = crypto.encrypt(b"15060219900101106X", purpose="id_number", ring=ring)
    small_enc = rate(
        lambda: crypto.encrypt(b"15060219900101106X", purpose="id", ring=ring), seconds
    )
    small_dec = rate(lambda: crypto.decrypt(token, purpose="id_number", ring=ring), seconds)
    NOTES.append(f"ID-number token: encrypt {small_enc:,.0f}/s, decrypt {small_dec:,.0f}/s")
    hm = rate(lambda: crypto.hmac_sm3(ring.lookup_key, b"id_number\x0015060219900101106X"), seconds)
    NOTES.append(f"HMAC-SM3 (lookup digest, 28 bytes): {hm:,.0f}/s")
    sm3_mib = rate(lambda: crypto.sm3(mib), seconds)
    NOTES.append(f"SM3 1 MiB: {sm3_mib:,.0f} MB/s")


def bench_alternatives(seconds: float) -> None:
    try:
        from gmalglib import sm2 as gsm2

        sk, pk = gsm2.SM2().generate_keypair()
        signer, verifier = gsm2.SM2(sk=sk), gsm2.SM2(pk=pk)
        sig = signer.sign(MESSAGE)
        row(
            "gmalglib 0.5.9 (C), raw API",
            rate(lambda: signer.sign(MESSAGE), seconds),
            rate(lambda: verifier.verify(MESSAGE, sig), seconds),
        )
    except ImportError:
        pass
    try:
        import gmalg

        g = gmalg.SM2(sk=sk, pk=pk, uid=b"1234567812345678")
        r, s = g.sign(MESSAGE)
        row(
            "gmalg 1.1.2 (pure Python)",
            rate(lambda: g.sign(MESSAGE), seconds),
            rate(lambda: g.verify(MESSAGE, r, s), seconds),
        )
    except ImportError:
        print("| gmalg not installed |")
    try:
        from gmssl import func
        from gmssl import sm2 as gm

        crypt = gm.CryptSM2(private_key=sk.hex(), public_key=pk[1:].hex())
        k = func.random_hex(crypt.para_len)
        gsig = crypt.sign_with_sm3(MESSAGE, k)
        row(
            "gmssl 3.2.2 (pure Python)",
            rate(lambda: crypt.sign_with_sm3(MESSAGE, k), seconds),
            rate(lambda: crypt.verify_with_sm3(gsig, MESSAGE), seconds),
            "default ID only; key without 04",
        )
    except ImportError:
        print("| gmssl not installed |")
    try:
        from pysmx.SM2 import Sign, Verify

        ssig = Sign(MESSAGE, sk.hex(), os.urandom(32).hex(), 64)
        row(
            "snowland-smx 1.1.0 (pure Python)",
            rate(lambda: Sign(MESSAGE, sk.hex(), os.urandom(32).hex(), 64), seconds),
            rate(lambda: Verify(ssig, MESSAGE, pk[1:].hex(), 64), seconds),
            "no Z/user ID unless uid given",
        )
    except Exception as exc:  # an alternative that fails is reported, not fatal
        print(f"| snowland-smx: {type(exc).__name__}: {exc} |")


def bench_openssl(seconds: float) -> None:
    try:
        out = subprocess.run(
            ["openssl", "speed", "-seconds", str(max(1, int(seconds))), "sm2"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return
    match = re.search(r"SM2 \(CurveSM2\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    if match:
        row(
            "OpenSSL 3 `openssl speed sm2` (C)",
            float(match.group(1)),
            float(match.group(2)),
            "no Python binding for SM2",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--alt-site", help="site-packages with gmalg, gmssl, snowland-smx")
    args = parser.parse_args()
    if args.alt_site:
        sys.path.append(args.alt_site)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, 1 process\n")
    print(f"| {'implementation':<34} | {'sign/s':>9} | {'verify/s':>9} | note |")
    print(f"|{'-' * 36}|{'-' * 11}|{'-' * 11}|------|")
    bench_tongban(args.seconds)
    bench_alternatives(args.seconds)
    bench_openssl(args.seconds)
    print()
    for note in NOTES:
        print(note)


if __name__ == "__main__":
    main()
